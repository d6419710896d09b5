// The int8 linear kernel (native/src/int8.cc through src/backend/native/kernels-int8.ts) against
// float references on random data: within the bound per-row activation quantisation allows of the
// product with the dequantised weights, close to the fp32 product, edge sizes (1×1×1, K not a
// multiple of 4, row counts around the kernel's row blocks, an 8k vocabulary), weight rows and
// input rows of very different scales, all-zero rows; the GELU and log-softmax epilogues; rows
// independent of their batch (bit for bit); and the errors it gives. Skipped, saying why, where
// int8 does not run (test/quant/fallback.test.ts covers that machine).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { int8Linear, int8Support, packInt8Weight, setNativeThreads, getNativeThreads } from '../../../src/backend/native.js';
import { dequantizeRows, quantizeRows } from '../../../src/quant/quantize.js';
import { Rng } from '../../../src/util/rng.js';
import { useTestBackend } from '../../helpers/backend.js';

const support = int8Support();
const skip = support.available ? false : `int8 unavailable here: ${support.reason}`;

before(async () => {
  assert.equal(await useTestBackend(), 'native');
});

/** Values ~ N(0, 1)·scale(row) (scale per row when given). */
function randn(rng: Rng, rows: number, cols: number, rowScale: (r: number) => number = () => 1): Float32Array {
  const a = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) a[r * cols + c] = rng.normal() * rowScale(r);
  return a;
}

interface Case {
  M: number;
  K: number;
  N: number;
  x: Float32Array;
  w: Float32Array;
  bias: Float32Array | null;
}

function makeCase(
  seed: number,
  M: number,
  K: number,
  N: number,
  opts: { xScale?: (r: number) => number; wScale?: (r: number) => number; bias?: boolean } = {},
): Case {
  const rng = new Rng(seed);
  return {
    M,
    K,
    N,
    x: randn(rng, M, K, opts.xScale),
    w: randn(rng, N, K, opts.wScale),
    bias: opts.bias === false ? null : randn(rng, 1, N),
  };
}

/** The kernel's output for a case (epilogue None unless given). */
function run(c: Case, epilogue: 'None' | 'Gelu' | 'LogSoftmax' = 'None'): Float32Array {
  const q = quantizeRows(c.w, c.N, c.K);
  const packed = packInt8Weight(q.q, q.scales, c.N, c.K);
  try {
    return tf
      .tidy(() => {
        const x = tf.tensor2d(c.x, [c.M, c.K]);
        const b = c.bias ? tf.tensor1d(c.bias) : null;
        return int8Linear(x, packed, b, epilogue);
      })
      .dataSync() as Float32Array;
  } finally {
    packed.release();
  }
}

/**
 * Checks y against the float64 product of the input with the dequantised weights: each output may
 * differ by at most what rounding each input to its row's u8 grid moves it, (s_a/2)·Σ_k|ŵ[n,k]|
 * (s_a = the row's range / 255), plus float32 rounding.
 */
function checkAgainstDequantised(c: Case, y: Float32Array): void {
  const wq = dequantizeRows(quantizeRows(c.w, c.N, c.K));
  for (let m = 0; m < c.M; m++) {
    let mn = 0;
    let mx = 0;
    for (let k = 0; k < c.K; k++) {
      mn = Math.min(mn, c.x[m * c.K + k]!);
      mx = Math.max(mx, c.x[m * c.K + k]!);
    }
    const sa = (mx - mn) / 255;
    for (let n = 0; n < c.N; n++) {
      let ref = c.bias ? c.bias[n]! : 0;
      let l1 = 0;
      for (let k = 0; k < c.K; k++) {
        ref += c.x[m * c.K + k]! * wq[n * c.K + k]!;
        l1 += Math.abs(wq[n * c.K + k]!);
      }
      const bound = 0.5 * sa * l1 * 1.001 + 1e-5 * (Math.abs(ref) + l1 * Math.max(mx, -mn)) + 1e-6;
      const got = y[m * c.N + n]!;
      assert.ok(
        Math.abs(got - ref) <= bound,
        `(${c.M}×${c.K}×${c.N}) y[${m}, ${n}] = ${got}, the dequantised product ${ref}: off by ${Math.abs(got - ref)}, bound ${bound}`,
      );
    }
  }
}

/** ‖y − x·wᵀ − b‖ / ‖x·wᵀ + b‖ over the whole output, in float64. */
function relativeError(c: Case, y: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let m = 0; m < c.M; m++) {
    for (let n = 0; n < c.N; n++) {
      let ref = c.bias ? c.bias[n]! : 0;
      for (let k = 0; k < c.K; k++) ref += c.x[m * c.K + k]! * c.w[n * c.K + k]!;
      num += (y[m * c.N + n]! - ref) ** 2;
      den += ref ** 2;
    }
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
}

