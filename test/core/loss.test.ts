// Label-smoothed cross-entropy against hand computations (both definitions), ignore index,
// gradients, and tensor hygiene.
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { labelSmoothedCrossEntropy } from '../../src/core/loss.js';
import { useTestBackend } from '../helpers/backend.js';
import { checkGradients, randn } from '../helpers/grad-check.js';

before(async () => {
  await useTestBackend();
});

/** −Σ_v q_v log p_v computed in float64 from plain arrays. */
function hand(logits: number[][], targets: number[], eps: number, variant: 'uniform' | 'fairseq', ignore: number | null = null): number {
  let total = 0;
  let n = 0;
  for (let i = 0; i < logits.length; i++) {
    if (targets[i] === ignore) continue;
    const row = logits[i];
    const V = row.length;
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((s, x) => s + Math.exp(x - m), 0));
    let loss = 0;
    for (let v = 0; v < V; v++) {
      const q = variant === 'uniform' ? (v === targets[i] ? 1 - eps : 0) + eps / V : v === targets[i] ? 1 - eps : eps / (V - 1);
      loss -= q * (row[v] - lse);
    }
    total += loss;
    n++;
  }
  return n === 0 ? 0 : total / n;
}

test('matches a hand computation for both definitions and several epsilons', () => {
  const logits = [
    [2.0, -1.0, 0.5, 0.0, 3.0],
    [0.1, 0.2, 0.3, 0.4, 0.5],
    [-5.0, 10.0, 0.0, 1.0, -2.0],
  ];
  const targets = [4, 0, 2];
  const L = tf.tensor2d(logits);
  const T = tf.tensor1d(targets, 'int32');
  for (const variant of ['uniform', 'fairseq'] as const) {
    for (const epsilon of [0, 0.1, 0.3]) {
      const got = labelSmoothedCrossEntropy(L, T, { epsilon, variant });
      const want = hand(logits, targets, epsilon, variant);
      assert.ok(Math.abs(got.dataSync()[0] - want) < 1e-5, `${variant} ε=${epsilon}: ${got.dataSync()[0]} vs ${want}`);
      got.dispose();
    }
  }
  // ε = 0 is plain cross-entropy: lse − x_t
  const ce = labelSmoothedCrossEntropy(tf.tensor2d([[0, Math.log(3)]]), tf.tensor1d([1], 'int32'), { epsilon: 0 });
  assert.ok(Math.abs(ce.dataSync()[0] - Math.log(4 / 3)) < 1e-6);
  tf.dispose([L, T, ce]);
});

test('ignoreIndex drops rows from the sum and the mean; all-ignored gives 0', () => {
  const logits = [
    [1, 2, 3],
    [3, 1, 0],
    [0, 0, 5],
    [2, 2, 2],
  ];
  const targets = [2, 0, 1, 0];
  const L = tf.tensor3d([logits]); // (1, 4, 3): leading dims are flattened
  const got = labelSmoothedCrossEntropy(L, tf.tensor2d([targets], [1, 4], 'int32'), { epsilon: 0.1, ignoreIndex: 0 });
  assert.ok(Math.abs(got.dataSync()[0] - hand(logits, targets, 0.1, 'uniform', 0)) < 1e-5);
  const none = labelSmoothedCrossEntropy(L, tf.zeros([1, 4], 'int32'), { ignoreIndex: 0 });
  assert.equal(none.dataSync()[0], 0);
  tf.dispose([L, got, none]);
});

test('gradient w.r.t. logits: finite differences, and equals (softmax − q)/count', () => {
  const x = tf.variable(randn([6, 7], 1, 2));
  const t = tf.tensor1d([0, 3, 6, 2, 3, 1], 'int32');
  for (const variant of ['uniform', 'fairseq'] as const) {
    checkGradients(() => labelSmoothedCrossEntropy(x, t, { epsilon: 0.2, variant, ignoreIndex: 3 }), [x], {
      coords: 10,
      h: 1e-2,
      atol: 5e-4,
    });
  }
  // analytic form, no ignore: (softmax − q)/M
  const g = tf.grad((l: tf.Tensor) => labelSmoothedCrossEntropy(l, t, { epsilon: 0.2 }))(x);
  const ref = tf.tidy(() => tf.div(tf.sub(tf.softmax(x), tf.add(tf.mul(tf.oneHot(t, 7), 0.8), 0.2 / 7)), 6));
  assert.ok(tf.tidy(() => tf.max(tf.abs(tf.sub(g, ref))).dataSync()[0]) < 1e-6);
  // ignored rows get exactly zero gradient
  const gi = tf.grad((l: tf.Tensor) => labelSmoothedCrossEntropy(l, t, { epsilon: 0.2, ignoreIndex: 3 }))(x);
  const rows = gi.arraySync() as number[][];
  assert.ok(rows[1].every((v) => v === 0) && rows[4].every((v) => v === 0));
  assert.ok(rows[0].some((v) => v !== 0));
  tf.dispose([x, t, g, ref, gi]);
});

test('stable for large logits and leaves no tensors behind', () => {
  const L = tf.tensor2d([[1000, 0, -1000]]);
  const T = tf.tensor1d([0], 'int32');
  const before = tf.memory().numTensors;
  const v = labelSmoothedCrossEntropy(L, T, { epsilon: 0.1 });
  const val = v.dataSync()[0];
  assert.ok(Number.isFinite(val));
  assert.ok(Math.abs(val - hand([[1000, 0, -1000]], [0], 0.1, 'uniform')) < 1e-3);
  v.dispose();
  const ones = tf.ones([3]);
  const w = tf.variable(ones);
  ones.dispose();
  const afterVar = tf.memory().numTensors;
  const { value, grads } = tf.variableGrads(() => labelSmoothedCrossEntropy(tf.mul(L, w), T, { ignoreIndex: 2 }), [w]);
  assert.ok(Number.isFinite(grads[w.name].dataSync()[0]));
  tf.dispose([value, ...Object.values(grads)]);
  assert.equal(tf.memory().numTensors, afterVar);
  w.dispose();
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([L, T]);
});

test('rejects bad targets and configs with actionable messages', () => {
  const L = tf.zeros([2, 3]);
  assert.throws(() => labelSmoothedCrossEntropy(L, tf.zeros([2])), /targets must be int32, got float32/);
  assert.throws(() => labelSmoothedCrossEntropy(L, tf.zeros([3], 'int32')), /targets shape \[3\] must equal .* \[2\]/);
  assert.throws(() => labelSmoothedCrossEntropy(L, tf.zeros([2], 'int32'), { epsilon: 1 }), /'epsilon' must be in \[0, 1\)/);
  assert.throws(
    () => labelSmoothedCrossEntropy(L, tf.zeros([2], 'int32'), { smoothing: 0.1 } as any),
    /LabelSmoothedLossConfig: unknown config key 'smoothing'/,
  );
  L.dispose();
});
