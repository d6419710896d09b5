// The one training loop, shared by image classification and translation (as nanoGPT's train.py,
// it knows nothing about the model): a task supplies parameters, deterministic batches and a loss;
// the loop does gradient accumulation, clipping, the optimizer and LR schedule, periodic
// validation with best/last checkpoints and early stopping, progress, JSONL metrics and PNG
// curves, Ctrl-C saves, and exact resume.
//
// Exact resume: batch i of epoch e must be a pure function of (seed, e, i) (the task's job), the
// schedule is a function of the update count, and the optimizer slots and the task's RNG states
// (dropout) are saved with the weights. So 2 updates + save + resume + 2 updates = 4 updates.
//
// Data-parallel under mpirun (src/train/distributed/, PyTorch DDP's scheme): each rank trains its
// share of every update's batches, the gradients are summed over the ranks, every rank applies the
// same step; rank 0 alone validates, reports and writes checkpoints, and what stops or re-plans
// the run is its decision. The data position counts batches of the epoch, not of a rank, so a run
// resumes exactly on another number of ranks.
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { resolveConfig } from '../util/config.js';
import { createOptimizer, clipGradNorm, type Optimizer, OPTIMIZERS } from './optim/index.js';
import { learningRate, DEFAULT_SCHEDULE, type ScheduleConfig } from './schedule.js';
import { saveCheckpoint, loadCheckpoint, type TrainerState } from './checkpoint.js';
import { dataParallelFromEnv, type DataParallel } from './distributed/data-parallel.js';
import type { Fingerprint } from './distributed/fingerprint.js';
import { markCleanStop } from './distributed/mpi.js';
import { rankBatches, updateBatches } from './distributed/shard.js';

/** What the loop needs from a model + data. */
export interface TrainTask<B> {
  /** Trainable parameters by dotted name; saved as the model part of checkpoints. */
  params: Map<string, tf.Variable>;
  /** The model config stored in checkpoints (so loading needs nothing else). */
  modelConfig: unknown;
  /** Number of batches in epoch `epoch`. */
  numBatches(epoch: number): number;
  /** Batch `i` of epoch `epoch`: a pure function of (seed, epoch, i). */
  batch(epoch: number, i: number): B;
  /** Mean loss of the batch in training mode; synchronous (the loop runs it under variableGrads). */
  loss(batch: B): tf.Scalar;
  /** Units in a batch for the rate (images, target tokens). */
  units(batch: B): number;
  disposeBatch(batch: B): void;
  /** Switches dropout etc. on/off. */
  setTraining(training: boolean): void;
  /** States of the task's random generators (dropout, augmentation) for exact resume. */
  getRngState(): unknown;
  setRngState(state: unknown): void;
  /** Validation metrics (the loop switches to eval mode around it). */
  validate?(): Promise<Record<string, number>>;
  /**
   * The number of epochs the run trains (trainer.epochs, or the time-budget plan, also when
   * resumed): called before the first update and again after each re-plan, so a task can change
   * its batches near the end of the run (the image loader's cleanEpochs).
   */
  setEpochs?(epochs: number): void;
}

