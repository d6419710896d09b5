// Public API of the decoding side of translation: model interface, generation config, search
// strategies, logits processors, the batched generator, the step-level (continuous) generator,
// and the incremental == full check.

export type {
  ContinuousDecoderModel,
  DecoderModel,
  DecoderModelSpec,
  FullDecoderModel,
  IncrementalDecoderModel,
  StepResult,
} from './types.js';
export { isContinuous, isIncremental, specOf } from './types.js';
export type { GenerationConfig, SearchName } from './config.js';
export { DEFAULT_GENERATION, maxLength, resolveGenerationConfig } from './config.js';
export type { BeamView, Hypothesis, SentenceResult, StepEvent } from './hypotheses.js';
export { BeamHistory, sortHypotheses } from './hypotheses.js';
export type { LogitsProcessor, StepContext } from './processors.js';
export {
  BanTokensProcessor,
  ForceEosAtMaxLenProcessor,
  MinLengthProcessor,
  NoRepeatNgramProcessor,
  UnkPenaltyProcessor,
} from './processors.js';
export type { Search, SearchCandidates } from './search.js';
export { BeamSearch, GreedySearch } from './search.js';
export { TopK } from './topk.js';
export type { GenerateOptions, GenerationOutput, GenerationStats } from './generator.js';
export { generate, SequenceGenerator } from './generator.js';
export type { ContinuousOptions, ContinuousStats, SentenceOptions, SentenceSettings } from './continuous.js';
export { ContinuousGenerator, DEFAULT_CONTINUOUS } from './continuous.js';
export type { FullEnc, FullState, IncrementalCheckReport } from './full-adapter.js';
export { fullAsIncremental, incrementalFullCheck } from './full-adapter.js';
