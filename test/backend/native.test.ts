// Parity of every native kernel (src/backend/native/, native/src/) with the JS cpu
// backend on random inputs: broadcasting, transposes, batch dims and batch broadcast, empty and
// size-1 dims; gradients through matmul, gather and broadcast elementwise ops; no tensor leaks.
// Tolerance: |native − cpu| ≤ 1e-5·|cpu| + atol, with atol = 1e-6 for elementwise results (values
// near 0 have no meaningful relative error) and 1e-5·max|cpu| for sums of products (matmul,
// reductions), whose float32 rounding is relative to the terms, not to the result.
// The addon is required: if it is not built these tests fail (with the build's reason).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { nativeAddon, nativeAvailable, nativeKernelNames, registerNativeBackend } from '../../src/backend/native.js';
import { addScaled, dropout, FUSED_KERNELS, gelu, logSoftmax, scaleShift, smoothedCrossEntropyRows } from '../../src/backend/fused.js';
import { mulberry32 } from '../helpers/random.js';

before(() => {
  const ok = nativeAvailable();
  assert.ok(ok.ok, `native addon unavailable: ${ok.reason}`);
  registerNativeBackend();
});

// ---- helpers ----
function randArray(n: number, seed: number, lo = -3, hi = 3): Float32Array {
  const r = mulberry32(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * r();
  return a;
}

function sizeOf(shape: number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}

type Out = { shape: number[]; dtype: string; values: Float32Array | Int32Array | Uint8Array };

/** Runs f on backend `name`; f builds its tensors from plain arrays and returns a tensor or tensors. */
async function on(name: string, f: () => tf.Tensor | tf.Tensor[]): Promise<Out[]> {
  await tf.setBackend(name);
  const before = tf.memory().numTensors;
  const outs = tf.tidy(() => {
    const r = f();
    return Array.isArray(r) ? r : [r];
  });
  const res = outs.map((t) => ({ shape: t.shape.slice(), dtype: t.dtype, values: t.dataSync() as Out['values'] }));
  tf.dispose(outs);
  assert.equal(tf.memory().numTensors, before, `tensors leaked on ${name}`);
  return res;
}

function assertClose(got: Out, want: Out, what: string, opts: { atol?: number; scaleAtol?: boolean } = {}): void {
  assert.deepEqual(got.shape, want.shape, `${what}: shape`);
  assert.equal(got.dtype, want.dtype, `${what}: dtype`);
  assert.equal(got.values.length, want.values.length, `${what}: length`);
  let maxAbs = 0;
  for (const v of want.values) if (Number.isFinite(v)) maxAbs = Math.max(maxAbs, Math.abs(v));
  const atol = opts.scaleAtol ? 1e-5 * Math.max(1, maxAbs) : (opts.atol ?? 1e-6);
  for (let i = 0; i < want.values.length; i++) {
    const g = got.values[i]!,
      w = want.values[i]!;
    if (Number.isNaN(w)) {
      assert.ok(Number.isNaN(g), `${what}[${i}]: expected NaN, found ${g}`);
      continue;
    }
    if (!Number.isFinite(w)) {
      assert.equal(g, w, `${what}[${i}]`);
      continue;
    }
    assert.ok(Math.abs(g - w) <= 1e-5 * Math.abs(w) + atol, `${what}[${i}]: native ${g} vs cpu ${w} (shape ${want.shape})`);
  }
}

async function parity(what: string, f: () => tf.Tensor | tf.Tensor[], opts: { atol?: number; scaleAtol?: boolean } = {}): Promise<void> {
  const want = await on('cpu', f);
  const got = await on('native', f);
  assert.equal(got.length, want.length);
  got.forEach((g, i) => assertClose(g, want[i]!, `${what}#${i}`, opts));
}

function T(shape: number[], seed: number, lo = -3, hi = 3): () => tf.Tensor {
  const v = randArray(sizeOf(shape), seed, lo, hi);
  return () => tf.tensor(v, shape, 'float32');
}

// ---- tests ----
test('the native backend overrides the hot kernels', () => {
  for (const k of [
    'BatchMatMul',
    '_FusedMatMul',
    'Add',
    'Sub',
    'Multiply',
    'RealDiv',
    'Exp',
    'Log',
    'Tanh',
    'Erf',
    'Sum',
    'Max',
    'Mean',
    'Softmax',
    'Transpose',
    'GatherV2',
    'UnsortedSegmentSum',
    'ScatterNd',
    'Select',
    'AddN',
    'Slice',
    'Concat',
    'PadV2',
    'Cast',
  ]) {
    assert.ok(nativeKernelNames().includes(k), `${k} has no native kernel`);
  }
  for (const k of Object.values(FUSED_KERNELS)) assert.ok(nativeKernelNames().includes(k), `fused kernel ${k} has no native kernel`);
  // every cpu kernel is available on native too
  const nat = new Set(tf.getKernelsForBackend('native').map((k) => k.kernelName));
  for (const k of tf.getKernelsForBackend('cpu')) assert.ok(nat.has(k.kernelName), `${k.kernelName} missing on native`);
});

const UNARY: [string, (x: tf.Tensor) => tf.Tensor, number, number][] = [
  ['exp', tf.exp, -20, 20],
  ['log', tf.log, 1e-3, 50],
  ['tanh', tf.tanh, -6, 6],
  ['sqrt', tf.sqrt, 0, 50],
  ['rsqrt', tf.rsqrt, 0.01, 50],
  ['square', tf.square, -5, 5],
  ['neg', tf.neg, -5, 5],
  ['relu', tf.relu, -5, 5],
  ['sigmoid', tf.sigmoid, -20, 20],
  ['abs', tf.abs, -5, 5],
  ['reciprocal', tf.reciprocal, 0.1, 5],
  ['elu', tf.elu, -5, 5],
  ['relu6', tf.relu6, -3, 9],
  ['softplus', tf.softplus, -20, 20],
  ['log1p', tf.log1p, -0.9, 5],
  ['step', (x) => tf.step(x, 0.3), -2, 2],
  ['leakyRelu', (x) => tf.leakyRelu(x, 0.1), -2, 2],
  ['floor', tf.floor, -5, 5],
  ['ceil', tf.ceil, -5, 5],
  ['sign', tf.sign, -5, 5],
  ['sin', tf.sin, -5, 5],
  ['cos', tf.cos, -5, 5],
];

test('unary kernels equal cpu (incl. empty, size-1 and multi-threaded sizes)', async () => {
  let seed = 1;
  for (const [name, f, lo, hi] of UNARY) {
    for (const shape of [[0], [1], [3, 5], [300, 129]]) {
      const x = T(shape, seed++, lo, hi);
      await parity(`${name}${JSON.stringify(shape)}`, () => f(x()));
    }
  }
});

test('tanh is accurate near 0 and saturates', async () => {
  const v = new Float32Array([0, 1e-8, -1e-4, 0.01, 0.0624, 0.0626, 0.5, -3, 10, -40, 90, NaN]);
  await parity('tanh', () => tf.tanh(tf.tensor(v)));
  await parity('exp', () => tf.exp(tf.tensor(new Float32Array([-100, -87, 0, 1e-7, 88, 89, NaN, -Infinity, Infinity]))));
});

// erf double-precision reference: Taylor series below 3, asymptotic erfc above.
function erfRef(x: number): number {
  const ax = Math.abs(x);
  let r: number;
  if (ax < 3) {
    let term = ax,
      sum = ax;
    for (let n = 1; n < 100; n++) {
      term *= (-ax * ax) / n;
      sum += term / (2 * n + 1);
    }
    r = (2 / Math.sqrt(Math.PI)) * sum;
  } else {
    const x2 = ax * ax;
    r = 1 - (Math.exp(-x2) / (ax * Math.sqrt(Math.PI))) * (1 - 1 / (2 * x2) + 3 / (4 * x2 * x2));
  }
  return x < 0 ? -r : r;
}

test('erf is accurate (std::erf, not the cpu backend approximation)', async () => {
  const v = randArray(5000, 7, -5, 5);
  v[0] = 0;
  v[1] = 1e-6;
  v[2] = -1e-3;
  const [got] = await on('native', () => tf.erf(tf.tensor(v)));
  for (let i = 0; i < v.length; i++) {
    const w = erfRef(v[i]!);
    assert.ok(Math.abs(got!.values[i]! - w) <= 1e-5 * Math.abs(w) + 1e-7, `erf(${v[i]}) = ${got!.values[i]} vs ${w}`);
  }
});

const BCAST: [number[], number[]][] = [
  [
    [3, 4],
    [3, 4],
  ],
  [[3, 4], []],
  [[], [3, 4]],
  [[2, 3, 4], [4]],
  [
    [64, 300],
    [64, 1],
  ],
  [
    [2, 1, 4],
    [1, 3, 1],
  ],
  [
    [5, 1],
    [1, 7],
  ],
  [[0, 3], [3]],
  [[1], [1]],
  [[256, 129], [129]],
  [
    [4, 130, 64],
    [130, 1],
  ],
  [
    [1, 6],
    [5, 1, 6],
  ],
  [
    [200, 200],
    [200, 200],
  ],
];

test('binary kernels with broadcasting equal cpu', async () => {
  const ops: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor, number, number][] = [
    ['add', tf.add, -3, 3],
    ['sub', tf.sub, -3, 3],
    ['mul', tf.mul, -3, 3],
    ['div', tf.div, 0.5, 3],
    ['maximum', tf.maximum, -3, 3],
    ['minimum', tf.minimum, -3, 3],
    ['pow', tf.pow, 0.5, 2],
    ['squaredDifference', tf.squaredDifference, -3, 3],
  ];
  let seed = 100;
  for (const [name, f, lo, hi] of ops) {
    for (const [sa, sb] of BCAST) {
      const a = T(sa, seed++, lo, hi),
        b = T(sb, seed++, lo, hi);
      await parity(`${name}${JSON.stringify(sa)}${JSON.stringify(sb)}`, () => f(a(), b()));
    }
  }
  const x = T([4, 6], 1),
    al = T([6], 2, 0, 1);
  await parity('prelu', () => tf.prelu(x(), al()));
});

