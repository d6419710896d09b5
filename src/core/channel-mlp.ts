// ResMLP's feed-forward sublayer (arXiv 2105.03404 §2, Eq. 2): C · GELU(B · x) over the channel
// axis, independently per token. As timm's `Mlp` used as `mlp_channels`: fc1 (d → hidden, default
// 4d), exact GELU, dropout, fc2 (hidden → d), dropout. Biases N(0, 1e-6) as timm's init for modules
// named '*mlp*'. Also `TokenMlp`: MLP-Mixer's token-mixing MLP (N → hidden → N over the token axis),
// the `mlp` patch-communication variant of the paper's Table 3 ablation.
import * as tf from '@tensorflow/tfjs';
import { gelu } from '../backend/fused.js';
import { tokenMix } from './cross-token.js';
import { Dropout } from './dropout.js';
import { MLP_BIAS_INIT } from './init.js';
import { Linear } from './linear.js';
import { Module } from './module.js';
import { checkInt, checkRate, resolveConfig } from '../util/config.js';
import type { RandomSource } from './rng.js';

export interface ChannelMlpConfig {
  /** Input and output channels d (required). */
  dim: number;
  /** Hidden width. Default null = 4·dim (timm's mlp_ratio 4). */
  hidden: number | null;
  /** Dropout after GELU and after fc2 (timm's `drop`). Default 0. */
  drop: number;
}

export const DEFAULT_CHANNEL_MLP: Omit<ChannelMlpConfig, 'dim'> = { hidden: null, drop: 0 };

export function resolveChannelMlpConfig(c: Partial<ChannelMlpConfig>): ChannelMlpConfig {
  const r = resolveConfig('ChannelMlpConfig', DEFAULT_CHANNEL_MLP as ChannelMlpConfig, c, ['dim']);
  checkInt('ChannelMlpConfig', 'dim', r.dim);
  if (r.hidden !== null) checkInt('ChannelMlpConfig', 'hidden', r.hidden);
  checkRate('ChannelMlpConfig', 'drop', r.drop);
  return r;
}

/**
 * The layers both MLPs share, as timm's `Mlp`: fc1 (width → hidden), dropout drop1, fc2 (hidden →
 * width), dropout drop2, biases MLP_BIAS_INIT. Subclasses say along which axis they apply.
 */
abstract class TwoLayerMlp extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;
  protected readonly drop1: Dropout;
  protected readonly drop2: Dropout;

  constructor(width: number, hidden: number, drop: number, rng: RandomSource) {
    super();
    this.fc1 = this.registerModule('fc1', new Linear({ inFeatures: width, outFeatures: hidden, biasInit: MLP_BIAS_INIT }, rng));
    this.fc2 = this.registerModule('fc2', new Linear({ inFeatures: hidden, outFeatures: width, biasInit: MLP_BIAS_INIT }, rng));
    this.drop1 = this.registerModule('drop1', new Dropout(drop, rng.fork('drop1')));
    this.drop2 = this.registerModule('drop2', new Dropout(drop, rng.fork('drop2')));
  }
}

export class ChannelMlp extends TwoLayerMlp {
  readonly config: ChannelMlpConfig;

  constructor(config: Partial<ChannelMlpConfig>, rng: RandomSource) {
    const c = resolveChannelMlpConfig(config);
    super(c.dim, c.hidden ?? 4 * c.dim, c.drop, rng);
    this.config = c;
  }

  /** x (..., d) → (..., d). */
  forward<T extends tf.Tensor>(x: T): T {
    return tf.tidy(() => {
      const d = this.config.dim;
      const x2 = x.rank === 2 ? x : tf.reshape(x, [-1, d]); // (M, d): one reshape for both linears
      const h = this.drop1.forward(this.fc1.forward(x2, 'gelu')); // (M, hidden)
      const y = this.drop2.forward(this.fc2.forward(h)); // (M, d)
      return (x.rank === 2 ? y : tf.reshape(y, x.shape)) as T;
    });
  }
}

export interface TokenMlpConfig {
  /** Maximum number of tokens N (required). */
  seqLen: number;
  /** Hidden width of the token MLP (required; timm's Mixer uses 0.5·d). */
  hidden: number;
  /** Dropout after GELU and after fc2. Default 0. */
  drop: number;
}

export const DEFAULT_TOKEN_MLP: Omit<TokenMlpConfig, 'seqLen' | 'hidden'> = { drop: 0 };

export function resolveTokenMlpConfig(c: Partial<TokenMlpConfig>): TokenMlpConfig {
  const r = resolveConfig('TokenMlpConfig', DEFAULT_TOKEN_MLP as TokenMlpConfig, c, ['seqLen', 'hidden']);
  checkInt('TokenMlpConfig', 'seqLen', r.seqLen);
  checkInt('TokenMlpConfig', 'hidden', r.hidden);
  checkRate('TokenMlpConfig', 'drop', r.drop);
  return r;
}

/**
 * MLP-Mixer token mixing (timm's MixerBlock `mlp_tokens`): fc1 weight (hidden, N), fc2 weight
 * (N, hidden), applied along the token axis without transposes (tokenMix). A batch of length L < N
 * uses fc1.weight[:, :L] and fc2.weight[:L], fc2.bias[:L]. Not causal.
 */
export class TokenMlp extends TwoLayerMlp {
  readonly config: TokenMlpConfig;

  constructor(config: Partial<TokenMlpConfig>, rng: RandomSource) {
    const c = resolveTokenMlpConfig(config);
    super(c.seqLen, c.hidden, c.drop, rng);
    this.config = c;
  }

  /** x (B, L, d), L ≤ N → (B, L, d). */
  forward(x: tf.Tensor3D): tf.Tensor3D {
    const N = this.config.seqLen;
    const L = x.shape[1];
    if (L > N) throw new Error(`TokenMlp: input has ${L} tokens but the layer was built for at most seqLen=${N}`);
    return tf.tidy(() => {
      const H = this.config.hidden;
      const w1 = (L < N ? tf.slice(this.fc1.weight, [0, 0], [H, L]) : this.fc1.weight) as tf.Tensor2D; // (H, L)
      const w2 = (L < N ? tf.slice(this.fc2.weight, [0, 0], [L, H]) : this.fc2.weight) as tf.Tensor2D; // (L, H)
      const b2 = (L < N ? tf.slice(this.fc2.bias!, [0], [L]) : this.fc2.bias!) as tf.Tensor1D; // (L)
      const h = this.drop1.forward(gelu(tokenMix(x, w1, this.fc1.bias as tf.Tensor1D))); // (B, H, d)
      return this.drop2.forward(tokenMix(h, w2, b2)); // (B, L, d)
    });
  }
}
