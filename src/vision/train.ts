// A vision training run from one config (configs/vision/*.json override only what they change):
// the model (a registry name + overrides), the dataset, the loader (batch size, augmentation,
// normalisation), label smoothing and the trainer (src/train/loop.ts: optimizer, warmup + cosine,
// weight decay, clipping, checkpoints every epoch, exact resume). Reporting is the shared path
// (src/train/reporting.ts: progress bar with img/s and ETA, metrics.jsonl, PNG curves). After
// training, the last weights are evaluated on the test set and the result is logged.
// Recipe defaults follow the paper's §4 / DeiT (AdamW or Lamb, warmup then cosine, weight decay,
// label smoothing 0.1) scaled down to small images and a 2-core CPU.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { resolveConfig } from '../util/config.js';
import { createReporting } from '../train/reporting.js';
import { isLeadRank } from '../train/distributed/mpi.js';
import { DEFAULT_TRAINER, resolveTrainerConfig, train, type TrainerConfig, type TrainResult } from '../train/loop.js';
import { cifar10 } from './data/cifar.js';
import { NORMALIZATION, resolveLoaderConfig, type LoaderConfig } from './data/dataset.js';
import { FASHION_MNIST_DIR, fashionMnist, mnist } from './data/idx.js';
import { heldOutSplit, type ImageSet } from './data/image-set.js';
import type { ResMlpConfig } from './model.js';
import { ResMlp } from './model.js';
import { modelConfig } from './registry.js';
import { ClassificationTask, evaluate, type EvalResult } from './task.js';

export type DatasetName = 'fashion-mnist' | 'mnist' | 'cifar10';
export const DATASETS: readonly DatasetName[] = ['fashion-mnist', 'mnist', 'cifar10'];

export interface VisionRunConfig {
  /** Registry name (src/vision/registry.ts). Default 'resmlp_fmnist_small'. */
  model: string;
  /** Overrides of the registry config (e.g. {"dropPath": 0.05}). Default {}. */
  modelOverrides: Partial<ResMlpConfig>;
  /** Dataset. Default 'fashion-mnist'. */
  dataset: DatasetName;
  /** Dataset directory; null = the default for the dataset (Fashion-MNIST: the Debian package's). Default null. */
  dataDir: string | null;
  /** Fraction of the training set held out for validation (0 = validate on the test set). Default 0. */
  valFraction: number;
  /** Loader: batch size and augmentation (normalisation defaults to the dataset's). Default {batchSize 128, hflip, crop padding 2}. */
  loader: Partial<LoaderConfig>;
  /** Label smoothing ε. Default 0.1. */
  labelSmoothing: number;
  /** Seed of the model init, dropout, shuffling and augmentation. Default 0. */
  seed: number;
  /** Trainer settings (src/train/loop.ts TrainerConfig), merged key by key. Default: AdamW, warmup + cosine, clip 1, per-epoch checkpoints, best by accuracy. */
  trainer: TrainerConfig;
  /** Run folder (checkpoints, metrics.jsonl, PNGs), as `out` of the translation configs. Default 'runs/vision'. */
  out: string;
  /** Batch size of evaluation passes. Default 500. */
  evalBatchSize: number;
  /**
   * Also evaluate the final weights with horizontal-flip test-time augmentation (mean softmax of
   * each test image and its mirror, src/vision/task.ts): logged as `testFlip` beside the plain
   * `test` result, which it never replaces. Default false.
   */
  testFlip: boolean;
  /**
   * Also evaluate the final weights averaged over shifted copies of each test image (this many
   * pixels up, down, left and right; with testFlip, and their mirrors: src/vision/task.ts),
   * logged as `testTta` beside `test` (and `testFlip`). 0 = off. Default 0.
   */
  testShift: number;
}

export const DEFAULT_VISION_RUN: VisionRunConfig = {
  model: 'resmlp_fmnist_small',
  modelOverrides: {},
  dataset: 'fashion-mnist',
  dataDir: null,
  valFraction: 0,
  loader: { batchSize: 128, hflip: true, cropPadding: 2 },
  labelSmoothing: 0.1,
  seed: 0,
  trainer: {
    ...DEFAULT_TRAINER,
    epochs: 10,
    optimizer: 'adamw',
    weightDecay: 0.05,
    clipNorm: 1,
    schedule: { name: 'cosine', lr: 2e-3, warmupSteps: 300, warmupInit: 1e-6, totalSteps: 0, minLr: 1e-5 },
    bestMetric: 'accuracy',
    maximize: true,
    unit: 'img',
  },
  out: 'runs/vision',
  evalBatchSize: 500,
  testFlip: false,
  testShift: 0,
};