test('reductions equal cpu (last, leading, middle, non-contiguous axes, keepDims)', async () => {
  const cases: [number[], number | number[]][] = [
    [[7, 9], 1],
    [[7, 9], 0],
    [
      [7, 9],
      [0, 1],
    ],
    [
      [2, 3, 4],
      [0, 2],
    ],
    [[2, 3, 4], 1],
    [[2, 3, 4], -1],
    [[300, 200], 0],
    [[300, 200], 1],
    [[1, 5], 0],
    [[5], 0],
    [[64, 8000], 1],
    [
      [2, 3, 4, 5],
      [1, 3],
    ],
    // many rows, few columns (bias gradients): sum/mean split the rows over threads
    [[3000, 130], 0],
    [[2, 1500, 100], 1],
    [
      [40, 50, 77],
      [0, 1],
    ],
  ];
  let seed = 300;
  for (const [shape, axis] of cases) {
    const x = T(shape, seed++),
      p = T(shape, seed++, 0.9, 1.1);
    for (const keep of [false, true]) {
      const w = `${JSON.stringify(shape)} axis ${JSON.stringify(axis)} keep ${keep}`;
      await parity(`sum ${w}`, () => tf.sum(x(), axis, keep), { scaleAtol: true });
      await parity(`mean ${w}`, () => tf.mean(x(), axis, keep), { scaleAtol: true });
      await parity(`max ${w}`, () => tf.max(x(), axis, keep));
      await parity(`min ${w}`, () => tf.min(x(), axis, keep));
      await parity(`prod ${w}`, () => tf.prod(p(), axis, keep), { scaleAtol: true });
    }
  }
});