test('int8 linear: within the quantisation bound of the dequantised product, and near fp32, on edge sizes', { skip }, () => {
  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [1, 3, 5],
    [2, 4, 16],
    [7, 17, 33],
    [9, 255, 17],
    [64, 256, 1024],
    [513, 64, 130],
    [300, 1024, 256],
    [3, 256, 8000],
  ];
  shapes.forEach(([M, K, N], i) => {
    const c = makeCase(100 + i, M, K, N);
    const y = run(c);
    assert.equal(y.length, M * N);
    checkAgainstDequantised(c, y);
    if (K >= 64) assert.ok(relativeError(c, y) < 0.02, `${M}×${K}×${N}: relative error ${relativeError(c, y)} vs fp32`);
  });
});

test('int8 linear: weight rows and input rows of very different scales, all-zero rows, no bias', { skip }, () => {
  const scales = [1e-3, 1, 1e3, 0, 5e-2, 40];
  const c = makeCase(7, 12, 96, 24, {
    xScale: (r) => scales[r % scales.length]!,
    wScale: (r) => scales[(r + 1) % scales.length]!,
    bias: false,
  });
  // a constant row and an all-negative one
  c.x.fill(2.5, 0, 96);
  for (let k = 0; k < 96; k++) c.x[96 + k] = -Math.abs(c.x[96 + k]!) - 0.1;
  const y = run(c);
  checkAgainstDequantised(c, y);
  // an all-zero weight row (scale 1, q 0) gives exactly 0 without a bias; an all-zero input row too
  for (let m = 0; m < 12; m++) assert.equal(y[m * 24 + 2], 0, `row ${m}, column 2 (zero weights)`);
  for (let n = 0; n < 24; n++) assert.equal(y[3 * 24 + n], 0, `row 3 (zero inputs), column ${n}`);
});

/** Exact GELU in float64: x·Φ(x), Φ from erfc (Numerical Recipes' erfcc, fractional error < 1.2e-7). */
function gelu(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  const erfc =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  const phi = x >= 0 ? 1 - 0.5 * erfc : 0.5 * erfc;
  return x * phi;
}

test('int8 linear: the GELU and log-softmax epilogues equal the functions applied to its plain output', { skip }, () => {
  for (const [M, K, N] of [
    [5, 64, 200],
    [130, 256, 8000],
  ] as const) {
    const c = makeCase(M, M, K, N);
    const plain = run(c);
    const g = run(c, 'Gelu');
    for (let i = 0; i < plain.length; i++)
      assert.ok(Math.abs(g[i]! - gelu(plain[i]!)) <= 1e-5 * (1 + Math.abs(plain[i]!)), `gelu at ${i}: ${g[i]} vs ${gelu(plain[i]!)}`);
    const ls = run(c, 'LogSoftmax');
    for (let m = 0; m < M; m++) {
      let max = -Infinity;
      for (let n = 0; n < N; n++) max = Math.max(max, plain[m * N + n]!);
      let se = 0;
      for (let n = 0; n < N; n++) se += Math.exp(plain[m * N + n]! - max);
      const lse = max + Math.log(se);
      for (let n = 0; n < N; n++)
        assert.ok(Math.abs(ls[m * N + n]! - (plain[m * N + n]! - lse)) <= 1e-4 * (1 + Math.abs(lse)), `log-softmax at (${m}, ${n})`);
    }
  }
});

test('int8 linear: a row gives the same bits in any batch and on any thread count (row blocks are independent)', { skip }, () => {
  const c = makeCase(11, 517, 256, 1024);
  const all = run(c);
  const saved = getNativeThreads();
  try {
    setNativeThreads(1);
    assert.deepEqual(run(c), all, 'one thread');
  } finally {
    setNativeThreads(saved);
  }
  for (const m of [0, 255, 256, 516]) {
    const one = run({ ...c, M: 1, x: c.x.slice(m * 256, (m + 1) * 256) });
    assert.deepEqual(one, all.slice(m * 1024, (m + 1) * 1024), `row ${m} alone`);
  }
});

test('int8 linear: errors name what is wrong', { skip }, () => {
  const q = quantizeRows(new Float32Array(6).fill(1), 2, 3);
  assert.throws(() => packInt8Weight(q.q, q.scales, 3, 3), /int8Pack: expected 9 weights and 3 scales, found 6 and 2/);
  const packed = packInt8Weight(q.q, q.scales, 2, 3);
  const x = tf.ones([4, 5]);
  assert.throws(() => int8Linear(x, packed, null), /input last dim 5 does not match the weight \(2, 3\)/);
  packed.release();
  packed.release(); // idempotent
  assert.throws(() => int8Linear(tf.ones([4, 3]), packed, null), /int8Linear: the weight was released/);
  x.dispose();
});
