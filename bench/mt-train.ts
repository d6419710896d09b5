// Translation training throughput: the wall time of one full update of the seq2seq model of
// src/mt/model (arXiv 2105.03404 §2 "Sequence-to-sequence ResMLP", §3.6) as `resmlp mt train`
// runs it — MtTrainTask.loss (dropout reseeded per batch, label-smoothed CE ignoring padding)
// under tf.variableGrads, gradient-norm clipping, the schedule's learning rate and the config's
// optimizer from src/train/optim, i.e. the body of one update of src/train/loop.ts with
// updateFreq 1 — on a synthetic 4096-token batch (128 sentences × 31 tokens, + EOS / BOS = 32
// positions a side) built by the real TokenBatcher, on the `native` backend, for the model blocks
// of configs/mt/multi30k-en-de-small.json and configs/mt/wmt14-en-de-resmlp6.json.
// Reports target tokens/s, analytic matmul GFLOP/s, and that rate against raw cblas_sgemm
// measured in the same run (issue target for ResMLP-6: ≥ 0.5 of sgemm).
// Standalone: node --import tsx bench/mt-train.ts [--threads N] [--reps N]
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend, setThreads } from '../src/backend/choose.js';
import { nativeFallbacks } from '../src/backend/native.js';
import { rawSgemmOpenblasThreads } from './matmul.js';
import { arrayPairSource, TokenBatcher, type Batch } from '../src/mt/data/batching.js';
import type { Seq2SeqConfig } from '../src/mt/model/config.js';
import { Seq2Seq } from '../src/mt/model/seq2seq.js';
import { type MtTrainConfig, resolveMtTrainConfig } from '../src/mt/train/config.js';
import { MtTrainTask } from '../src/mt/train/task.js';
import { clipGradNorm, createOptimizer } from '../src/train/optim/index.js';
import { learningRate } from '../src/train/schedule.js';
import { Rng } from '../src/util/rng.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));

/** The benchmarked configs: [row name, config file under the repo]. */
export const MT_TRAIN_CONFIGS: [string, string][] = [
  ['multi30k-small', 'configs/mt/multi30k-en-de-small.json'],
  ['wmt14-resmlp6', 'configs/mt/wmt14-en-de-resmlp6.json'],
];

/** Batch shape: 128 sentences × 31 tokens; + EOS (source) / BOS (target in) = 32 positions → 4096 tokens. */
export const MT_TRAIN_BATCH = { sentences: 128, tokens: 31, seed: 2105_03404 } as const;

/** Special ids of src/mt/data (pad 0, unk 1, bos 2, eos 3); synthetic ids avoid them. */
const IDS = { padId: 0, unkId: 1, bosId: 2, eosId: 3 };
const FIRST_ID = 4;

export interface MtTrainRow {
  config: string;
  params: number;
  /** Non-pad target tokens in the batch (the loss normaliser, what the loop counts). */
  batchTargetTokens: number;
  /** Median wall time of one update (ms). */
  stepMs: number;
  tokensPerSec: number;
  /** Analytic matmul FLOPs of forward + backward (see modelFlopsPerStep), in GFLOP. */
  modelGflopPerStep: number;
  modelGflops: number;
}

export interface MtTrainResult {
  rows: MtTrainRow[];
  mtTrainTokensPerSecSmall: number;
  mtTrainTokensPerSecResmlp6: number;
  sgemmGflops: number;
  mtTrainFlopsVsSgemm: number;
}

/**
 * Matmul FLOPs of one training step (forward × 3: backward costs two matmuls per forward matmul,
 * dX and dW), counting 2·M·N·K per matmul product. B sentences, S source and T target positions,
 * d model width, h MLP hidden, V vocabulary, E/D encoder/decoder layers (arch 'resmlp'):
 *   encoder layer:  cross-token A·X per sentence (S×S)·(S×d)      2·B·S·S·d
 *                   channel MLP d→h→d                             2·2·B·S·d·h
 *   decoder layer:  cross-token (T×T)·(T×d), dense (the causal    2·B·T·T·d
 *                   mask is a zeroed triangle, the kernel does the full product)
 *                   cross-attn q_proj, out_proj on T positions    2·2·B·T·d·d
 *                   cross-attn k_proj, v_proj on S positions      2·2·B·S·d·d
 *                   scores Q·Kᵀ and P·V over all heads            2·2·B·T·S·d
 *                   channel MLP                                   2·2·B·T·d·h
 *   output projection (tied embedding) over the vocabulary        2·B·T·d·V
 * forward = E·enc + D·dec + out; step = 3·forward. Not counted: the embedding gather and its
 * scatter-add gradient, the encoder's (B·S×1)·(1×d) padding-mask broadcast matmul (2·B·S·d, <0.01%),
 * and all elementwise work (norms, softmaxes, loss, optimizer): they cost time but are not matmul FLOPs.
 */
