// Matmul throughput through tfjs on the `native` backend (tf.matMul as a user calls it) against
// raw OpenBLAS cblas_sgemm called in a C loop by the addon, on the same shapes.
// Target (issue): native ≥ 90% of raw for every shape. Median of several reps each.
// Standalone: node --import tsx bench/matmul.ts
import * as tf from '@tensorflow/tfjs';
import { fileURLToPath } from 'node:url';
import { initBackend } from '../src/backend/choose.js';
import { nativeAddon } from '../src/backend/native.js';

export interface MatmulRow {
  shape: string;
  nativeGflops: number;
  rawGflops: number;
  ratio: number;
}

/** [batch, M, K, N] */
export const MATMUL_SHAPES: [number, number, number, number][] = [
  [1, 256, 256, 256],
  [1, 512, 512, 512],
  [1, 1024, 1024, 1024],
  [1, 1024, 512, 2048],
  [64, 32, 64, 32],
];

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function repsFor(flops: number): number {
  return Math.max(5, Math.min(1000, Math.round(6e9 / flops)));
}

/**
 * Calls f until V8 has compiled the tfjs dispatch path (200 calls, or 0.5 s, at least 3): the
 * raw C loop needs no warm-up, and a training run calls the same kernels millions of times, so
 * the steady state is what compares. With one warm-up call the first ~50 calls of a small
 * batched product ran tfjs's JS in the interpreter (~50 µs a call instead of ~8).
 */
function warmUp(f: () => void): void {
  const t0 = performance.now();
  for (let i = 0; i < 200 && (i < 3 || performance.now() - t0 < 500); i++) f();
}

/** The timed product is the real one: one output element against a dot product in JS. */
function check(c: tf.Tensor, a: tf.Tensor, b: tf.Tensor): void {
  const [K, N] = b.shape.slice(-2) as [number, number];
  const av = a.dataSync(),
    bv = b.dataSync(),
    cv = c.dataSync();
  const i = 1,
    j = 2; // row 1, column 2 of the first batch
  let dot = 0;
  for (let k = 0; k < K; k++) dot += av[i * K + k]! * bv[k * N + j]!;
  if (Math.abs(dot - cv[i * N + j]!) > 1e-3 * (1 + Math.abs(dot)))
    throw new Error(`matmul bench: c[1,2] = ${cv[i * N + j]} but the dot product is ${dot}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs f with OpenBLAS threading each product itself, as a user calling cblas_sgemm gets, and
 * restores the backend's own split afterwards. Waits 300 ms first, so that workers still spinning
 * after earlier kernels do not take a core from it.
 */
async function withOpenblasThreads<T>(f: () => T): Promise<T> {
  const addon = nativeAddon();
  addon.setMatmulSplit(false);
  try {
    await sleep(300);
    return f();
  } finally {
    addon.setMatmulSplit(true);
  }
}

/** Raw cblas_sgemm GFLOP/s (median of reps) with OpenBLAS's own threads. */
export function rawSgemmOpenblasThreads(M: number, N: number, K: number, batch: number, reps: number): Promise<number> {
  return withOpenblasThreads(() => nativeAddon().rawSgemmGflops(M, N, K, batch, reps));
}

/**
 * Native and raw alternate in small blocks, PAIRS times per shape: a block of tf.matMul calls on
 * the native backend, then a block of the same products as raw cblas_sgemm calls. The ratio is
 * the median over pairs of (native block median ÷ raw block median), so a drift of the machine's
 * speed (turbo, neighbours on a shared host: raw 1024³ alone moved from 127 to 166 GFLOP/s within
 * one run on an AMD EPYC VM) hits both sides of each pair alike; with whole phases of each (the
 * previous design) the smallest ratio ranged 0.62–0.91 over five runs there. The two use
 * different threads: native splits each product over our OpenMP threads with OpenBLAS on one
 * thread (the backend's default), raw is OpenBLAS threading each product itself
 * (setMatmulSplit(false)), as a user calling cblas_sgemm gets. With OpenBLAS's OpenMP build both
 * run on the same OpenMP pool, so switching per block leaves no second set of workers spinning.
 */
const PAIRS = 21;

export async function matmulBench(): Promise<{ rows: MatmulRow[]; minRatio: number }> {
  await initBackend('native');
  const addon = nativeAddon();
  const cases = MATMUL_SHAPES.map(([batch, M, K, N]) => {
    const flops = 2 * batch * M * N * K;
    const a = batch === 1 ? tf.randomNormal([M, K]) : tf.randomNormal([batch, M, K]);
    const b = batch === 1 ? tf.randomNormal([K, N]) : tf.randomNormal([batch, K, N]);
    const block = Math.max(1, Math.ceil(repsFor(flops) / PAIRS));
    return { batch, M, K, N, flops, a, b, block, nat: [] as number[], raw: [] as number[], ratios: [] as number[] };
  });
  try {
    for (const c of cases) {
      warmUp(() => tf.matMul(c.a, c.b).dispose());
      const y = tf.matMul(c.a, c.b);
      check(y, c.a, c.b);
      y.dispose();
    }
    await sleep(300);
    for (const c of cases) {
      for (let p = 0; p < PAIRS; p++) {
        const nat: number[] = [];
        for (let r = 0; r < c.block; r++) {
          // The native backend runs kernels synchronously: when tf.matMul returns, the product is
          // in its output array (no dataSync needed, and none is timed: reading it out would also
          // stop the backend from recycling the array, which a training step does not do either).
          const t0 = process.hrtime.bigint();
          const y = tf.matMul(c.a, c.b);
          const s = Number(process.hrtime.bigint() - t0) / 1e9;
          y.dispose();
          nat.push(c.flops / s / 1e9);
        }
        addon.setMatmulSplit(false);
        let raw: number;
        try {
          raw = addon.rawSgemmGflops(c.M, c.N, c.K, c.batch, c.block);
        } finally {
          addon.setMatmulSplit(true);
        }
        c.nat.push(...nat);
        c.raw.push(raw);
        c.ratios.push(median(nat) / raw);
      }
    }
  } finally {
    for (const c of cases) tf.dispose([c.a, c.b]);
  }
  const rows = cases.map((c) => {
    const shape = c.batch === 1 ? `${c.M}x${c.K}x${c.N}` : `${c.batch}x(${c.M}x${c.K}x${c.N})`;
    return { shape, nativeGflops: median(c.nat), rawGflops: median(c.raw), ratio: median(c.ratios) };
  });
  return { rows, minRatio: Math.min(...rows.map((r) => r.ratio)) };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { rows, minRatio } = await matmulBench();
  console.log('shape (MxKxN)            native GFLOP/s   raw sgemm GFLOP/s   ratio');
  for (const r of rows) {
    console.log(
      `${r.shape.padEnd(24)} ${r.nativeGflops.toFixed(1).padStart(14)} ${r.rawGflops.toFixed(1).padStart(19)} ${r.ratio.toFixed(2).padStart(7)}`,
    );
  }
  console.log(`min ratio ${minRatio.toFixed(2)} (target ≥ 0.90)`);
}
