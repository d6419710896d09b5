// A translation training run, start to finish: open the prepared dataset, copy its SentencePiece
// model into the run folder (so the checkpoint is self-contained), build the seq2seq model, wire
// the TrainTask and validation (loss/ppl + BLEU) into the one training loop, and report progress
// through the shared reporting path (src/train/reporting.ts: bar with tokens/s and ETA, JSONL
// metrics, PNG curves). Resumes from `checkpoint_last` in
// the run folder automatically (weights, optimizer, schedule, data position; dropout is reseeded
// per batch) after checking that the stored model config equals this run's.
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { LAST, train, type TrainResult } from '../../train/loop.js';
import type { ProgressStream } from '../../train/progress.js';
import { createReporting } from '../../train/reporting.js';
import { isLeadRank } from '../../train/distributed/mpi.js';
import { readCheckpointConfig } from '../../train/checkpoint.js';
import { PreparedDataset } from '../data/dataset.js';
import { pairSource, TokenBatcher } from '../data/batching.js';
import { SentencePiece } from '../data/spm.js';
import { MT_CHECKPOINT_KIND, type MtCheckpointConfig, sha256Of } from '../model/load.js';
import { Seq2Seq } from '../model/seq2seq.js';
import { modelConfigFor, type MtTrainConfig } from './config.js';
import { MtTrainTask } from './task.js';
import { validationBleu, validationLoss } from './validate.js';

export interface MtRunOptions {
  /** Ctrl-C: stop at the next update and save `last`. */
  signal?: AbortSignal;
  /** Messages (default stderr). */
  log?: (line: string) => void;
  /** Where the progress bar goes (default stderr). */
  progressStream?: ProgressStream;
  /** Resume from checkpoint_last when present. Default true. */
  resume?: boolean;
  /** Write PNG curves at each validation and at the end. Default true. */
  plots?: boolean;
}

export interface MtRunResult extends TrainResult {
  outDir: string;
  skippedTrain: number;
  parameters: number;
}