test('softmax and fused logSoftmax (value and gradient) equal cpu', async () => {
  for (const shape of [
    [1, 1],
    [3, 7],
    [64, 8000],
    [2, 3, 50],
  ]) {
    const x = T(shape, 400 + shape[0]!, -10, 10),
      dy = T(shape, 500 + shape[0]!);
    await parity(`softmax ${shape}`, () => tf.softmax(x()));
    await parity(`logSoftmax ${shape}`, () => logSoftmax(x()));
    await parity(`tf.logSoftmax ${shape}`, () => tf.logSoftmax(x()));
    await parity(`logSoftmax grad ${shape}`, () => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(logSoftmax(t), dy())))(x()), {
      scaleAtol: true,
    });
  }
});

test('transpose equals cpu for 2-D, 3-D, 4-D, size-1 dims and int32/bool', async () => {
  const cases: [number[], number[]][] = [
    [
      [3, 4],
      [1, 0],
    ],
    [
      [2, 3, 4],
      [0, 2, 1],
    ],
    [
      [2, 3, 4],
      [1, 0, 2],
    ],
    [
      [2, 3, 4],
      [2, 1, 0],
    ],
    [
      [2, 3, 4, 5],
      [0, 2, 1, 3],
    ],
    [
      [1, 3, 1, 4],
      [3, 2, 1, 0],
    ],
    [
      [64, 65, 33],
      [0, 2, 1],
    ],
    [
      [130, 70],
      [1, 0],
    ],
    [
      [0, 3],
      [1, 0],
    ],
    [[5], [0]],
    [
      [2, 3, 4],
      [0, 1, 2],
    ],
    [
      [8, 33, 4, 16],
      [0, 2, 1, 3],
    ],
    [
      [3, 4, 5, 6],
      [3, 1, 0, 2],
    ],
  ];
  let seed = 600;
  for (const [shape, perm] of cases) {
    const x = T(shape, seed++);
    await parity(`transpose ${shape} ${perm}`, () => tf.transpose(x(), perm));
    await parity(`transpose int32 ${shape} ${perm}`, () => tf.transpose(tf.cast(tf.mul(x(), 100), 'int32'), perm));
    await parity(`transpose bool ${shape} ${perm}`, () => tf.transpose(tf.greater(x(), 0), perm));
  }
});

test('matmul equals cpu: transposes, batch dims, batch broadcast, empty and size-1 dims, fused bias+activation', async () => {
  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [3, 5, 7],
    [64, 33, 17],
    [0, 3, 4],
    [3, 0, 4],
    [3, 4, 0],
    [130, 70, 90],
  ];
  let seed = 700;
  for (const [M, K, N] of shapes) {
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        const a = T(ta ? [K, M] : [M, K], seed++),
          b = T(tb ? [N, K] : [K, N], seed++);
        await parity(`matmul ${M}x${K}x${N} ${ta} ${tb}`, () => tf.matMul(a(), b(), ta, tb), { scaleAtol: true });
      }
    }
  }
  const batched: [number[], number[], boolean, boolean][] = [
    [[2, 3, 5], [2, 5, 4], false, false],
    [[3, 5], [2, 5, 4], false, false],
    [[2, 3, 5], [5, 4], false, false],
    [[1, 3, 5], [4, 5, 6], false, false],
    [[4, 5, 3], [1, 6, 5], true, true],
    [[2, 3, 5], [4, 5], false, true],
    [[4, 6, 5], [1, 5, 3], false, false],
    [[64, 32, 64], [64, 64, 32], false, false],
    [[2, 3, 4, 5], [2, 3, 5, 2], false, false],
    [[8, 16, 32], [8, 16, 32], false, true],
  ];
  for (const [sa, sb, ta, tb] of batched) {
    const a = T(sa, seed++),
      b = T(sb, seed++);
    await parity(`batched ${sa} x ${sb}`, () => tf.matMul(a(), b(), ta, tb), { scaleAtol: true });
  }
  {
    // Two-sided batch broadcast: the cpu kernel indexes batches modulo their count (wrong here), so
    // compare with cpu on explicitly tiled inputs.
    const a = T([2, 1, 4, 5], seed++),
      b = T([1, 3, 5, 2], seed++);
    const want = await on('cpu', () => tf.matMul(tf.tile(a(), [1, 3, 1, 1]), tf.tile(b(), [2, 1, 1, 1])));
    const got = await on('native', () => tf.matMul(a(), b()));
    assertClose(got[0]!, want[0]!, 'two-sided batch broadcast', { scaleAtol: true });
  }
  for (const activation of ['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu'] as const) {
    const a = T([6, 5], seed++),
      b = T([5, 7], seed++),
      bias = T([7], seed++),
      bias2 = T([6, 7], seed++);
    await parity(`fused ${activation}`, () => tf.fused.matMul({ a: a(), b: b(), bias: bias(), activation }), { scaleAtol: true });
    await parity(`fused ${activation} full bias`, () => tf.fused.matMul({ a: a(), b: b(), bias: bias2(), activation }), {
      scaleAtol: true,
    });
    await parity(`fused ${activation} no bias`, () => tf.fused.matMul({ a: a(), b: b(), activation }), { scaleAtol: true });
  }
  const a = T([6, 5], 1),
    b = T([5, 7], 2),
    bias = T([7], 3),
    w = T([7], 4, 0, 1);
  await parity('fused prelu', () => tf.fused.matMul({ a: a(), b: b(), bias: bias(), activation: 'prelu', preluActivationWeights: w() }), {
    scaleAtol: true,
  });
  await parity(
    'fused grads',
    () =>
      tf.grads((x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) =>
        tf.sum(tf.fused.matMul({ a: x as tf.Tensor2D, b: y as tf.Tensor2D, bias: z, activation: 'relu' })),
      )([a(), b(), bias()]),
    { scaleAtol: true },
  );
});

