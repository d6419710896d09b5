// Configuration of the sequence-to-sequence translation model (arXiv 2105.03404 §2
// "Sequence-to-sequence ResMLP", §3.6 and Table 5): the ResMLP encoder/decoder or the Transformer
// baseline with everything else equal (pre-norm, LayerScale, tied shared embeddings, cross-attention,
// channel MLP, dropout). One interface with documented defaults, `DEFAULT_SEQ2SEQ`, and a resolver
// that rejects unknown keys and bad values, naming them.
import { checkInt, checkRate, resolveConfig } from '../../util/config.js';

export type Seq2SeqArch = 'resmlp' | 'transformer';

export interface Seq2SeqConfig {
  /**
   * 'resmlp' (default): cross-token linear layers (non-causal in the encoder, causal lower-triangular
   * in the decoder) carry position, no positional embeddings. 'transformer': multi-head
   * self-attention (causal in the decoder) in their place; attention is permutation-equivariant,
   * so fixed sinusoidal positions (Vaswani et al. 2017, fairseq's SinusoidalPositionalEmbedding
   * layout: sin half then cos half) are added to the embeddings.
   */
  arch: Seq2SeqArch;
  /** Shared source/target SentencePiece vocabulary size V (required). */
  vocabSize: number;
  /** Special ids (src/mt/data SPECIAL_IDS). Defaults pad 0, unk 1, bos 2, eos 3. */
  padId: number;
  unkId: number;
  bosId: number;
  eosId: number;
  /**
   * Maximum positions N (required): A_enc and A_dec are N×N. A source may have at most N − 1
   * tokens (+ EOS); a target at most N − 1 tokens (BOS + tokens, or tokens + EOS).
   */
  maxLen: number;
  /** Model width d. Default 512 (paper). */
  dim: number;
  /** Hidden width of the channel MLP. Default 2048 (paper). */
  mlpHidden: number;
  /** Encoder layers. Default 6. */
  encoderLayers: number;
  /** Decoder layers. Default 6. */
  decoderLayers: number;
  /** Heads of the cross-attention (and of the Transformer's self-attention). Default 8 (paper). */
  heads: number;
  /** Sublayer pre-normalisation: 'affine' (ResMLP's Aff, default) or 'layernorm'. */
  norm: 'affine' | 'layernorm';
  /** LayerScale init of every residual branch (§3.6: 0.2). null = no LayerScale. Default 0.2. */
  layerScale: number | null;
  /** Dropout on embeddings, residual branches and inside the channel MLP. Default 0.1. */
  dropout: number;
  /** Dropout on attention weights. Default 0. */
  attentionDropout: number;
  /**
   * Multiply token embeddings by √d before the first layer, as fairseq's transformer
   * (`embed_scale`): embeddings are initialised N(0, d^-1/2) so that the tied output projection
   * gets small logits, and the scale brings the inputs of the first layer back to unit variance.
   * Default true (for both archs, so the comparison differs only in token mixing).
   */
  scaleEmbedding: boolean;
  /** Init seed of the parameters. Default 1. */
  seed: number;
}

export const DEFAULT_SEQ2SEQ: Omit<Seq2SeqConfig, 'vocabSize' | 'maxLen'> = {
  arch: 'resmlp',
  padId: 0,
  unkId: 1,
  bosId: 2,
  eosId: 3,
  dim: 512,
  mlpHidden: 2048,
  encoderLayers: 6,
  decoderLayers: 6,
  heads: 8,
  norm: 'affine',
  layerScale: 0.2,
  dropout: 0.1,
  attentionDropout: 0,
  scaleEmbedding: true,
  seed: 1,
};

export function resolveSeq2SeqConfig(c: Partial<Seq2SeqConfig>): Seq2SeqConfig {
  const where = 'Seq2SeqConfig';
  const r = resolveConfig(where, DEFAULT_SEQ2SEQ as Seq2SeqConfig, c, ['vocabSize', 'maxLen']);
  if (r.arch !== 'resmlp' && r.arch !== 'transformer')
    throw new Error(`${where}: 'arch' must be 'resmlp' or 'transformer', got ${JSON.stringify(r.arch)}`);
  checkInt(where, 'vocabSize', r.vocabSize, 2);
  checkInt(where, 'maxLen', r.maxLen, 2);
  for (const k of ['dim', 'mlpHidden', 'encoderLayers', 'decoderLayers', 'heads'] as const) checkInt(where, k, r[k]);
  for (const k of ['padId', 'unkId', 'bosId', 'eosId'] as const) {
    checkInt(where, k, r[k], 0);
    if (r[k] >= r.vocabSize) throw new Error(`${where}: '${k}' ${r[k]} is outside the vocabulary [0, ${r.vocabSize})`);
  }
  if (r.dim % r.heads !== 0) throw new Error(`${where}: 'dim' ${r.dim} must be divisible by 'heads' ${r.heads}`);
  if (r.norm !== 'affine' && r.norm !== 'layernorm')
    throw new Error(`${where}: 'norm' must be 'affine' or 'layernorm', got ${JSON.stringify(r.norm)}`);
  if (r.layerScale !== null && !(typeof r.layerScale === 'number' && Number.isFinite(r.layerScale))) {
    throw new Error(`${where}: 'layerScale' must be a finite number or null, got ${JSON.stringify(r.layerScale)}`);
  }
  checkRate(where, 'dropout', r.dropout);
  checkRate(where, 'attentionDropout', r.attentionDropout);
  if (typeof r.scaleEmbedding !== 'boolean')
    throw new Error(`${where}: 'scaleEmbedding' must be a boolean, got ${JSON.stringify(r.scaleEmbedding)}`);
  checkInt(where, 'seed', r.seed, 0);
  return r;
}
