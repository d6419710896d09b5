// `resmlp vision <subcommand>`: image classification with ResMLP. Parsing only; the work lives in
// src/vision (train.ts, tune.ts, predict.ts, inspect.ts, checkpoint.ts).
//   train   --config configs/vision/<name>.json [--resume] [--key.path value ...]
//   eval    --checkpoint C [--dataset D] [--data-dir DIR] [--flip] [--shift N]
//   predict --checkpoint C IMAGE.png [--top 5] [--resize bilinear|nearest] [--invert]
//   tune    --config C [--trials N] [--tune-epochs E] [--patience P] [--lr-min a] [--lr-max b] ...
//   inspect --checkpoint C [--out DIR]
// Every subcommand takes --backend (default RESMLP_BACKEND, else auto).
import * as tf from '@tensorflow/tfjs';
import { formatHelp, parseArgs, UsageError, type FlagSpec } from './args.js';

const USAGE = `usage: resmlp vision <train|eval|predict|tune|inspect> [options]

  train    train a classifier from a JSON config (configs/vision/*.json); --key.path value overrides
  eval     accuracy of a checkpoint on a dataset's test set
  predict  top-k classes of a PNG image
  tune     log-uniform learning-rate search on a held-out 20% split, then a full run with the best
  inspect  cross-patch matrices as images (paper Fig. 2) and weight sparsity per layer (Fig. 3)`;

const BACKEND: FlagSpec = { type: 'string', help: 'tensor backend: auto, native, wasm, cpu, tensorflow (default: RESMLP_BACKEND or auto)' };

