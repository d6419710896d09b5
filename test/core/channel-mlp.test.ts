// Channel MLP (fc1 → GELU → fc2 over d) and MLP-Mixer's token MLP (over N): values against
// explicit computations, init of the MLP biases, gradients, dropout only in training.
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { ChannelMlp, TokenMlp } from '../../src/core/channel-mlp.js';
import { Rng } from '../../src/util/rng.js';
import { useTestBackend } from '../helpers/backend.js';
import { checkGradients, maxAbsDiff, projectLoss, randn } from '../helpers/grad-check.js';

before(async () => {
  await useTestBackend();
});

/** Exact GELU computed independently with tf ops: x·Φ(x). */
function geluRef(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(x, tf.mul(tf.add(tf.erf(tf.div(x, Math.SQRT2)), 1), 0.5)));
}

test('ChannelMlp: fc2(gelu(fc1(x))) with default hidden 4d; shape kept', () => {
  const mlp = new ChannelMlp({ dim: 4 }, new Rng(1));
  assert.deepEqual(mlp.fc1.weight.shape, [16, 4]);
  assert.deepEqual(mlp.fc2.weight.shape, [4, 16]);
  const x = randn([2, 3, 4], 2);
  const y = mlp.forward(x);
  const ref = tf.tidy(() => {
    const h = geluRef(tf.add(tf.matMul(tf.reshape(x, [6, 4]), tf.transpose(mlp.fc1.weight)), mlp.fc1.bias!));
    return tf.reshape(tf.add(tf.matMul(h, tf.transpose(mlp.fc2.weight)), mlp.fc2.bias!), [2, 3, 4]);
  });
  assert.ok(maxAbsDiff(y, ref) < 1e-5);
  tf.dispose([x, y, ref]);
  mlp.dispose();
});

test('ChannelMlp gradients match finite differences', () => {
  const mlp = new ChannelMlp({ dim: 3, hidden: 5 }, new Rng(3));
  const x = tf.variable(randn([2, 2, 3], 4));
  checkGradients(() => projectLoss(mlp.forward(x)), [x, ...mlp.parameters()]);
  x.dispose();
  mlp.dispose();
});

test('MLP biases are N(0, 1e-6) (timm: "mlp" in the module name), weights xavier-uniform', () => {
  const mlp = new ChannelMlp({ dim: 64, hidden: 256 }, new Rng(5));
  const b = mlp.fc1.bias!.dataSync() as Float32Array;
  const std = Math.sqrt(b.reduce((s, v) => s + v * v, 0) / b.length);
  assert.ok(std > 0.8e-6 && std < 1.2e-6, `bias std ${std}`);
  const w = mlp.fc1.weight.dataSync() as Float32Array;
  const bound = Math.sqrt(6 / (64 + 256));
  assert.ok(w.every((v) => Math.abs(v) <= bound));
  assert.ok(Math.max(...w) > 0.95 * bound);
  mlp.dispose();
});

test('ChannelMlp dropout acts in training mode only, and is seeded', () => {
  const make = () => new ChannelMlp({ dim: 4, hidden: 32, drop: 0.5 }, new Rng(7));
  const a = make();
  const b = make();
  const x = randn([2, 3, 4], 8);
  const ya = a.forward(x);
  const yb = b.forward(x);
  assert.equal(maxAbsDiff(ya, yb), 0, 'same seed must give the same masks');
  const ya2 = a.forward(x);
  assert.ok(maxAbsDiff(ya, ya2) > 0, 'successive calls draw new masks');
  a.eval();
  const e1 = a.forward(x);
  const e2 = a.forward(x);
  assert.equal(maxAbsDiff(e1, e2), 0);
  tf.dispose([x, ya, yb, ya2, e1, e2]);
  a.dispose();
  b.dispose();
});

test('TokenMlp equals timm mlp_tokens(x.transpose(1,2)).transpose(1,2), incl. length slicing', () => {
  const N = 5;
  const mlp = new TokenMlp({ seqLen: N, hidden: 3 }, new Rng(9));
  for (const L of [N, 3]) {
    const x = randn([2, L, 4], 10 + L) as tf.Tensor3D;
    const y = mlp.forward(x);
    const ref = tf.tidy(() => {
      const xt = tf.transpose(x, [0, 2, 1]); // (B, d, L)
      const w1 = tf.slice(mlp.fc1.weight, [0, 0], [3, L]);
      const w2 = tf.slice(mlp.fc2.weight, [0, 0], [L, 3]);
      const b2 = tf.slice(mlp.fc2.bias!, [0], [L]);
      const h = geluRef(tf.add(tf.matMul(tf.reshape(xt, [-1, L]), w1, false, true), mlp.fc1.bias!));
      const o = tf.add(tf.matMul(h, w2, false, true), b2);
      return tf.transpose(tf.reshape(o, [2, 4, L]), [0, 2, 1]);
    });
    assert.deepEqual(y.shape, [2, L, 4]);
    assert.ok(maxAbsDiff(y, ref) < 1e-5);
    tf.dispose([x, y, ref]);
  }
  assert.throws(() => mlp.forward(tf.zeros([1, N + 1, 4]) as tf.Tensor3D), /6 tokens .* seqLen=5/);
  const x = tf.variable(randn([2, 4, 3], 12));
  checkGradients(() => projectLoss(mlp.forward(x as tf.Tensor3D)), [x, ...mlp.parameters()]);
  x.dispose();
  mlp.dispose();
});
