// Where a ResMLP training step spends its time, kernel by kernel, on a tfjs backend (default
// `native`): forward + backward of an embedding, ResMLP blocks (src/core), the tied output
// projection over an 8k vocabulary and the label-smoothed loss, at the sizes of the issue's
// PyTorch comparison (batch 32 × 32 tokens, d 256, hidden 1024). Uses tf.profile; kernel times are
// wall-clock per kernel call (a cpu-style backend runs kernels synchronously).
// Usage: node --import tsx bench/profile-kernels.ts [backend] [blocks]
import * as tf from '@tensorflow/tfjs';
import { fileURLToPath } from 'node:url';
import { initBackend } from '../src/backend/choose.js';
import { Embedding, ResBlock, labelSmoothedCrossEntropy } from '../src/core/index.js';
import { Rng } from '../src/util/rng.js';

export interface KernelRow {
  /** Kernel name and input shapes, e.g. `BatchMatMul [32,32,256][256,1024]`. */
  kernel: string;
  /** The kernel name alone. */
  name: string;
  calls: number;
  ms: number;
}

export interface ProfileResult {
  backend: string;
  stepMs: number;
  kernelMs: number;
  rows: KernelRow[];
}

/** Median wall time (ms) of `reps` calls of `step`, after `warmup` untimed calls. */
export function medianStepMs(step: () => void, warmup: number, reps: number): number {
  for (let i = 0; i < warmup; i++) step();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    step();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(reps / 2)]!;
}

/** Kernel time of one profiled call of `step`: in total, and per kernel and input shapes, largest first. */
export async function profileKernels(step: () => void): Promise<{ kernelMs: number; rows: KernelRow[] }> {
  const prof = await tf.profile(step);
  const agg = new Map<string, KernelRow>();
  let kernelMs = 0;
  const tfName = tf.getBackend();
  for (const k of prof.kernels) {
    // tf.profile also lists op and customGrad scopes (their kernels are listed too): keep kernels only
    if (tf.getKernel(k.name, tfName) === undefined) continue;
    const ms = Number(await k.kernelTimeMs);
    const key = `${k.name} ${k.inputShapes.map((s) => `[${s}]`).join('')}`;
    const row = agg.get(key) ?? { kernel: key, name: k.name, calls: 0, ms: 0 };
    row.calls++;
    row.ms += ms;
    agg.set(key, row);
    kernelMs += ms;
  }
  return { kernelMs, rows: [...agg.values()].sort((a, b) => b.ms - a.ms) };
}

export async function profileStep(backend = 'native', depth = 4, B = 32, N = 32, d = 256, V = 8000): Promise<ProfileResult> {
  await initBackend(backend);
  const rng = new Rng(0);
  const emb = new Embedding({ numEmbeddings: V, dim: d }, rng);
  const blocks = Array.from({ length: depth }, () => ResBlock.fromConfig({ dim: d, seqLen: N }, rng));
  const r = new Rng(1);
  const idsV = Int32Array.from({ length: B * N }, () => Math.floor(r.uniform() * V));
  const tgtV = Int32Array.from({ length: B * N }, () => Math.floor(r.uniform() * V));
  const ids = tf.tensor(idsV, [B, N], 'int32');
  const targets = tf.tensor(tgtV, [B, N], 'int32');
  const step = () =>
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => {
        let h = emb.forward(ids) as tf.Tensor3D; // (B, N, d)
        for (const b of blocks) h = b.forward(h);
        const logits = emb.project(h); // (B, N, V)
        return labelSmoothedCrossEntropy(logits, targets, { epsilon: 0.1 });
      });
      value.dataSync();
      for (const g of Object.values(grads)) g.dataSync();
    });
  const stepMs = medianStepMs(step, 1, 3);
  const { kernelMs, rows } = await profileKernels(step);
  tf.dispose([ids, targets]);
  return { backend, stepMs, kernelMs, rows };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const res = await profileStep(process.argv[2] ?? 'native', Number(process.argv[3] ?? 4));
  console.log(
    `backend ${res.backend}: step ${res.stepMs.toFixed(1)} ms (median of 3), kernels ${res.kernelMs.toFixed(1)} ms in the profiled step`,
  );
  for (const r of res.rows.slice(0, 40)) console.log(`${r.ms.toFixed(2).padStart(9)} ms ${String(r.calls).padStart(4)}×  ${r.kernel}`);
}
