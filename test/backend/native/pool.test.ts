// The native backend's output pool: size classes (outputs of varied lengths reuse a few classes
// of buffers, and what they compute is unchanged), and the cap taken from the memory the process
// may use (the container's limit when there is one).
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { memoryLimitBytes, poolCapBytes, sizeClass } from '../../../src/backend/native/pool.js';
import { useTestBackend } from '../../helpers/backend.js';

before(async () => {
  await useTestBackend();
});

test('size classes: four per doubling, never smaller than asked, at most 19% larger', () => {
  let prev = 0;
  for (let n = 4097; n < 5_000_000; n = Math.ceil(n * 1.013)) {
    const c = sizeClass(n);
    assert.ok(c >= n && c <= Math.ceil(n * 1.19) + 16, `n ${n} → class ${c}`);
    assert.ok(c >= prev);
    prev = c;
    assert.equal(sizeClass(c), c, 'a class is its own class');
  }
  const classes = new Set(Array.from({ length: 1000 }, (_, i) => sizeClass(100_000 + 100 * i)));
  assert.ok(classes.size <= 5, `1000 lengths over one doubling fall in ${classes.size} classes`);
  assert.equal(sizeClass(100), 100, 'small arrays are not pooled');
});

test('outputs of varied lengths reuse pooled buffers and compute the same values', (t) => {
  if (tf.getBackend() !== 'native') return t.skip(`needs the native backend (tests run on ${tf.getBackend()})`);
  const be = tf.backend() as unknown as { poolStats: { reused: number; allocated: number }; releasePool(): void };
  be.releasePool();
  const lengths = [9000, 9100, 9200, 9300, 9050, 9150];
  const run = (ls = lengths) =>
    ls.map((n) =>
      tf.tidy(() => {
        const x = tf.range(0, n, 1, 'float32');
        // pooled outputs (mul, exp) consumed by other ops; only the small sums are read out
        const e = tf.exp(tf.mul(x, -1e-3));
        return [tf.sum(e).dataSync()[0]!, tf.max(e).dataSync()[0]!, tf.min(e).dataSync()[0]!];
      }),
    );
  const first = run();
  const a0 = be.poolStats.allocated;
  const r0 = be.poolStats.reused;
  const second = run(lengths.map((n) => n + 7)); // other lengths, the same size classes
  assert.ok(be.poolStats.reused - r0 >= 2 * lengths.length, 'the second pass reuses buffers of the first');
  assert.ok(be.poolStats.allocated - a0 <= 1, `the second pass allocated ${be.poolStats.allocated - a0} new buffers`);
  assert.deepEqual(run(), first, 'the same lengths again give the same values');
  void second;
  for (const [i, n] of lengths.entries()) {
    const sum = (1 - Math.exp(-n * 1e-3)) / (1 - Math.exp(-1e-3));
    assert.ok(Math.abs(first[i]![0]! - sum) < 1e-3 * sum, `sum over ${n}: ${first[i]![0]} vs ${sum}`);
    assert.ok(Math.abs(first[i]![2]! - Math.exp(-(n - 1) * 1e-3)) < 1e-6, 'the last element is exp(-(n-1)·1e-3): the view ends at n');
  }
});

test('an output borrows a pooled buffer of a larger class up to twice its size, not beyond', (t) => {
  if (tf.getBackend() !== 'native') return t.skip(`needs the native backend (tests run on ${tf.getBackend()})`);
  const be = tf.backend() as unknown as { poolStats: { reused: number; allocated: number }; releasePool(): void };
  const expSum = (n: number) =>
    tf.tidy(() => {
      const e = tf.exp(tf.mul(tf.range(0, n, 1, 'float32'), -1e-4)); // two pooled outputs of n floats
      return tf.sum(e).dataSync()[0]!;
    });
  const exact = (n: number) => (1 - Math.exp(-n * 1e-4)) / (1 - Math.exp(-1e-4));
  be.releasePool();
  expSum(20_000); // leaves buffers of 20,000 floats' class in the pool
  const a0 = be.poolStats.allocated;
  const r0 = be.poolStats.reused;
  const smaller = 12_000; // three classes below: within 2×
  const v = expSum(smaller);
  assert.equal(be.poolStats.allocated - a0, 0, 'no new buffer for the smaller outputs');
  assert.ok(be.poolStats.reused - r0 >= 2, 'the larger buffers were handed out');
  assert.ok(Math.abs(v - exact(smaller)) < 1e-3 * exact(smaller), `sum over ${smaller}: ${v} vs ${exact(smaller)} (the view ends at n)`);
  const a1 = be.poolStats.allocated;
  expSum(8_000); // less than half of 20,000: would waste over half of a borrowed buffer
  assert.ok(be.poolStats.allocated - a1 >= 2, 'outputs under half the pooled size get buffers of their own class');
});

test('a fresh buffer replaces idle buffers of the classes it can serve, so the pool moves up instead of growing', (t) => {
  if (tf.getBackend() !== 'native') return t.skip(`needs the native backend (tests run on ${tf.getBackend()})`);
  const be = tf.backend() as unknown as { pool: Map<number, Float32Array[]>; pooledBytes: number; releasePool(): void };
  const run = (n: number) => tf.tidy(() => tf.sum(tf.exp(tf.mul(tf.range(0, n, 1, 'float32'), -1e-4))).dataSync()[0]!);
  const held = (n: number) => be.pool.get(sizeClass(n))?.length ?? 0;
  be.releasePool();
  run(12_000);
  const small = held(12_000);
  assert.ok(small >= 2, `the smaller outputs went back to the pool (${small})`);
  run(20_000); // no pooled buffer is large enough: fresh ones, each dropping as many idle bytes below it
  assert.equal(held(12_000), 0, 'the idle smaller buffers were dropped');
  assert.ok(held(20_000) >= 2, 'the larger buffers are pooled');
  assert.equal(
    be.pooledBytes,
    [...be.pool.values()].flat().reduce((a, b) => a + b.byteLength, 0),
    'pooledBytes counts what the pool holds',
  );
});

test("the cap: a quarter of the limit (at most 8 GiB), RESMLP_POOL_MB over it; the limit is the container's when it has one", () => {
  assert.equal(poolCapBytes(undefined, 4 * 2 ** 30), 2 ** 30);
  assert.equal(poolCapBytes('', 64 * 2 ** 30), 8 * 2 ** 30);
  assert.equal(poolCapBytes('512', 4 * 2 ** 30), 512 * 2 ** 20);
  assert.throws(() => poolCapBytes('lots', 1), /RESMLP_POOL_MB must be a number of MiB ≥ 0, got 'lots'/);
  const orig = (process as unknown as { constrainedMemory?: () => number }).constrainedMemory;
  try {
    (process as unknown as { constrainedMemory: () => number }).constrainedMemory = () => 2 * 2 ** 30;
    assert.deepEqual(memoryLimitBytes(), { bytes: 2 * 2 ** 30, source: 'process.constrainedMemory() (the container limit)' });
  } finally {
    (process as unknown as { constrainedMemory?: () => number }).constrainedMemory = orig;
  }
});
