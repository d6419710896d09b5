// Translation training on REAL batches beside the synthetic one: the small Multi30k config
// (configs/mt/multi30k-en-de-small.json) trained on the token-bucketed batches of Multi30k En→De
// exactly as `resmlp mt train` makes them (TokenBatcher over the prepared train split: its
// maxTokens, maxLen and seed, shuffled), one update as src/train/loop.ts does it (as in
// bench/mt-train.ts), interleaved update by update with the synthetic 128 × 32 batch of
// bench/mt-train.ts on the same model, so both see the same machine load. Reports target tokens
// per second of wall time and of process CPU time (user + sys, less sensitive to other jobs on a
// shared machine), their ratio (mtTrainRealVsSynthetic; issue target ≥ 0.85), and what separates
// the two: target tokens and padded positions per update, and the native pool's fresh allocations.
// Data: --mt-data DIR (a folder of `resmlp mt multi30k`, 8k vocabulary), else Multi30k En-De is
// prepared from <repo>/../shared/data/multi30k into a temporary folder (spm_train, ~30 s).
// Standalone: node --import tsx bench/mt-train-real.ts [--mt-data DIR] [--threads N] [--pairs N]
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend, setThreads } from '../src/backend/choose.js';
import { arrayPairSource, pairSource, TokenBatcher, type Batch } from '../src/mt/data/batching.js';
import { PreparedDataset } from '../src/mt/data/dataset.js';
import { prepareDataset } from '../src/mt/data/prepare.js';
import { modelConfigFor, resolveMtTrainConfig } from '../src/mt/train/config.js';
import { repoRoot, sharedPath } from '../src/util/paths.js';
import { MT_TRAIN_BATCH, mtTrainer, poolStats, syntheticPairs } from './mt-train.js';

const CONFIG = 'configs/mt/multi30k-en-de-small.json';

export interface MtTrainRealOptions {
  threads: number;
  /** Timed (real, synthetic) update pairs. Default 12. */
  pairs?: number;
  /** Real updates before timing (first calls of each kernel and buffer size). Default 4. */
  warmup?: number;
  /** A prepared Multi30k folder; default: prepared from ../shared into a temp folder. */
  data?: string;
  log?: (line: string) => void;
}

export interface MtTrainRealSide {
  /** Target tokens (non-pad, EOS included) per second of wall time. */
  tokensPerSec: number;
  /** The same per second of process CPU time (user + sys of all threads). */
  tokensPerCpuSec: number;
  meanTargetTokens: number;
  /** Mean padded positions per update, source and target side (B·S, B·T). */
  meanSrcPositions: number;
  meanTgtPositions: number;
  /** Pooled-size outputs freshly allocated (not reused) by the native backend, per timed update. */
  freshAllocationsPerUpdate: number;
}

export interface MtTrainRealResult {
  config: string;
  data: string;
  trainPairs: number;
  /** Pairs the batcher skips (a side longer than maxLen − 1 tokens). */
  skipped: number;
  batchesPerEpoch: number;
  threads: number;
  pairs: number;
  real: MtTrainRealSide;
  synthetic: MtTrainRealSide;
  /** real.tokensPerSec ÷ synthetic.tokensPerSec, measured interleaved (target ≥ 0.85). */
  mtTrainRealVsSynthetic: number;
  /** The same ratio of CPU-time rates. */
  mtTrainRealVsSyntheticCpu: number;
}

/** Multi30k En-De of the shared data (train, and val with `withValid`), prepared in a temp folder (removed by the returned cleanup). */
export async function prepareShared(log: (s: string) => void, withValid = false): Promise<{ dir: string; cleanup: () => void }> {
  const raw = (stem: string, lang: string) => sharedPath('data', 'multi30k', `${stem}.${lang}`);
  const pair = (stem: string) => ({ src: raw(stem, 'en'), tgt: raw(stem, 'de') });
  const tmp = mkdtempSync(join(os.tmpdir(), 'resmlp-bench-m30k-'));
  log(`mt-train-real: preparing Multi30k En-De from the shared data into ${tmp}`);
  const inputs = { train: pair('train'), ...(withValid ? { valid: pair('val') } : {}), srcLang: 'en', tgtLang: 'de' };
  await prepareDataset(inputs, join(tmp, 'm30k'), {}, { log: () => {} });
  return { dir: join(tmp, 'm30k'), cleanup: () => rmSync(tmp, { recursive: true, force: true }) };
}

