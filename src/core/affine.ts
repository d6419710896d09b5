// Aff, ResMLP's per-channel affine "norm" (arXiv 2105.03404 §2, Eq. 1–3): Aff(x) = α ⊙ x + β,
// α = 1, β = 0 at init. As timm's `Affine` (mlp_mixer.py): parameters `alpha`, `beta` of shape
// (1, 1, d), forward `addcmul(beta, alpha, x)`. Unlike LayerNorm it uses no batch or token
// statistics, so it can be folded into the adjacent linear layer at inference.
import * as tf from '@tensorflow/tfjs';
import { scaleShift } from '../backend/fused.js';
import type { Resettable } from './init.js';
import { Module } from './module.js';
import { checkInt } from '../util/config.js';

export class Affine extends Module implements Resettable {
  readonly alpha: tf.Variable;
  readonly beta: tf.Variable;

  constructor(readonly dim: number) {
    super();
    checkInt('Affine', 'dim', dim);
    this.alpha = this.registerParameter('alpha', tf.ones([1, 1, dim]));
    this.beta = this.registerParameter('beta', tf.zeros([1, 1, dim]));
  }

  resetParameters(): void {
    tf.tidy(() => {
      this.alpha.assign(tf.onesLike(this.alpha));
      this.beta.assign(tf.zerosLike(this.beta));
    });
  }

  /** x (B, N, d) → (B, N, d); other ranks (..., d) are accepted too. */
  forward<T extends tf.Tensor>(x: T): T {
    const d = this.dim;
    if (x.shape[x.rank - 1] !== d) throw new Error(`Affine: expected last dim ${d}, got input shape [${x.shape}]`);
    return scaleShift(x, this.alpha, this.beta); // one kernel each way on the native backend
  }
}
