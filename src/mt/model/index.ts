// Public API of the translation model: config, the seq2seq ResMLP / Transformer model with its
// incremental decoder, and its layers.
export { type Seq2SeqConfig, type Seq2SeqArch, DEFAULT_SEQ2SEQ, resolveSeq2SeqConfig } from './config.js';
export { Seq2Seq, SequenceTooLongError, type EncoderOutput, type DecoderState } from './seq2seq.js';
export { EncoderLayer, DecoderLayer, type LayerCache } from './layers.js';
export { MultiHeadAttention, sinusoidalPositions, causalBias, MASKED, type KeysValues } from './attention.js';
export { SeedTree } from './seed-tree.js';
export { loadTranslationCheckpoint, readMtCheckpointConfig, MT_CHECKPOINT_KIND, type MtCheckpointConfig, sha256Of } from './load.js';
