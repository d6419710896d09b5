// Embedding: lookup values, scatter-add gradient (duplicates summed, padding excluded) against
// tfjs's own gather gradient, the tied projection, init.
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { Embedding, embeddingLookup } from '../../src/core/embedding.js';
import { Rng } from '../../src/util/rng.js';
import { useTestBackend } from '../helpers/backend.js';
import { maxAbsDiff, projectLoss, randn } from '../helpers/grad-check.js';

/** The R of projectLoss (default seed) for `shape`, as rows of the last axis. */
function projectLossWeights(shape: number[]): number[][] {
  const r = randn(shape, 99);
  const rows = tf.tidy(() => tf.reshape(r, [-1, shape[shape.length - 1]!]).arraySync() as number[][]);
  r.dispose();
  return rows;
}

before(async () => {
  await useTestBackend();
});

test('lookup returns rows of the weight with shape (...S, d)', () => {
  const emb = new Embedding({ numEmbeddings: 6, dim: 3 }, new Rng(1));
  const ids = tf.tensor2d(
    [
      [1, 5],
      [0, 1],
    ],
    [2, 2],
    'int32',
  );
  const y = emb.forward(ids);
  assert.deepEqual(y.shape, [2, 2, 3]);
  const ref = tf.gather(emb.weight, ids);
  assert.equal(maxAbsDiff(y, ref), 0);
  tf.dispose([ids, y, ref]);
  emb.dispose();
});

test('gradient is the scatter-add of output gradient rows (duplicate ids summed)', () => {
  const w = tf.variable(randn([7, 4], 2));
  const idList = [3, 3, 1, 6, 3, 0];
  const ids = tf.tensor2d(idList, [2, 3], 'int32');
  const ours = tf.grad((ww: tf.Tensor) => projectLoss(embeddingLookup(ww as tf.Tensor2D, ids)))(w);
  // d/dW Σ out ⊙ R: row v gets Σ of R's rows at the positions where ids == v
  const R = projectLossWeights([2, 3, 4]);
  const want = Array.from({ length: 7 }, () => [0, 0, 0, 0]);
  idList.forEach((v, p) => R[p]!.forEach((r, c) => (want[v]![c]! += r)));
  const theirs = tf.tensor2d(want);
  assert.ok(maxAbsDiff(ours, theirs) < 1e-5);
  // rows never looked up get zero gradient, row 3 (three times) a non-zero one
  const rows = ours.arraySync() as number[][];
  assert.ok(rows[2].every((v) => v === 0) && rows[3].some((v) => v !== 0));
  tf.dispose([w, ids, ours, theirs]);
});

test('padding row: zero at init, no gradient from the lookup', () => {
  const emb = new Embedding({ numEmbeddings: 5, dim: 3, paddingIdx: 1 }, new Rng(3));
  assert.ok((emb.weight.arraySync() as number[][])[1].every((v) => v === 0));
  const ids = tf.tensor1d([1, 2, 1, 4], 'int32');
  const { value, grads } = tf.variableGrads(() => projectLoss(emb.forward(ids)), [emb.weight]);
  const g = grads[emb.weight.name].arraySync() as number[][];
  assert.ok(g[1].every((v) => v === 0));
  assert.ok(g[2].some((v) => v !== 0) && g[4].some((v) => v !== 0));
  tf.dispose([ids, value, ...Object.values(grads)]);
  emb.dispose();
});

test('project(h) is h Wᵀ over (..., d) → (..., V)', () => {
  const emb = new Embedding({ numEmbeddings: 5, dim: 3 }, new Rng(4));
  const h = randn([2, 4, 3], 5);
  const logits = emb.project(h);
  assert.deepEqual(logits.shape, [2, 4, 5]);
  const ref = tf.tidy(() => tf.reshape(tf.matMul(tf.reshape(h, [8, 3]), tf.transpose(emb.weight)), [2, 4, 5]));
  assert.ok(maxAbsDiff(logits, ref) < 1e-5);
  tf.dispose([h, logits, ref]);
  emb.dispose();
});

test('init N(0, d^-0.5) (fairseq); ids must be int32; paddingIdx inside the vocabulary', () => {
  const emb = new Embedding({ numEmbeddings: 256, dim: 64 }, new Rng(6));
  const w = emb.weight.dataSync() as Float32Array;
  const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
  assert.ok(Math.abs(std - 1 / 8) < 0.005, `std ${std}`);
  assert.throws(() => emb.forward(tf.zeros([2])), /ids must be int32, got float32/);
  assert.throws(
    () => new Embedding({ numEmbeddings: 4, dim: 2, paddingIdx: 4 }, new Rng(0)),
    /'paddingIdx' 4 is outside the vocabulary \[0, 4\)/,
  );
  emb.dispose();
});
