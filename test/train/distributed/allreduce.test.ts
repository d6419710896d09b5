// The bucketed gradient sum (src/train/distributed/allreduce.ts) in one process, with a stand-in
// for MPI_Allreduce that doubles its buffer (the sum over two ranks holding the same gradients):
// large own arrays are summed in place (the same tensors come back), small ones through packed
// buckets, arrays shared by two gradients are summed once each, and nothing leaks.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useTestBackend } from '../../helpers/backend.js';
import { GradientAllreduce, IN_PLACE_MIN } from '../../../src/train/distributed/allreduce.js';

before(async () => {
  await useTestBackend();
});

/** A fake MPI_Allreduce over two ranks with equal inputs, recording the size of each call. */
function doubling(): { reduce: (x: Float32Array) => void; calls: number[] } {
  const calls: number[] = [];
  return {
    calls,
    reduce(x) {
      calls.push(x.length);
      for (let i = 0; i < x.length; i++) x[i] = 2 * x[i]!;
    },
  };
}

const ramp = (n: number, shape: number[]) =>
  tf.tensor(
    Float32Array.from({ length: n }, (_, i) => (i % 97) - 48),
    shape,
    'float32',
  );

test('large gradients are summed in place, small ones in packed buckets', () => {
  const before = tf.memory().numTensors;
  const big = ramp(IN_PLACE_MIN * 2, [2, IN_PLACE_MIN]);
  const small1 = ramp(10, [10]);
  const small2 = ramp(6, [2, 3]);
  const expect = [big, small1, small2].map((t) => Array.from(t.dataSync(), (v) => 2 * v));
  const fake = doubling();
  const ar = new GradientAllreduce(fake.reduce);
  const out = ar.sum([big, small1, small2]);
  if (tf.getBackend() === 'native' || tf.getBackend() === 'cpu')
    assert.equal(out[0], big, 'the large gradient is the same tensor, summed in place');
  out.forEach((t, i) => assert.deepEqual(Array.from(t.dataSync()), expect[i]));
  assert.deepEqual(
    fake.calls.sort((a, b) => a - b),
    [16, IN_PLACE_MIN * 2],
  );
  assert.equal(ar.last.bytes, (IN_PLACE_MIN * 2 + 16) * 4);
  assert.equal(ar.last.packedBytes, 16 * 4);
  out.forEach((t) => t.dispose());
  assert.equal(tf.memory().numTensors, before, 'no tensor leaks');
});

test('buckets close at the bucket size; gradients that share an array are each summed once', () => {
  const before = tf.memory().numTensors;
  const a = ramp(100, [100]);
  const alias = tf.reshape(a, [10, 10]); // shares a's data
  const b = ramp(100, [4, 25]);
  const expect = [a, alias, b].map((t) => Array.from(t.dataSync(), (v) => 2 * v));
  const fake = doubling();
  const ar = new GradientAllreduce(fake.reduce, 250 * 4); // a bucket holds 250 floats
  const out = ar.sum([a, alias, b]);
  out.forEach((t, i) => assert.deepEqual(Array.from(t.dataSync()), expect[i], `gradient ${i}`));
  assert.deepEqual(fake.calls, [200, 100], 'b does not fit the first bucket after a and its alias: two calls');
  out.forEach((t) => t.dispose());
  for (const t of [a, alias, b]) if (!t.isDisposed) t.dispose();
  assert.equal(tf.memory().numTensors, before, 'no tensor leaks');
});
