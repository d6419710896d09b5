// Public API of the translation model: config, the seq2seq ResMLP / Transformer model with its
// incremental decoder, its layers (the shared block of core/block.ts) and checkpoint loading.
export { type Seq2SeqConfig, type Seq2SeqArch, DEFAULT_SEQ2SEQ, resolveSeq2SeqConfig } from './config.js';
export { Seq2Seq, SequenceTooLongError, type EncoderOutput, type DecoderState } from './seq2seq.js';
export {
  encoderLayer,
  decoderLayer,
  crossAttention,
  blockConfig,
  type EncoderLayer,
  type DecoderLayer,
  type EncoderContext,
  type DecoderContext,
  type LayerCache,
} from './layers.js';
export { MultiHeadAttention, CrossAttention, sinusoidalPositions, causalBias, MASKED, type KeysValues } from '../../core/attention.js';
export { SeedTree } from '../../util/seed-tree.js';
export {
  loadTranslationCheckpoint,
  loadSeq2Seq,
  readMtCheckpointConfig,
  MT_CHECKPOINT_KIND,
  type MtCheckpointConfig,
  sha256Of,
} from './load.js';
