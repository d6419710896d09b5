// Cross-token linear sublayer: values vs an explicit per-sample product, gradients, causality in
// forward and backward, length slicing, errors.
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { CrossToken, tokenMix } from '../../src/core/cross-token.js';
import { Rng } from '../../src/util/rng.js';
import { useTestBackend } from '../helpers/backend.js';
import { checkGradients, maxAbsDiff, projectLoss, randn } from '../helpers/grad-check.js';

before(async () => {
  await useTestBackend();
});

/** timm's way: linear_tokens(x.transpose(1, 2)).transpose(1, 2), with W (L, L), b (L). */
function reference(x: tf.Tensor3D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor3D {
  return tf.tidy(() => tf.transpose(tf.add(tf.matMul(tf.transpose(x, [0, 2, 1]), w, false, true), b), [0, 2, 1]) as tf.Tensor3D);
}

test('forward equals timm transpose-linear-transpose; shape (B, N, d)', () => {
  const layer = new CrossToken({ seqLen: 5 }, new Rng(1));
  tf.tidy(() => layer.bias!.assign(randn([5], 4) as tf.Tensor1D));
  const x = randn([3, 5, 4], 2) as tf.Tensor3D;
  const y = layer.forward(x);
  assert.deepEqual(y.shape, [3, 5, 4]);
  const ref = reference(x, layer.weight as tf.Tensor2D, layer.bias as tf.Tensor1D);
  assert.ok(maxAbsDiff(y, ref) < 1e-5);
  tf.dispose([x, y, ref]);
  layer.dispose();
});

test('tokenMix gradients (x, w, bias) match finite differences', () => {
  const x = tf.variable(randn([2, 4, 3], 5));
  const w = tf.variable(randn([6, 4], 6));
  const b = tf.variable(randn([6], 7));
  const n = checkGradients(() => projectLoss(tokenMix(x as tf.Tensor3D, w as tf.Tensor2D, b as tf.Tensor1D)), [x, w, b]);
  assert.equal(n, 12);
  const n2 = checkGradients(() => projectLoss(tokenMix(x as tf.Tensor3D, w as tf.Tensor2D)), [x, w]);
  assert.equal(n2, 8);
  tf.dispose([x, w, b]);
});

test('CrossToken gradients through slicing and the causal mask match finite differences', () => {
  for (const causal of [false, true]) {
    const layer = new CrossToken({ seqLen: 6, causal }, new Rng(11));
    const x = tf.variable(randn([2, 4, 3], 12));
    checkGradients(() => projectLoss(layer.forward(x as tf.Tensor3D)), [x, layer.weight, layer.bias!], { coords: 6 });
    x.dispose();
    layer.dispose();
  }
});

test('causal: output i is unchanged by tokens > i, and has zero gradient w.r.t. them', () => {
  const N = 6;
  const layer = new CrossToken({ seqLen: N, causal: true }, new Rng(21));
  // make the upper triangle of the stored weight non-zero: the mask must still hide it
  tf.tidy(() => layer.weight.assign(randn([N, N], 22)));
  const x = randn([2, N, 3], 23) as tf.Tensor3D;
  const y = layer.forward(x);
  for (let i = 0; i < N - 1; i++) {
    // change every token after i
    const x2 = tf.tidy(() => {
      const keep = tf.slice(x, [0, 0, 0], [2, i + 1, 3]);
      const noise = randn([2, N - i - 1, 3], 100 + i);
      return tf.concat([keep, tf.add(tf.slice(x, [0, i + 1, 0], [2, N - i - 1, 3]), noise)], 1) as tf.Tensor3D;
    });
    const y2 = layer.forward(x2);
    const prefixDiff = tf.tidy(() => maxAbsDiff(tf.slice(y, [0, 0, 0], [2, i + 1, 3]), tf.slice(y2, [0, 0, 0], [2, i + 1, 3])));
    assert.equal(prefixDiff, 0, `position ≤ ${i} changed when tokens > ${i} changed`);
    // gradient of output row i w.r.t. the input
    const g = tf.grad((xx: tf.Tensor) => tf.sum(tf.slice(layer.forward(xx as tf.Tensor3D), [0, i, 0], [2, 1, 3])))(x);
    const after = tf.tidy(() => tf.max(tf.abs(tf.slice(g, [0, i + 1, 0], [2, N - i - 1, 3]))).dataSync()[0]);
    assert.equal(after, 0, `d y_${i} / d x_j is non-zero for some j > ${i}`);
    const upto = tf.tidy(() => tf.max(tf.abs(tf.slice(g, [0, 0, 0], [2, i + 1, 3]))).dataSync()[0]);
    assert.ok(upto > 0, `d y_${i} / d x_j should be non-zero for j ≤ ${i}`);
    tf.dispose([x2, y2, g]);
  }
  tf.dispose([x, y]);
  layer.dispose();
});

test('causal: masked weight entries get exactly zero gradient and start at zero', () => {
  const N = 5;
  const layer = new CrossToken({ seqLen: N, causal: true }, new Rng(31));
  const w0 = layer.weight.arraySync() as number[][];
  for (let i = 0; i < N; i++) for (let j = i + 1; j < N; j++) assert.ok(w0[i][j] === 0, `w[${i}][${j}] = ${w0[i][j]}`);
  const x = randn([3, N, 4], 32) as tf.Tensor3D;
  const { grads, value } = tf.variableGrads(() => projectLoss(layer.forward(x)), [layer.weight]);
  const g = grads[layer.weight.name].arraySync() as number[][];
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < N; j++) {
      if (j > i) assert.ok(g[i][j] === 0, `grad[${i}][${j}] = ${g[i][j]} must be 0`);
      else assert.notEqual(g[i][j], 0, `grad[${i}][${j}] should be non-zero`);
    }
  }
  tf.dispose([x, value, ...Object.values(grads)]);
  layer.dispose();
});

