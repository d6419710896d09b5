// Gradient checking for tests: analytic gradients (tf.variableGrads) against central finite
// differences on a few random coordinates of each variable. float32 throughout, so the step is
// large-ish (1e-2) and the tolerance is relative + absolute.
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { Rng } from '../../src/util/rng.js';

export interface GradCheckOptions {
  /** Coordinates probed per variable. Default 4. */
  coords?: number;
  /** Finite-difference step. Default 1e-2. */
  h?: number;
  /** Pass if |analytic − numeric| ≤ atol + rtol·max(|analytic|, |numeric|). Defaults 2e-3, 3e-2. */
  atol?: number;
  rtol?: number;
  seed?: number;
}

/**
 * Checks d f / d v for every v in `vars` (f must return a scalar and may be called many times).
 * Returns the number of coordinates compared.
 */
export function checkGradients(f: () => tf.Scalar, vars: tf.Variable[], opts: GradCheckOptions = {}): number {
  const { coords = 4, h = 1e-2, atol = 2e-3, rtol = 3e-2, seed = 7 } = opts;
  const rng = new Rng(seed);
  const { value, grads } = tf.variableGrads(f, vars);
  value.dispose();
  let compared = 0;
  for (const v of vars) {
    const g = grads[v.name];
    assert.ok(g, `no gradient for variable ${v.name} [${v.shape}]`);
    const analytic = g.dataSync();
    const base = v.dataSync().slice();
    const evalAt = (i: number, x: number): number => {
      const buf = base.slice();
      buf[i] = x;
      const t = tf.tensor(buf, v.shape);
      v.assign(t);
      t.dispose();
      const y = tf.tidy(f);
      const out = y.dataSync()[0];
      y.dispose();
      return out;
    };
    for (let k = 0; k < Math.min(coords, v.size); k++) {
      const i = Math.floor(rng.uniform() * v.size);
      const numeric = (evalAt(i, base[i] + h) - evalAt(i, base[i] - h)) / (2 * h);
      const a = analytic[i];
      const tol = atol + rtol * Math.max(Math.abs(a), Math.abs(numeric));
      assert.ok(Math.abs(a - numeric) <= tol, `gradient mismatch for [${v.shape}] at flat index ${i}: analytic ${a}, numeric ${numeric}`);
      compared++;
    }
    const t = tf.tensor(base, v.shape);
    v.assign(t);
    t.dispose();
  }
  tf.dispose(Object.values(grads));
  return compared;
}

/** A fixed random tensor with values N(0, std) from `seed` (deterministic on every backend). */
export function randn(shape: number[], seed: number, std = 1): tf.Tensor {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const buf = new Float32Array(n);
  for (let i = 0; i < n; i++) buf[i] = rng.normal(0, std);
  return tf.tensor(buf, shape);
}

/** Max |a − b| over all elements. */
export function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  assert.deepEqual(a.shape, b.shape, `shape mismatch [${a.shape}] vs [${b.shape}]`);
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

/** A scalar loss Σ out ⊙ R with a fixed random R: makes every output coordinate matter. */
export function projectLoss(out: tf.Tensor, seed = 99): tf.Scalar {
  return tf.tidy(() => {
    const r = randn(out.shape, seed);
    return tf.sum(tf.mul(out, r)) as tf.Scalar;
  });
}
