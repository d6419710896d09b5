// Public API of translation training: the run config, the TrainTask for the shared loop,
// validation (loss/ppl, BLEU) and the whole run as used by `resmlp mt train`.
export {
  type MtTrainConfig,
  type MtDataConfig,
  type MtValidationConfig,
  type MtModelSettings,
  DEFAULT_MT_TRAIN,
  resolveMtTrainConfig,
} from './config.js';
export { MtTrainTask, batchLoss, type MtTaskOptions } from './task.js';
export { validationLoss, validationBleu, translateTokens, type LossReport, type DecodeOptions } from './validate.js';
export { runMtTraining, type MtRunOptions, type MtRunResult } from './run.js';