export async function mtTrainRealBench(opts: MtTrainRealOptions): Promise<MtTrainRealResult> {
  const log = opts.log ?? (() => {});
  const pairs = opts.pairs ?? 12;
  const warmup = opts.warmup ?? 4;
  await setThreads(opts.threads);
  await initBackend('native');
  // Start from an empty output pool, as a training process does: in \`npm run bench\` the ResMLP-6
  // rows run first in this process and leave the pool at its cap with buffers of their sizes,
  // after which ~270 of this model's outputs per update were fresh allocations on both batches.
  (tf.backend() as unknown as { releasePool?: () => void }).releasePool?.();
  const cfg = resolveMtTrainConfig(JSON.parse(readFileSync(join(repoRoot, CONFIG), 'utf8')));
  const prepared = opts.data ? { dir: opts.data, cleanup: () => {} } : await prepareShared(log);
  const ds = PreparedDataset.open(prepared.dir);
  const train = ds.split('train');
  const before = tf.memory().numTensors;
  const spm = ds.manifest.spm;
  const modelConfig = modelConfigFor(cfg.model, spm);
  const ids = { padId: spm.padId, bosId: spm.bosId, eosId: spm.eosId };
  // the batches of `resmlp mt train` (src/mt/train/run.ts)
  const batcher = new TokenBatcher(pairSource(train), ids, {
    maxTokens: cfg.data.maxTokens,
    maxSentences: cfg.data.maxSentences,
    maxLen: modelConfig.maxLen,
    seed: cfg.seed,
    shuffle: true,
  });
  const { src, tgt } = syntheticPairs(modelConfig.vocabSize);
  const synthetic = new TokenBatcher(arrayPairSource(src, tgt), ids, {
    maxTokens: MT_TRAIN_BATCH.sentences * (MT_TRAIN_BATCH.tokens + 1),
    maxLen: modelConfig.maxLen,
    seed: cfg.seed,
  }).batch(0, 0);
  const { task, update: step, dispose } = mtTrainer(cfg, modelConfig, batcher, 'mt-train-real bench');

  /** One update of mtTrainer (as src/train/loop.ts does it): wall ms, CPU ms, fresh pool allocations. */
  const update = async (batch: Batch): Promise<{ ms: number; cpuMs: number; fresh: number }> => {
    const a0 = poolStats().allocated;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await step(batch);
    const ms = performance.now() - t0;
    const c = process.cpuUsage(c0);
    return { ms, cpuMs: (c.user + c.system) / 1000, fresh: poolStats().allocated - a0 };
  };

  const n = batcher.numBatches(0);
  if (warmup + pairs > n) throw new Error(`mt-train-real bench: ${warmup + pairs} real batches asked, the epoch has ${n}`);
  log(
    `mt-train-real: ${train.size} train pairs (${batcher.skipped} skipped), ${n} batches/epoch of ≤ ${cfg.data.maxTokens} tokens; ${warmup} warm-up updates, then ${pairs} real/synthetic pairs interleaved`,
  );
  const acc = { real: { ms: 0, cpu: 0, tok: 0, src: 0, tgt: 0, fresh: 0 }, synthetic: { ms: 0, cpu: 0, tok: 0, src: 0, tgt: 0, fresh: 0 } };
  try {
    task.setTraining(true);
    await update(synthetic);
    for (let i = 0; i < warmup; i++) await update(batcher.batch(0, i));
    for (let i = 0; i < pairs; i++) {
      const b = batcher.batch(0, warmup + i);
      // alternate which goes first, so neither always follows the other
      const order: ['real' | 'synthetic', Batch][] =
        i % 2 === 0
          ? [
              ['real', b],
              ['synthetic', synthetic],
            ]
          : [
              ['synthetic', synthetic],
              ['real', b],
            ];
      for (const [side, batch] of order) {
        const r = await update(batch);
        const a = acc[side];
        a.ms += r.ms;
        a.cpu += r.cpuMs;
        a.tok += batch.tgtTokens;
        a.src += batch.size * batch.srcLen;
        a.tgt += batch.size * batch.tgtLen;
        a.fresh += r.fresh;
        log(
          `  ${side.padEnd(9)} ${`${batch.size}×(${batch.srcLen}, ${batch.tgtLen})`.padEnd(14)} ${(r.ms / 1000).toFixed(2)} s wall, ${(r.cpuMs / 1000).toFixed(2)} s CPU, ${batch.tgtTokens} target tokens, ${r.fresh} fresh outputs`,
        );
      }
    }
  } finally {
    dispose();
    train.close();
    prepared.cleanup();
  }
  const after = tf.memory().numTensors;
  if (after !== before) throw new Error(`mt-train-real bench: ${after - before} tensors leaked`);
  const side = (a: typeof acc.real): MtTrainRealSide => ({
    tokensPerSec: a.tok / (a.ms / 1000),
    tokensPerCpuSec: a.tok / (a.cpu / 1000),
    meanTargetTokens: a.tok / pairs,
    meanSrcPositions: a.src / pairs,
    meanTgtPositions: a.tgt / pairs,
    freshAllocationsPerUpdate: a.fresh / pairs,
  });
  const real = side(acc.real);
  const syn = side(acc.synthetic);
  return {
    config: CONFIG,
    data: opts.data ?? 'Multi30k En-De from ../shared/data/multi30k, prepared by the bench',
    trainPairs: train.size,
    skipped: batcher.skipped,
    batchesPerEpoch: n,
    threads: opts.threads,
    pairs,
    real,
    synthetic: syn,
    mtTrainRealVsSynthetic: real.tokensPerSec / syn.tokensPerSec,
    mtTrainRealVsSyntheticCpu: real.tokensPerCpuSec / syn.tokensPerCpuSec,
  };
}

