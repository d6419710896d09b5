// One process of the data-parallel bench (bench/mpi.ts), started alone or by mpirun. Two modes:
//   train      the one training loop (src/train/loop.ts) on a translation model of a config
//              (default configs/mt/wmt14-en-de-resmlp6.json) over synthetic 4096-token batches
//              (bench/mt-train.ts's shape: 128 sentences × 31 tokens + EOS), the update =
//              ranks × updateFreq batches; reports target tokens/s of the timed updates (after
//              one warm-up; median update) and the seconds of each update spent summing gradients.
//   allreduce  that model's gradient tensors (its parameters' shapes, on the native backend)
//              summed by src/train/distributed/allreduce.ts, alternating with a raw
//              MPI_Allreduce of the same bytes in one buffer (the addon's C loop); GB/s of each.
// Prints one JSON line on rank 0. Usage: mpi-rank.ts <train|allreduce> [--config F] [--freq N]
// [--updates N] [--reps N] [--out DIR]
import * as tf from '@tensorflow/tfjs';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '../src/backend/choose.js';
import { arrayPairSource, TokenBatcher } from '../src/mt/data/batching.js';
import type { Seq2SeqConfig } from '../src/mt/model/config.js';
import { Seq2Seq } from '../src/mt/model/seq2seq.js';
import { resolveMtTrainConfig } from '../src/mt/train/config.js';
import { MtTrainTask } from '../src/mt/train/task.js';
import { GradientAllreduce } from '../src/train/distributed/allreduce.js';
import { dataParallelFromEnv } from '../src/train/distributed/data-parallel.js';
import { joinWorld } from '../src/train/distributed/mpi.js';
import { train } from '../src/train/loop.js';
import { Rng } from '../src/util/rng.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const IDS = { padId: 0, unkId: 1, bosId: 2, eosId: 3 };
const BATCH = { sentences: 128, tokens: 31 };

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
}

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const mode = process.argv[2];
const world = joinWorld();
await initBackend('native');
const cfg = resolveMtTrainConfig(JSON.parse(readFileSync(join(REPO, arg('config', 'configs/mt/wmt14-en-de-resmlp6.json')), 'utf8')));
const modelConfig: Seq2SeqConfig = { ...cfg.model, vocabSize: cfg.data.vocabSize ?? 32000, ...IDS };

if (mode === 'train') {
  const freq = Number(arg('freq', '1'));
  const updates = Number(arg('updates', '4'));
  // enough synthetic pairs for `updates` updates of ranks × freq batches of 4096 tokens each
  const batches = updates * freq * world.size;
  const rng = new Rng(2105_03404);
  const sent = () => Int32Array.from({ length: BATCH.tokens }, () => 4 + Math.floor(rng.uniform() * (modelConfig.vocabSize - 5)));
  const src = Array.from({ length: batches * BATCH.sentences }, sent);
  const tgt = Array.from({ length: batches * BATCH.sentences }, sent);
  const batcher = new TokenBatcher(arrayPairSource(src, tgt), IDS, {
    maxTokens: BATCH.sentences * (BATCH.tokens + 1),
    maxLen: modelConfig.maxLen,
    seed: cfg.seed,
    shuffle: true,
  });
  const model = new Seq2Seq(modelConfig);
  const task = new MtTrainTask(model, batcher, { seed: cfg.seed, labelSmoothing: cfg.labelSmoothing, modelConfig });
  const dp = dataParallelFromEnv();
  const out = arg('out', join(REPO, `bench_tmp_mpi_${process.pid}`));
  const times: number[] = [];
  const units: number[] = [];
  const reduceSec: number[] = [];
  let t = performance.now();
  const trainer = {
    ...cfg.trainer,
    updateFreq: freq,
    maxUpdates: updates,
    epochs: 1000,
    validateEvery: 0,
    checkpointEvery: 0,
    timeBudgetSec: 0,
    maxTimeSec: 0,
  };
  await train(task, trainer, {
    outDir: out,
    resume: false,
    dataParallel: dp,
    hooks: {
      onUpdate(u) {
        const now = performance.now();
        times.push((now - t) / 1000);
        units.push(u.units);
        reduceSec.push(dp.allreduceStats?.seconds ?? 0);
        t = now;
      },
    },
  });
  const params = model.numParameters();
  model.dispose();
  if (world.lead) {
    rmSync(out, { recursive: true, force: true });
    // median update of the timed ones (after the first: start-up, JIT, first calls of every kernel);
    // the median, not the mean, so an update slowed by another process on the machine counts once
    const sec = median(times.slice(1));
    const tok = median(units.slice(1));
    const line = {
      ranks: world.size,
      threads: Number(process.env.RESMLP_THREADS ?? 0),
      updateFreq: freq,
      params,
      tokensPerUpdate: units[0],
      updateSec: times,
      tokensPerSec: tok / sec,
      allreduceSecPerUpdate: median(reduceSec.slice(1)),
    };
    process.stdout.write(JSON.stringify(line) + '\n');
  }
} else if (mode === 'allreduce') {
  if (!world.addon) throw new Error('allreduce mode runs under mpirun');
  const reps = Number(arg('reps', '10'));
  const model = new Seq2Seq(modelConfig);
  const shapes = [...model.namedParameters().values()].map((v) => v.shape);
  model.dispose();
  const grads = shapes.map((s) => tf.randomUniform(s, -1e-3, 1e-3, 'float32'));
  const floats = grads.reduce((a, g) => a + g.size, 0);
  const ar = new GradientAllreduce((x) => world.addon!.allreduce(x));
  const ours: number[] = [];
  const raw: number[] = [];
  for (let i = 0; i < reps + 2; i++) {
    // start together: rank 0 hears from every rank, then answers
    world.addon.gatherTimed(new Uint8Array(1), world.lead ? new Uint8Array(world.size) : null, 60, 98);
    world.addon.bcastTimed(new Uint8Array(1), 60, 99);
    const t0 = performance.now();
    const out = ar.sum(grads);
    const s = (performance.now() - t0) / 1000;
    if (out.some((g, k) => g !== grads[k])) throw new Error('allreduce bench: expected every gradient summed in place');
    const r = world.addon.rawAllreduce(floats, 1)[0]!;
    if (i >= 2) {
      ours.push(s);
      raw.push(r);
    }
  }
  for (const g of grads) g.dispose();
  if (world.lead) {
    const gb = (floats * 4) / 1e9;
    const line = {
      ranks: world.size,
      tensors: shapes.length,
      bytes: floats * 4,
      calls: ar.last.calls,
      packedBytes: ar.last.packedBytes,
      oursSec: median(ours),
      rawSec: median(raw),
      allreduceGBps: gb / median(ours),
      allreduceRawGBps: gb / median(raw),
    };
    process.stdout.write(JSON.stringify(line) + '\n');
  }
} else {
  throw new Error(`mpi-rank: mode must be train or allreduce, got ${mode}`);
}
