// `resmlp vision <train|eval|predict|tune|inspect>`: image classification with ResMLP. Parsing and
// printing only; the work lives in src/vision (train.ts, tune.ts, task.ts, predict.ts, inspect.ts).
//   train   --config configs/vision/<name>.json [--resume] [--key.path value ...]
//   eval    --checkpoint C [--dataset D] [--data-dir DIR] [--flip] [--shift N]
//   predict --checkpoint C IMAGE.png [--top 5] [--resize bilinear|nearest] [--invert]
//   tune    --config C [--trials N] [--tune-epochs E] [--patience P] [--lr-min a] [--lr-max b] ...
//   inspect --checkpoint C [--out DIR]
// Every subcommand takes --backend (default RESMLP_BACKEND, else auto).
import { need, usageError, type FlagSpec, type FlagValues } from './args.js';
import { defineCommand, interruptible } from './command.js';
import { listed } from './commands.js';
import type { loadClassifierWithData } from '../vision/checkpoint.js';

/** A classifier checkpoint as loaded: the model and its data settings (type only: the module loads lazily). */
type LoadedClassifier = ReturnType<typeof loadClassifierWithData>;

const BACKEND: FlagSpec = { type: 'string', help: 'tensor backend: auto, native, wasm, cpu, tensorflow (default: RESMLP_BACKEND or auto)' };

async function backend(flags: FlagValues): Promise<string> {
  const { initBackend } = await import('../backend/choose.js');
  await initBackend((flags.backend as string | undefined) ?? process.env.RESMLP_BACKEND ?? 'auto');
  const tf = await import('@tensorflow/tfjs');
  return tf.getBackend();
}

/** The run config of --config with `--key.path value` overrides, resolved. */
async function runConfig(flags: FlagValues, overrides: Record<string, string>) {
  const file = need(flags, 'config');
  const { applyOverrides, readConfigFile } = await import('../util/config.js');
  const { resolveVisionRunConfig } = await import('../vision/train.js');
  return resolveVisionRunConfig(applyOverrides(readConfigFile(file), overrides));
}

/** Loads the classifier of `ckpt` with its data settings, runs `use` on it, then frees the model. */
async function withClassifier<T>(ckpt: string, use: (c: LoadedClassifier) => Promise<T>): Promise<T> {
  const { loadClassifierWithData } = await import('../vision/checkpoint.js');
  const c = loadClassifierWithData(ckpt);
  try {
    return await use(c);
  } finally {
    c.model.dispose();
  }
}

export const train = defineCommand({
  ...listed('vision train'),
  usage: '--config FILE [--resume] [--key.path value ...]',
  flags: {
    config: { type: 'string', help: 'run config JSON (overrides the defaults of src/vision/train.ts)' },
    resume: { type: 'boolean', help: 'continue from <out>/checkpoint_last.safetensors' },
    backend: BACKEND,
  },
  overrides: true,
  run: async ({ flags, overrides, io }) => {
    const { runTraining } = await import('../vision/train.js');
    const cfg = await runConfig(flags, overrides);
    // under mpirun: join the job first (it sets each rank's default RESMLP_THREADS before the backend loads)
    const world = (await import('../train/distributed/mpi.js')).joinWorld();
    const backendName = await backend(flags);
    return interruptible(io, async (signal) => {
      const r = await runTraining(cfg, { resume: flags.resume === true, signal, stream: io.stderr });
      const t = r.train;
      if (world.lead)
        io.stdout.write(
          JSON.stringify({
            outDir: r.outDir,
            updates: t.updates,
            epochs: t.epochsDone,
            stoppedBy: t.stoppedBy,
            elapsedSec: Math.round(t.elapsedSec),
            test: r.test,
            ...(r.testFlip ? { testFlip: r.testFlip } : {}),
            ...(r.testTta ? { testTta: r.testTta } : {}),
            backend: backendName,
          }) + '\n',
        );
      return t.stoppedBy === 'interrupt' ? 130 : 0;
    });
  },
});

export const evaluate = defineCommand({
  ...listed('vision eval'),
  usage: '--checkpoint FILE [--dataset NAME] [--data-dir DIR] [--flip] [--shift N]',
  flags: {
    checkpoint: { type: 'string', help: 'classifier checkpoint (.safetensors)' },
    dataset: { type: 'string', help: 'fashion-mnist | mnist | cifar10 (default: the one stored in the checkpoint)' },
    'data-dir': { type: 'string', help: 'dataset directory (default: the dataset default)' },
    'batch-size': { type: 'int', help: 'evaluation batch size', default: 500 },
    flip: { type: 'boolean', help: 'test-time flip averaging: mean softmax of each image and its mirror (mirror-symmetric classes only)' },
    shift: {
      type: 'int',
      help: 'test-time shift averaging: also the image moved N pixels up, down, left and right (black border)',
      default: 0,
    },
    backend: BACKEND,
  },
  run: async ({ flags, io }) => {
    const { DATASETS, loadDataset } = await import('../vision/train.js');
    const { evaluate } = await import('../vision/task.js');
    const ckpt = need(flags, 'checkpoint');
    await backend(flags);
    return withClassifier(ckpt, async ({ model, data }) => {
      const name = (flags.dataset as string | undefined) ?? data.dataset;
      if (!name) throw usageError(`--dataset is required: the checkpoint does not name its dataset (one of ${DATASETS.join(', ')})`);
      if (!DATASETS.includes(name as never)) throw usageError(`--dataset must be one of ${DATASETS.join(', ')}, got '${name}'`);
      const ds = loadDataset(name as never, (flags['data-dir'] as string | undefined) ?? null);
      const norm = { mean: data.mean ?? ds.norm.mean, std: data.std ?? ds.norm.std };
      const flip = Boolean(flags.flip);
      const shift = flags.shift as number;
      if (!(shift >= 0)) throw usageError(`--shift must be an integer ≥ 0 (pixels), got ${shift}`);
      const r = await evaluate(model, ds.test, norm, flags['batch-size'] as number, { flip, shift });
      io.stdout.write(JSON.stringify({ checkpoint: ckpt, dataset: name, flip, shift, ...r }) + '\n');
      return 0;
    });
  },
});

