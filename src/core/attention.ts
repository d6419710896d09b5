// Multi-head scaled dot-product attention (Vaswani et al. 2017), as fairseq's MultiheadAttention:
// q_proj, k_proj, v_proj, out_proj (d → d, with bias), queries scaled by dh^-1/2, an additive
// mask bias (−1e9 where a key must not be seen). Two uses in the shared block (block.ts):
//   SelfAttention  — a token mixer (tokenMixing 'attention', the Transformer baseline of
//                    arXiv 2105.03404 Table 5), optionally causal, with an incremental `step`;
//   CrossAttention — the decoder's extra sublayer over the encoder output (§2: the ResMLP decoder
//                    keeps encoder–decoder attention). Keys/values are split out (`keysValues`) so
//                    an incremental decoder computes the encoder's once and caches them.
// Also the attention masks and fairseq's sinusoidal positions.
import * as tf from '@tensorflow/tfjs';
import { Dropout } from './dropout.js';
import { Linear } from './linear.js';
import { Module } from './module.js';
import { checkInt, checkRate, resolveConfig } from '../util/config.js';
import type { RandomSource } from './rng.js';

/** Large negative bias for masked attention logits (not −∞: a fully masked row stays finite). */
export const MASKED = -1e9;

export interface KeysValues {
  /** (B, H, S, dh) */
  k: tf.Tensor4D;
  /** (B, H, S, dh) */
  v: tf.Tensor4D;
}

export interface AttentionConfig {
  /** Channels d (required). */
  dim: number;
  /** Heads H (required); d must be divisible by H. */
  heads: number;
  /** Dropout on the attention weights. Default 0. */
  dropout: number;
  /** Self-attention only: position i never attends to j > i. Default false. */
  causal: boolean;
}

export const DEFAULT_ATTENTION: Omit<AttentionConfig, 'dim' | 'heads'> = { dropout: 0, causal: false };

export function resolveAttentionConfig(c: Partial<AttentionConfig>): AttentionConfig {
  const where = 'AttentionConfig';
  const r = resolveConfig(where, DEFAULT_ATTENTION as AttentionConfig, c, ['dim', 'heads']);
  checkInt(where, 'dim', r.dim);
  checkInt(where, 'heads', r.heads);
  if (r.dim % r.heads !== 0) throw new Error(`${where}: 'dim' ${r.dim} is not divisible by 'heads' ${r.heads}`);
  checkRate(where, 'dropout', r.dropout);
  return r;
}

/** The projections and the attention itself; SelfAttention and CrossAttention say what attends to what. */
export class MultiHeadAttention extends Module {
  readonly config: AttentionConfig;
  readonly qProj: Linear;
  readonly kProj: Linear;
  readonly vProj: Linear;
  readonly outProj: Linear;
  readonly headDim: number;
  private readonly drop: Dropout;

  constructor(config: Partial<AttentionConfig>, rng: RandomSource) {
    super();
    const c = (this.config = resolveAttentionConfig(config));
    this.headDim = c.dim / c.heads;
    const lin = () => new Linear({ inFeatures: c.dim, outFeatures: c.dim }, rng);
    this.qProj = this.registerModule('q_proj', lin());
    this.kProj = this.registerModule('k_proj', lin());
    this.vProj = this.registerModule('v_proj', lin());
    this.outProj = this.registerModule('out_proj', lin());
    this.drop = this.registerModule('attn_drop', new Dropout(c.dropout, rng.fork('attn_drop')));
  }

  /** (B, L, d) → (B, H, L, dh). */
  private split(x: tf.Tensor): tf.Tensor4D {
    const [B, L] = x.shape;
    return tf.transpose(tf.reshape(x, [B!, L!, this.config.heads, this.headDim]), [0, 2, 1, 3]); // (B, H, L, dh)
  }

  /** Keys and values of kv (B, S, d), each (B, H, S, dh). */
  keysValues(kv: tf.Tensor3D): KeysValues {
    return tf.tidy(() => ({ k: this.split(this.kProj.forward(kv)), v: this.split(this.vProj.forward(kv)) }));
  }

  /**
   * Queries x (B, T, d) attend to k, v (B, H, S, dh); `bias` broadcastable to (B, H, T, S)
   * (0 = visible, MASKED = hidden) or null. → (B, T, d).
   */
  attend(x: tf.Tensor3D, kv: KeysValues, bias: tf.Tensor | null): tf.Tensor3D {
    return tf.tidy(() => {
      const [B, T, d] = x.shape;
      const q = tf.mul(this.split(this.qProj.forward(x)), this.headDim ** -0.5); // (B, H, T, dh)
      let s = tf.matMul(q, kv.k, false, true) as tf.Tensor4D; // (B, H, T, S)
      if (bias) s = tf.add(s, bias);
      const p = this.drop.forward(tf.softmax(s)); // (B, H, T, S)
      const o = tf.matMul(p, kv.v); // (B, H, T, dh)
      const merged = tf.reshape(tf.transpose(o, [0, 2, 1, 3]), [B, T, d]); // (B, T, d)
      return this.outProj.forward(merged) as tf.Tensor3D;
    });
  }
}