export async function runMtTraining(cfg: MtTrainConfig, opts: MtRunOptions = {}): Promise<MtRunResult> {
  // under mpirun rank 0 alone writes the run folder, validates and reports
  const lead = isLeadRank();
  const log = opts.log ?? (lead ? (s: string) => process.stderr.write(s + '\n') : () => {});
  if (!cfg.data.dir) throw new Error('mt train: no dataset folder: set data.dir in the config or pass --data <prepared dataset folder>');
  const ds = PreparedDataset.open(cfg.data.dir);
  const man = ds.manifest;
  if (cfg.data.vocabSize !== null && man.spm.vocabSize !== cfg.data.vocabSize) {
    throw new Error(
      `mt train: the config expects a ${cfg.data.vocabSize}-piece vocabulary but ${cfg.data.dir} has ${man.spm.vocabSize} (wrong dataset folder, or prepare it with --vocab-size ${cfg.data.vocabSize})`,
    );
  }
  const outDir = resolve(cfg.out);
  mkdirSync(outDir, { recursive: true });

  // the SentencePiece model travels with the checkpoints
  const spmSrc = ds.spmModel;
  const spmSha = sha256Of(spmSrc);
  const spmDst = join(outDir, 'spm.model');
  if (lead && existsSync(spmDst) && sha256Of(spmDst) !== spmSha) {
    throw new Error(
      `mt train: ${outDir} already holds a different SentencePiece model (spm.model); use a new --out folder for this dataset`,
    );
  }
  if (lead) copyFileSync(spmSrc, spmDst);
  if (lead) copyFileSync(resolve(cfg.data.dir, man.spm.vocab), join(outDir, 'spm.vocab'));

  const modelConfig = modelConfigFor(cfg.model, man.spm);
  const ckptConfig: MtCheckpointConfig = {
    kind: MT_CHECKPOINT_KIND,
    model: modelConfig,
    spm: { model: 'spm.model', vocab: 'spm.vocab', sha256: spmSha },
    langs: man.langs,
    generation: cfg.generation,
  };
  const lastPath = join(outDir, LAST);
  const resuming = (opts.resume ?? true) && existsSync(lastPath);
  if (resuming) {
    const stored = readCheckpointConfig<MtCheckpointConfig>(lastPath);
    if (JSON.stringify(stored.model) !== JSON.stringify(modelConfig)) {
      throw new Error(
        `mt train: ${lastPath} was trained with model ${JSON.stringify(stored.model)}, this config gives ${JSON.stringify(modelConfig)}; use the same config or a new --out folder`,
      );
    }
  }

  const model = new Seq2Seq(modelConfig);
  const ids = { padId: man.spm.padId, bosId: man.spm.bosId, eosId: man.spm.eosId };
  const trainSplit = ds.split('train');
  const batcher = new TokenBatcher(pairSource(trainSplit), ids, {
    maxTokens: cfg.data.maxTokens,
    maxSentences: cfg.data.maxSentences,
    maxLen: modelConfig.maxLen,
    seed: cfg.seed,
    shuffle: true,
  });
  if (batcher.skipped > 0)
    log(`skipped ${batcher.skipped} of ${trainSplit.size} training pairs longer than maxLen − 1 = ${modelConfig.maxLen - 1} tokens`);

  let validate: (() => Promise<Record<string, number>>) | undefined;
  if (ds.splits.includes('valid') && lead) {
    const vs = ds.split('valid');
    const vb = new TokenBatcher(pairSource(vs), ids, { maxTokens: cfg.data.maxTokens, maxLen: modelConfig.maxLen, shuffle: false });
    const spm = cfg.validation.bleu ? await SentencePiece.load(spmDst, join(outDir, 'spm.vocab')) : null;
    const refsAll = ds.text('valid', 'tgt');
    if (cfg.validation.bleu && !refsAll)
      throw new Error(`mt train: ${cfg.data.dir} has no validation reference text; set validation.bleu false`);
    const n = cfg.validation.bleuSentences > 0 ? Math.min(cfg.validation.bleuSentences, vs.size) : vs.size;
    const sources = Array.from({ length: n }, (_, i) => vs.src.get(i));
    const refs = refsAll ? refsAll.slice(0, n) : [];
    validate = async () => {
      const t0 = Date.now();
      const l = await validationLoss(model, vb, cfg.labelSmoothing);
      const m: Record<string, number> = { loss: l.loss, nll: l.nll, ppl: l.ppl };
      if (spm) {
        const b = await validationBleu(model, spm, sources, refs, cfg.validation);
        m.bleu = b.bleu;
        if (b.skipped > 0) m.bleuSkipped = b.skipped;
      }
      m.validSec = (Date.now() - t0) / 1000;
      return m;
    };
  } else if (!ds.splits.includes('valid') && (cfg.trainer.validateEvery > 0 || cfg.trainer.patience > 0)) {
    throw new Error(`mt train: ${cfg.data.dir} has no valid split, but validation is configured (validateEvery/patience)`);
  }

  const task = new MtTrainTask(model, batcher, { seed: cfg.seed, labelSmoothing: cfg.labelSmoothing, modelConfig: ckptConfig, validate });
  log(
    `model: ${modelConfig.arch}, ${model.numParameters().toLocaleString('en-US')} parameters (d ${modelConfig.dim}, ${modelConfig.encoderLayers}+${modelConfig.decoderLayers} layers, maxLen ${modelConfig.maxLen}); ` +
      `data: ${batcher.kept.length} pairs (${batcher.skipped} skipped for a side longer than maxLen − 1 = ${modelConfig.maxLen - 1} tokens), ${batcher.numBatches(0)} batches/epoch (max ${cfg.data.maxTokens} tokens); backend ${tf.getBackend()}`,
  );

  const reporting = createReporting({
    outDir,
    unit: 'tok',
    label: 'train',
    logEvery: 1,
    append: resuming,
    plots: opts.plots,
    stream: opts.progressStream,
    log: opts.log,
  });
  try {
    const result = await train(task, cfg.trainer, {
      outDir,
      signal: opts.signal,
      hooks: reporting.hooks,
      resume: opts.resume ?? true,
      fingerprint: { config: cfg, data: { ...man, createdAt: undefined } },
    });
    reporting.close();
    reporting.plot();
    return { ...result, outDir, skippedTrain: batcher.skipped, parameters: model.numParameters() };
  } finally {
    trainSplit.close();
    model.dispose();
  }
}
