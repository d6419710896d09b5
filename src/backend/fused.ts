// Fused operations used by the models, with their gradients. Each is defined once here so that a
// backend can replace the whole op by one kernel (the native backend registers kernels for them,
// src/backend/native.ts); on other backends they run as compositions of tfjs-core ops.
// GELU is the exact (erf) form used by timm's ResMLP: gelu(x) = x · Φ(x) = 0.5·x·(1 + erf(x/√2)).
// logSoftmax follows tfjs-core's op (same value and gradient), as one kernel each way.
// smoothedCrossEntropyRows is the per-row label-smoothed cross-entropy of src/core/loss.ts (target
// distribution c·onehot + s), forward and gradient each one pass over the logits.
// scaleShift and addScaled are the per-channel products of ResMLP's Affine (α ⊙ x + β) and of its
// LayerScale residuals (h + ls ⊙ t), each one pass forward and one backward.
// dropout is tf.dropout (inverted dropout, Srivastava et al. 2014) whose mask is a hash of (seed,
// element index) on backends with the kernel: no JS random stream, and the backward pass
// regenerates the mask instead of storing it.
import * as tf from '@tensorflow/tfjs';

/** Kernel names a backend may register to run a fused op as one kernel. */
export const FUSED_KERNELS = {
  gelu: 'ResmlpGelu', // inputs {x}
  geluGrad: 'ResmlpGeluGrad', // inputs {dy, x}: dy · (Φ(x) + x φ(x))
  logSoftmax: 'ResmlpLogSoftmax', // inputs {logits}, along the last axis
  logSoftmaxGrad: 'ResmlpLogSoftmaxGrad', // inputs {dy, value}: dy − Σdy · exp(value)
  smoothedXent: 'ResmlpSmoothedXent', // inputs {logits (M, V), targets int32 (M)}, attrs {c, s} → [loss (M), lse (M)]
  smoothedXentGrad: 'ResmlpSmoothedXentGrad', // inputs {dy (M), logits, targets, lse}, attrs {c, s} → (M, V)
  dropout: 'ResmlpDropout', // inputs {x}, attrs {rate, seedLo, seedHi, group}: x·mask/(1−rate), mask from a hash of (seed, index / group)
  adagradStep: 'ResmlpAdagradStep', // inputs {p, g, sum}, attrs {lr, eps, wd} → [p', sum'] (see adagradStep)
  adamStep: 'ResmlpAdamStep', // inputs {p, g, m, v}, attrs {beta1, beta2, eps, bc1, bc2, lr, wd} → [p', m', v'] (see adamStep)
  scaleShift: 'ResmlpScaleShift', // inputs {x (..., d), scale (d values), shift (d values)} → x·scale + shift
  addScaled: 'ResmlpAddScaled', // inputs {h, t (..., d), scale (d values)} → h + t·scale
  channelScaleGrad: 'ResmlpChannelScaleGrad', // inputs {dy, x, scale}, attrs {withShift} → [dy·scale, Σ_rows dy·x (d), Σ_rows dy (d) if withShift]
} as const;

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** Whether the active backend registered kernel `name`. */
export function hasKernel(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) !== undefined;
}

function run(name: string, inputs: tf.NamedTensorMap): tf.Tensor {
  return tf.engine().runKernel(name, inputs) as tf.Tensor;
}

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

const geluKernel = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x]);
  return {
    value: run(FUSED_KERNELS.gelu, { x }),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => run(FUSED_KERNELS.geluGrad, { dy, x: saved[0]! }),
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]);

/** Exact GELU, elementwise, any shape. */
export function gelu<T extends tf.Tensor>(x: T): T {
  if (x.dtype === 'float32' && hasKernel(FUSED_KERNELS.gelu)) return geluKernel(x) as T;
  return geluImpl(x) as T;
}

