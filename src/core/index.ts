// Public API of src/core: the ResMLP building blocks shared by the vision and translation models
// (arXiv 2105.03404 §2) — the block and the layers passed into it, attention included — the module
// system they are built on, seeded init, and the loss.
export { Module, ModuleList } from './module.js';
export { drawSeed, type RandomSource } from './rng.js';
export { Rng } from '../util/rng.js';
export { type Init, MLP_BIAS_INIT, fans, drawValues, initTensor, resetParameters, type Resettable } from './init.js';
export { Linear, linear, matMulTransposeB, assignInit, type LinearConfig, DEFAULT_LINEAR, resolveLinearConfig } from './linear.js';
export { Dropout, DropPath } from './dropout.js';
export { LayerNorm, type LayerNormConfig, DEFAULT_LAYER_NORM, resolveLayerNormConfig } from './layer-norm.js';
export { Embedding, embeddingLookup, type EmbeddingConfig, DEFAULT_EMBEDDING, resolveEmbeddingConfig } from './embedding.js';
export { Affine } from './affine.js';
export { CrossToken, tokenMix, causalMask, type CrossTokenConfig, DEFAULT_CROSS_TOKEN, resolveCrossTokenConfig } from './cross-token.js';
export {
  ChannelMlp,
  TokenMlp,
  type ChannelMlpConfig,
  type TokenMlpConfig,
  DEFAULT_CHANNEL_MLP,
  DEFAULT_TOKEN_MLP,
  resolveChannelMlpConfig,
  resolveTokenMlpConfig,
} from './channel-mlp.js';
export {
  ResBlock,
  type ResBlockConfig,
  type ResBlockLayers,
  type TokenMixing,
  type TokenMixer,
  type Sublayer,
  type BlockContext,
  type MixerCache,
  type Named,
  type NormKind,
  type Norm,
  DEFAULT_RES_BLOCK,
  resolveResBlockConfig,
  makeTokenMixer,
  makeNorm,
  makeChannelMlp,
  addBranch,
} from './block.js';
export {
  MultiHeadAttention,
  SelfAttention,
  CrossAttention,
  type CrossAttentionContext,
  type AttentionConfig,
  DEFAULT_ATTENTION,
  resolveAttentionConfig,
  type KeysValues,
  MASKED,
  causalBias,
  sinusoidalPositions,
} from './attention.js';
export {
  labelSmoothedCrossEntropy,
  smoothingWeights,
  type LabelSmoothedLossConfig,
  DEFAULT_LABEL_SMOOTHED_LOSS,
  resolveLabelSmoothedLossConfig,
} from './loss.js';
