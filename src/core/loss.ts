// Label-smoothed cross-entropy (Szegedy et al. 2016), shared by the vision and translation models.
// With ε the smoothing, V the number of classes and p = softmax(logits):
//   'uniform' (timm's LabelSmoothingCrossEntropy, PyTorch's cross_entropy(label_smoothing=ε), and
//              fairseq before 2021): target distribution q = (1-ε)·onehot + ε/V;
//   'fairseq'  (fairseq's label_smoothed_nll_loss today): q = (1-ε-εᵢ)·onehot + εᵢ with εᵢ = ε/(V-1),
//              i.e. the target gets exactly 1-ε and every other class ε/(V-1).
// loss_i = −Σ_v q_v log p_v, averaged over the targets that are not `ignoreIndex` (padding).
// Written for 8k–32k vocabularies: −Σ_v q_v log p_v = c·(lse − x_t) + s·(V·lse − Σ_v x_v) with
// lse = logsumexp(x) (c, s the onehot and uniform weights), so the forward needs one max, one exp-sum
// and one plain sum over the logits and never materialises log-probabilities; the hand-written
// gradient is (softmax − q)·w_i/count in one pass over the saved exponentials.
import * as tf from '@tensorflow/tfjs';
import { customGrad } from './custom-grad.js';
import { resolveConfig } from '../util/config.js';
import { FUSED_KERNELS, hasKernel, smoothedCrossEntropyRows } from '../backend/fused.js';

export interface LabelSmoothedLossConfig {
  /** Smoothing ε in [0, 1). Default 0.1. */
  epsilon: number;
  /** Target value to ignore (padding); ignored rows count neither in the loss nor the mean. Default null. */
  ignoreIndex: number | null;
  /** Which definition of the smoothed target, see the file comment. Default 'uniform'. */
  variant: 'uniform' | 'fairseq';
}

export const DEFAULT_LABEL_SMOOTHED_LOSS: LabelSmoothedLossConfig = { epsilon: 0.1, ignoreIndex: null, variant: 'uniform' };

export function resolveLabelSmoothedLossConfig(c: Partial<LabelSmoothedLossConfig> = {}): LabelSmoothedLossConfig {
  const r = resolveConfig('LabelSmoothedLossConfig', DEFAULT_LABEL_SMOOTHED_LOSS, c);
  if (!(r.epsilon >= 0 && r.epsilon < 1)) throw new Error(`LabelSmoothedLossConfig: 'epsilon' must be in [0, 1), got ${r.epsilon}`);
  if (r.variant !== 'uniform' && r.variant !== 'fairseq') {
    throw new Error(`LabelSmoothedLossConfig: 'variant' must be 'uniform' or 'fairseq', got ${JSON.stringify(r.variant)}`);
  }
  if (r.ignoreIndex !== null && !Number.isInteger(r.ignoreIndex)) {
    throw new Error(`LabelSmoothedLossConfig: 'ignoreIndex' must be an integer or null, got ${r.ignoreIndex}`);
  }
  return r;
}

/** Weights of the smoothed target: q = c·onehot + s (per class). */
export function smoothingWeights(epsilon: number, V: number, variant: 'uniform' | 'fairseq'): { c: number; s: number } {
  if (variant === 'uniform') return { c: 1 - epsilon, s: epsilon / V };
  const epsI = V > 1 ? epsilon / (V - 1) : 0;
  return { c: 1 - epsilon - epsI, s: epsI };
}

/**
 * Mean label-smoothed cross-entropy. logits (..., V) float32, targets int32 (...) of the same
 * leading shape. Returns a scalar; 0 if every target is ignored. Differentiable w.r.t. logits.
 */
