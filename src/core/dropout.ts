// Dropout (inverted: kept values scaled by 1/(1-p), as torch.nn.Dropout) and DropPath (stochastic
// depth, timm's `drop_path`: a whole sample's residual branch is dropped with probability p and the
// kept ones scaled by 1/(1-p)). Both are active only in training mode and are seeded: each module
// owns a generator and draws a fresh mask seed per call, so a run is reproducible from its seed.
import type * as tf from '@tensorflow/tfjs';
import { Module } from './module.js';
import { checkRate } from '../util/config.js';
import type { RandomSource } from './rng.js';
import { dropout } from '../backend/fused.js';

export class Dropout extends Module {
  constructor(
    readonly rate: number,
    private readonly rng: RandomSource,
  ) {
    super();
    checkRate(this.constructor.name, 'rate', rate);
  }

  /** Identity in eval mode or when rate is 0; otherwise x ⊙ mask / (1 - rate). */
  forward<T extends tf.Tensor>(x: T): T {
    if (!this.training || this.rate === 0) return x;
    return dropout(x, this.rate, this.rng.next(), this.noiseShape(x));
  }

  /** The shape of the mask, broadcast over x; undefined: x's own (one draw per element). */
  protected noiseShape(_x: tf.Tensor): number[] | undefined {
    return undefined;
  }
}

/** Dropout of whole samples: x (B, ...), each sample's branch kept with probability 1 - rate, scaled by 1/(1 - rate). */
export class DropPath extends Dropout {
  protected override noiseShape(x: tf.Tensor): number[] {
    return [x.shape[0], ...x.shape.slice(1).map(() => 1)]; // (B, 1, ..., 1)
  }
}
