// The package's public API (`import … from 'resmlp'`): what a program needs to pick a backend,
// build or load ResMLP models, translate, score translations, train with the shared loop and serve.
// Deeper modules stay importable from their files under dist/, but only this surface is promised.
//
//   import { initBackend, Translator, corpusBleu } from 'resmlp';
//   await initBackend();                       // tfjs-node-gpu → tfjs-node → native → wasm → cpu
//   const t = await Translator.load('runs/multi30k-en-de-small/checkpoint_best.safetensors');
//   const [r] = await t.translate(['A man is riding a bike.'], { beamSize: 4 });
export {
  initBackend,
  setThreads,
  BACKEND_NAMES,
  AUTO_ORDER,
  type BackendName,
  type BackendInfo,
  type InitOptions,
} from './backend/choose.js';
export * from './core/index.js';

// Configs: the one resolver, the JSON reader with `extends`, the `--a.b.c value` overrides.
export {
  resolveConfig,
  readConfigFile,
  mergeConfig,
  applyOverrides,
  setPath,
  parseOverrideValue,
  checkInt,
  checkRate,
  ConfigError,
  type ResolveOptions,
  type Nested,
} from './util/config.js';

// Vision: timm-compatible ResMLP classifiers.
export {
  ResMlp,
  DEFAULT_RESMLP,
  resolveResMlpConfig,
  countParameters,
  numPatches,
  type ResMlpConfig,
  type Pooling,
} from './vision/model.js';
export { MODELS, listModels, modelConfig } from './vision/registry.js';
export {
  loadClassifier,
  loadClassifierWithData,
  saveClassifier,
  DEIT_TO_TIMM,
  deitToTimm,
  timmToDeit,
  type ClassifierData,
} from './vision/checkpoint.js';
export { inspectCheckpoint, layerSparsity, sparsity } from './vision/inspect.js';

// Translation: the seq2seq model, decoding and the high-level translator.
export {
  Seq2Seq,
  SequenceTooLongError,
  DEFAULT_SEQ2SEQ,
  resolveSeq2SeqConfig,
  loadTranslationCheckpoint,
  type Seq2SeqConfig,
  type Seq2SeqArch,
} from './mt/model/index.js';
export {
  generate,
  SequenceGenerator,
  BeamSearch,
  GreedySearch,
  DEFAULT_GENERATION,
  resolveGenerationConfig,
  type GenerationConfig,
  type Hypothesis,
  type StepEvent,
} from './mt/decoding/index.js';
export {
  Translator,
  TranslationInputError,
  SentenceTooLongError,
  TranslationOptionsError,
  DEFAULT_TRANSLATOR,
  type TranslatorOptions,
  type TranslateOptions,
  type TranslationResult,
  type TranslationHypothesis,
  type TranslationStepEvent,
} from './mt/translator.js';

// Metrics: sacreBLEU-equal BLEU, chrF and TER with signatures.
export * as metrics from './metrics/index.js';
export { corpusBleu, sentenceBleu, corpusChrf, sentenceChrf, corpusTer, sentenceTer, tokenizedBleu } from './metrics/index.js';

// Training: the loop both tasks use, and its checkpoints.
export {
  train,
  resolveTrainerConfig,
  DEFAULT_TRAINER,
  LAST,
  BEST,
  type TrainTask,
  type TrainerConfig,
  type TrainResult,
} from './train/loop.js';
export { saveCheckpoint, loadCheckpoint, readCheckpointConfig } from './train/checkpoint.js';

// Serving.
export { buildApp, type AppDeps, type ServerApp } from './server/app.js';