/** Self-attention as a token mixer: every position attends to the (visible) positions of its row. */
export class SelfAttention extends MultiHeadAttention {
  /**
   * x (B, L, d) → (B, L, d). `ctx.bias` (padding, broadcastable to (B, H, L, L)) is added to the
   * causal mask when the layer is causal.
   */
  forward(x: tf.Tensor3D, ctx: { bias?: tf.Tensor4D | null } = {}): tf.Tensor3D {
    return tf.tidy(() => {
      let bias: tf.Tensor | null = ctx.bias ?? null;
      if (this.config.causal) {
        const c = causalBias(x.shape[1]); // (1, 1, L, L)
        bias = bias ? tf.add(c, bias) : c;
      }
      return this.attend(x, this.keysValues(x), bias);
    });
  }

  /**
   * Incremental decoding: position t of every row, x (R, 1, d), attends to the cached keys/values
   * of positions < t (null at t = 0) and its own. Returns the output (R, 1, d) and the cache with
   * position t appended (the old cache is not disposed: the caller owns it). With per-row
   * positions (Int32Array, step-level batching) the cache is right-aligned: row r attends to its
   * last t_r + 1 entries only, and the cache returned is trimmed to the longest row.
   */
  step(x: tf.Tensor3D, cache: KeysValues | null, t: number | Int32Array): { y: tf.Tensor3D; cache: KeysValues } {
    if (!this.config.causal) throw new Error('SelfAttention.step: only a causal self-attention decodes incrementally');
    const out = tf.tidy(() => {
      const kvNew = this.keysValues(x); // (R, H, 1, dh)
      const kv =
        cache === null ? kvNew : { k: tf.concat([cache.k, kvNew.k], 2) as tf.Tensor4D, v: tf.concat([cache.v, kvNew.v], 2) as tf.Tensor4D }; // (R, H, L, dh)
      if (typeof t === 'number') return { y: this.attend(x, kv, null), cache: kv } as unknown as tf.TensorContainer; // every cached position is ≤ t: no mask
      const [R, H, L, dh] = kv.k.shape;
      if (t.length !== R) throw new Error(`SelfAttention.step: ${t.length} positions for ${R} rows`);
      const bias = new Float32Array(R * L);
      let longest = 0;
      for (let r = 0; r < R; r++) {
        const p = t[r]!;
        if (p + 1 > L) throw new Error(`SelfAttention.step: a row at position ${p} needs ${p + 1} cached entries, the cache holds ${L}`);
        bias.fill(MASKED, r * L, r * L + (L - 1 - p)); // padding before the row's first entry
        longest = Math.max(longest, p + 1);
      }
      const y = this.attend(x, kv, tf.tensor4d(bias, [R, 1, 1, L]));
      const trim = (z: tf.Tensor4D) => (longest < L ? (tf.slice(z, [0, 0, L - longest, 0], [R, H, longest, dh]) as tf.Tensor4D) : z);
      return { y, cache: { k: trim(kv.k), v: trim(kv.v) } } as unknown as tf.TensorContainer;
    });
    return out as unknown as { y: tf.Tensor3D; cache: KeysValues };
  }
}

/** What cross-attention reads: the encoder's keys/values and source padding bias. */
export interface CrossAttentionContext {
  /** Encoder keys/values of this layer (E, H, S, dh). */
  cross: KeysValues;
  /** (E, 1, 1, S): 0 for tokens, MASKED for padding. */
  srcBias: tf.Tensor4D;
  /**
   * g > 1 (incremental beam decoding): the R = E·g query rows are g consecutive hypotheses per
   * entry of `cross`, attended as g queries of that entry, so the encoder keys/values are never
   * copied per beam. Default 1 (one query row per entry).
   */
  group?: number;
}

/** Encoder–decoder attention: queries (B, T, d) of the decoder attend to the encoder output. */
export class CrossAttention extends MultiHeadAttention {
  /** q (R, T, d) → (R, T, d). */
  forward(q: tf.Tensor3D, ctx: CrossAttentionContext): tf.Tensor3D {
    if (!ctx?.cross || !ctx.srcBias) throw new Error('CrossAttention: the context must hold the encoder keys/values (cross) and srcBias');
    const g = ctx.group ?? 1;
    if (g === 1) return this.attend(q, ctx.cross, ctx.srcBias); // (B, T, d)
    return tf.tidy(() => {
      const [R, T, d] = q.shape;
      const grouped = this.attend(tf.reshape(q, [R / g, g * T, d]), ctx.cross, ctx.srcBias); // (R/g, g·T, d)
      return tf.reshape(grouped, [R, T, d]); // (R, T, d)
    });
  }
}

/** Causal attention bias (1, 1, T, T): MASKED above the diagonal. */
export function causalBias(T: number): tf.Tensor4D {
  const m = new Float32Array(T * T);
  for (let i = 0; i < T; i++) m.fill(MASKED, i * T + i + 1, (i + 1) * T);
  return tf.tensor4d(m, [1, 1, T, T]);
}

/**
 * Sinusoidal positions (n, d) as fairseq's SinusoidalPositionalEmbedding.get_embedding: for
 * half = d/2 frequencies ω_i = 10000^(−i/(half−1)), row p = [sin(p·ω), cos(p·ω)] (zero-padded when d
 * is odd). Rows are positions 0 … n−1 (fairseq offsets by padding_idx + 1; we index from 0).
 * Attention is permutation-equivariant, so the Transformer adds these to its embeddings.
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
