// Encoder and decoder layers of the sequence-to-sequence ResMLP (arXiv 2105.03404 §2
// "Sequence-to-sequence ResMLP", §3.6) and of its Transformer baseline (Table 5). All sublayers are
// pre-normalised (Aff, or LayerNorm with `norm: "layernorm"`) residual branches scaled by a
// LayerScale vector initialised to `layerScale` (0.2 in §3.6):
//   encoder:  x += ls1 ⊙ A_enc·(Aff(x) ⊙ m)            (cross-token linear; m zeroes padding)
//             x += ls2 ⊙ MLP(Aff(x))
//   decoder:  y += ls1 ⊙ A_dec·(Aff(y) ⊙ m)            (causal: A_dec lower-triangular)
//             y += ls_cross ⊙ CrossAttn(Aff(y), enc)   (multi-head, source padding masked)
//             y += ls2 ⊙ MLP(Aff(y))
// A_enc, A_dec are N×N, sliced to the batch length (core/cross-token.ts). Source padding is zeroed
// before every token-mixing layer, so a sentence's outputs do not depend on what else is in its
// batch; target padding is at the end and the decoder's mixing is causal, so it never reaches a
// real position (the decoder test checks logits of a padded row equal those of the row alone).
// The Transformer baseline replaces each A·(·) by multi-head self-attention (causal in the decoder).
// Dropout: on the token-mixing and cross-attention branch outputs, and inside the channel MLP
// (after GELU and after fc2, timm's Mlp), which doubles as the MLP branch's residual dropout.
// The decoder layer also has `step`: one position with a cache of past positions (incremental
// decoding): for ResMLP out_t = Σ_{s≤t} A[t,s]·n_s + b_t from the cached normalised inputs n_s.
import * as tf from '@tensorflow/tfjs';
import { Affine } from '../../core/affine.js';
import { addBranch } from '../../core/block.js';
import { ChannelMlp } from '../../core/channel-mlp.js';
import { CrossToken } from '../../core/cross-token.js';
import { Dropout } from '../../core/dropout.js';
import { LayerNorm } from '../../core/layer-norm.js';
import { Module } from '../../core/module.js';
import type { RandomSource } from '../../core/rng.js';
import { type KeysValues, MultiHeadAttention } from './attention.js';
import type { Seq2SeqConfig } from './config.js';

export type Norm = Affine | LayerNorm;

export function makeNorm(c: Seq2SeqConfig): Norm {
  return c.norm === 'affine' ? new Affine(c.dim) : new LayerNorm({ dim: c.dim });
}


export class EncoderLayer extends Module {
  readonly ls1: tf.Variable | null = null;
  readonly ls2: tf.Variable | null = null;
  readonly norm1: Norm;
  readonly linear_tokens: CrossToken | null = null;
  readonly self_attn: MultiHeadAttention | null = null;
  readonly norm2: Norm;
  readonly mlp_channels: ChannelMlp;
  private readonly drop: Dropout;

  constructor(readonly config: Seq2SeqConfig, rng: RandomSource) {
    super();
    const c = config;
    if (c.layerScale !== null) {
      this.ls1 = this.registerParameter('ls1', tf.fill([c.dim], c.layerScale));
      this.ls2 = this.registerParameter('ls2', tf.fill([c.dim], c.layerScale));
    }
    this.norm1 = this.registerModule('norm1', makeNorm(c));
    if (c.arch === 'resmlp') this.linear_tokens = this.registerModule('linear_tokens', new CrossToken({ seqLen: c.maxLen }, rng));
    else this.self_attn = this.registerModule('self_attn', new MultiHeadAttention(c.dim, c.heads, c.attentionDropout, rng));
    this.norm2 = this.registerModule('norm2', makeNorm(c));
    this.mlp_channels = this.registerModule('mlp_channels', new ChannelMlp({ dim: c.dim, hidden: c.mlpHidden, drop: c.dropout }, rng));
    this.drop = this.registerModule('drop', new Dropout(c.dropout, rng.fork('drop')));
  }

  /**
   * x (B, S, d); mask (B, S, d) 1 = token, 0 = padding (full shape: a (B, S, 1) broadcast multiply
   * falls to a slow generic kernel on the cpu/native backends); bias (B, 1, 1, S) for self-attention.
   */
  forward(x: tf.Tensor3D, mask: tf.Tensor3D, bias: tf.Tensor4D): tf.Tensor3D {
    return tf.tidy(() => {
      const n = tf.mul(this.norm1.forward(x), mask) as tf.Tensor3D; // (B, S, d), padding zero
      const t = this.linear_tokens ? this.linear_tokens.forward(n) : this.self_attn!.attend(n, this.self_attn!.keysValues(n), bias);
      const z = addBranch(x, this.drop.forward(t), this.ls1);
      return addBranch(z, this.mlp_channels.forward(this.norm2.forward(z)), this.ls2) as tf.Tensor3D;
    });
  }
}

/** Per-layer cache of past decoder positions: ResMLP's normalised inputs (R, t, d) or self-attention keys/values. */
export type LayerCache = tf.Tensor3D | KeysValues | null;

export class DecoderLayer extends Module {
  readonly ls1: tf.Variable | null = null;
  readonly ls_cross: tf.Variable | null = null;
  readonly ls2: tf.Variable | null = null;
  readonly norm1: Norm;
  readonly linear_tokens: CrossToken | null = null;
  readonly self_attn: MultiHeadAttention | null = null;
  readonly norm_cross: Norm;
  readonly cross_attn: MultiHeadAttention;
  readonly norm2: Norm;
  readonly mlp_channels: ChannelMlp;
  private readonly drop: Dropout;

