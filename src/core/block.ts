// The ResMLP residual block (arXiv 2105.03404 §2, Eq. 1–3), as timm's `ResBlock`:
//   Z = X + ls1 ⊙ tokens(Aff1(X))          (cross-patch sublayer; tokens = A·(·) + bias, Eq. 1)
//   Y = Z + ls2 ⊙ C·GELU(B·Aff2(Z))         (cross-channel sublayer, Eq. 2)
// with LayerScale vectors ls1, ls2 initialised to `layerScale` and optional drop-path on each branch.
// The token-mixing part is pluggable for the paper's Table 3 ablation ("patch communication"):
//   'linear' — ResMLP's linear layer (`linear_tokens`), optionally causal, with length slicing;
//   'none'   — no token mixing: the block is only the channel sublayer (no norm1/ls1 parameters);
//   'mlp'    — MLP-Mixer's token-mixing MLP (`mlp_tokens`), N → hidden → N with GELU.
// `norm: 'layernorm'` swaps Aff for LayerNorm (timm's Mixer norm, eps 1e-6 by default).
// Parameter names match timm (`norm1.alpha`, `linear_tokens.weight`, `mlp_channels.fc1.weight`,
// `ls1`, ...). Input layout (B, N, d).
import * as tf from '@tensorflow/tfjs';
import { addScaled } from '../backend/fused.js';
import { Affine } from './affine.js';
import { ChannelMlp, TokenMlp } from './channel-mlp.js';
import { CrossToken } from './cross-token.js';
import { DropPath } from './dropout.js';
import { type Resettable } from './init.js';
import { LayerNorm } from './layer-norm.js';
import { checkInt, checkRate, Module, resolveConfig } from './module.js';
import type { RandomSource } from './rng.js';

export type TokenMixing = 'linear' | 'none' | 'mlp';
export type NormKind = 'affine' | 'layernorm';

export interface ResBlockConfig {
  /** Channels d (required). */
  dim: number;
  /** Maximum number of tokens N (required; ignored by tokenMixing 'none'). */
  seqLen: number;
  /** Hidden width of the channel MLP. Default null = mlpRatio·dim. */
  mlpHidden: number | null;
  /** Channel MLP ratio when mlpHidden is null. Default 4 (paper, timm). */
  mlpRatio: number;
  /** Patch communication: 'linear' (ResMLP, default), 'none', or 'mlp' (MLP-Mixer). */
  tokenMixing: TokenMixing;
  /** Hidden width of the token MLP ('mlp' only) as a multiple of dim. Default 0.5 (timm Mixer). */
  tokenMlpRatio: number;
  /** Causal token mixing (decoders): position i never sees j > i. 'linear' only. Default false. */
  causal: boolean;
  /** The sublayer norm: 'affine' (ResMLP's Aff, default) or 'layernorm'. */
  norm: NormKind;
  /** LayerNorm eps when norm is 'layernorm'. Default 1e-6 (timm's Mixer). */
  layerNormEps: number;
  /**
   * LayerScale init value for ls1, ls2 (timm `init_values`). Default 1e-4 (timm's ResBlock default;
   * the paper uses 0.1 for depth 12, 1e-5 for 24, 1e-6 for 36). null = no LayerScale parameters.
   */
  layerScale: number | null;
  /** Dropout inside the MLPs. Default 0. */
  drop: number;
  /** Drop-path (stochastic depth) rate of both residual branches. Default 0. */
  dropPath: number;
}

export const DEFAULT_RES_BLOCK: Omit<ResBlockConfig, 'dim' | 'seqLen'> = {
  mlpHidden: null,
  mlpRatio: 4,
  tokenMixing: 'linear',
  tokenMlpRatio: 0.5,
  causal: false,
  norm: 'affine',
  layerNormEps: 1e-6,
  layerScale: 1e-4,
  drop: 0,
  dropPath: 0,
};

