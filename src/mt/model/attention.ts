// Multi-head scaled dot-product attention (Vaswani et al. 2017), as fairseq's MultiheadAttention:
// q_proj, k_proj, v_proj, out_proj (d → d, with bias), queries scaled by dh^-1/2, an additive
// mask bias (−1e9 where a key must not be seen). Used as the decoder's cross-attention in both
// architectures (arXiv 2105.03404 §2: the ResMLP decoder keeps encoder–decoder attention) and as
// the self-attention of the Transformer baseline. Keys/values are split out (`keysValues`) so an
// incremental decoder computes the encoder's once and caches them. Also sinusoidal positions.
import * as tf from '@tensorflow/tfjs';
import { Dropout } from '../../core/dropout.js';
import { Linear } from '../../core/linear.js';
import { checkInt, Module } from '../../core/module.js';
import type { RandomSource } from '../../core/rng.js';

/** Large negative bias for masked attention logits (not −∞: a fully masked row stays finite). */
export const MASKED = -1e9;

export interface KeysValues {
  /** (B, H, S, dh) */
  k: tf.Tensor4D;
  /** (B, H, S, dh) */
  v: tf.Tensor4D;
}

export class MultiHeadAttention extends Module {
  readonly q_proj: Linear;
  readonly k_proj: Linear;
  readonly v_proj: Linear;
  readonly out_proj: Linear;
  private readonly drop: Dropout;
  readonly headDim: number;

  constructor(
    readonly dim: number,
    readonly heads: number,
    dropout: number,
    rng: RandomSource,
  ) {
    super();
    checkInt('MultiHeadAttention', 'dim', dim);
    checkInt('MultiHeadAttention', 'heads', heads);
    if (dim % heads !== 0) throw new Error(`MultiHeadAttention: dim ${dim} is not divisible by heads ${heads}`);
    this.headDim = dim / heads;
    const lin = () => new Linear({ inFeatures: dim, outFeatures: dim }, rng);
    this.q_proj = this.registerModule('q_proj', lin());
    this.k_proj = this.registerModule('k_proj', lin());
    this.v_proj = this.registerModule('v_proj', lin());
    this.out_proj = this.registerModule('out_proj', lin());
    this.drop = this.registerModule('attn_drop', new Dropout(dropout, rng.fork('attn_drop')));
  }

  /** (B, L, d) → (B, H, L, dh). */
  private split(x: tf.Tensor): tf.Tensor4D {
    const [B, L] = x.shape;
    return tf.transpose(tf.reshape(x, [B!, L!, this.heads, this.headDim]), [0, 2, 1, 3]); // (B, H, L, dh)
  }

  /** Keys and values of kv (B, S, d), each (B, H, S, dh). */
  keysValues(kv: tf.Tensor3D): KeysValues {
    return tf.tidy(() => ({ k: this.split(this.k_proj.forward(kv)), v: this.split(this.v_proj.forward(kv)) }));
  }

  /**
   * Queries x (B, T, d) attend to k, v (B, H, S, dh); `bias` broadcastable to (B, H, T, S)
   * (0 = visible, MASKED = hidden) or null. → (B, T, d).
   */
  attend(x: tf.Tensor3D, kv: KeysValues, bias: tf.Tensor | null): tf.Tensor3D {
    return tf.tidy(() => {
      const [B, T, d] = x.shape;
      const q = tf.mul(this.split(this.q_proj.forward(x)), this.headDim ** -0.5); // (B, H, T, dh)
      let s = tf.matMul(q, kv.k, false, true) as tf.Tensor4D; // (B, H, T, S)
      if (bias) s = tf.add(s, bias);
      const p = this.drop.forward(tf.softmax(s)); // (B, H, T, S)
      const o = tf.matMul(p, kv.v); // (B, H, T, dh)
      const merged = tf.reshape(tf.transpose(o, [0, 2, 1, 3]), [B, T, d]); // (B, T, d)
      return this.out_proj.forward(merged) as tf.Tensor3D;
    });
  }

  /** Attention of x (B, T, d) over kv (B, S, d). */
  forward(x: tf.Tensor3D, kv: tf.Tensor3D, bias: tf.Tensor | null): tf.Tensor3D {
    return tf.tidy(() => this.attend(x, this.keysValues(kv), bias));
  }
}

/**
 * Sinusoidal positions (n, d) as fairseq's SinusoidalPositionalEmbedding.get_embedding: for
 * half = d/2 frequencies ω_i = 10000^(−i/(half−1)), row p = [sin(p·ω), cos(p·ω)] (zero-padded when d
 * is odd). Rows are positions 0 … n−1 (fairseq offsets by padding_idx + 1; we index from 0).
 */
export function sinusoidalPositions(n: number, d: number): tf.Tensor2D {
  const half = Math.floor(d / 2);
  const step = half > 1 ? Math.log(10000) / (half - 1) : 0;
  const out = new Float32Array(n * d);
  for (let p = 0; p < n; p++) {
    for (let i = 0; i < half; i++) {
      const a = p * Math.exp(-step * i);
      out[p * d + i] = Math.sin(a);
      out[p * d + half + i] = Math.cos(a);
    }
  }
  return tf.tensor2d(out, [n, d]);
}

/** Causal attention bias (1, 1, T, T): MASKED above the diagonal. */
export function causalBias(T: number): tf.Tensor4D {
  const m = new Float32Array(T * T);
  for (let i = 0; i < T; i++) m.fill(MASKED, i * T + i + 1, (i + 1) * T);
  return tf.tensor4d(m, [1, 1, T, T]);
}