export function modelFlopsPerStep(
  m: Pick<Seq2SeqConfig, 'dim' | 'mlpHidden' | 'encoderLayers' | 'decoderLayers' | 'vocabSize'>,
  B: number,
  S: number,
  T: number,
): number {
  const d = m.dim,
    h = m.mlpHidden,
    V = m.vocabSize;
  const enc = 2 * B * S * S * d + 4 * B * S * d * h;
  const dec = 2 * B * T * T * d + 4 * B * T * d * d + 4 * B * S * d * d + 4 * B * T * S * d + 4 * B * T * d * h;
  const out = 2 * B * T * d * V;
  return 3 * (m.encoderLayers * enc + m.decoderLayers * dec + out);
}

/** The native backend's output-pool counters (src/backend/native.ts NativeBackend.poolStats). */
export function poolStats(): { reused: number; allocated: number } {
  return (tf.backend() as unknown as { poolStats: { reused: number; allocated: number } }).poolStats;
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Synthetic parallel data: `sentences` pairs of `tokens` ids uniform in [4, V), seeded. */
export function syntheticPairs(vocab: number): { src: Int32Array[]; tgt: Int32Array[] } {
  const rng = new Rng(MT_TRAIN_BATCH.seed);
  const sent = (): Int32Array => {
    const a = new Int32Array(MT_TRAIN_BATCH.tokens);
    for (let i = 0; i < a.length; i++) a[i] = FIRST_ID + Math.min(vocab - FIRST_ID - 1, Math.floor(rng.uniform() * (vocab - FIRST_ID)));
    return a;
  };
  const src: Int32Array[] = [],
    tgt: Int32Array[] = [];
  for (let i = 0; i < MT_TRAIN_BATCH.sentences; i++) {
    src.push(sent());
    tgt.push(sent());
  }
  return { src, tgt };
}

/**
 * The model, task and optimizer that `resmlp mt train` builds from `cfg`, and one update exactly as
 * src/train/loop.ts does it with updateFreq 1 (its loss returned); `label` starts its errors.
 * dispose() frees the optimizer and the model.
 */
export function mtTrainer(cfg: MtTrainConfig, modelConfig: Seq2SeqConfig, batcher: TokenBatcher, label: string) {
  const model = new Seq2Seq(modelConfig);
  const task = new MtTrainTask(model, batcher, { seed: cfg.seed, labelSmoothing: cfg.labelSmoothing, modelConfig });
  const tr = cfg.trainer;
  const optimizer = createOptimizer(tr.optimizer, task.params, tr);
  const schedule = { ...tr.schedule, totalSteps: Math.max(tr.schedule.totalSteps, 1000) };
  const vars = [...task.params.values()];
  const names = [...task.params.keys()];
  let updates = 0;
  const update = async (batch: Batch): Promise<number> => {
    const { value, grads } = tf.variableGrads(() => task.loss(batch), vars);
    const loss = (await value.data())[0]!;
    value.dispose();
    const gradMap = new Map<string, tf.Tensor>();
    vars.forEach((v, i) => gradMap.set(names[i]!, grads[v.name]!));
    if (!Number.isFinite(loss)) {
      for (const g of gradMap.values()) g.dispose();
      throw new Error(`${label}: loss is ${loss} at update ${updates}`);
    }
    clipGradNorm(gradMap, tr.clipNorm);
    optimizer.step(gradMap, learningRate(schedule, updates));
    for (const g of gradMap.values()) g.dispose();
    updates++;
    return loss;
  };
  const dispose = () => {
    optimizer.dispose();
    model.dispose();
  };
  return { model, task, update, dispose };
}

async function benchConfig(name: string, file: string, reps: number, log: (s: string) => void): Promise<MtTrainRow> {
  const cfg = resolveMtTrainConfig(JSON.parse(readFileSync(join(REPO, file), 'utf8')));
  if (cfg.data.vocabSize === null) throw new Error(`mt-train bench: ${file} has no data.vocabSize; the bench needs it to size the model`);
  const modelConfig: Seq2SeqConfig = { ...cfg.model, vocabSize: cfg.data.vocabSize, ...IDS };
  const { src, tgt } = syntheticPairs(modelConfig.vocabSize);
  const batcher = new TokenBatcher(arrayPairSource(src, tgt), IDS, {
    maxTokens: MT_TRAIN_BATCH.sentences * (MT_TRAIN_BATCH.tokens + 1),
    maxLen: modelConfig.maxLen,
    seed: cfg.seed,
    shuffle: true,
  });
  if (batcher.numBatches(0) !== 1)
    throw new Error(`mt-train bench: expected the synthetic pairs to make 1 batch, the batcher made ${batcher.numBatches(0)}`);
  const batch = batcher.batch(0, 0);
  const { model, task, update, dispose } = mtTrainer(cfg, modelConfig, batcher, `mt-train bench: ${name}`);
  const tr = cfg.trainer;

  const params = model.numParameters();
  const flops = modelFlopsPerStep(modelConfig, batch.size, batch.srcLen, batch.tgtLen);
  log(
    `${name}: ${params.toLocaleString('en-US')} parameters, batch ${batch.size}×(${batch.srcLen} src, ${batch.tgtLen} tgt), ${batch.tgtTokens} target tokens, optimizer ${tr.optimizer}, clipNorm ${tr.clipNorm}, ${(flops / 1e9).toFixed(1)} GFLOP/step`,
  );
  try {
    task.setTraining(true);
    nativeFallbacks(true);
    const pool0 = { ...poolStats() };
    const times: number[] = [];
    for (let i = 0; i < 2 + reps; i++) {
      const t0 = performance.now();
      const loss = await update(batch);
      const ms = performance.now() - t0;
      if (i >= 2) times.push(ms);
      log(
        `  ${i < 2 ? 'warmup' : 'timed '} update ${i + 1}: ${(ms / 1000).toFixed(2)} s, loss ${loss.toFixed(3)}${ms > 60_000 ? ' (over 60 s per step)' : ''}`,
      );
    }
    const ps = poolStats();
    log(
      `  large outputs over all ${2 + reps} updates: ${ps.reused - pool0.reused} reused from the pool, ${ps.allocated - pool0.allocated} freshly allocated`,
    );
    const fb = [...nativeFallbacks()].map(([k, n]) => `${k} ${n}`).join(', ');
    log(`  kernels that ran the cpu backend's JS instead of native code, over these updates: ${fb || 'none'}`);
    const stepMs = median(times);
    return {
      config: name,
      params,
      batchTargetTokens: batch.tgtTokens,
      stepMs,
      tokensPerSec: batch.tgtTokens / (stepMs / 1000),
      modelGflopPerStep: flops / 1e9,
      modelGflops: flops / 1e9 / (stepMs / 1000),
    };
  } finally {
    dispose();
  }
}

export async function mtTrainBench(opts: { threads: number; reps: number; log?: (s: string) => void }): Promise<MtTrainResult> {
  const log = opts.log ?? (() => {});
  await setThreads(opts.threads);
  await initBackend('native');
  const before = tf.memory().numTensors;
  const rows: MtTrainRow[] = [];
  for (const [name, file] of MT_TRAIN_CONFIGS) rows.push(await benchConfig(name, file, opts.reps, log));
  const after = tf.memory().numTensors;
  if (after !== before) throw new Error(`mt-train bench: ${after - before} tensors leaked (${before} before, ${after} after)`);
  // Raw OpenBLAS (its own threads) on the ResMLP-6 channel-MLP shape (4096 tokens × 2048 hidden × 512 width).
  const sgemmGflops = await rawSgemmOpenblasThreads(4096, 2048, 512, 1, Math.max(5, opts.reps * 3));
  log(`raw cblas_sgemm 4096×512×2048: ${sgemmGflops.toFixed(1)} GFLOP/s`);
  const small = rows.find((r) => r.config === 'multi30k-small')!;
  const big = rows.find((r) => r.config === 'wmt14-resmlp6')!;
  return {
    rows,
    mtTrainTokensPerSecSmall: small.tokensPerSec,
    mtTrainTokensPerSecResmlp6: big.tokensPerSec,
    sgemmGflops,
    mtTrainFlopsVsSgemm: big.modelGflops / sgemmGflops,
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const arg = (k: string, d: number): number => {
    const i = process.argv.indexOf(k);
    return i >= 0 ? Number(process.argv[i + 1]) : d;
  };
  const threads = arg('--threads', os.availableParallelism());
  const reps = arg('--reps', 3);
  const r = await mtTrainBench({ threads, reps, log: (s) => process.stderr.write(s + '\n') });
  console.log(`threads ${threads}, ${reps} timed updates after 2 warmup (median)`);
  console.log('config            params        tgt tok   step s   tok/s    GFLOP/step   GFLOP/s');
  for (const x of r.rows) {
    console.log(
      `${x.config.padEnd(17)} ${x.params.toLocaleString('en-US').padStart(12)} ${String(x.batchTargetTokens).padStart(8)} ${(x.stepMs / 1000).toFixed(2).padStart(8)} ${x.tokensPerSec.toFixed(0).padStart(7)} ${x.modelGflopPerStep.toFixed(1).padStart(12)} ${x.modelGflops.toFixed(1).padStart(9)}`,
    );
  }
  console.log(
    `raw sgemm ${r.sgemmGflops.toFixed(1)} GFLOP/s; ResMLP-6 training at ${(r.mtTrainFlopsVsSgemm * 100).toFixed(1)}% of it (target ≥ 50%)`,
  );
}