test('matmul split over our threads equals OpenBLAS threading each product, and cpu', async () => {
  // batch split (batch a multiple of the threads), tiles along M or N (odd batches, one product),
  // transposes, broadcast batches; below 2^17 multiply-adds a call stays on one thread
  const addon = nativeAddon();
  const threads = addon.getThreads();
  addon.setThreads(2);
  try {
    const cases: [number[], number[], boolean, boolean][] = [
      [[4, 37, 70], [4, 70, 45], false, false],
      [[3, 70, 37], [3, 45, 70], true, true],
      [[1, 200, 64], [1, 64, 50], false, false],
      [[50, 64], [300, 64], false, true],
      [[64, 333], [64, 40], true, false],
      [[3, 1, 40, 50], [1, 2, 50, 60], false, false],
      [[5, 40, 64], [64, 48], false, false],
      [[64, 32, 64], [64, 64, 32], false, false],
      [[20, 33], [33, 17], false, false],
    ];
    let seed = 900;
    for (const [sa, sb, ta, tb] of cases) {
      const a = T(sa, seed++),
        b = T(sb, seed++);
      const f = () => tf.matMul(a(), b(), ta, tb);
      addon.setMatmulSplit(false);
      const blas = await on('native', f);
      addon.setMatmulSplit(true);
      const ours = await on('native', f);
      assertClose(ours[0]!, blas[0]!, `split vs OpenBLAS threads ${sa} x ${sb}`, { scaleAtol: true });
      if (sa.length !== 4) await parity(`split ${sa} x ${sb}`, f, { scaleAtol: true });
    }
  } finally {
    addon.setMatmulSplit(true);
    addon.setThreads(threads);
  }
});

test('large single products (OpenBLAS threads over our OpenMP pool) equal dot products; the OpenMP build is the one loaded', async () => {
  // Where Debian's OpenMP build is installed the addon must load it (rpath in binding.gyp): with
  // the pthreads build, large products stay with our split (a second pool of spinning workers).
  if (existsSync('/usr/lib/x86_64-linux-gnu/openblas-openmp/libopenblas.so.0')) assert.equal(nativeAddon().blasCore().threading, 'openmp');
  const addon = nativeAddon();
  const threads = addon.getThreads();
  addon.setThreads(2);
  try {
    // M·N·K = 2^29 (the threshold) and above, every transpose
    const cases: [number[], number[], boolean, boolean][] = [
      [[1024, 512], [512, 1024], false, false],
      [[512, 1024], [512, 1040], true, false],
      [[1030, 512], [1024, 512], false, true],
      [[512, 1024], [1024, 512], true, true],
    ];
    let seed = 950;
    for (const [sa, sb, ta, tb] of cases) {
      const a = T(sa, seed++, -1, 1),
        b = T(sb, seed++, -1, 1);
      const [ours] = await on('native', () => tf.matMul(a(), b(), ta, tb));
      addon.setMatmulSplit(false);
      const [blas] = await on('native', () => tf.matMul(a(), b(), ta, tb));
      addon.setMatmulSplit(true);
      assertClose(ours!, blas!, `large ${sa} x ${sb} vs OpenBLAS threads`, { scaleAtol: true });
      const at = a(),
        bt = b();
      const av = at.dataSync(),
        bv = bt.dataSync();
      tf.dispose([at, bt]);
      const K = ta ? sa[0]! : sa[1]!,
        M = ta ? sa[1]! : sa[0]!,
        N = tb ? sb[0]! : sb[1]!;
      const A = (i: number, k: number) => av[ta ? k * M + i : i * K + k]!,
        B = (k: number, j: number) => bv[tb ? j * K + k : k * N + j]!;
      for (let s = 0; s < 64; s++) {
        const i = (s * 397) % M,
          j = (s * 631 + 17) % N;
        let dot = 0;
        for (let k = 0; k < K; k++) dot += A(i, k) * B(k, j);
        assert.ok(
          Math.abs(ours!.values[i * N + j]! - dot) < 1e-3 * (1 + Math.abs(dot)),
          `large ${sa} x ${sb}: y[${i},${j}] = ${ours!.values[i * N + j]} but the dot product is ${dot}`,
        );
      }
    }
  } finally {
    addon.setMatmulSplit(true);
    addon.setThreads(threads);
  }
});