export function labelSmoothedCrossEntropy(logits: tf.Tensor, targets: tf.Tensor, config: Partial<LabelSmoothedLossConfig> = {}): tf.Scalar {
  const { epsilon, ignoreIndex, variant } = resolveLabelSmoothedLossConfig(config);
  const V = logits.shape[logits.rank - 1];
  const lead = logits.shape.slice(0, -1);
  if (targets.dtype !== 'int32') throw new Error(`labelSmoothedCrossEntropy: targets must be int32, got ${targets.dtype}`);
  if (!tf.util.arraysEqual(targets.shape, lead)) {
    throw new Error(`labelSmoothedCrossEntropy: targets shape [${targets.shape}] must equal logits shape without the class axis [${lead}]`);
  }
  const { c, s } = smoothingWeights(epsilon, V, variant);
  const M = lead.reduce((a, b) => a * b, 1);

  return tf.tidy(() => {
    const x = tf.reshape(logits, [M, V]); // (M, V)
    const t = tf.reshape(targets, [M]); // (M)
    // weights: 1 for counted rows, 0 for ignored; the gather index of an ignored row is clamped to 0
    const w = ignoreIndex === null ? tf.ones([M]) : tf.cast(tf.notEqual(t, ignoreIndex), 'float32'); // (M)
    const tSafe = ignoreIndex === null ? t : tf.where(tf.notEqual(t, ignoreIndex), t, tf.zerosLike(t));
    const count = tf.maximum(tf.sum(w), 1); // scalar
    if (logits.dtype === 'float32' && hasKernel(FUSED_KERNELS.smoothedXent)) {
      // One native kernel each way (about 3× faster than the composition below on the native backend).
      const rowLoss = smoothedCrossEntropyRows(x as tf.Tensor2D, tSafe as tf.Tensor1D, c, s); // (M)
      return tf.div(tf.sum(tf.mul(rowLoss, w)), count) as tf.Scalar;
    }
    const flatIdx = tf.add(tf.mul(tf.range(0, M, 1, 'int32'), tf.scalar(V, 'int32')), tSafe); // (M) row·V + t

    const f = customGrad((xs: tf.Tensor, save: tf.GradSaveFunc) => {
      const mx = tf.max(xs, 1, true); // (M, 1)
      const e = tf.exp(tf.sub(xs, mx)); // (M, V)
      const se = tf.sum(e, 1, true); // (M, 1)
      const lse = tf.add(mx, tf.log(se)); // (M, 1)
      const xt = tf.gather(tf.reshape(xs, [M * V]), flatIdx); // (M) logit of the target
      const sumX = tf.sum(xs, 1); // (M)
      const lse1 = tf.reshape(lse, [M]);
      // c·(lse − x_t) + s·(V·lse − Σx)
      const rowLoss = tf.add(tf.mul(tf.sub(lse1, xt), c), tf.mul(tf.sub(tf.mul(lse1, V), sumX), s)); // (M)
      const value = tf.div(tf.sum(tf.mul(rowLoss, w)), count);
      // w, count, flatIdx live outside this function: save them, or the forward tidy frees them
      save([e, se, w, count, flatIdx]);
      return {
        value,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [es, ses, ws, cnt, idx] = saved;
          // d/dx = (softmax − q)·w/count·dy with q = c·onehot(t) + s: a dense pass, then the M
          // target entries are patched in place of building a (M, V) one-hot
          const scale = tf.div(tf.mul(ws, dy), cnt); // (M)
          const rowScale = tf.div(tf.reshape(scale, [M, 1]), ses); // (M, 1)
          const shift = tf.reshape(tf.mul(scale, s), [M, 1]); // (M, 1)
          const dense = tf.reshape(tf.sub(tf.mul(es, rowScale), shift), [M * V]); // (M·V)
          const atTarget = tf.sub(tf.gather(dense, idx), tf.mul(scale, c)); // (M)
          // (the cpu/native TensorScatterUpdate of tfjs 4.22 writes into its input's buffer instead
          // of copying it; harmless here, `dense` is a temporary nobody else reads)
          return tf.reshape(tf.tensorScatterUpdate(dense, tf.expandDims(idx, 1), atTarget), [M, V]);
        },
      };
    });
    return f(x) as tf.Scalar;
  });
}