const SPECS: Record<string, { usage: string; spec: Record<string, FlagSpec>; allowUnknown?: boolean }> = {
  train: {
    usage: 'usage: resmlp vision train --config FILE [--resume] [--key.path value ...]',
    spec: {
      config: { type: 'string', help: 'run config JSON (overrides the defaults of src/vision/train.ts)' },
      resume: { type: 'boolean', help: 'continue from <out>/checkpoint_last.safetensors' },
      backend: BACKEND,
    },
    allowUnknown: true,
  },
  eval: {
    usage: 'usage: resmlp vision eval --checkpoint FILE [--dataset NAME] [--data-dir DIR] [--flip] [--shift N]',
    spec: {
      checkpoint: { type: 'string', help: 'classifier checkpoint (.safetensors)' },
      dataset: { type: 'string', help: 'fashion-mnist | mnist | cifar10 (default: the one stored in the checkpoint)' },
      'data-dir': { type: 'string', help: 'dataset directory (default: the dataset default)' },
      'batch-size': { type: 'int', help: 'evaluation batch size', default: 500 },
      flip: { type: 'boolean', help: 'test-time flip averaging: mean softmax of each image and its mirror (mirror-symmetric classes only)' },
      shift: { type: 'int', help: 'test-time shift averaging: also the image moved N pixels up, down, left and right (black border)', default: 0 },
      backend: BACKEND,
    },
  },
  predict: {
    usage: 'usage: resmlp vision predict --checkpoint FILE IMAGE.png [IMAGE.png ...]',
    spec: {
      checkpoint: { type: 'string', help: 'classifier checkpoint (.safetensors)' },
      top: { type: 'int', help: 'number of classes to print', default: 5 },
      resize: { type: 'string', help: 'bilinear | nearest', default: 'bilinear' },
      invert: { type: 'boolean', help: 'invert pixel values (dark objects on light background → Fashion-MNIST style)' },
      backend: BACKEND,
    },
  },
  tune: {
    usage: 'usage: resmlp vision tune --config FILE [budget flags] [--key.path value ...]',
    spec: {
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
    allowUnknown: true,
  },
  inspect: {
    usage: 'usage: resmlp vision inspect --checkpoint FILE [--out DIR] [--backend NAME]',
    spec: {
      checkpoint: { type: 'string', help: 'classifier checkpoint (.safetensors)' },
      out: { type: 'string', help: 'directory for the PNGs', default: 'inspect' },
      rows: { type: 'int', help: 'rows of A shown per layer (evenly spaced patches)', default: 16 },
      threshold: { type: 'number', help: 'sparsity threshold as a fraction of the layer max |w|', default: 0.05 },
      backend: BACKEND,
    },
  },
};

function need(flags: Record<string, unknown>, name: string, usage: string): string {
  const v = flags[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name} is required\n${usage}`);
  return v;
}

async function backend(flags: Record<string, unknown>): Promise<void> {
  const { initBackend } = await import('../backend/choose.js');
  await initBackend((flags.backend as string | undefined) ?? process.env.RESMLP_BACKEND ?? 'auto');
}

/** Ctrl-C → abort (the loop saves a checkpoint at the next update); a second Ctrl-C exits. */
function interruptSignal(): { signal: AbortSignal; dispose(): void } {
  const ac = new AbortController();
  const onInt = () => {
    if (ac.signal.aborted) process.exit(130);
    process.stderr.write('\n[resmlp] interrupt: saving a checkpoint at the next update (Ctrl-C again to quit now)\n');
    ac.abort();
  };
  process.on('SIGINT', onInt);
  return { signal: ac.signal, dispose: () => process.off('SIGINT', onInt) };
}

/** Where a command writes (tests pass their own). */
export interface CliIO {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown; isTTY?: boolean };
}

export async function run(argv: string[], io: CliIO = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    io.stdout.write(USAGE + '\n');
    return sub === undefined ? 2 : 0;
  }
  const def = SPECS[sub];
  if (!def) {
    io.stderr.write(`resmlp vision: unknown subcommand '${sub}'\n\n${USAGE}\n`);
    return 2;
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs(rest, def.spec, { allowUnknown: def.allowUnknown });
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`resmlp vision ${sub}: ${e.message}\n\n${formatHelp(def.usage, def.spec)}`);
      return 2;
    }
    throw e;
  }
  if (parsed.help) {
    io.stdout.write(formatHelp(def.usage, def.spec));
    return 0;
  }
  try {
    return await runSub(sub, parsed, def.usage, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`resmlp vision ${sub}: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

async function runSub(sub: string, parsed: ReturnType<typeof parseArgs>, usage: string, io: CliIO): Promise<number> {
  const { flags, positionals, extra } = parsed;
  switch (sub) {
    case 'train': {
      const { applyOverrides, readConfigFile } = await import('../util/config.js');
      const { resolveVisionRunConfig, runTraining } = await import('../vision/train.js');
      if (positionals.length > 0) throw new UsageError(`unexpected argument(s) ${positionals.join(' ')}\n${usage}`);
      const file = need(flags, 'config', usage);
      const cfg = resolveVisionRunConfig(applyOverrides(readConfigFile(file), extra));
      await backend(flags);
      const irq = interruptSignal();
      try {
        const r = await runTraining(cfg, { resume: flags.resume === true, signal: irq.signal, stream: io.stderr });
        io.stdout.write(
          JSON.stringify({ outDir: r.outDir, updates: r.train.updates, epochs: r.train.epochsDone, stoppedBy: r.train.stoppedBy, elapsedSec: Math.round(r.train.elapsedSec), test: r.test, ...(r.testFlip ? { testFlip: r.testFlip } : {}), ...(r.testTta ? { testTta: r.testTta } : {}), backend: tf.getBackend() }) + '\n',
        );
        return r.train.stoppedBy === 'interrupt' ? 130 : 0;
      } finally {
        irq.dispose();
      }
    }
    case 'eval': {
      const { loadClassifierWithData } = await import('../vision/checkpoint.js');
      const { DATASETS, loadDataset } = await import('../vision/train.js');
      const { evaluate } = await import('../vision/task.js');
      if (positionals.length > 0) throw new UsageError(`unexpected argument(s) ${positionals.join(' ')}\n${usage}`);
      const ckpt = need(flags, 'checkpoint', usage);
      await backend(flags);
      const { model, data } = loadClassifierWithData(ckpt);
      try {
        const name = (flags.dataset as string | undefined) ?? data.dataset;
        if (!name) throw new UsageError(`--dataset is required: the checkpoint does not name its dataset (one of ${DATASETS.join(', ')})`);
        if (!DATASETS.includes(name as never)) throw new UsageError(`--dataset must be one of ${DATASETS.join(', ')}, got '${name}'`);
        const ds = loadDataset(name as never, (flags['data-dir'] as string | undefined) ?? null);
        const norm = { mean: data.mean ?? ds.norm.mean, std: data.std ?? ds.norm.std };
        const flip = Boolean(flags.flip);
        const shift = flags.shift as number;
        if (!(shift >= 0)) throw new UsageError(`--shift must be an integer ≥ 0 (pixels), got ${shift}`);
        const r = await evaluate(model, ds.test, norm, flags['batch-size'] as number, { flip, shift });
        io.stdout.write(JSON.stringify({ checkpoint: ckpt, dataset: name, flip, shift, ...r }) + '\n');
        return 0;
      } finally {
        model.dispose();
      }
    }
    case 'predict': {
      const { loadClassifierWithData } = await import('../vision/checkpoint.js');
      const { predictImage } = await import('../vision/predict.js');
      const ckpt = need(flags, 'checkpoint', usage);
      if (positionals.length === 0) throw new UsageError(`give at least one IMAGE.png\n${usage}`);
      const resize = flags.resize as string;
      if (resize !== 'bilinear' && resize !== 'nearest') throw new UsageError(`--resize must be 'bilinear' or 'nearest', got '${resize}'`);
      const top = flags.top as number;
      if (top < 1) throw new UsageError(`--top must be ≥ 1, got ${top}`);
      await backend(flags);
      const { model, data } = loadClassifierWithData(ckpt);
      try {
        for (const file of positionals) {
          const classes = await predictImage(model, data, file, { top, resize, invert: flags.invert === true });
          io.stdout.write(`${file}\n`);
          for (const c of classes) io.stdout.write(`  ${(100 * c.prob).toFixed(2).padStart(6)}%  ${c.index}  ${c.name}\n`);
        }
        return 0;
      } finally {
        model.dispose();
      }
    }
    case 'tune': {
      const { applyOverrides, readConfigFile } = await import('../util/config.js');
      const { resolveVisionRunConfig } = await import('../vision/train.js');
      const { tuneAndTrain } = await import('../vision/tune.js');
      if (positionals.length > 0) throw new UsageError(`unexpected argument(s) ${positionals.join(' ')}\n${usage}`);
      const file = need(flags, 'config', usage);
      const cfg = resolveVisionRunConfig(applyOverrides(readConfigFile(file), extra));
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
      const irq = interruptSignal();
      try {
        const r = await tuneAndTrain(cfg, budget, { signal: irq.signal, stream: io.stderr });
        io.stdout.write(JSON.stringify(r) + '\n');
        return 0;
      } finally {
        irq.dispose();
      }
    }
    case 'inspect': {
      const { inspectCheckpoint } = await import('../vision/inspect.js');
      if (positionals.length > 0) throw new UsageError(`unexpected argument(s) ${positionals.join(' ')}\n${usage}`);
      const ckpt = need(flags, 'checkpoint', usage);
      const threshold = flags.threshold as number;
      if (!(threshold > 0 && threshold < 1)) throw new UsageError(`--threshold must be in (0, 1), got ${threshold}`);
      await backend(flags);
      const r = inspectCheckpoint(ckpt, flags.out as string, { rows: flags.rows as number, threshold });
      io.stdout.write(`wrote ${r.files.join(', ')}\n`);
      io.stdout.write(`sparsity (fraction of |w| < ${threshold} · layer max):\nlayer  A        fc1      fc2\n`);
      for (const l of r.layers) io.stdout.write(`${String(l.layer).padEnd(6)} ${l.tokens.toFixed(4)}   ${l.fc1.toFixed(4)}   ${l.fc2.toFixed(4)}\n`);
      return 0;
    }
  }
  throw new UsageError(`unknown subcommand '${sub}'`);
}