test('gather and unsorted segment sum equal cpu', async () => {
  const E = T([50, 8], 800);
  const idx = Int32Array.from({ length: 12 }, (_, i) => (i * 17) % 50);
  await parity('gather rows', () => tf.gather(E(), tf.tensor(idx, [3, 4], 'int32')));
  const X = T([3, 10, 4], 801);
  await parity('gather axis 1', () => tf.gather(X(), tf.tensor([9, 0, 3, 3], [4], 'int32'), 1));
  await parity('gather axis 2', () => tf.gather(X(), tf.tensor([1, 0], [2], 'int32'), 2));
  await parity('gather int32', () =>
    tf.gather(
      tf.tensor(
        Int32Array.from({ length: 20 }, (_, i) => i * 3),
        [10, 2],
        'int32',
      ),
      tf.tensor([2, 9], [2], 'int32'),
    ),
  );
  await parity('gather empty', () => tf.gather(E(), tf.tensor([], [0], 'int32')));
  const D = T([20, 6], 802);
  const ids = Int32Array.from({ length: 20 }, (_, i) => (i * 7) % 8);
  await parity('segment sum', () => tf.unsortedSegmentSum(D(), tf.tensor(ids, [20], 'int32'), 8));
  await parity('segment sum 1 col', () =>
    tf.unsortedSegmentSum(
      tf.reshape(D(), [120]),
      tf.tensor(
        Int32Array.from({ length: 120 }, (_, i) => i % 5),
        [120],
        'int32',
      ),
      5,
    ),
  );
  await assert.rejects(
    on('native', () => tf.gather(E(), tf.tensor([50], [1], 'int32'))),
    /not in \[0, 49\]/,
  );
  const U = T([30, 6], 803),
    U3 = T([30, 3], 804);
  const rowsIdx = Int32Array.from({ length: 30 }, (_, i) => (i * 11) % 9);
  await parity('scatterNd rows (embedding grad)', () => tf.scatterND(tf.tensor(rowsIdx, [30, 1], 'int32'), U(), [9, 6]));
  const pairs = Int32Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? (i * 5) % 4 : (i * 3) % 2));
  await parity('scatterNd 2-d index', () => tf.scatterND(tf.tensor(pairs, [30, 2], 'int32'), U3(), [4, 2, 3]));
  await assert.rejects(
    on('native', () => tf.scatterND(tf.tensor([9], [1, 1], 'int32'), tf.ones([1, 6]), [9, 6])),
    /Invalid indices/,
  );
});

test('slice (strided and contiguous), pad and concat equal cpu', async () => {
  const x = T([4, 6, 8], 1400);
  const cases: [number[], number[]][] = [
    [
      [0, 0, 0],
      [4, 6, 8],
    ],
    [
      [1, 2, 3],
      [2, 3, 4],
    ],
    [
      [0, 0, 0],
      [4, 6, 5],
    ],
    [
      [2, 0, 0],
      [1, 6, 8],
    ],
    [
      [0, 1, 0],
      [4, 1, 8],
    ],
    [
      [3, 5, 7],
      [1, 1, 1],
    ],
    [
      [0, 0, 2],
      [4, 6, 0],
    ],
    [
      [1, 0, 0],
      [2, 6, 8],
    ],
  ];
  for (const [b, sz] of cases) {
    await parity(`slice ${b} ${sz}`, () => tf.slice(x(), b, sz));
    await parity(`slice int32 ${b} ${sz}`, () => tf.slice(tf.cast(tf.mul(x(), 10), 'int32'), b, sz));
  }
  await parity('pad', () =>
    tf.pad(
      x(),
      [
        [1, 0],
        [0, 2],
        [3, 1],
      ],
      0.5,
    ),
  );
  await parity('pad 1-d', () => tf.pad(tf.reshape(x(), [192]), [[2, 3]]));
  await parity('pad int32', () =>
    tf.pad(tf.cast(tf.mul(x(), 10), 'int32'), [
      [0, 1],
      [1, 1],
      [0, 0],
    ]),
  );
  await parity('slice grad', () => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.slice(t, [1, 2, 3], [2, 3, 4]), 3)))(x()));
  const a = T([4, 2, 8], 1401),
    c = T([4, 3, 8], 1402),
    e = T([4, 0, 8], 1403);
  await parity('concat axis 1', () => tf.concat([a(), c(), e(), a()], 1));
  await parity('concat axis 0', () => tf.concat([x(), x()], 0));
  await parity('concat axis 2', () => tf.concat([x(), tf.slice(x(), [0, 0, 0], [4, 6, 3])], 2));
  await parity('concat one non-empty', () => tf.concat([e(), c()], 1));
});

test('select and addN equal cpu', async () => {
  const a = T([30, 7], 900),
    b = T([30, 7], 901),
    c = T([30, 7], 902);
  await parity('where', () => tf.where(tf.greater(c(), 0), a(), b()));
  await parity('addN', () => tf.addN([a(), b(), c()]));
  await parity('addN 1', () => tf.addN([a()]));
});

test('gradients through matmul, gather and broadcast elementwise equal cpu', async () => {
  const a = T([3, 16, 8], 1000),
    w = T([8, 12], 1001),
    bias = T([12], 1002),
    E = T([40, 8], 1003);
  const idx = Int32Array.from({ length: 48 }, (_, i) => (i * 13) % 40);
  const f = (x: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor, ee: tf.Tensor) => {
    const emb = tf.reshape(tf.gather(ee, tf.tensor(idx, [3, 16], 'int32')), [3, 16, 8]); // (B, N, d)
    const h = tf.reshape(tf.add(tf.matMul(tf.reshape(tf.add(x, emb), [48, 8]), ww), bb), [3, 16, 12]); // (B, N, 12)
    const g = gelu(h);
    const t = tf.transpose(g, [0, 2, 1]); // (B, 12, N)
    const ls = logSoftmax(t);
    return tf.sum(
      tf
        .mul(tf.sub(ls, tf.mean(ls, -1, true)), tf.exp(tf.neg(tf.square(tf.div(t, 4)))))
        .reshape([3, 12, 16])
        .transpose([0, 2, 1]),
    );
  };
  await parity('grads', () => tf.grads(f)([a(), w(), bias(), E()]), { scaleAtol: true });
});

