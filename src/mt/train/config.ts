// The configuration of a translation training run (`resmlp mt train --config configs/mt/…json`):
// the model (src/mt/model/config.ts, vocabulary and special ids taken from the dataset), the
// data (a prepared dataset folder of src/mt/data, token-bucketed batches), the loss, the shared
// training loop's settings (src/train/loop.ts), validation (loss/perplexity, greedy BLEU) and the
// generation defaults stored for translate/serve. JSON config files override only what they
// change and may extend a base (src/util/config.ts); unknown keys are errors that name them.
// Defaults follow the paper's WMT setup (§3.6).
import { resolveConfig } from '../../util/config.js';
import { DEFAULT_TRAINER, resolveTrainerConfig, type TrainerConfig } from '../../train/loop.js';
import { DEFAULT_SCHEDULE } from '../../train/schedule.js';
import { DEFAULT_GENERATION, resolveGenerationConfig, type GenerationConfig } from '../decoding/config.js';
import { DEFAULT_SEQ2SEQ, type Seq2SeqConfig } from '../model/config.js';

/** Model settings of a run: everything but what the dataset decides (vocabulary, special ids). */
export type MtModelSettings = Omit<Seq2SeqConfig, 'vocabSize' | 'padId' | 'unkId' | 'bosId' | 'eosId'>;

/** What the dataset decides: the vocabulary's size and special ids (a manifest's `spm`, a loaded SentencePiece). */
export type MtVocabulary = Pick<Seq2SeqConfig, 'vocabSize' | 'padId' | 'unkId' | 'bosId' | 'eosId'>;

/** The model config of a run: its settings with the vocabulary's size and special ids. */
export function modelConfigFor(settings: MtModelSettings, vocab: MtVocabulary): Seq2SeqConfig {
  return { ...settings, vocabSize: vocab.vocabSize, padId: vocab.padId, unkId: vocab.unkId, bosId: vocab.bosId, eosId: vocab.eosId };
}

export interface MtDataConfig {
  /** Prepared dataset folder (src/mt/data prepare). Required (here or with --data). */
  dir: string | null;
  /** If set, the dataset's SentencePiece vocabulary must have this size (catches a wrong folder). Default null. */
  vocabSize: number | null;
  /** Padded tokens per batch, B·max(S, T) (fairseq --max-tokens). Default 4096. */
  maxTokens: number;
  /** At most this many sentences per batch (0 = no limit). Default 0. */
  maxSentences: number;
}

export interface MtValidationConfig {
  /** Compute BLEU (greedy/beam decode of the validation set, sacreBLEU 13a). Default true. */
  bleu: boolean;
  /** Decode only the first N validation sentences for BLEU (0 = all). Default 0. */
  bleuSentences: number;
  /** Beam size of the validation decode (1 = greedy). Default 1. */
  beamSize: number;
  /** Max output length a·|src| + b (capped at maxLen − 1). Defaults 1.2 and 10. */
  maxLenA: number;
  maxLenB: number;
  /** Sentences per decoding batch. Default 64. */
  decodeBatch: number;
}

export interface MtTrainConfig {
  /** Run folder (checkpoints, metrics.jsonl, plots, spm copy). Default 'runs/mt'. */
  out: string;
  /** Seed of data order and dropout (model init uses model.seed). Default 1. */
  seed: number;
  model: MtModelSettings;
  data: MtDataConfig;
  /** Label smoothing ε of the cross-entropy (padding ignored). Default 0.1 (paper). */
  labelSmoothing: number;
  trainer: TrainerConfig;
  validation: MtValidationConfig;
  /** Generation defaults stored in the checkpoint for translate/serve. Default beam 4 (paper). */
  generation: GenerationConfig;
}

const DEFAULT_MODEL_SETTINGS: MtModelSettings = (() => {
  const { padId: _p, unkId: _u, bosId: _b, eosId: _e, ...rest } = DEFAULT_SEQ2SEQ;
  return { ...rest, maxLen: 256 };
})();

export const DEFAULT_MT_TRAIN: MtTrainConfig = {
  out: 'runs/mt',
  seed: 1,
  model: DEFAULT_MODEL_SETTINGS,
  data: { dir: null, vocabSize: null, maxTokens: 4096, maxSentences: 0 },
  labelSmoothing: 0.1,
  trainer: {
    ...DEFAULT_TRAINER,
    optimizer: 'adagrad',
    clipNorm: 0,
    schedule: { ...DEFAULT_SCHEDULE, name: 'inverse-sqrt', lr: 0.2, warmupSteps: 32000 },
    bestMetric: 'bleu',
    maximize: true,
    unit: 'tok',
  },
  validation: { bleu: true, bleuSentences: 0, beamSize: 1, maxLenA: 1.2, maxLenB: 10, decodeBatch: 64 },
  generation: { ...DEFAULT_GENERATION, beamSize: 4, maxLenA: 1.2, maxLenB: 10 },
};

/**
 * `given` (a config file read with readConfigFile, plus overrides) over the defaults; `model`,
 * `data`, `trainer` (and `trainer.schedule`), `validation` and `generation` merge key by key.
 * Unknown keys at any level are errors naming them.
 */
export function resolveMtTrainConfig(given: unknown): MtTrainConfig {
  const r = resolveConfig('mt train config', DEFAULT_MT_TRAIN, given, {
    nested: { model: true, data: true, trainer: { schedule: true }, validation: true, generation: true },
  });
  const { model, data, validation } = r;
  const trainer = resolveTrainerConfig(r.trainer);
  const generation = resolveGenerationConfig(r.generation);
  if (!(r.labelSmoothing >= 0 && r.labelSmoothing < 1))
    throw new Error(`mt train config: 'labelSmoothing' must be in [0, 1), got ${r.labelSmoothing}`);
  if (!Number.isInteger(data.maxTokens) || data.maxTokens < model.maxLen) {
    throw new Error(
      `mt train config: data.maxTokens (${data.maxTokens}) must be an integer ≥ model.maxLen (${model.maxLen}) so every kept sentence fits a batch`,
    );
  }
  if (!Number.isInteger(validation.beamSize) || validation.beamSize < 1)
    throw new Error(`mt train config: validation.beamSize must be an integer ≥ 1, got ${validation.beamSize}`);
  if (!Number.isInteger(validation.decodeBatch) || validation.decodeBatch < 1)
    throw new Error(`mt train config: validation.decodeBatch must be an integer ≥ 1, got ${validation.decodeBatch}`);
  if (trainer.bestMetric === 'bleu' && !validation.bleu) {
    throw new Error(
      `mt train config: trainer.bestMetric is 'bleu' but validation.bleu is false; set bestMetric to 'loss' (maximize false) or enable BLEU`,
    );
  }
  return { ...r, trainer, generation };
}