  constructor(readonly config: Seq2SeqConfig, rng: RandomSource) {
    super();
    const c = config;
    if (c.layerScale !== null) {
      this.ls1 = this.registerParameter('ls1', tf.fill([c.dim], c.layerScale));
      this.ls_cross = this.registerParameter('ls_cross', tf.fill([c.dim], c.layerScale));
      this.ls2 = this.registerParameter('ls2', tf.fill([c.dim], c.layerScale));
    }
    this.norm1 = this.registerModule('norm1', makeNorm(c));
    if (c.arch === 'resmlp') this.linear_tokens = this.registerModule('linear_tokens', new CrossToken({ seqLen: c.maxLen, causal: true }, rng));
    else this.self_attn = this.registerModule('self_attn', new MultiHeadAttention(c.dim, c.heads, c.attentionDropout, rng));
    this.norm_cross = this.registerModule('norm_cross', makeNorm(c));
    this.cross_attn = this.registerModule('cross_attn', new MultiHeadAttention(c.dim, c.heads, c.attentionDropout, rng));
    this.norm2 = this.registerModule('norm2', makeNorm(c));
    this.mlp_channels = this.registerModule('mlp_channels', new ChannelMlp({ dim: c.dim, hidden: c.mlpHidden, drop: c.dropout }, rng));
    this.drop = this.registerModule('drop', new Dropout(c.dropout, rng.fork('drop')));
  }

  /**
   * The cross-attention and channel sublayers, shared by forward and step. z (B, T, d). With
   * `group` g > 1 (incremental beam decoding), `cross` holds one entry per g consecutive rows of z
   * (T = 1): the g hypotheses of a sentence are attended as g queries of that sentence, so the
   * encoder keys/values are never copied per beam.
   */
  private tail(z: tf.Tensor3D, cross: KeysValues, srcBias: tf.Tensor4D, group = 1): tf.Tensor3D {
    const q = this.norm_cross.forward(z);
    const [R, T, d] = z.shape;
    const a =
      group === 1
        ? this.cross_attn.attend(q, cross, srcBias) // (B, T, d)
        : tf.reshape(this.cross_attn.attend(tf.reshape(q, [R / group, group * T, d]), cross, srcBias), [R, T, d]); // (R/g, g, d) → (R, 1, d)
    const u = addBranch(z, this.drop.forward(a), this.ls_cross) as tf.Tensor3D;
    return addBranch(u, this.mlp_channels.forward(this.norm2.forward(u)), this.ls2) as tf.Tensor3D;
  }

  /**
   * Whole target prefix at once (training, full decoding). y (B, T, d); mask (B, T, d) or null:
   * targets are right-padded and the mixing is causal, so padding never reaches a real position
   * and the model passes null (zeroing it would change nothing but cost time);
   * selfBias (1, 1, T, T) causal (Transformer only); cross: encoder keys/values (B, H, S, dh);
   * srcBias (B, 1, 1, S).
   */
  forward(y: tf.Tensor3D, mask: tf.Tensor3D | null, selfBias: tf.Tensor4D | null, cross: KeysValues, srcBias: tf.Tensor4D): tf.Tensor3D {
    return tf.tidy(() => {
      const normed = this.norm1.forward(y);
      const n = (mask ? tf.mul(normed, mask) : normed) as tf.Tensor3D; // (B, T, d)
      const t = this.linear_tokens ? this.linear_tokens.forward(n) : this.self_attn!.attend(n, this.self_attn!.keysValues(n), selfBias);
      const z = addBranch(y, this.drop.forward(t), this.ls1) as tf.Tensor3D;
      return this.tail(z, cross, srcBias);
    });
  }

  /**
   * One position t of every row: x (R, 1, d), `cache` holds positions < t (null at t = 0);
   * `cross`/`srcBias` have R / group entries (see tail).
   * Returns the output (R, 1, d) and the cache extended with position t (the old one is not
   * disposed: the caller owns it).
   */
  step(x: tf.Tensor3D, cache: LayerCache, t: number, cross: KeysValues, srcBias: tf.Tensor4D, group = 1): { y: tf.Tensor3D; cache: LayerCache } {
    const out = tf.tidy(() => {
      const n = this.norm1.forward(x); // (R, 1, d)
      let tok: tf.Tensor;
      let next: LayerCache;
      if (this.linear_tokens) {
        const past = cache === null ? n : tf.concat([cache as tf.Tensor3D, n], 1); // (R, t+1, d)
        const a = tf.reshape(tf.slice(this.linear_tokens.weight, [t, 0], [1, t + 1]), [1, 1, t + 1]); // row t of A_dec, (1, 1, t+1)
        tok = tf.matMul(a, past); // (R, 1, d) = Σ_{s≤t} A[t,s]·n_s
        if (this.linear_tokens.bias) tok = tf.add(tok, tf.slice(this.linear_tokens.bias, [t], [1])); // + b_t
        next = past;
      } else {
        const kvNew = this.self_attn!.keysValues(n); // (R, H, 1, dh)
        const prev = cache as KeysValues | null;
        const kv = prev === null ? kvNew : { k: tf.concat([prev.k, kvNew.k], 2) as tf.Tensor4D, v: tf.concat([prev.v, kvNew.v], 2) as tf.Tensor4D };
        tok = this.self_attn!.attend(n, kv, null); // every cached position is ≤ t: no mask
        next = kv;
      }
      const z = addBranch(x, this.drop.forward(tok), this.ls1) as tf.Tensor3D;
      return { y: this.tail(z, cross, srcBias, group), cache: next } as unknown as tf.TensorContainer;
    });
    return out as unknown as { y: tf.Tensor3D; cache: LayerCache };
  }
}