export interface TrainerConfig {
  /** Epochs to run. Default 10. */
  epochs: number;
  /** Stop after this many updates (0 = no limit). Default 0. */
  maxUpdates: number;
  /** Stop after this many seconds of training (0 = no limit); a checkpoint is saved. Default 0. */
  maxTimeSec: number;
  /**
   * Fit the run to this many seconds (0 = off): at the end of the first epoch the loop measures
   * its time per update (with validation) and plans the updates the budget holds, at least 1 and
   * at most trainer.epochs' worth, with the LR schedule stretched to them, so that a slower machine
   * trains fewer updates with a complete schedule instead of being cut off mid-schedule by
   * maxTimeSec. The plan is in updates, not whole epochs: the run may end inside an epoch (with a
   * few epochs in the budget, whole epochs would leave up to one epoch of it unused). The first
   * epoch runs slower (JIT warm-up, first calls of every kernel), so from the second epoch on the
   * rest of the budget is planned again after every epoch from the mean time per update of epochs
   * 2.., with 2% headroom, until the run is half through; the plan is fixed from then on (so the
   * last epochs, e.g. the image loader's cleanEpochs, are known before they start). A re-plan moves
   * the cosine's end: the LR at a given update changes by a percent or so. Saved in checkpoints: a
   * resumed run keeps the plan. The plan depends on the machine's speed, so two runs may differ;
   * pin `epochs` with timeBudgetSec 0 to repeat one exactly. Default 0.
   */
  timeBudgetSec: number;
  /** Batches whose gradients are averaged into one update (fairseq's --update-freq), per rank under mpirun. Default 1. */
  updateFreq: number;
  /** Global gradient-norm clip (0 = off). Default 0. */
  clipNorm: number;
  /** adamw | adam | lamb | adagrad. Default 'adamw'. */
  optimizer: string;
  /** Optimizer hyperparameters (absent = the optimizer's defaults). */
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** Learning-rate schedule (lr, warmup, cosine / inverse-sqrt). totalSteps is filled in from epochs if 0. */
  schedule: ScheduleConfig;
  /** Validate every N updates (0 = at the end of each epoch). Default 0. */
  validateEvery: number;
  /** Save a numbered checkpoint every N updates (0 = at the end of each epoch). `last` is written with it. Default 0. */
  checkpointEvery: number;
  /** Numbered checkpoints kept (older are deleted; last/best always kept). Default 3. */
  keepLast: number;
  /** Validation metric that selects `best` and drives early stopping (e.g. 'accuracy', 'loss', 'bleu'). Default 'loss'. */
  bestMetric: string;
  /** Whether a larger bestMetric is better. Default false. */
  maximize: boolean;
  /** Stop after this many validations without improvement (0 = never). Default 0. */
  patience: number;
  /** Name of the unit of work for the progress rate ('img', 'tok'). Default 'ex'. */
  unit: string;
}

export const DEFAULT_TRAINER: TrainerConfig = {
  epochs: 10,
  maxUpdates: 0,
  maxTimeSec: 0,
  timeBudgetSec: 0,
  updateFreq: 1,
  clipNorm: 0,
  optimizer: 'adamw',
  beta1: undefined,
  beta2: undefined,
  eps: undefined,
  weightDecay: undefined,
  schedule: DEFAULT_SCHEDULE,
  validateEvery: 0,
  checkpointEvery: 0,
  keepLast: 3,
  bestMetric: 'loss',
  maximize: false,
  patience: 0,
  unit: 'ex',
};