test('native gelu and its gradient equal the composed cpu version', async () => {
  const x = T([257, 65], 1100, -6, 6);
  await parity('gelu', () => gelu(x()));
  await parity('gelu grad', () => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(gelu(t), t)))(x()));
});

test('fused scaleShift (Affine) and addScaled (LayerScale residual), values and gradients, equal the composed ops on cpu', async () => {
  for (const k of ['ResmlpScaleShift', 'ResmlpAddScaled', 'ResmlpChannelScaleGrad'])
    assert.ok(nativeKernelNames().includes(k), `${k} has no native kernel`);
  let seed = 1700;
  // empty, size-1, odd sizes, and a (16, 128, 192) activation whose gradient sums split rows over threads
  for (const shape of [
    [0, 4],
    [1, 1, 1],
    [3, 5, 7],
    [2, 130, 3],
    [16, 128, 192],
  ]) {
    const d = shape[shape.length - 1]!;
    for (const pShape of [[d], [1, 1, d]]) {
      const x = T(shape, seed++),
        h = T(shape, seed++),
        w = T(shape, seed++),
        a = T(pShape, seed++),
        b = T(pShape, seed++);
      await parity(`scaleShift ${shape} by [${pShape}]`, () => scaleShift(x(), a(), b()));
      await parity(`addScaled ${shape} by [${pShape}]`, () => addScaled(h(), x(), a()));
      // gradients w.r.t. every input, through a weighted sum (a loss with a non-trivial dy)
      await parity(
        `scaleShift grads ${shape}`,
        () => tf.grads((xs: tf.Tensor, as: tf.Tensor, bs: tf.Tensor) => tf.sum(tf.mul(scaleShift(xs, as, bs), w())))([x(), a(), b()]),
        { scaleAtol: true },
      );
      await parity(
        `addScaled grads ${shape}`,
        () => tf.grads((hs: tf.Tensor, xs: tf.Tensor, as: tf.Tensor) => tf.sum(tf.mul(addScaled(hs, xs, as), w())))([h(), x(), a()]),
        { scaleAtol: true },
      );
    }
  }
  await tf.setBackend('native');
  assert.throws(
    () => scaleShift(tf.zeros([2, 3]), tf.ones([4]), tf.zeros([3])),
    /scaleShift: expected float32 x \(\.\.\., d\) and a scale and shift of d values each, found \[2,3\], \[4\], \[3\]/,
  );
  assert.throws(() => addScaled(tf.zeros([2, 3]), tf.zeros([3, 2]), tf.ones([2])), /addScaled: expected float32 h and t of one shape/);
});

test('forward + backward on native leaks no tensors', async () => {
  await tf.setBackend('native');
  const w = tf.variable(tf.randomNormal([16, 32]));
  const b = tf.variable(tf.zeros([32]));
  const E = tf.variable(tf.randomNormal([50, 16]));
  const ids = tf.tensor(
    [
      [1, 2, 3],
      [4, 5, 49],
    ],
    [2, 3],
    'int32',
  );
  const step = () =>
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => {
        // tfjs's BatchMatMul gradient does not reduce a broadcast batch: multiply 2-D
        const h = gelu(tf.add(tf.matMul(tf.reshape(tf.gather(E, ids), [6, 16]), w), b)); // (2·3, 32)
        return tf.mean(logSoftmax(h));
      });
      value.dataSync();
      Object.values(grads).forEach((g) => g.dataSync());
    });
  step();
  const n = tf.memory().numTensors;
  step();
  step();
  assert.equal(tf.memory().numTensors, n);
  tf.dispose([w, b, E, ids]);
});

test('log handles 0, negatives, the smallest normal, inf and NaN like cpu', async () => {
  // biome-ignore lint/suspicious/noApproximativeNumericConstant: float32 neighbours of 1/√2 on purpose
  const v = new Float32Array([0, -1, 1e-37, 1.17549435e-38, 1, 2, 0.5, 0.70710677, 0.7071068, 3e38, Infinity, NaN]);
  await parity('log', () => tf.log(tf.tensor(v)), { atol: 0 });
});

test('native flushes denormals to zero (FTZ/DAZ, as TensorFlow does) and leaves JS arithmetic alone', async () => {
  // Denormal operands made an sgemm ~150x slower (microcode assists), and small-initialised
  // layers produce them in gradients; the addon sets FTZ/DAZ for each kernel call.
  const denormal = 1e-40; // < 1.18e-38, the smallest normal float32
  const cases = () => [
    tf.log(tf.tensor([denormal])),
    tf.mul(tf.tensor([1e-20, 3e-39]), tf.tensor([1e-20, 2])), // results 1e-40 and 6e-39 are denormal
    tf.matMul(tf.fill([2, 64], denormal), tf.ones([64, 2])),
  ];
  const [log, product, mm] = await on('native', cases);
  assert.deepEqual([...log!.values], [-Infinity]);
  assert.deepEqual([...product!.values], [0, 0]);
  assert.deepEqual([...mm!.values], [0, 0, 0, 0]);
  // the JS cpu backend keeps IEEE gradual underflow, and so does JS on this thread afterwards
  const [, cpuProduct] = await on('cpu', cases);
  assert.ok(cpuProduct!.values[0]! > 0 && cpuProduct!.values[1]! > 0, `cpu: ${cpuProduct!.values}`);
  const tiny = [5e-324, 1e-310];
  assert.equal(tiny[1]! * 0.5, 5e-311);
});