const logSoftmaxKernel = tf.customGrad(((logits: tf.Tensor, save: tf.GradSaveFunc) => {
  const value = run(FUSED_KERNELS.logSoftmax, { logits });
  save([value]);
  return {
    value,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => run(FUSED_KERNELS.logSoftmaxGrad, { dy, value: saved[0]! }),
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]);

/** log(softmax(logits)) along the last axis, as tf.logSoftmax(logits, -1), fused when the backend can. */
export function logSoftmax<T extends tf.Tensor>(logits: T): T {
  if (logits.dtype === 'float32' && logits.rank > 0 && hasKernel(FUSED_KERNELS.logSoftmax)) return logSoftmaxKernel(logits) as T;
  return tf.logSoftmax(logits, -1) as T;
}

/**
 * Per-row label-smoothed cross-entropy for logits (M, V) float32 and targets (M) int32 in [0, V):
 * loss_i = −Σ_v q_v log softmax(x_i)_v with q = c·onehot(t_i) + s, i.e.
 * c·(lse_i − x_i,t_i) + s·(V·lse_i − Σ_v x_i,v). Returns (M); differentiable w.r.t. logits
 * (dx_i = dy_i·(softmax(x_i) − q)). One kernel each way when the backend has them.
 */
export function smoothedCrossEntropyRows(logits: tf.Tensor2D, targets: tf.Tensor1D, c: number, s: number): tf.Tensor1D {
  if (logits.rank !== 2 || targets.rank !== 1 || targets.shape[0] !== logits.shape[0] || targets.dtype !== 'int32') {
    throw new Error(
      `smoothedCrossEntropyRows: expected logits (M, V) and int32 targets (M), found [${logits.shape}] and ${targets.dtype} [${targets.shape}]`,
    );
  }
  const attrs = { c, s };
  if (logits.dtype === 'float32' && hasKernel(FUSED_KERNELS.smoothedXent)) {
    const f = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
      const [loss, lse] = tf.engine().runKernel(FUSED_KERNELS.smoothedXent, { logits: x, targets }, attrs) as tf.Tensor[];
      // targets may be freed by the caller's scope before the backward pass: save it too
      save([x, lse!, targets]);
      return {
        value: loss!,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
          tf
            .engine()
            .runKernel(FUSED_KERNELS.smoothedXentGrad, { dy, logits: saved[0]!, targets: saved[2]!, lse: saved[1]! }, attrs) as tf.Tensor,
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0]);
    return f(logits) as tf.Tensor1D;
  }
  const [M, V] = logits.shape;
  return tf.tidy(() => {
    const lse = tf.logSumExp(logits, 1); // (M)
    const flat = tf.add(tf.mul(tf.range(0, M, 1, 'int32'), tf.scalar(V, 'int32')), targets); // (M) row·V + t
    const xt = tf.gather(tf.reshape(logits, [M * V]), flat); // (M)
    return tf.add(tf.mul(tf.sub(lse, xt), c), tf.mul(tf.sub(tf.mul(lse, V), tf.sum(logits, 1)), s)) as tf.Tensor1D;
  });
}

/** The channel count d when `scale` (and `shift`) hold one value per channel of x's last axis, else null. */
function channelDim(x: tf.Tensor, ...perChannel: tf.Tensor[]): number | null {
  const d = x.rank > 0 ? x.shape[x.rank - 1]! : -1;
  return d > 0 && perChannel.every((p) => p.size === d && p.dtype === 'float32') && x.dtype === 'float32' ? d : null;
}

/**
 * ResMLP's Affine: x ⊙ scale + shift along x's last axis (d), scale and shift of any shape with d
 * values ((1, 1, d) as timm's, or (d)); gradients in their own shapes. One kernel each way on
 * backends that have them; elsewhere tf.mul and tf.add with the per-channel vectors as (d).
 */
export function scaleShift<T extends tf.Tensor>(x: T, scale: tf.Tensor, shift: tf.Tensor): T {
  const d = channelDim(x, scale, shift);
  if (d === null)
    throw new Error(
      `scaleShift: expected float32 x (..., d) and a scale and shift of d values each, found [${x.shape}], [${scale.shape}], [${shift.shape}]`,
    );
  if (!hasKernel(FUSED_KERNELS.scaleShift)) return tf.tidy(() => tf.add(tf.mul(x, tf.reshape(scale, [d])), tf.reshape(shift, [d]))) as T;
  const f = tf.customGrad(((xs: tf.Tensor, s: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    save([xs, s]);
    return {
      value: run(FUSED_KERNELS.scaleShift, { x: xs, scale: s, shift: b }),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [dx, ds, db] = tf
          .engine()
          .runKernel(FUSED_KERNELS.channelScaleGrad, { dy, x: saved[0]!, scale: saved[1]! }, { withShift: true }) as tf.Tensor[];
        return [dx!, tf.reshape(ds!, s.shape), tf.reshape(db!, b.shape)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(x, scale, shift) as T;
}

/**
 * A LayerScale residual: h + t ⊙ scale along the last axis (d), h and t of one shape, scale with d
 * values. One kernel each way on backends that have them; elsewhere tf.add(h, tf.mul(t, scale)).
 */
export function addScaled<T extends tf.Tensor>(h: T, t: tf.Tensor, scale: tf.Tensor): T {
  const d = channelDim(t, scale);
  if (d === null || h.dtype !== 'float32' || !tf.util.arraysEqual(h.shape, t.shape)) {
    throw new Error(
      `addScaled: expected float32 h and t of one shape (..., d) and a scale of d values, found [${h.shape}], [${t.shape}], [${scale.shape}]`,
    );
  }
  if (!hasKernel(FUSED_KERNELS.addScaled)) return tf.tidy(() => tf.add(h, tf.mul(t, tf.reshape(scale, [d])))) as T;
  const f = tf.customGrad(((hs: tf.Tensor, ts: tf.Tensor, s: tf.Tensor, save: tf.GradSaveFunc) => {
    save([ts, s]);
    return {
      value: run(FUSED_KERNELS.addScaled, { h: hs, t: ts, scale: s }),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [dt, ds] = tf
          .engine()
          .runKernel(FUSED_KERNELS.channelScaleGrad, { dy, x: saved[0]!, scale: saved[1]! }, { withShift: false }) as tf.Tensor[];
        return [dy.clone(), dt!, tf.reshape(ds!, s.shape)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(h, t, scale) as T;
}

/**
 * Inverted dropout: x·mask/(1−rate), each element (or each group given by noiseShape) kept with
 * probability 1−rate. Deterministic in `seed` (any number). On a backend with the fused kernel the
 * mask is a counter-based hash of (seed, index), identical for any thread count; elsewhere, and for
 * noise shapes other than x.shape or [B, 1, ..., 1], it is tf.dropout (another random stream).
 */
export function dropout<T extends tf.Tensor>(x: T, rate: number, seed: number, noiseShape?: number[]): T {
  if (!(rate >= 0 && rate < 1)) throw new Error(`dropout: rate must be in [0, 1), got ${rate}`);
  if (rate === 0) return x.clone();
  let group = 1;
  if (noiseShape) {
    const perSample = noiseShape.length === x.rank && noiseShape[0] === x.shape[0] && noiseShape.slice(1).every((d) => d === 1);
    if (perSample) group = x.rank === 0 ? 1 : x.size / Math.max(1, x.shape[0]!);
    else if (!tf.util.arraysEqual(noiseShape, x.shape)) return tf.dropout(x, rate, noiseShape, seed) as T;
  }
  if (x.dtype !== 'float32' || !hasKernel(FUSED_KERNELS.dropout)) return tf.dropout(x, rate, noiseShape, seed) as T;
  const bits = new Uint32Array(new Float64Array([seed]).buffer);
  const attrs = { rate, seedLo: bits[0]!, seedHi: bits[1]!, group };
  const f = tf.customGrad(((xs: tf.Tensor) => ({
    value: tf.engine().runKernel(FUSED_KERNELS.dropout, { x: xs }, attrs) as tf.Tensor,
    // the same mask and scale: d(x·m/(1−p))/dx = m/(1−p)
    gradFunc: (dy: tf.Tensor) => tf.engine().runKernel(FUSED_KERNELS.dropout, { x: dy }, attrs) as tf.Tensor,
  })) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(x) as T;
}

// ---- optimizer steps ----
// The per-parameter arithmetic of src/train/optim (Adagrad, AdamW), one kernel per parameter on
// backends that register it (7–9 elementwise passes over each parameter otherwise). The composed
// versions below define the semantics; the native kernels do the same float32 operations in the
// same order. No gradients: these run outside the tape.

/**
 * torch.optim.Adagrad's update: grad = g + wd·p (coupled L2, only when wd > 0), sum' = sum + grad²,
 * p' = p − lr · grad / (√sum' + eps). Returns [p', sum'] (new tensors).
 */
export function adagradStep(p: tf.Tensor, g: tf.Tensor, sum: tf.Tensor, lr: number, eps: number, wd: number): [tf.Tensor, tf.Tensor] {
  if (hasKernel(FUSED_KERNELS.adagradStep)) {
    const out = tf
      .engine()
      .runKernel(FUSED_KERNELS.adagradStep, { p, g, sum }, { lr, eps, wd } as unknown as tf.NamedAttrMap) as tf.Tensor[];
    return [out[0]!, out[1]!];
  }
  return tf.tidy(() => {
    const grad = wd > 0 ? tf.add(g, tf.mul(p, wd)) : g;
    const s2 = tf.add(sum, tf.square(grad));
    return [tf.sub(p, tf.mul(tf.div(grad, tf.add(tf.sqrt(s2), eps)), lr)), s2] as [tf.Tensor, tf.Tensor];
  });
}

/**
 * torch.optim.AdamW's update at step t (bc1 = 1 − β1^t, bc2 = 1 − β2^t): m' = β1·m + (1−β1)·g,
 * v' = β2·v + (1−β2)·g², p' = p − (lr/bc1) · m' / (√v'/√bc2 + eps) − lr·wd·p (decoupled decay,
 * only when wd > 0). Returns [p', m', v'] (new tensors).
 */
export function adamStep(
  p: tf.Tensor,
  g: tf.Tensor,
  m: tf.Tensor,
  v: tf.Tensor,
  a: { beta1: number; beta2: number; eps: number; bc1: number; bc2: number; lr: number; wd: number },
): [tf.Tensor, tf.Tensor, tf.Tensor] {
  if (hasKernel(FUSED_KERNELS.adamStep)) {
    const out = tf.engine().runKernel(FUSED_KERNELS.adamStep, { p, g, m, v }, a as unknown as tf.NamedAttrMap) as tf.Tensor[];
    return [out[0]!, out[1]!, out[2]!];
  }
  return tf.tidy(() => {
    const m2 = tf.add(tf.mul(m, a.beta1), tf.mul(g, 1 - a.beta1));
    const v2 = tf.add(tf.mul(v, a.beta2), tf.mul(tf.square(g), 1 - a.beta2));
    const denom = tf.add(tf.div(tf.sqrt(v2), Math.sqrt(a.bc2)), a.eps);
    let next = tf.sub(p, tf.mul(tf.div(m2, denom), a.lr / a.bc1));
    if (a.wd > 0) next = tf.sub(next, tf.mul(p, a.lr * a.wd));
    return [next, m2, v2] as [tf.Tensor, tf.Tensor, tf.Tensor];
  });
}