test('length slicing: L < N uses A[:L, :L] and bias[:L]; L > N is an error naming both', () => {
  for (const causal of [false, true]) {
    const N = 7;
    const L = 4;
    const layer = new CrossToken({ seqLen: N, causal }, new Rng(41));
    tf.tidy(() => layer.bias!.assign(randn([N], 43) as tf.Tensor1D));
    const x = randn([2, L, 3], 42) as tf.Tensor3D;
    const y = layer.forward(x);
    const ref = tf.tidy(() => {
      let A = tf.slice(layer.weight, [0, 0], [L, L]) as tf.Tensor2D;
      if (causal) A = tf.linalg.bandPart(A, -1, 0);
      return reference(x, A, tf.slice(layer.bias!, [0], [L]) as tf.Tensor1D);
    });
    assert.deepEqual(y.shape, [2, L, 3]);
    assert.ok(maxAbsDiff(y, ref) < 1e-5);
    // the first L positions of a full-length batch agree with the short batch when causal
    if (causal) {
      const xf = tf.tidy(() => tf.concat([x, randn([2, N - L, 3], 44)], 1) as tf.Tensor3D);
      const yf = layer.forward(xf);
      const head = tf.slice(yf, [0, 0, 0], [2, L, 3]);
      assert.ok(maxAbsDiff(head, y) < 1e-5);
      tf.dispose([xf, yf, head]);
    }
    const long = tf.zeros([1, N + 1, 3]) as tf.Tensor3D;
    assert.throws(() => layer.forward(long), /input has 8 tokens but the layer was built for at most seqLen=7/);
    tf.dispose([x, y, ref, long]);
    layer.dispose();
  }
});

test('init: xavier-uniform weight in ±√(6/2N), zero bias (timm: no "mlp" in the name)', () => {
  const N = 64;
  const layer = new CrossToken({ seqLen: N }, new Rng(51));
  const w = layer.weight.dataSync();
  const bound = Math.sqrt(6 / (2 * N));
  let sq = 0;
  for (const v of w) {
    assert.ok(Math.abs(v) <= bound);
    sq += v * v;
  }
  const std = Math.sqrt(sq / w.length);
  assert.ok(Math.abs(std - bound / Math.sqrt(3)) < 0.03 * bound, `std ${std}`);
  assert.ok(layer.bias!.dataSync().every((v) => v === 0));
  layer.dispose();
});