test('recycled output buffers never change what a user or another tensor still sees', async () => {
  await tf.setBackend('native');
  const be = tf.backend() as unknown as { poolStats: { reused: number; recycled: number } };
  const x = tf.tensor(randArray(64 * 128, 1200), [64, 128]);
  // an array read out with dataSync stays as it was after its tensor is disposed and others reuse memory
  const a = tf.exp(x);
  const seen = a.dataSync();
  const copy = Float32Array.from(seen);
  a.dispose();
  // a view (contiguous slice) of a native output outlives the output
  const b = tf.neg(x);
  const sl = tf.slice(b, [10, 0], [5, 128]);
  const slCopy = Float32Array.from(b.dataSync().subarray(10 * 128, 15 * 128));
  const b2 = tf.neg(x);
  const slice2 = tf.slice(b2, [3, 0], [2, 128]);
  b2.dispose();
  const before = be.poolStats.recycled;
  for (let i = 0; i < 5; i++) tf.tidy(() => tf.sqrt(tf.abs(tf.mul(tf.add(x, 1), 2))));
  assert.ok(be.poolStats.recycled > before, 'outputs are recycled');
  assert.ok(be.poolStats.reused > 0, 'recycled outputs are reused');
  const nb = tf.backend() as unknown as { pooledBytes: number; releasePool(): void };
  assert.ok(nb.pooledBytes > 0);
  nb.releasePool();
  assert.equal(nb.pooledBytes, 0);
  b.dispose();
  for (let i = 0; i < 5; i++) tf.tidy(() => tf.sub(tf.neg(x), tf.exp(x)));
  assert.deepEqual(seen, copy);
  assert.deepEqual(sl.dataSync(), slCopy);
  const want = Float32Array.from(x.dataSync().subarray(3 * 128, 5 * 128), (v) => -v);
  assert.deepEqual(slice2.dataSync(), want);
  tf.dispose([x, sl, slice2]);
});

test('max, softmax and reductions propagate NaN like cpu', async () => {
  const v = randArray(3 * 40, 1300);
  v[5] = NaN;
  v[40 + 39] = NaN;
  await parity('max NaN', () => tf.max(tf.tensor(v, [3, 40]), 1));
  await parity('max NaN axis 0', () => tf.max(tf.tensor(v, [3, 40]), 0));
  await parity('sum NaN', () => tf.sum(tf.tensor(v, [3, 40]), 1));
  await parity('logSoftmax NaN', () => logSoftmax(tf.tensor(v, [3, 40])));
});

test('fused smoothed cross-entropy rows (value and gradient) equal the composition on cpu', async () => {
  for (const [M, V] of [
    [1, 1],
    [5, 7],
    [64, 8000],
  ] as [number, number][]) {
    const x = T([M, V], 1500 + M, -8, 8),
      w = T([M], 1600 + M, 0, 1);
    const tv = Int32Array.from({ length: M }, (_, i) => (i * 7919) % V);
    const f = () => smoothedCrossEntropyRows(x() as tf.Tensor2D, tf.tensor1d(tv, 'int32'), 0.9, 0.1 / V);
    await parity(`xent rows ${M}x${V}`, f, { scaleAtol: true });
    await parity(
      `xent rows grad ${M}x${V}`,
      () =>
        tf.grad((t: tf.Tensor) => tf.sum(tf.mul(smoothedCrossEntropyRows(t as tf.Tensor2D, tf.tensor1d(tv, 'int32'), 0.9, 0.1 / V), w())))(
          x(),
        ),
      { scaleAtol: true },
    );
  }
  await assert.rejects(
    on('native', () => smoothedCrossEntropyRows(tf.zeros([2, 3]) as tf.Tensor2D, tf.tensor1d([0, 3], 'int32'), 0.9, 0.1)),
    /target 3 of row 1 is not in \[0, 2\]/,
  );
});

test('fused dropout: keep rate, scale, same mask in the gradient, seeded, per-sample noise shape', async () => {
  await tf.setBackend('native');
  const n = 200_000;
  const x = tf.ones([n]);
  const y = dropout(x, 0.1, 42);
  const v = y.dataSync();
  let kept = 0;
  for (const e of v) {
    if (e !== 0) {
      kept++;
      assert.ok(Math.abs(e - 1 / 0.9) < 1e-6, `kept value ${e}`);
    }
  }
  // binomial(n, 0.9): sd ≈ 134, so ±1000 is > 7 sd
  assert.ok(Math.abs(kept - 0.9 * n) < 1000, `kept ${kept} of ${n}`);
  assert.deepEqual(dropout(x, 0.1, 42).dataSync(), v, 'same seed, same mask');
  assert.notDeepEqual(dropout(x, 0.1, 43).dataSync(), v, 'another seed, another mask');
  const g = tf
    .grad((t: tf.Tensor) => tf.sum(tf.mul(dropout(t, 0.1, 42), 2)))(x)
    .dataSync();
  for (let i = 0; i < n; i += 997) assert.equal(g[i], v[i]! * 2, `grad ${i}`);
  const b = dropout(tf.ones([64, 5, 3]), 0.5, 7, [64, 1, 1]).dataSync();
  for (let s = 0; s < 64; s++) for (let j = 1; j < 15; j++) assert.equal(b[s * 15 + j], b[s * 15], `sample ${s} shares one mask value`);
  assert.throws(() => dropout(x, 1, 1), /rate must be in \[0, 1\)/);
  tf.dispose([x, y]);
});

