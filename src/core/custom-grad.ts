// A typed wrapper of tf.customGrad: tfjs types the inputs and the save function as one rest list
// of `Tensor | GradSaveFunc`, which rejects a plain `(x, w, save) => ...` signature.
import * as tf from '@tensorflow/tfjs';

export type CustomGradBody = (...args: any[]) => {
  value: tf.Tensor;
  gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[];
};

/** tf.customGrad(f), taking `(...inputs, save)` and returning a function of the inputs. */
export function customGrad(f: CustomGradBody): (...inputs: tf.Tensor[]) => tf.Tensor {
  return tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0]) as (...inputs: tf.Tensor[]) => tf.Tensor;
}
