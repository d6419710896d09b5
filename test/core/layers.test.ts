// Linear, LayerNorm, Dropout, DropPath: values against explicit computations, gradients, modes.
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { Dropout, DropPath } from '../../src/core/dropout.js';
import { LayerNorm } from '../../src/core/layer-norm.js';
import { Linear } from '../../src/core/linear.js';
import { Rng } from '../../src/util/rng.js';
import { useTestBackend } from '../helpers/backend.js';
import { checkGradients, maxAbsDiff, projectLoss, randn } from '../helpers/grad-check.js';

before(async () => {
  await useTestBackend();
});

test('Linear: weight (out, in) as PyTorch; y = x Wᵀ + b for rank 2 and 3; gradients', () => {
  const lin = new Linear({ inFeatures: 3, outFeatures: 2 }, new Rng(1));
  assert.deepEqual(lin.weight.shape, [2, 3]);
  tf.tidy(() => {
    lin.weight.assign(
      tf.tensor2d([
        [1, 2, 3],
        [0, -1, 0.5],
      ]),
    );
    lin.bias!.assign(tf.tensor1d([10, 20]));
  });
  assert.deepEqual(lin.forward(tf.tensor2d([[1, 1, 2]])).arraySync(), [[19, 20]]);
  assert.deepEqual(lin.forward(tf.tensor3d([[[1, 1, 2]], [[0, 0, 0]]])).arraySync(), [[[19, 20]], [[10, 20]]]);
  assert.throws(() => lin.forward(tf.zeros([2, 4])), /input last dim 4 does not match weight \(out=2, in=3\)/);
  const x = tf.variable(randn([2, 2, 3], 2));
  checkGradients(() => projectLoss(lin.forward(x)), [x, lin.weight, lin.bias!]);
  const noBias = new Linear({ inFeatures: 3, outFeatures: 2, bias: false }, new Rng(1));
  assert.deepEqual([...noBias.namedParameters().keys()], ['weight']);
  checkGradients(() => projectLoss(noBias.forward(x)), [x, noBias.weight]);
  x.dispose();
  lin.dispose();
  noBias.dispose();
});

test('LayerNorm: matches (x − mean)/√(var + eps)·w + b with biased variance; gradients', () => {
  const ln = new LayerNorm({ dim: 4, eps: 1e-5 });
  tf.tidy(() => {
    ln.weight.assign(tf.tensor1d([1, 2, 0.5, -1]));
    ln.bias.assign(tf.tensor1d([0, 1, 0, 0]));
  });
  const row = [1, 2, 3, 6];
  const mean = 3;
  const variance = (4 + 1 + 0 + 9) / 4;
  const want = row.map((v, i) => ((v - mean) / Math.sqrt(variance + 1e-5)) * [1, 2, 0.5, -1][i] + [0, 1, 0, 0][i]);
  const got = (ln.forward(tf.tensor2d([row])).arraySync() as number[][])[0];
  got.forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-5));
  const x = tf.variable(randn([2, 3, 4], 3));
  checkGradients(() => projectLoss(ln.forward(x)), [x, ln.weight, ln.bias], { coords: 6 });
  x.dispose();
  ln.dispose();
  assert.throws(() => new LayerNorm({ dim: 4, eps: 0 }), /'eps' must be > 0/);
});

test('Dropout: identity in eval or at rate 0; in training zeros ~rate of values, scales the rest', () => {
  const d = new Dropout(0.25, new Rng(4));
  const x = tf.ones([100, 40]);
  const y = d.forward(x);
  const v = y.dataSync();
  const zeros = v.filter((a) => a === 0).length / v.length;
  assert.ok(Math.abs(zeros - 0.25) < 0.03, `dropped fraction ${zeros}`);
  assert.ok(v.every((a) => a === 0 || Math.abs(a - 1 / 0.75) < 1e-6));
  d.eval();
  assert.equal(d.forward(x), x);
  assert.equal(new Dropout(0, new Rng(1)).forward(x), x);
  assert.throws(() => new Dropout(1, new Rng(1)), /'rate' must be a number in \[0, 1\)/);
  tf.dispose([x, y]);
});

test('DropPath: whole samples dropped, kept ones scaled; seeded', () => {
  const a = new DropPath(0.5, new Rng(5));
  const b = new DropPath(0.5, new Rng(5));
  const x = tf.ones([200, 3, 2]);
  const ya = a.forward(x);
  const yb = b.forward(x);
  assert.equal(maxAbsDiff(ya, yb), 0);
  const rows = (ya.reshape([200, 6]).arraySync() as number[][]).map((r) => new Set(r));
  assert.ok(rows.every((s) => s.size === 1 && (s.has(0) || s.has(2))));
  const dropped = rows.filter((s) => s.has(0)).length / 200;
  assert.ok(Math.abs(dropped - 0.5) < 0.12, `dropped ${dropped}`);
  tf.dispose([x, ya, yb]);
});