// ---- OpenBLAS kernel choice (a CPU OpenBLAS does not recognise would get its SSE3 fallback) ----
test('OPENBLAS_CORETYPE is chosen from CPU flags, and never overrides the user', async () => {
  const { chooseOpenblasCoreType, readCpuFlags } = await import('../../src/backend/native.js');
  const avx512 = new Set(['sse3', 'avx', 'avx2', 'fma', 'avx512f', 'avx512cd', 'avx512bw', 'avx512dq', 'avx512vl']);
  assert.equal(chooseOpenblasCoreType({}, avx512).set, 'SkylakeX');
  assert.equal(chooseOpenblasCoreType({}, new Set(['avx', 'avx2', 'fma', 'avx512f'])).set, 'Haswell'); // AVX-512 F alone is not enough
  assert.equal(chooseOpenblasCoreType({}, new Set(['avx'])).set, 'Sandybridge');
  assert.equal(chooseOpenblasCoreType({}, new Set(['sse3'])).set, null);
  assert.equal(chooseOpenblasCoreType({}, new Set()).set, null);
  const user = chooseOpenblasCoreType({ OPENBLAS_CORETYPE: 'Zen' }, avx512);
  assert.equal(user.set, null);
  assert.match(user.reason, /OPENBLAS_CORETYPE=Zen from the environment; this CPU runs SkylakeX: unset it for SkylakeX's kernels/);
  assert.equal(chooseOpenblasCoreType({ OPENBLAS_CORETYPE: 'SKYLAKEX' }, avx512).reason, 'OPENBLAS_CORETYPE=SKYLAKEX from the environment');
  assert.equal(
    chooseOpenblasCoreType({ OPENBLAS_CORETYPE: 'Cooperlake' }, avx512).reason,
    'OPENBLAS_CORETYPE=Cooperlake from the environment',
  ); // wider: no hint
  assert.match(chooseOpenblasCoreType({ OPENBLAS_CORETYPE: 'Haswell' }, avx512).reason, /this CPU runs SkylakeX/);
  assert.equal(chooseOpenblasCoreType({ RESMLP_OPENBLAS_AUTOCORE: '0' }, avx512).set, null);
  assert.equal(readCpuFlags('/nonexistent/cpuinfo').size, 0);
  // what OpenBLAS reports it loaded is a non-empty kernel-set name
  assert.ok(nativeAddon().blasCore().core.trim().length > 0);
});

test('cast to float32 gives Float32Array storage, so masks made from bools stay on the native kernels', async () => {
  await parity('cast bool→float32', () =>
    tf.cast(
      tf.greater(
        tf.tensor([
          [-1, 2, 0],
          [3, -4, 5],
        ]),
        0,
      ),
      'float32',
    ),
  );
  await parity('cast int32→float32', () =>
    tf.cast(
      tf.tensor(
        [
          [-7, 2, 0],
          [3, 2147483647, 5],
        ],
        undefined,
        'int32',
      ),
      'float32',
    ),
  );
  await parity('cast float32→int32', () => tf.cast(tf.tensor([[-1.5, 2.7, 0]]), 'int32'));
  await parity('cast float32→bool', () => tf.cast(tf.tensor([[-1.5, 0, 3]]), 'bool'));
  await parity('mask multiply', () =>
    tf.mul(
      tf.tensor([
        [1, 2],
        [3, 4],
      ]),
      tf.expandDims(tf.cast(tf.notEqual(tf.tensor([0, 1], undefined, 'int32'), 0), 'float32'), 1),
    ),
  );
  const prev = tf.getBackend();
  await tf.setBackend('native');
  try {
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const m = tf.cast(tf.notEqual(tf.tensor([0, 1, 2], undefined, 'int32'), 0), 'float32');
      const values = (tf.backend() as unknown as { data: { get(id: object): { values: unknown } } }).data.get(m.dataId).values;
      assert.ok(values instanceof Float32Array, `cast bool→float32 is backed by ${(values as object).constructor.name}`);
      assert.deepEqual(Array.from(m.dataSync()), [0, 1, 1]);
    });
    assert.equal(tf.memory().numTensors, before);
  } finally {
    await tf.setBackend(prev);
  }
});

test('fused optimizer steps (Adagrad, AdamW) equal the composed ops of the cpu backend', async () => {
  const { adagradStep, adamStep } = await import('../../src/backend/fused.js');
  let seed = 1300;
  for (const shape of [[0], [1], [7, 5], [300, 257]]) {
    const p = T(shape, seed++),
      g = T(shape, seed++),
      s = T(shape, seed++, 0, 2),
      m = T(shape, seed++),
      v = T(shape, seed++, 0, 2);
    for (const wd of [0, 0.01]) {
      await parity(`adagrad ${shape} wd ${wd}`, () => adagradStep(p(), g(), s(), 0.2, 1e-10, wd));
      for (const t of [1, 1000]) {
        const a = { beta1: 0.9, beta2: 0.98, eps: 1e-8, bc1: 1 - 0.9 ** t, bc2: 1 - 0.98 ** t, lr: 2e-3, wd };
        await parity(`adam ${shape} wd ${wd} t ${t}`, () => adamStep(p(), g(), m(), v(), a));
      }
    }
  }
});

test('RESMLP_MATMUL_SPLIT takes 0 or 1; another value makes the addon unavailable with a reason naming it', async () => {
  const { spawnSync } = await import('node:child_process');
  const script =
    "import { nativeAvailable, nativeAddon } from './src/backend/native.ts'; const r = nativeAvailable(); " +
    'console.log(JSON.stringify(r.ok ? { ok: true, split: nativeAddon().setMatmulSplit(true) } : r));';
  const run = (v: string) => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      env: { ...process.env, RESMLP_MATMUL_SPLIT: v },
    });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as { ok: boolean; reason?: string };
  };
  assert.equal(run('0').ok, true);
  assert.equal(run('1').ok, true);
  const bad = run('yes');
  assert.equal(bad.ok, false);
  assert.match(bad.reason!, /RESMLP_MATMUL_SPLIT must be 0 or 1, found "yes"/);
});
