// Learning-rate tuning in the style of the seed framework: a few trials with learning rates drawn
// log-uniformly from [lrMin, lrMax], each trained on 80% of the training set and validated on a
// stratified held-out 20% (src/vision/data heldOutSplit) every epoch, stopped early when the
// validation accuracy has not improved for `patience` epochs; then one full run on the whole
// training set with the best trial's learning rate and its best epoch count, evaluated on the test
// set. Trials and the final run are ordinary runs of src/vision/train.ts (folders under its `out`).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Rng } from '../util/rng.js';
import { subset } from './data/image-set.js';
import { loadDataset, runTraining, type LoadedData, type VisionRunConfig } from './train.js';
import type { EvalResult } from './task.js';

export interface TuneBudget {
  /** Number of learning-rate trials. */
  trials: number;
  /** Maximum epochs of a trial (its cosine schedule spans them). */
  maxEpochs: number;
  /** Stop a trial after this many validations (epochs) without improvement. */
  patience: number;
  /** Log-uniform range of the learning rate. */
  lrMin: number;
  lrMax: number;
  /** Use only the first N training images in trials (0 = all). */
  trainLimit: number;
  /** Run the final full training with the best settings. */
  final: boolean;
}

export interface TrialResult {
  lr: number;
  /** Best held-out accuracy and the epoch (1-based) where it happened. */
  bestAccuracy: number;
  bestEpoch: number;
  epochsRun: number;
  stoppedBy: string;
}

export interface TuneResult {
  trials: TrialResult[];
  best: { lr: number; epochs: number; accuracy: number };
  final: { outDir: string; test: EvalResult | null } | null;
}

/** `n` learning rates drawn log-uniformly from [lo, hi] with a seeded generator. */
export function logUniformSamples(n: number, lo: number, hi: number, seed: number | string): number[] {
  if (!(lo > 0 && hi >= lo)) throw new Error(`tune: need 0 < lrMin ≤ lrMax, got [${lo}, ${hi}]`);
  const rng = new Rng(seed).fork('tune/lr');
  return Array.from({ length: n }, () => Math.exp(Math.log(lo) + rng.uniform() * (Math.log(hi) - Math.log(lo))));
}

export function checkBudget(b: TuneBudget): void {
  for (const k of ['trials', 'maxEpochs'] as const)
    if (!(Number.isInteger(b[k]) && b[k] >= 1)) throw new Error(`tune: ${k} must be an integer ≥ 1, got ${b[k]}`);
  if (!(Number.isInteger(b.patience) && b.patience >= 1)) throw new Error(`tune: patience must be an integer ≥ 1, got ${b.patience}`);
  if (!(Number.isInteger(b.trainLimit) && b.trainLimit >= 0))
    throw new Error(`tune: trainLimit must be an integer ≥ 0, got ${b.trainLimit}`);
}

export async function tuneAndTrain(
  cfg: VisionRunConfig,
  budget: TuneBudget,
  opts: { signal?: AbortSignal; data?: LoadedData; stream?: { write(s: string): unknown; isTTY?: boolean } } = {},
): Promise<TuneResult> {
  checkBudget(budget);
  const data = opts.data ?? loadDataset(cfg.dataset, cfg.dataDir);
  const trialData: LoadedData =
    budget.trainLimit > 0 && budget.trainLimit < data.train.n
      ? {
          ...data,
          train: subset(
            data.train,
            Array.from({ length: budget.trainLimit }, (_, i) => i),
          ),
        }
      : data;
  const say = (s: string) => (opts.stream ?? process.stderr).write(`[tune] ${s}\n`);
  const lrs = logUniformSamples(budget.trials, budget.lrMin, budget.lrMax, cfg.seed);
  const trials: TrialResult[] = [];
  for (const [t, lr] of lrs.entries()) {
    if (opts.signal?.aborted) break;
    const outDir = path.join(cfg.out, 'tune', `trial${t}`);
    fs.rmSync(outDir, { recursive: true, force: true });
    const trialCfg: VisionRunConfig = {
      ...cfg,
      valFraction: 0.2,
      out: outDir,
      trainer: {
        ...cfg.trainer,
        epochs: budget.maxEpochs,
        timeBudgetSec: 0, // a trial's length is maxEpochs and patience, not the machine's speed
        patience: budget.patience,
        validateEvery: 0,
        maxUpdates: 0,
        bestMetric: 'accuracy',
        maximize: true,
        schedule: { ...cfg.trainer.schedule!, lr, totalSteps: 0 },
      },
    };
    say(`trial ${t + 1}/${lrs.length}: lr ${lr.toExponential(3)}, up to ${budget.maxEpochs} epoch(s), patience ${budget.patience}`);
    const r = await runTraining(trialCfg, { data: trialData, testEval: false, signal: opts.signal, stream: opts.stream });
    const perEpoch = Math.max(1, Math.floor(r.train.updates / Math.max(1, r.train.epochsDone)));
    const best = r.train.best;
    const trial: TrialResult = {
      lr,
      bestAccuracy: best?.score ?? NaN,
      bestEpoch: best ? Math.max(1, Math.round(best.update / perEpoch)) : 0,
      epochsRun: r.train.epochsDone,
      stoppedBy: r.train.stoppedBy,
    };
    trials.push(trial);
    say(
      `trial ${t + 1}: best held-out accuracy ${(100 * trial.bestAccuracy).toFixed(2)}% at epoch ${trial.bestEpoch} (${trial.epochsRun} run, ${trial.stoppedBy})`,
    );
  }
  const done = trials.filter((t) => Number.isFinite(t.bestAccuracy));
  if (done.length === 0) throw new Error('tune: no trial finished a validation (interrupted?)');
  const winner = done.reduce((a, b) => (b.bestAccuracy > a.bestAccuracy ? b : a));
  const best = { lr: winner.lr, epochs: winner.bestEpoch, accuracy: winner.bestAccuracy };
  say(`best: lr ${best.lr.toExponential(3)}, ${best.epochs} epoch(s), held-out accuracy ${(100 * best.accuracy).toFixed(2)}%`);
  let final: TuneResult['final'] = null;
  if (budget.final && !opts.signal?.aborted) {
    const outDir = path.join(cfg.out, 'final');
    fs.rmSync(outDir, { recursive: true, force: true });
    const finalCfg: VisionRunConfig = {
      ...cfg,
      valFraction: 0,
      out: outDir,
      trainer: {
        ...cfg.trainer,
        epochs: best.epochs,
        timeBudgetSec: 0,
        schedule: { ...cfg.trainer.schedule!, lr: best.lr, totalSteps: 0 },
      },
    };
    say(`final run: lr ${best.lr.toExponential(3)}, ${best.epochs} epoch(s) on the full training set`);
    const r = await runTraining(finalCfg, { data, signal: opts.signal, stream: opts.stream });
    final = { outDir: r.outDir, test: r.test };
  }
  return { trials, best, final };
}
