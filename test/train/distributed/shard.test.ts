// Which batches each rank trains (src/train/distributed/shard.ts): every batch of an update goes to
// exactly one rank, 2 ranks × updateFreq 1 cover the batches of 1 process × updateFreq 2, and the
// short last update of an epoch leaves some ranks without a batch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rankBatches, updateBatches } from '../../../src/train/distributed/shard.js';

test('updateBatches: ranks × updateFreq batches, fewer at the end of the epoch', () => {
  const table: [number, number, number, number, number][] = [
    // start, batches, updateFreq, ranks, expected
    [0, 10, 1, 1, 1],
    [0, 10, 2, 1, 2],
    [0, 10, 1, 2, 2],
    [0, 10, 2, 3, 6],
    [6, 10, 2, 3, 4],
    [9, 10, 1, 4, 1],
    [10, 10, 1, 2, 0],
  ];
  for (const [start, batches, f, n, want] of table)
    assert.equal(updateBatches(start, batches, f, n), want, `${start}/${batches} f${f} n${n}`);
});

test('rankBatches: each batch of an update to exactly one rank, interleaved', () => {
  assert.deepEqual(rankBatches(6, 2, 0, 2), [6]);
  assert.deepEqual(rankBatches(6, 2, 1, 2), [7]);
  assert.deepEqual(rankBatches(0, 6, 1, 3), [1, 4]);
  assert.deepEqual(rankBatches(9, 1, 1, 4), [], 'a short last update leaves rank 1 of 4 without a batch');
  for (const [start, count, n] of [
    [0, 6, 3],
    [4, 5, 2],
    [3, 1, 4],
  ] as const) {
    const all = Array.from({ length: n }, (_, r) => rankBatches(start, count, r, n))
      .flat()
      .sort((a, b) => a - b);
    assert.deepEqual(
      all,
      Array.from({ length: count }, (_, k) => start + k),
    );
  }
  // 2 ranks × updateFreq 1 train the batches of 1 process × updateFreq 2
  assert.deepEqual([...rankBatches(4, 2, 0, 2), ...rankBatches(4, 2, 1, 2)], rankBatches(4, updateBatches(4, 10, 2, 1), 0, 1));
});
