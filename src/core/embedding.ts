// Token embedding, as torch.nn.Embedding: weight (V, d), forward is a row gather. Its gradient is
// a scatter-add of the output gradient rows into a (V, d) zero matrix (tf.scatterND sums duplicate
// indices). tfjs's own gradient of gather goes through UnsortedSegmentSum, which on the cpu backend
// loops over every one of the V segments (~66 ms each: minutes for an 8k vocabulary; see
// /work/shared/NOTES-tfjs.md), so this module defines its own. Init follows fairseq's
// `Embedding()`: N(0, d^-0.5) with the padding row zeroed; the padding row also gets no gradient.
// `project(h)` computes h Wᵀ: the output projection tied to the embedding (Press & Wolf, 2017);
// `logProbs(h)` its log-softmax, which an inference kernel (src/quant) computes in the same pass.
import * as tf from '@tensorflow/tfjs';
import { logSoftmax } from '../backend/fused.js';
import { customGrad } from './custom-grad.js';
import { drawValues, type Resettable } from './init.js';
import { type LinearKernel, matMulTransposeB } from './linear.js';
import { Module } from './module.js';
import { checkInt, resolveConfig } from '../util/config.js';
import type { RandomSource } from './rng.js';

export interface EmbeddingConfig {
  /** Vocabulary size V (required). */
  numEmbeddings: number;
  /** Embedding size d (required). */
  dim: number;
  /** Index of the padding token: its row starts at 0 and receives no gradient. Default null (none). */
  paddingIdx: number | null;
  /** Std of the normal init. Default null = d^-0.5 (fairseq). */
  initStd: number | null;
}

export const DEFAULT_EMBEDDING: Omit<EmbeddingConfig, 'numEmbeddings' | 'dim'> = { paddingIdx: null, initStd: null };

export function resolveEmbeddingConfig(c: Partial<EmbeddingConfig>): EmbeddingConfig {
  const r = resolveConfig('EmbeddingConfig', DEFAULT_EMBEDDING as EmbeddingConfig, c, ['numEmbeddings', 'dim']);
  checkInt('EmbeddingConfig', 'numEmbeddings', r.numEmbeddings);
  checkInt('EmbeddingConfig', 'dim', r.dim);
  if (r.paddingIdx !== null) checkInt('EmbeddingConfig', 'paddingIdx', r.paddingIdx, 0);
  if (r.paddingIdx !== null && r.paddingIdx >= r.numEmbeddings) {
    throw new Error(`EmbeddingConfig: 'paddingIdx' ${r.paddingIdx} is outside the vocabulary [0, ${r.numEmbeddings})`);
  }
  return r;
}

/**
 * weight[ids] with a scatter-add gradient: ids int32 of any shape S → (...S, d). Rows of `ids`
 * equal to `paddingIdx` (if given) contribute no gradient.
 */
export function embeddingLookup(weight: tf.Tensor2D, ids: tf.Tensor, paddingIdx: number | null = null): tf.Tensor {
  if (ids.dtype !== 'int32') throw new Error(`embeddingLookup: ids must be int32, got ${ids.dtype}`);
  const [V, d] = weight.shape;
  const flatIds = tf.reshape(ids, [-1]) as tf.Tensor1D; // (M)
  const f = customGrad((w: tf.Tensor, save: tf.GradSaveFunc) => {
    save([flatIds]);
    return {
      value: tf.gather(w, flatIds), // (M, d)
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [idx] = saved;
        let upd = dy; // (M, d)
        if (paddingIdx !== null) upd = tf.mul(dy, tf.expandDims(tf.cast(tf.notEqual(idx, paddingIdx), 'float32'), 1));
        return tf.scatterND(tf.expandDims(idx, 1), upd, [V, d]); // (V, d), duplicates summed
      },
    };
  });
  const out = f(weight) as tf.Tensor; // (M, d)
  return tf.reshape(out, [...ids.shape, d]); // (...S, d)
}

export class Embedding extends Module implements Resettable {
  readonly config: EmbeddingConfig;
  readonly weight: tf.Variable;
  /** The inference kernel of the output projection (src/quant), or null for the fp32 product. */
  projectionKernel: LinearKernel | null = null;

  constructor(config: Partial<EmbeddingConfig>, rng: RandomSource) {
    super();
    this.config = resolveEmbeddingConfig(config);
    this.weight = this.registerParameter('weight', tf.tensor2d(this.draw(rng), [this.config.numEmbeddings, this.config.dim]));
  }

  private draw(rng: RandomSource): Float32Array {
    const { numEmbeddings: V, dim: d, paddingIdx } = this.config;
    const std = this.config.initStd ?? d ** -0.5;
    const values = drawValues([V, d], { kind: 'normal', std }, rng);
    if (paddingIdx !== null) values.fill(0, paddingIdx * d, (paddingIdx + 1) * d);
    return values;
  }

  resetParameters(rng: RandomSource): void {
    const t = tf.tensor2d(this.draw(rng), [this.config.numEmbeddings, this.config.dim]);
    this.weight.assign(t);
    t.dispose();
  }

  /** ids int32 (...S) → (...S, d). */
  forward(ids: tf.Tensor): tf.Tensor {
    return embeddingLookup(this.weight as tf.Tensor2D, ids, this.config.paddingIdx);
  }

  /** Tied output projection: h (..., d) → logits (..., V) = h Wᵀ (no bias). */
  project(h: tf.Tensor): tf.Tensor {
    if (this.projectionKernel) return this.projectionKernel.forward(h, 'none');
    const d = this.config.dim;
    const h2 = h.rank === 2 ? h : tf.reshape(h, [-1, d]); // (M, d)
    const logits = matMulTransposeB(h2 as tf.Tensor2D, this.weight as tf.Tensor2D); // (M, V)
    return h.rank === 2 ? logits : tf.reshape(logits, [...h.shape.slice(0, -1), this.config.numEmbeddings]);
  }

  /** Log-probabilities over the vocabulary: log softmax(h Wᵀ) along the last axis, h (..., d) → (..., V). */
  logProbs(h: tf.Tensor): tf.Tensor {
    if (this.projectionKernel) return this.projectionKernel.forward(h, 'logSoftmax');
    return tf.tidy(() => logSoftmax(this.project(h)));
  }

  /** Replaces the output projection by `kernel` (null: back to fp32), disposing the previous one. */
  setProjectionKernel(kernel: LinearKernel | null): void {
    this.projectionKernel?.dispose();
    this.projectionKernel = kernel;
  }

  override dispose(): void {
    this.setProjectionKernel(null);
    super.dispose();
  }
}