/**
 * Resolves a run config: `given` (e.g. a JSON file) over the defaults; `loader` and `trainer` (and
 * `trainer.schedule`) merge key by key. Unknown keys at any level are errors naming them; the old
 * key `outDir` is an error saying it is now `out`.
 */
export function resolveVisionRunConfig(given: Record<string, unknown> = {}): VisionRunConfig {
  const r = resolveConfig('vision run config', DEFAULT_VISION_RUN, given, {
    renamed: { outDir: 'out' },
    nested: {
      // only the given loader keys are stored; normalisation and seed come from the dataset and run seed
      loader: (g, place) => {
        const loader = { ...DEFAULT_VISION_RUN.loader, ...g } as Partial<LoaderConfig>;
        resolveLoaderConfig(loader, place);
        return loader;
      },
      trainer: { schedule: true },
    },
  });
  r.trainer = resolveTrainerConfig(r.trainer);
  if (!DATASETS.includes(r.dataset))
    throw new Error(`vision run config: unknown dataset '${r.dataset}' (expected one of ${DATASETS.join(', ')})`);
  if (!(r.valFraction >= 0 && r.valFraction < 1)) throw new Error(`vision run config: valFraction must be in [0, 1), got ${r.valFraction}`);
  if (!(Number.isInteger(r.testShift) && r.testShift >= 0))
    throw new Error(`vision run config: testShift must be an integer ≥ 0 (pixels), got ${JSON.stringify(r.testShift)}`);
  if (!(r.labelSmoothing >= 0 && r.labelSmoothing < 1))
    throw new Error(`vision run config: labelSmoothing must be in [0, 1), got ${r.labelSmoothing}`);
  modelConfig(r.model, r.modelOverrides); // validates the model name and overrides
  return r;
}

export interface LoadedData {
  train: ImageSet;
  test: ImageSet;
  norm: { mean: number[]; std: number[] };
}

/** Loads a dataset by name with its normalisation constants. */
export function loadDataset(name: DatasetName, dir: string | null): LoadedData {
  switch (name) {
    case 'fashion-mnist':
      return {
        ...fashionMnist(dir ?? FASHION_MNIST_DIR),
        norm: { mean: [...NORMALIZATION.fashionMnist.mean], std: [...NORMALIZATION.fashionMnist.std] },
      };
    case 'mnist':
      if (!dir) throw new Error(`dataset 'mnist' needs dataDir (a directory with train-images-idx3-ubyte[.gz] etc.)`);
      return { ...mnist(dir), norm: { mean: [...NORMALIZATION.mnist.mean], std: [...NORMALIZATION.mnist.std] } };
    case 'cifar10':
      if (!dir) throw new Error(`dataset 'cifar10' needs dataDir (a directory with data_batch_1..5.bin and test_batch.bin)`);
      return { ...cifar10(dir), norm: { mean: [...NORMALIZATION.cifar10.mean], std: [...NORMALIZATION.cifar10.std] } };
  }
}

export interface RunOptions {
  /** Continue from <out>/checkpoint_last.safetensors if present. Default false (a fresh run refuses to overwrite one). */
  resume?: boolean;
  signal?: AbortSignal;
  /** Data already loaded (tests, the tuner). */
  data?: LoadedData;
  /** Where the progress bar and messages go. Default process.stderr. */
  stream?: { write(s: string): unknown; isTTY?: boolean };
  /** Evaluate on the test set after training. Default true. */
  testEval?: boolean;
}

export interface RunResult {
  train: TrainResult;
  test: EvalResult | null;
  /** The test set with flip averaging (config testFlip), else null. */
  testFlip: EvalResult | null;
  /** The test set averaged over shifts (config testShift, with flips when testFlip), else null. */
  testTta: EvalResult | null;
  outDir: string;
}

/** Builds the model and task of a run config. */
export function buildRun(cfg: VisionRunConfig, data: LoadedData): { model: ResMlp; task: ClassificationTask; val: ImageSet } {
  const mc = modelConfig(cfg.model, cfg.modelOverrides);
  let trainSet = data.train;
  let val = data.test;
  if (cfg.valFraction > 0) ({ train: trainSet, val } = heldOutSplit(data.train, cfg.valFraction, cfg.seed));
  const model = new ResMlp(mc, cfg.seed);
  const loader = { ...data.norm, seed: cfg.seed, ...cfg.loader };
  const task = new ClassificationTask(model, {
    train: trainSet,
    val,
    loader,
    labelSmoothing: cfg.labelSmoothing,
    evalBatchSize: cfg.evalBatchSize,
    dataset: cfg.dataset,
  });
  return { model, task, val };
}