/** The report lines of a result. */
export function formatMtTrainReal(r: MtTrainRealResult): string[] {
  const row = (name: string, s: MtTrainRealSide) =>
    `${name.padEnd(10)} ${s.tokensPerSec.toFixed(0).padStart(10)} ${s.tokensPerCpuSec.toFixed(0).padStart(12)} ${s.meanTargetTokens.toFixed(0).padStart(10)} ${`${s.meanSrcPositions.toFixed(0)} / ${s.meanTgtPositions.toFixed(0)}`.padStart(16)} ${s.freshAllocationsPerUpdate.toFixed(1).padStart(8)}`;
  return [
    `## translation training on real Multi30k batches vs the synthetic batch (${r.config}, ${r.pairs} updates each, interleaved, ${r.threads} threads)`,
    `batches as \`resmlp mt train\` makes them: ${r.trainPairs} pairs, ${r.skipped} skipped, ${r.batchesPerEpoch} batches/epoch`,
    'batch      tok/s wall   tok/CPU-s   tgt tok   src / tgt pos   fresh',
    row('real', r.real),
    row('synthetic', r.synthetic),
    `mtTrainRealVsSynthetic ${r.mtTrainRealVsSynthetic.toFixed(3)} (wall; target ≥ 0.85), ${r.mtTrainRealVsSyntheticCpu.toFixed(3)} (CPU time)`,
  ];
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const arg = (k: string): string | undefined => {
    const i = process.argv.indexOf(k);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const r = await mtTrainRealBench({
    threads: Number(arg('--threads') ?? os.availableParallelism()),
    pairs: arg('--pairs') === undefined ? undefined : Number(arg('--pairs')),
    data: arg('--mt-data'),
    log: (s) => process.stderr.write(s + '\n'),
  });
  console.log(formatMtTrainReal(r).join('\n'));
  if (process.argv.includes('--json')) console.log(JSON.stringify(r));
}
