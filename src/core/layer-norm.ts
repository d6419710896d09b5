// LayerNorm over the last axis, as torch.nn.LayerNorm(d): (x - mean) / √(var + eps) · weight + bias,
// biased variance. Used where a config says `norm: "layernorm"` (MLP-Mixer's norm, and the usual
// pre-norm of translation models); ResMLP itself uses Affine (affine.ts). Parameters `weight`,
// `bias` of shape (d) as PyTorch.
import * as tf from '@tensorflow/tfjs';
import type { Resettable } from './init.js';
import { Module } from './module.js';
import { checkInt, resolveConfig } from '../util/config.js';

export interface LayerNormConfig {
  /** Normalised (last-axis) size (required). */
  dim: number;
  /** Added to the variance. Default 1e-5 (PyTorch); timm's Mixer uses 1e-6. */
  eps: number;
}

export const DEFAULT_LAYER_NORM: Omit<LayerNormConfig, 'dim'> = { eps: 1e-5 };

export function resolveLayerNormConfig(c: Partial<LayerNormConfig>): LayerNormConfig {
  const r = resolveConfig('LayerNormConfig', DEFAULT_LAYER_NORM as LayerNormConfig, c, ['dim']);
  checkInt('LayerNormConfig', 'dim', r.dim);
  if (!(r.eps > 0)) throw new Error(`LayerNormConfig: 'eps' must be > 0, got ${r.eps}`);
  return r;
}

export class LayerNorm extends Module implements Resettable {
  readonly config: LayerNormConfig;
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(config: Partial<LayerNormConfig>) {
    super();
    this.config = resolveLayerNormConfig(config);
    this.weight = this.registerParameter('weight', tf.ones([this.config.dim]));
    this.bias = this.registerParameter('bias', tf.zeros([this.config.dim]));
  }

  resetParameters(): void {
    tf.tidy(() => {
      this.weight.assign(tf.onesLike(this.weight));
      this.bias.assign(tf.zerosLike(this.bias));
    });
  }

  /** x (..., d) → (..., d). */
  forward<T extends tf.Tensor>(x: T): T {
    return tf.tidy(() => {
      const axis = x.rank - 1;
      const mean = tf.mean(x, axis, true); // (..., 1)
      const xc = tf.sub(x, mean);
      const variance = tf.mean(tf.square(xc), axis, true); // (..., 1)
      const xhat = tf.mul(xc, tf.rsqrt(tf.add(variance, this.config.eps)));
      return tf.add(tf.mul(xhat, this.weight), this.bias) as T;
    });
  }
}