/** Runs training (or resumes it) and evaluates the last weights on the test set. */
export async function runTraining(cfg: VisionRunConfig, opts: RunOptions = {}): Promise<RunResult> {
  const outDir = path.resolve(cfg.out);
  const last = path.join(outDir, 'checkpoint_last.safetensors');
  if (!opts.resume && fs.existsSync(last)) {
    throw new Error(`${last} exists: pass --resume to continue that run, or choose another out folder`);
  }
  // under mpirun rank 0 alone writes the run folder, reports and tests
  const lead = isLeadRank();
  fs.mkdirSync(outDir, { recursive: true });
  if (lead) fs.writeFileSync(path.join(outDir, 'config.json'), JSON.stringify(cfg, null, 2) + '\n');
  const data = opts.data ?? loadDataset(cfg.dataset, cfg.dataDir);
  const { model, task } = buildRun(cfg, data);
  const reporting = createReporting({ outDir, unit: 'img', label: 'train', stream: opts.stream as never });
  const say = reporting.hooks.log!;
  say(
    `model ${cfg.model}: ${model.numParameters().toLocaleString('en-US')} parameters, ${model.config.imgSize}×${model.config.imgSize}×${model.config.inChans}, patch ${model.config.patchSize}, d ${model.config.embedDim}, depth ${model.config.depth}`,
  );
  try {
    const result = await train(task, resolveTrainerConfig(cfg.trainer), {
      outDir,
      resume: opts.resume ?? false,
      signal: opts.signal,
      hooks: reporting.hooks,
      fingerprint: { config: cfg },
    });
    reporting.close();
    let test: EvalResult | null = null;
    let testFlip: EvalResult | null = null;
    let testTta: EvalResult | null = null;
    if ((opts.testEval ?? true) && result.stoppedBy !== 'interrupt' && lead) {
      test = await evaluate(model, data.test, task.loader.config, cfg.evalBatchSize);
      reporting.metrics.log('test', {
        update: result.updates,
        loss: test.loss,
        accuracy: test.accuracy,
        top5: test.top5,
        elapsedSec: result.elapsedSec,
      });
      say(
        `test: accuracy ${(100 * test.accuracy).toFixed(2)}%, top-5 ${(100 * test.top5).toFixed(2)}%, loss ${test.loss.toFixed(4)} (${test.count} images, last weights, ${result.elapsedSec.toFixed(0)} s of training)`,
      );
      if (cfg.testFlip) {
        testFlip = await evaluate(model, data.test, task.loader.config, cfg.evalBatchSize, { flip: true });
        reporting.metrics.log('testFlip', {
          update: result.updates,
          loss: testFlip.loss,
          accuracy: testFlip.accuracy,
          top5: testFlip.top5,
        });
        say(
          `test with flip averaging: accuracy ${(100 * testFlip.accuracy).toFixed(2)}%, top-5 ${(100 * testFlip.top5).toFixed(2)}%, loss ${testFlip.loss.toFixed(4)} (mean softmax of each image and its mirror)`,
        );
      }
      if (cfg.testShift > 0) {
        testTta = await evaluate(model, data.test, task.loader.config, cfg.evalBatchSize, { flip: cfg.testFlip, shift: cfg.testShift });
        reporting.metrics.log('testTta', { update: result.updates, loss: testTta.loss, accuracy: testTta.accuracy, top5: testTta.top5 });
        const views = cfg.testFlip
          ? `each image, its shifts by ±${cfg.testShift} px and their mirrors (10 views)`
          : `each image and its shifts by ±${cfg.testShift} px (5 views)`;
        say(
          `test with shift${cfg.testFlip ? ' and flip' : ''} averaging: accuracy ${(100 * testTta.accuracy).toFixed(2)}%, top-5 ${(100 * testTta.top5).toFixed(2)}%, loss ${testTta.loss.toFixed(4)} (mean softmax of ${views})`,
        );
      }
    }
    reporting.plot();
    return { train: result, test, testFlip, testTta, outDir };
  } finally {
    model.dispose();
  }
}
