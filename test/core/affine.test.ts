// Affine (ResMLP's Aff): init, values, broadcasting over (B, N, d) and (M, d), gradients.
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { Affine } from '../../src/core/affine.js';
import { useTestBackend } from '../helpers/backend.js';
import { checkGradients, maxAbsDiff, projectLoss, randn } from '../helpers/grad-check.js';

before(async () => {
  await useTestBackend();
});

test('init is the identity: alpha ones (1, 1, d), beta zeros (1, 1, d)', () => {
  const aff = new Affine(4);
  assert.deepEqual(aff.alpha.shape, [1, 1, 4]);
  assert.deepEqual(aff.beta.shape, [1, 1, 4]);
  const x = randn([2, 3, 4], 1);
  const y = aff.forward(x);
  assert.equal(maxAbsDiff(x, y), 0);
  tf.dispose([x, y]);
  aff.dispose();
});

test('forward is alpha ⊙ x + beta per channel, for rank 3 and rank 2 inputs', () => {
  const aff = new Affine(3);
  tf.tidy(() => {
    aff.alpha.assign(tf.tensor3d([[[2, -1, 0.5]]]));
    aff.beta.assign(tf.tensor3d([[[1, 0, -3]]]));
  });
  const y3 = aff.forward(tf.tensor3d([[[1, 2, 4]], [[0, 0, 0]]]));
  assert.deepEqual(y3.arraySync(), [[[3, -2, -1]], [[1, 0, -3]]]);
  const y2 = aff.forward(tf.tensor2d([[1, 2, 4]]));
  assert.deepEqual(y2.arraySync(), [[3, -2, -1]]);
  assert.throws(() => aff.forward(tf.zeros([2, 4])), /expected last dim 3/);
  aff.dispose();
});

test('gradients w.r.t. x, alpha, beta match finite differences', () => {
  const aff = new Affine(3);
  tf.tidy(() => aff.alpha.assign(randn([1, 1, 3], 5) as tf.Tensor3D));
  const x = tf.variable(randn([2, 4, 3], 6));
  checkGradients(() => projectLoss(aff.forward(x)), [x, aff.alpha, aff.beta]);
  x.dispose();
  aff.dispose();
});
