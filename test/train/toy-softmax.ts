// The toy task of the training-loop tests (loop.test.ts, distributed/rank-worker.ts): softmax
// regression, 3 features → 2 classes, fixed starting weights; a batch is 4 examples drawn from
// a seeded Rng, so batch (e, i) is a pure function of its seed key.
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../src/util/rng.js';

/** The toy model: fc.weight (3, 2) with fixed values, fc.bias (2) zero. */
export function toyWeights(): { w: tf.Variable; b: tf.Variable; params: Map<string, tf.Variable> } {
  const w = tf.variable(
    tf.tensor2d([
      [0.1, -0.2],
      [0.05, 0.3],
      [-0.1, 0.2],
    ]),
    true,
  );
  const b = tf.variable(tf.zeros([2]), true);
  return {
    w,
    b,
    params: new Map<string, tf.Variable>([
      ['fc.weight', w],
      ['fc.bias', b],
    ]),
  };
}

/** 4 examples of 3 N(0, 1) features from `r`; class 1 where the first two features sum above 0. */
export function toyBatch(r: Rng): { x: tf.Tensor2D; y: tf.Tensor1D } {
  const xs = Array.from({ length: 12 }, () => r.normal());
  const ys = Array.from({ length: 4 }, (_, k) => (xs[k * 3]! + xs[k * 3 + 1]! > 0 ? 1 : 0));
  return { x: tf.tensor2d(xs, [4, 3]), y: tf.tensor1d(ys, 'int32') };
}