export function resolveResBlockConfig(c: Partial<ResBlockConfig>): ResBlockConfig {
  const where = 'ResBlockConfig';
  const r = resolveConfig(where, DEFAULT_RES_BLOCK as ResBlockConfig, c, ['dim', 'seqLen']);
  checkInt(where, 'dim', r.dim);
  checkInt(where, 'seqLen', r.seqLen);
  if (r.mlpHidden !== null) checkInt(where, 'mlpHidden', r.mlpHidden);
  if (!(r.mlpRatio > 0)) throw new Error(`${where}: 'mlpRatio' must be > 0, got ${r.mlpRatio}`);
  if (!(['linear', 'none', 'mlp'] as const).includes(r.tokenMixing)) {
    throw new Error(`${where}: 'tokenMixing' must be 'linear', 'none' or 'mlp', got ${JSON.stringify(r.tokenMixing)}`);
  }
  if (!(r.tokenMlpRatio > 0)) throw new Error(`${where}: 'tokenMlpRatio' must be > 0, got ${r.tokenMlpRatio}`);
  if (r.causal && r.tokenMixing === 'mlp') {
    throw new Error(`${where}: 'causal' is only supported with tokenMixing 'linear' (or 'none'); got tokenMixing 'mlp'`);
  }
  if (!(['affine', 'layernorm'] as const).includes(r.norm)) {
    throw new Error(`${where}: 'norm' must be 'affine' or 'layernorm', got ${JSON.stringify(r.norm)}`);
  }
  if (!(r.layerNormEps > 0)) throw new Error(`${where}: 'layerNormEps' must be > 0, got ${r.layerNormEps}`);
  if (r.layerScale !== null && !Number.isFinite(r.layerScale)) {
    throw new Error(`${where}: 'layerScale' must be a finite number or null, got ${r.layerScale}`);
  }
  checkRate(where, 'drop', r.drop);
  checkRate(where, 'dropPath', r.dropPath);
  return r;
}

type Norm = Affine | LayerNorm;

/**
 * A residual connection with LayerScale: x + ls ⊙ branch (x + branch when ls is null). Drop-path
 * and dropout masks commute with the per-channel scale, so callers apply them to the branch
 * before it is scaled here (one fused kernel each way on the native backend).
 */
export function addBranch<T extends tf.Tensor>(x: T, branch: tf.Tensor, ls: tf.Tensor | null): T {
  return ls ? addScaled(x, branch, ls) : (tf.add(x, branch) as T);
}

function makeNorm(c: ResBlockConfig): Norm {
  return c.norm === 'affine' ? new Affine(c.dim) : new LayerNorm({ dim: c.dim, eps: c.layerNormEps });
}

export class ResBlock extends Module implements Resettable {
  readonly config: ResBlockConfig;
  readonly ls1: tf.Variable | null = null;
  readonly ls2: tf.Variable | null = null;
  readonly norm1: Norm | null = null;
  readonly tokens: CrossToken | TokenMlp | null = null;
  readonly norm2: Norm;
  readonly mlp: ChannelMlp;
  private readonly dropPath: DropPath;

  constructor(config: Partial<ResBlockConfig>, rng: RandomSource) {
    super();
    const c = (this.config = resolveResBlockConfig(config));
    // own parameters first, as PyTorch lists them (ls1, ls2 before the children)
    if (c.layerScale !== null) {
      if (c.tokenMixing !== 'none') this.ls1 = this.registerParameter('ls1', tf.fill([c.dim], c.layerScale));
      this.ls2 = this.registerParameter('ls2', tf.fill([c.dim], c.layerScale));
    }
    if (c.tokenMixing !== 'none') {
      this.norm1 = this.registerModule('norm1', makeNorm(c));
      this.tokens =
        c.tokenMixing === 'linear'
          ? this.registerModule('linear_tokens', new CrossToken({ seqLen: c.seqLen, causal: c.causal }, rng))
          : this.registerModule(
              'mlp_tokens',
              new TokenMlp({ seqLen: c.seqLen, hidden: Math.max(1, Math.floor(c.tokenMlpRatio * c.dim)), drop: c.drop }, rng),
            );
    }
    this.norm2 = this.registerModule('norm2', makeNorm(c));
    const hidden = c.mlpHidden ?? Math.floor(c.mlpRatio * c.dim);
    this.mlp = this.registerModule('mlp_channels', new ChannelMlp({ dim: c.dim, hidden, drop: c.drop }, rng));
    this.dropPath = this.registerModule('drop_path', new DropPath(c.dropPath, rng.fork('drop_path')));
  }

  /** Resets LayerScale to its init value (children reset themselves via init.resetParameters). */
  resetParameters(): void {
    const v = this.config.layerScale;
    if (v === null) return;
    tf.tidy(() => {
      for (const ls of [this.ls1, this.ls2]) if (ls) ls.assign(tf.fill(ls.shape, v));
    });
  }

  /** x (B, L, d), L ≤ seqLen → (B, L, d). */
  forward(x: tf.Tensor3D): tf.Tensor3D {
    if (x.rank !== 3 || x.shape[2] !== this.config.dim) {
      throw new Error(`ResBlock: expected input (B, L, ${this.config.dim}), got shape [${x.shape}]`);
    }
    return tf.tidy(() => {
      let z: tf.Tensor3D = x;
      if (this.tokens && this.norm1) {
        const t = this.tokens.forward(this.norm1.forward(x)); // (B, L, d)
        z = addBranch(x, this.dropPath.forward(t), this.ls1);
      }
      const m = this.mlp.forward(this.norm2.forward(z)); // (B, L, d)
      return addBranch(z, this.dropPath.forward(m), this.ls2);
    });
  }
}
