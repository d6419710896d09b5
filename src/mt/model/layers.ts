// Encoder and decoder layers of the sequence-to-sequence ResMLP (arXiv 2105.03404 §2
// "Sequence-to-sequence ResMLP", §3.6) and of its Transformer baseline (Table 5), built from the
// shared block (core/block.ts) with its layers passed in. All sublayers are pre-normalised (Aff,
// or LayerNorm with `norm: "layernorm"`) residual branches scaled by a LayerScale vector
// initialised to `layerScale` (0.2 in §3.6):
//   encoder:  x += ls1 ⊙ A_enc·(Aff(x) ⊙ m)            (cross-token linear; m zeroes padding)
//             x += ls2 ⊙ MLP(Aff(x))
//   decoder:  y += ls1 ⊙ A_dec·(Aff(y) ⊙ m)            (causal: A_dec lower-triangular)
//             y += ls_cross ⊙ CrossAttn(Aff(y), enc)   (extra sublayer; source padding masked)
//             y += ls2 ⊙ MLP(Aff(y))
// `arch` picks the token mixer through the block's `tokenMixing` ('resmlp' → 'linear',
// 'transformer' → 'attention': multi-head self-attention, causal in the decoder).
// A_enc, A_dec are N×N, sliced to the batch length (core/cross-token.ts). Source padding is zeroed
// before every token-mixing layer, so a sentence's outputs do not depend on what else is in its
// batch; target padding is at the end and the decoder's mixing is causal, so it never reaches a
// real position (the decoder test checks logits of a padded row equal those of the row alone).
// Dropout: on the token-mixing and cross-attention branch outputs, and inside the channel MLP
// (after GELU and after fc2, timm's Mlp), which doubles as the MLP branch's residual dropout.
// Decoder layers also `step`: one position with a cache of past positions (incremental decoding);
// for ResMLP out_t = Σ_{s≤t} A[t,s]·n_s + b_t from the cached normalised inputs n_s.
import { CrossAttention, type CrossAttentionContext } from '../../core/attention.js';
import {
  type BlockContext,
  makeChannelMlp,
  makeNorm,
  makeTokenMixer,
  type MixerCache,
  type Norm,
  ResBlock,
  type ResBlockConfig,
  resolveResBlockConfig,
} from '../../core/block.js';
import { Dropout } from '../../core/dropout.js';
import type { RandomSource } from '../../core/rng.js';
import type { Seq2SeqConfig } from './config.js';

/** The translation models' LayerNorm eps: PyTorch's default, as fairseq (not timm's Mixer 1e-6). */
export const MT_LAYER_NORM_EPS = 1e-5;

/** Encoder layers read the source padding mask (B, S, d) and, for self-attention, its bias (B, 1, 1, S). */
export type EncoderContext = BlockContext;
/** Decoder layers read the encoder keys/values of their cross-attention (and no padding mask: see above). */
export type DecoderContext = BlockContext & CrossAttentionContext;

export type EncoderLayer = ResBlock<EncoderContext>;
export type DecoderLayer = ResBlock<DecoderContext, CrossAttention>;

/** Per-layer cache of past decoder positions: ResMLP's normalised inputs (R, t, d) or self-attention keys/values. */
export type LayerCache = MixerCache | null;

/** The shared block's hyperparameters of a translation layer. */
export function blockConfig(c: Seq2SeqConfig, causal: boolean): ResBlockConfig {
  return resolveResBlockConfig({
    dim: c.dim,
    seqLen: c.maxLen,
    mlpHidden: c.mlpHidden,
    tokenMixing: c.arch === 'resmlp' ? 'linear' : 'attention',
    causal,
    heads: c.heads,
    attentionDropout: c.attentionDropout,
    norm: c.norm,
    layerNormEps: MT_LAYER_NORM_EPS,
    layerScale: c.layerScale,
    drop: c.dropout,
  });
}

/** The norm of a translation model (its sublayers and the final norm of each stack). */
export function mtNorm(c: Seq2SeqConfig): Norm {
  return makeNorm({ norm: c.norm, dim: c.dim, layerNormEps: MT_LAYER_NORM_EPS });
}

/** An encoder layer: the block with the cross-token linear (or self-attention) and residual dropout. */
export function encoderLayer(c: Seq2SeqConfig, rng: RandomSource): EncoderLayer {
  const b = blockConfig(c, false);
  // built in init order (the generator's draws follow it): mixer, MLP, then the dropout's stream
  const tokens = makeTokenMixer(b, rng);
  const mlp = makeChannelMlp(b, rng);
  const dropout = new Dropout(c.dropout, rng.fork('drop'));
  return new ResBlock<EncoderContext>({ dim: c.dim, layerScale: c.layerScale, norm: () => mtNorm(c), tokens, mlp, dropout });
}

/** A decoder layer: the block with the causal mixer and cross-attention as its extra sublayer. */
export function decoderLayer(c: Seq2SeqConfig, rng: RandomSource): DecoderLayer {
  const b = blockConfig(c, true);
  // built in init order: mixer, cross-attention, MLP, then the dropout's stream
  const tokens = makeTokenMixer(b, rng);
  const cross = new CrossAttention({ dim: c.dim, heads: c.heads, dropout: c.attentionDropout }, rng);
  const mlp = makeChannelMlp(b, rng);
  const dropout = new Dropout(c.dropout, rng.fork('drop'));
  return new ResBlock<DecoderContext, CrossAttention>({
    dim: c.dim,
    layerScale: c.layerScale,
    norm: () => mtNorm(c),
    tokens,
    extras: [{ tag: 'cross', name: 'cross_attn', layer: cross }],
    mlp,
    dropout,
  });
}

/** The cross-attention of a decoder layer. */
export function crossAttention(layer: DecoderLayer): CrossAttention {
  return layer.extras[0]!.layer;
}