export function resolveTrainerConfig(c: Partial<TrainerConfig> = {}): TrainerConfig {
  const cfg = resolveConfig('trainer', DEFAULT_TRAINER, c);
  cfg.schedule = resolveConfig('trainer.schedule', DEFAULT_SCHEDULE, c.schedule);
  const ints: (keyof TrainerConfig)[] = ['epochs', 'maxUpdates', 'updateFreq', 'validateEvery', 'checkpointEvery', 'keepLast', 'patience'];
  for (const k of ints) {
    const v = cfg[k];
    const min = k === 'updateFreq' || k === 'epochs' ? 1 : 0;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
      throw new Error(`trainer: '${k}' must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  }
  if (!OPTIMIZERS.includes(cfg.optimizer as never))
    throw new Error(`trainer: unknown optimizer '${cfg.optimizer}' (expected one of ${OPTIMIZERS.join(', ')})`);
  if (!(cfg.schedule.lr > 0)) throw new Error(`trainer: schedule.lr must be > 0, got ${cfg.schedule.lr}`);
  if (!(cfg.clipNorm >= 0)) throw new Error(`trainer: clipNorm must be ≥ 0, got ${cfg.clipNorm}`);
  if (!(cfg.maxTimeSec >= 0)) throw new Error(`trainer: maxTimeSec must be ≥ 0, got ${cfg.maxTimeSec}`);
  if (!(cfg.timeBudgetSec >= 0)) throw new Error(`trainer: timeBudgetSec must be ≥ 0, got ${cfg.timeBudgetSec}`);
  return cfg;
}

/** Hooks for what the loop reports; the CLI wires them to a progress bar, a JSONL log and PNG curves. */
export interface TrainerHooks {
  /** Once, before the first update: planned total updates and where a resumed run starts. */
  onStart?(s: { totalUpdates: number; startUpdate: number; startEpoch: number }): void;
  /** The run was re-planned to fit trainer.timeBudgetSec (after its first epoch, and after later ones until half-way). */
  onPlan?(p: { epochs: number; totalUpdates: number }): void;
  /** After each update: loss (mean over the update's batches), lr, grad norm, units done, totals. */
  onUpdate?(u: {
    epoch: number;
    batch: number;
    batches: number;
    update: number;
    loss: number;
    lr: number;
    gradNorm: number;
    units: number;
  }): void;
  /** After each validation. */
  onValidate?(v: { epoch: number; update: number; metrics: Record<string, number>; best: boolean }): void;
  /** At the start and end of each epoch. */
  onEpochStart?(e: { epoch: number; batches: number; startBatch: number }): void;
  onEpochEnd?(e: { epoch: number; update: number; meanLoss: number }): void;
  /** A checkpoint was written. */
  onCheckpoint?(path: string): void;
  /** Free-form messages (resume, early stop, interrupt). */
  log?(message: string): void;
}

export interface TrainResult {
  updates: number;
  epochsDone: number;
  stoppedBy: 'done' | 'maxUpdates' | 'maxTime' | 'patience' | 'interrupt';
  best: TrainerState['best'];
  lastValidation: Record<string, number> | null;
  elapsedSec: number;
  lastPath: string;
}

export interface TrainOptions {
  /** Run folder: checkpoint_last / checkpoint_best / checkpoint_<update> .safetensors. */
  outDir: string;
  /** Resume from `outDir/checkpoint_last.safetensors` when it exists. Default true. */
  resume?: boolean;
  hooks?: TrainerHooks;
  /** Aborts at the next update boundary and saves `last` (Ctrl-C is wired to it by the CLI). */
  signal?: AbortSignal;
  /**
   * Milliseconds from any fixed origin, for the run's elapsed time (maxTimeSec, timeBudgetSec,
   * elapsedSec in checkpoints). Tests pass a fake one to plan a time budget without sleeping.
   * Default performance.now.
   */
  clock?: () => number;
  /**
   * What the ranks of an mpirun job must share besides the trainer config and model (e.g. the
   * run's config and its dataset manifest): compared at start, the job refused when they differ.
   */
  fingerprint?: Fingerprint;
  /** One process, or the ranks of the mpirun job this process belongs to. Default: from the environment. */
  dataParallel?: DataParallel;
}

export const LAST = 'checkpoint_last.safetensors';
export const BEST = 'checkpoint_best.safetensors';

/**
 * The time-budget plan at the end of an epoch, `now` training seconds and `updates` updates in:
 * the time per update and the updates the whole run fits in, within [updates, maxUpdates] (and
 * ≥ 1). After the first epoch the time per update is all of `now` over all updates; later it is
 * the mean over the updates since the first epoch (`first`: its end; epoch 1 is slow with
 * warm-up), and the rest of the budget is shared out with 2% headroom (host noise; the budget is
 * a limit, not a target).
 */
export function planUpdates(
  timeBudgetSec: number,
  at: { updates: number; now: number },
  first: { updates: number; sec: number } | undefined,
  maxUpdates: number,
): { perUpdate: number; planned: number } {
  const fit = (n: number) => Math.min(maxUpdates, Math.max(1, at.updates, n));
  if (first === undefined) {
    const perUpdate = at.now / at.updates;
    return { perUpdate, planned: fit(Math.floor(timeBudgetSec / perUpdate)) };
  }
  const perUpdate = at.updates > first.updates ? (at.now - first.sec) / (at.updates - first.updates) : at.now / at.updates;
  const more = Math.floor((timeBudgetSec - at.now) / (1.02 * perUpdate));
  return { perUpdate, planned: fit(at.updates + Math.max(0, more)) };
}

/**
 * Runs (or resumes) training; returns when done, stopped early, or interrupted (after saving).
 * Under mpirun every rank calls it; an error names the rank it happened on.
 */
export async function train<B>(task: TrainTask<B>, cfg: TrainerConfig, opts: TrainOptions): Promise<TrainResult> {
  const dp = opts.dataParallel ?? dataParallelFromEnv();
  try {
    const result = await runLoop(task, cfg, opts, dp);
    if (dp.world.size > 1) markCleanStop();
    return result;
  } catch (e) {
    if (dp.world.size > 1 && e instanceof Error) e.message = `${dp.world.label}: ${e.message}`;
    throw e;
  }
}

async function runLoop<B>(task: TrainTask<B>, cfg: TrainerConfig, opts: TrainOptions, dp: DataParallel): Promise<TrainResult> {
  const lead = dp.world.lead;
  const ranks = dp.world.size;
  const hooks = lead ? (opts.hooks ?? {}) : {};
  const log = hooks.log ?? (() => {});
  if (lead) mkdirSync(opts.outDir, { recursive: true });
  const lastPath = join(opts.outDir, LAST);
  const optimizer: Optimizer = createOptimizer(cfg.optimizer, task.params, cfg);
  let state: TrainerState = {
    epoch: 0,
    batchInEpoch: 0,
    updates: 0,
    best: null,
    badValidations: 0,
    rng: task.getRngState(),
    elapsedSec: 0,
  };
  if (lead && (opts.resume ?? true) && existsSync(lastPath)) {
    const loaded = loadCheckpoint(lastPath, task.params, { optimizer });
    if (loaded.trainer === undefined) throw new Error(`${lastPath}: no trainer state; cannot resume from it`);
    state = loaded.trainer;
    task.setRngState(state.rng);
    log(`resumed from ${lastPath}: epoch ${state.epoch + 1}, batch ${state.batchInEpoch}, update ${state.updates}`);
  }
  // every rank takes rank 0's weights, optimizer and position (after checking they run the same thing)
  const shapes = Object.fromEntries([...task.params].map(([k, v]) => [k, v.shape]));
  const fingerprint = { ...opts.fingerprint, trainer: cfg, model: task.modelConfig, params: shapes };
  state = dp.start({ params: task.params, optimizer, state, fingerprint, updateFreq: cfg.updateFreq });
  if (!lead) task.setRngState(state.rng);
  if (dp.description) log(dp.description);
  const planned = state.plannedEpochs;
  if (planned !== undefined && !(Number.isInteger(planned) && planned >= 1 && planned <= cfg.epochs)) {
    throw new Error(
      `${lastPath}: trainer state plans ${planned} epochs, but trainer.epochs is ${cfg.epochs} (expected an integer 1..${cfg.epochs})`,
    );
  }
  /** Epochs this run trains: trainer.epochs, or fewer once fitted to timeBudgetSec (the last one maybe in part). */
  let epochs = planned ?? cfg.epochs;
  const schedule: ScheduleConfig = { ...cfg.schedule };
  const autoSteps = schedule.totalSteps <= 1;
  /** Updates in `n` epochs, capped by maxUpdates (the schedule's length unless totalSteps is given). */
  const updatesIn = (n: number): number => {
    let batches = 0;
    for (let e = 0; e < n; e++) batches += task.numBatches(e);
    const u = Math.max(1, Math.floor(batches / (cfg.updateFreq * ranks)));
    return cfg.maxUpdates > 0 ? Math.min(u, cfg.maxUpdates) : u;
  };
  /** Updates in all of trainer.epochs: the most a time-budget plan can give. */
  const allUpdates = updatesIn(cfg.epochs);
  // A checkpoint of a budgeted run written before plans were in updates holds whole epochs.
  if (planned !== undefined && state.plannedUpdates === undefined) state.plannedUpdates = updatesIn(planned);
  const plannedUpdates = state.plannedUpdates;
  if (plannedUpdates !== undefined && !(Number.isInteger(plannedUpdates) && plannedUpdates >= 1 && plannedUpdates <= allUpdates)) {
    throw new Error(
      `${lastPath}: trainer state plans ${plannedUpdates} updates, but trainer.epochs holds ${allUpdates} (expected an integer 1..${allUpdates})`,
    );
  }
  /** Updates this run trains: the time-budget plan's, or all of its epochs'. */
  const plannedTotal = (): number => state.plannedUpdates ?? updatesIn(epochs);
  if (autoSteps) schedule.totalSteps = plannedTotal();
  const budgetDone = (): boolean => state.plannedUpdates !== undefined && state.updates >= state.plannedUpdates;
  if (lead && state.budgetSec !== undefined && state.budgetSec !== cfg.timeBudgetSec) {
    log(
      `the checkpoint's plan (${state.plannedUpdates} updates) was fitted to a time budget of ${state.budgetSec} s and is kept: ` +
        `trainer.timeBudgetSec ${cfg.timeBudgetSec} does not change a saved plan (train in a new folder to fit another budget)`,
    );
  }

  const clock = opts.clock ?? (() => performance.now());
  const startedAt = clock();
  const baseElapsed = state.elapsedSec;
  const elapsed = () => baseElapsed + (clock() - startedAt) / 1000;
  let lastValidation: Record<string, number> | null = null;
  let stoppedBy: TrainResult['stoppedBy'] = 'done';

  const save = async (extraPath?: string) => {
    state.rng = task.getRngState();
    state.elapsedSec = elapsed();
    await saveCheckpoint(lastPath, task.params, task.modelConfig, { optimizer, trainer: state });
    hooks.onCheckpoint?.(lastPath);
    if (extraPath) {
      await saveCheckpoint(extraPath, task.params, task.modelConfig, { optimizer, trainer: state });
      hooks.onCheckpoint?.(extraPath);
      pruneNumbered(opts.outDir, cfg.keepLast);
    }
  };

  /** Validates (rank 0 only); updates best (+ writes checkpoint_best) and the patience counter. Returns true to stop. */
  let validatedAt = -1;
  const validate = async (): Promise<boolean> => {
    if (!task.validate || !lead) return false;
    validatedAt = state.updates;
    task.setTraining(false);
    const metrics = await task.validate();
    task.setTraining(true);
    lastValidation = metrics;
    const score = metrics[cfg.bestMetric];
    if (score === undefined || !Number.isFinite(score)) {
      throw new Error(
        `trainer: bestMetric '${cfg.bestMetric}' is not among the validation metrics (${Object.keys(metrics).join(', ')}) or is not finite (${score})`,
      );
    }
    const better = state.best === null || (cfg.maximize ? score > state.best.score : score < state.best.score);
    if (better) {
      state.best = { score, update: state.updates };
      state.badValidations = 0;
      state.rng = task.getRngState();
      state.elapsedSec = elapsed();
      const bestPath = join(opts.outDir, BEST);
      await saveCheckpoint(bestPath, task.params, task.modelConfig, { optimizer, trainer: state });
      hooks.onCheckpoint?.(bestPath);
    } else {
      state.badValidations++;
    }
    hooks.onValidate?.({ epoch: state.epoch, update: state.updates, metrics, best: better });
    return cfg.patience > 0 && state.badValidations >= cfg.patience;
  };

  task.setEpochs?.(epochs);
  hooks.onStart?.({ totalUpdates: schedule.totalSteps, startUpdate: state.updates, startEpoch: state.epoch });
  task.setTraining(true);
  const vars = [...task.params.values()];
  const names = [...task.params.keys()];
  outer: while (state.epoch < epochs && !budgetDone()) {
    const nb = task.numBatches(state.epoch);
    hooks.onEpochStart?.({ epoch: state.epoch, batches: nb, startBatch: state.batchInEpoch });
    let lossSum = 0;
    let lossCount = 0;
    while (state.batchInEpoch < nb) {
      // One update = updateFreq batches per rank (fewer at the end of an epoch), gradients averaged.
      const group = updateBatches(state.batchInEpoch, nb, cfg.updateFreq, ranks);
      let acc: tf.Tensor[] | null = null;
      let lossTotal = 0;
      let units = 0;
      for (const i of rankBatches(state.batchInEpoch, group, dp.world.rank, ranks)) {
        const batch = task.batch(state.epoch, i);
        units += task.units(batch);
        const { value, grads } = tf.variableGrads(() => task.loss(batch), vars);
        task.disposeBatch(batch);
        lossTotal += (await value.data())[0]!;
        value.dispose();
        const g = vars.map((v) => grads[v.name]!);
        if (acc === null) acc = g;
        else {
          const prev: tf.Tensor[] = acc;
          acc = prev.map((a, i) => {
            const s = tf.add(a, g[i]!);
            a.dispose();
            g[i]!.dispose();
            return s;
          });
        }
      }
      // Let the event loop run signal handlers (Ctrl-C, mpirun's forwarded SIGUSR2): the awaits
      // above resolve as microtasks, which never reach it, so without this turn an interrupt
      // waited for the end of the run.
      await new Promise((r) => setImmediate(r));
      // a rank without a batch in this update (an epoch's short last one) adds zeros
      acc ??= vars.map((v) => tf.zerosLike(v));
      const sums = dp.checkIn(state.updates, { loss: lossTotal, units, interrupted: opts.signal?.aborted ?? false });
      acc = dp.sumGradients(acc);
      units = sums.units;
      const gradMap = new Map<string, tf.Tensor>();
      acc.forEach((g, i) => {
        if (group > 1) {
          gradMap.set(names[i]!, tf.div(g, group));
          g.dispose();
        } else gradMap.set(names[i]!, g);
      });
      const loss = sums.loss / group;
      if (!Number.isFinite(loss)) {
        for (const g of gradMap.values()) g.dispose();
        throw new Error(
          `trainer: loss is ${loss} at epoch ${state.epoch + 1}, batch ${state.batchInEpoch}, update ${state.updates} (lower the learning rate or enable clipNorm)`,
        );
      }
      const gradNorm = clipGradNorm(gradMap, cfg.clipNorm);
      const lr = learningRate(schedule, state.updates);
      optimizer.step(gradMap, lr);
      for (const g of gradMap.values()) g.dispose();
      state.updates++;
      state.batchInEpoch += group;
      lossSum += loss;
      lossCount++;
      hooks.onUpdate?.({ epoch: state.epoch, batch: state.batchInEpoch, batches: nb, update: state.updates, loss, lr, gradNorm, units });

      const endOfEpoch = state.batchInEpoch >= nb;
      if (endOfEpoch) {
        state.epoch++;
        state.batchInEpoch = 0;
      }
      const validateNow = cfg.validateEvery > 0 ? state.updates % cfg.validateEvery === 0 : endOfEpoch;
      const checkpointNow = cfg.checkpointEvery > 0 ? state.updates % cfg.checkpointEvery === 0 : endOfEpoch;
      let stop = false;
      if (validateNow && (await validate())) {
        stoppedBy = 'patience';
        stop = true;
      }
      if (lead && endOfEpoch && cfg.timeBudgetSec > 0 && !state.planFinal) {
        // Epoch 1's time (with its validation, JIT warm-up and the first calls of every kernel)
        // overestimates the next ones: the first plan errs towards finishing early; the later
        // ones, from the mean of epochs 2.., give the rest of the budget to the remaining updates.
        const now = elapsed();
        const first = state.firstEpochSec === undefined ? undefined : { sec: state.firstEpochSec, updates: state.firstEpochUpdates ?? 0 };
        const { perUpdate, planned } = planUpdates(cfg.timeBudgetSec, { updates: state.updates, now }, first, allUpdates);
        if (state.epoch === 1) {
          state.firstEpochSec = now;
          state.firstEpochUpdates = state.updates;
        }
        state.planFinal = 2 * state.updates >= planned;
        let plannedEpochs = 1;
        while (plannedEpochs < cfg.epochs && updatesIn(plannedEpochs) < planned) plannedEpochs++;
        const changed = planned !== state.plannedUpdates || plannedEpochs !== epochs;
        state.plannedUpdates = planned;
        state.budgetSec = cfg.timeBudgetSec;
        state.plannedEpochs = plannedEpochs;
        if (changed) {
          epochs = plannedEpochs;
          task.setEpochs?.(epochs);
          if (autoSteps) schedule.totalSteps = planned;
          hooks.onPlan?.({ epochs, totalUpdates: planned });
        }
        if (changed || state.epoch === 1 || state.planFinal) {
          const took =
            state.epoch === 1
              ? `epoch 1 took ${now.toFixed(0)} s (${perUpdate.toPrecision(3)} s per update)`
              : `epoch${state.epoch === 2 ? ' 2' : `s 2–${state.epoch}`} took ${perUpdate.toPrecision(3)} s per update`;
          const partial = planned < updatesIn(epochs) ? ', the last in part' : '';
          log(
            `time budget ${cfg.timeBudgetSec} s: ${took}, so the run trains ${planned} updates (${epochs} of ${cfg.epochs} epochs${partial})` +
              (autoSteps ? ', LR schedule fitted to them' : '') +
              (state.planFinal ? '; plan fixed' : '; planned again after each epoch until half-way'),
          );
        }
      }
      if (budgetDone() && stoppedBy === 'done') stop = true;
      if (cfg.maxUpdates > 0 && state.updates >= cfg.maxUpdates) {
        stoppedBy = 'maxUpdates';
        stop = true;
      }
      if (cfg.maxTimeSec > 0 && elapsed() >= cfg.maxTimeSec) {
        stoppedBy = 'maxTime';
        stop = true;
      }
      if (opts.signal?.aborted || sums.interrupted) {
        stoppedBy = 'interrupt';
        stop = true;
      }
      // A run that ends (not one interrupted) is validated in its final state, so `best` and the
      // last validation always exist, even for a budget shorter than validateEvery.
      const lastUpdate = stop || (endOfEpoch && state.epoch >= epochs);
      if (lastUpdate && stoppedBy !== 'interrupt' && validatedAt !== state.updates) await validate();
      // Rank 0 decides (its validation, clock and plan); the other ranks follow.
      const plan = {
        epochs,
        plannedEpochs: state.plannedEpochs,
        plannedUpdates: state.plannedUpdates,
        firstEpochSec: state.firstEpochSec,
        firstEpochUpdates: state.firstEpochUpdates,
        budgetSec: state.budgetSec,
        planFinal: state.planFinal,
      };
      const decided: { stoppedBy: TrainResult['stoppedBy'] | null; plan: typeof plan } = dp.agree(state.updates, {
        stoppedBy: stop ? stoppedBy : null,
        plan,
      });
      if (!lead) {
        stop = decided.stoppedBy !== null;
        stoppedBy = decided.stoppedBy ?? 'done';
        const { epochs: planned, ...planState } = decided.plan;
        const replanned = planState.plannedUpdates !== state.plannedUpdates;
        Object.assign(state, planState);
        if (planned !== epochs) {
          epochs = planned;
          task.setEpochs?.(epochs);
        }
        if (autoSteps && replanned) schedule.totalSteps = plannedTotal();
      }
      if (checkpointNow || stop) {
        dp.checkParams(state.updates, task.params, optimizer);
        if (lead) await save(checkpointNow ? join(opts.outDir, `checkpoint_${state.updates}.safetensors`) : undefined);
      }
      if (endOfEpoch) hooks.onEpochEnd?.({ epoch: state.epoch - 1, update: state.updates, meanLoss: lossSum / Math.max(1, lossCount) });
      if (stop) {
        log(`stopped (${stoppedBy}) at update ${state.updates}; saved ${lastPath}`);
        break outer;
      }
      if (endOfEpoch) break;
    }
  }
  if (lead && stoppedBy === 'done' && !existsSync(lastPath)) await save();
  optimizer.dispose();
  return { updates: state.updates, epochsDone: state.epoch, stoppedBy, best: state.best, lastValidation, elapsedSec: elapsed(), lastPath };
}

/** Deletes numbered checkpoints beyond the newest `keep`. */
function pruneNumbered(dir: string, keep: number): void {
  const numbered = readdirSync(dir)
    .map((f) => /^checkpoint_(\d+)\.safetensors$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ file: m[0], n: Number(m[1]) }))
    .sort((a, b) => b.n - a.n);
  for (const { file } of numbered.slice(keep)) rmSync(join(dir, file));
}
