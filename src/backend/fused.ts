// Fused operations used by the models, with their gradients. Each is defined once here so that a
// backend can replace the whole op by one kernel (the native backend registers kernels for them);
// on other backends they run as compositions of tfjs-core ops.
// GELU is the exact (erf) form used by timm's ResMLP: gelu(x) = x · Φ(x) = 0.5·x·(1 + erf(x/√2)).
import * as tf from '@tensorflow/tfjs';

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

// customGrad's typing passes inputs and the save function through one rest list.
const geluImpl = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x]);
  const value = tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, SQRT1_2)), 1)));
  return {
    value,
    // d/dx [x Φ(x)] = Φ(x) + x φ(x)
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const xs = saved[0]!;
      const cdf = tf.mul(tf.add(tf.erf(tf.mul(xs, SQRT1_2)), 1), 0.5);
      const pdf = tf.mul(tf.exp(tf.mul(tf.square(xs), -0.5)), INV_SQRT_2PI);
      return tf.mul(dy, tf.add(cdf, tf.mul(xs, pdf)));
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]);

/** Exact GELU, elementwise, any shape. */
export function gelu<T extends tf.Tensor>(x: T): T {
  return geluImpl(x) as T;
}