export const predict = defineCommand({
  ...listed('vision predict'),
  usage: '--checkpoint FILE IMAGE.png [IMAGE.png ...]',
  flags: {
    checkpoint: { type: 'string', help: 'classifier checkpoint (.safetensors)' },
    top: { type: 'int', help: 'number of classes to print', default: 5 },
    resize: { type: 'string', help: 'bilinear | nearest', default: 'bilinear' },
    invert: { type: 'boolean', help: 'invert pixel values (dark objects on light background → Fashion-MNIST style)' },
    backend: BACKEND,
  },
  positionals: true,
  run: async ({ flags, positionals, io }) => {
    const ckpt = need(flags, 'checkpoint');
    if (positionals.length === 0) throw usageError('give at least one IMAGE.png');
    const resize = flags.resize as string;
    if (resize !== 'bilinear' && resize !== 'nearest') throw usageError(`--resize must be 'bilinear' or 'nearest', got '${resize}'`);
    const top = flags.top as number;
    if (top < 1) throw usageError(`--top must be ≥ 1, got ${top}`);
    await backend(flags);
    const { predictImage } = await import('../vision/predict.js');
    return withClassifier(ckpt, async ({ model, data }) => {
      for (const file of positionals) {
        const classes = await predictImage(model, data, file, { top, resize, invert: flags.invert === true });
        io.stdout.write(`${file}\n`);
        for (const c of classes) io.stdout.write(`  ${(100 * c.prob).toFixed(2).padStart(6)}%  ${c.index}  ${c.name}\n`);
      }
      return 0;
    });
  },
});

export const tune = defineCommand({
  ...listed('vision tune'),
  usage: '--config FILE [budget flags] [--key.path value ...]',
  flags: {
    config: { type: 'string', help: 'run config JSON' },
    trials: { type: 'int', help: 'learning-rate trials', default: 4 },
    'tune-epochs': { type: 'int', help: 'maximum epochs per trial', default: 3 },
    patience: { type: 'int', help: 'stop a trial after this many epochs without a better validation accuracy', default: 1 },
    'lr-min': { type: 'number', help: 'lower end of the log-uniform learning-rate range', default: 3e-4 },
    'lr-max': { type: 'number', help: 'upper end of the log-uniform learning-rate range', default: 1e-2 },
    'train-limit': { type: 'int', help: 'use only the first N training images in trials (0 = all)', default: 0 },
    'skip-final': { type: 'boolean', help: 'only run the trials, not the final full run' },
    backend: BACKEND,
  },
  overrides: true,
  run: async ({ flags, overrides, io }) => {
    const { tuneAndTrain } = await import('../vision/tune.js');
    const cfg = await runConfig(flags, overrides);
    const budget = {
      trials: flags.trials as number,
      maxEpochs: flags['tune-epochs'] as number,
      patience: flags.patience as number,
      lrMin: flags['lr-min'] as number,
      lrMax: flags['lr-max'] as number,
      trainLimit: flags['train-limit'] as number,
      final: flags['skip-final'] !== true,
    };
    await backend(flags);
    return interruptible(io, async (signal) => {
      const r = await tuneAndTrain(cfg, budget, { signal, stream: io.stderr });
      io.stdout.write(JSON.stringify(r) + '\n');
      return 0;
    });
  },
});

export const inspect = defineCommand({
  ...listed('vision inspect'),
  usage: '--checkpoint FILE [--out DIR] [--backend NAME]',
  flags: {
    checkpoint: { type: 'string', help: 'classifier checkpoint (.safetensors)' },
    out: { type: 'string', help: 'directory for the PNGs', default: 'inspect' },
    rows: { type: 'int', help: 'rows of A shown per layer (evenly spaced patches)', default: 16 },
    threshold: { type: 'number', help: 'sparsity threshold as a fraction of the layer max |w|', default: 0.05 },
    backend: BACKEND,
  },
  run: async ({ flags, io }) => {
    const { inspectCheckpoint } = await import('../vision/inspect.js');
    const ckpt = need(flags, 'checkpoint');
    const threshold = flags.threshold as number;
    if (!(threshold > 0 && threshold < 1)) throw usageError(`--threshold must be in (0, 1), got ${threshold}`);
    await backend(flags);
    const r = inspectCheckpoint(ckpt, flags.out as string, { rows: flags.rows as number, threshold });
    io.stdout.write(`wrote ${r.files.join(', ')}\n`);
    io.stdout.write(`sparsity (fraction of |w| < ${threshold} · layer max):\nlayer  A        fc1      fc2\n`);
    for (const l of r.layers)
      io.stdout.write(`${String(l.layer).padEnd(6)} ${l.tokens.toFixed(4)}   ${l.fc1.toFixed(4)}   ${l.fc2.toFixed(4)}\n`);
    return 0;
  },
});
