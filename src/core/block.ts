// The ResMLP residual block (arXiv 2105.03404 §2, Eq. 1–3), as timm's `ResBlock` with its layers
// passed in (timm's habit: `mlp_layer`, `norm_layer`), so the vision blocks and the translation
// encoder and decoder layers are one class:
//   h = x + ls1 ⊙ tokens(norm1(x))             (token mixing; for ResMLP tokens = A·(·) + bias, Eq. 1)
//   h = h + ls_<tag> ⊙ extra(norm_<tag>(h))    (extra sublayers, in order: the decoder's cross-attention)
//   y = h + ls2 ⊙ C·GELU(B·norm2(h))           (channel MLP, Eq. 2)
// LayerScale vectors start at `layerScale` (null = none). Each branch may pass through drop-path
// (timm's stochastic depth), and the token and extra branches through dropout (fairseq's residual
// dropout; the channel MLP drops its own output after fc2).
// The token mixer is chosen in ONE place, `makeTokenMixer`, from `tokenMixing`: the paper's
// patch-communication variants (Table 3) and the Transformer baseline's attention (Table 5):
//   'linear'    — ResMLP's cross-token linear (`linear_tokens`), optionally causal, length slicing;
//   'mlp'       — MLP-Mixer's token-mixing MLP (`mlp_tokens`), N → hidden → N with GELU;
//   'attention' — multi-head self-attention (`self_attn`), optionally causal;
//   'none'      — no token mixing: only the channel sublayer (no norm1/ls1 parameters).
// Norms come from `makeNorm`: Aff (ResMLP, default) or LayerNorm. Parameter names match timm and
// fairseq (`ls1`, `norm1.alpha`, `linear_tokens.weight`, `ls_cross`, `mlp_channels.fc1.weight`, ...).
// Layout (B, L, d). Causal mixers also decode one position at a time (`step`).
import * as tf from '@tensorflow/tfjs';
import { addScaled } from '../backend/fused.js';
import { Affine } from './affine.js';
import { type KeysValues, SelfAttention } from './attention.js';
import { ChannelMlp, TokenMlp } from './channel-mlp.js';
import { CrossToken } from './cross-token.js';
import { type Dropout, DropPath } from './dropout.js';
import type { Resettable } from './init.js';
import { LayerNorm } from './layer-norm.js';
import { Module } from './module.js';
import { checkInt, checkRate, resolveConfig } from '../util/config.js';
import type { RandomSource } from './rng.js';

export type TokenMixing = 'linear' | 'none' | 'mlp' | 'attention';
export type NormKind = 'affine' | 'layernorm';
export type Norm = Affine | LayerNorm;

export interface ResBlockConfig {
  /** Channels d (required). */
  dim: number;
  /** Maximum number of tokens N (required; read by 'linear' and 'mlp'). */
  seqLen: number;
  /** Hidden width of the channel MLP. Default null = mlpRatio·dim. */
  mlpHidden: number | null;
  /** Channel MLP ratio when mlpHidden is null. Default 4 (paper, timm). */
  mlpRatio: number;
  /** Token mixer: 'linear' (ResMLP, default), 'none', 'mlp' (MLP-Mixer) or 'attention' (Transformer). */
  tokenMixing: TokenMixing;
  /** Hidden width of the token MLP ('mlp' only) as a multiple of dim. Default 0.5 (timm Mixer). */
  tokenMlpRatio: number;
  /** Causal token mixing (decoders): position i never sees j > i. 'linear' and 'attention'. Default false. */
  causal: boolean;
  /** Attention heads ('attention' only; must divide dim). Default 1. */
  heads: number;
  /** Dropout on the attention weights ('attention' only). Default 0. */
  attentionDropout: number;
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
  heads: 1,
  attentionDropout: 0,
  norm: 'affine',
  layerNormEps: 1e-6,
  layerScale: 1e-4,
  drop: 0,
  dropPath: 0,
};

const TOKEN_MIXINGS: readonly TokenMixing[] = ['linear', 'none', 'mlp', 'attention'];

export function resolveResBlockConfig(c: Partial<ResBlockConfig>): ResBlockConfig {
  const where = 'ResBlockConfig';
  const r = resolveConfig(where, DEFAULT_RES_BLOCK as ResBlockConfig, c, ['dim', 'seqLen']);
  checkInt(where, 'dim', r.dim);
  checkInt(where, 'seqLen', r.seqLen);
  if (r.mlpHidden !== null) checkInt(where, 'mlpHidden', r.mlpHidden);
  if (!(r.mlpRatio > 0)) throw new Error(`${where}: 'mlpRatio' must be > 0, got ${r.mlpRatio}`);
  if (!TOKEN_MIXINGS.includes(r.tokenMixing)) {
    throw new Error(`${where}: 'tokenMixing' must be 'linear', 'none', 'mlp' or 'attention', got ${JSON.stringify(r.tokenMixing)}`);
  }
  if (!(r.tokenMlpRatio > 0)) throw new Error(`${where}: 'tokenMlpRatio' must be > 0, got ${r.tokenMlpRatio}`);
  if (r.causal && r.tokenMixing === 'mlp') {
    throw new Error(`${where}: 'causal' is only supported with tokenMixing 'linear' or 'attention' (or 'none'); got tokenMixing 'mlp'`);
  }
  checkInt(where, 'heads', r.heads);
  if (r.tokenMixing === 'attention' && r.dim % r.heads !== 0)
    throw new Error(`${where}: 'dim' ${r.dim} must be divisible by 'heads' ${r.heads}`);
  checkRate(where, 'attentionDropout', r.attentionDropout);
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

/**
 * A residual connection with LayerScale: x + ls ⊙ branch (x + branch when ls is null). Drop-path
 * and dropout masks commute with the per-channel scale, so callers apply them to the branch
 * before it is scaled here (one fused kernel each way on the native backend).
 */
export function addBranch<T extends tf.Tensor>(x: T, branch: tf.Tensor, ls: tf.Tensor | null): T {
  return ls ? addScaled(x, branch, ls) : (tf.add(x, branch) as T);
}

/** The sublayer norm of a config (timm's norm_layer): Aff, or LayerNorm with `layerNormEps`. */
export function makeNorm(c: Pick<ResBlockConfig, 'norm' | 'dim' | 'layerNormEps'>): Norm {
  return c.norm === 'affine' ? new Affine(c.dim) : new LayerNorm({ dim: c.dim, eps: c.layerNormEps });
}

/** The channel MLP of a config: d → mlpHidden (or mlpRatio·d) → d, dropout `drop`. */
export function makeChannelMlp(c: Pick<ResBlockConfig, 'dim' | 'mlpHidden' | 'mlpRatio' | 'drop'>, rng: RandomSource): ChannelMlp {
  return new ChannelMlp({ dim: c.dim, hidden: c.mlpHidden ?? Math.floor(c.mlpRatio * c.dim), drop: c.drop }, rng);
}

/**
 * What a block's sublayers may read besides their input. Subtypes add what their extra sublayers
 * need (the decoder's CrossAttentionContext).
 */
export interface BlockContext {
  /** (B, L, d): 1 = token, 0 = padding; zeroes padded positions of the token mixer's input. */
  mask?: tf.Tensor3D | null;
  /** Attention bias broadcastable to (B, H, L, L) (source padding), read by self-attention. */
  bias?: tf.Tensor4D | null;
}

/** A sublayer: its normalised input (B, L, d) → (B, L, d). */
export interface Sublayer<C = BlockContext> extends Module {
  forward(x: tf.Tensor3D, ctx: C): tf.Tensor3D;
}

/** The cache a causal mixer keeps of past positions: its inputs (R, t, d), or attention keys/values. */
export type MixerCache = tf.Tensor3D | KeysValues;

/**
 * Position(s) of an incremental step: one t for every row, or each row's own position (step-level
 * batching: rows that joined at different steps). With per-row positions the cache is
 * right-aligned: row r's positions 0 … t_r are its last t_r + 1 entries, what lies before them is
 * padding, and the cache returned is trimmed to the longest row.
 */
export type StepPositions = number | Int32Array;

/** A token mixer (the context is optional: most mixers read none). Causal mixers also decode one position t at a time from a cache of positions < t. */
export interface TokenMixer<C = BlockContext> extends Sublayer<C> {
  forward(x: tf.Tensor3D, ctx?: C): tf.Tensor3D;
  step?(x: tf.Tensor3D, cache: MixerCache | null, t: StepPositions): { y: tf.Tensor3D; cache: MixerCache };
}

/** A layer with the name it has in state dicts. */
export interface Named<L> {
  name: string;
  layer: L;
}

/**
 * The token mixer `tokenMixing` asks for, under its state-dict name; null for 'none'. The one
 * place a mixer is chosen (the translation model's `arch` maps onto `tokenMixing`).
 */
export function makeTokenMixer(c: ResBlockConfig, rng: RandomSource): Named<TokenMixer> | null {
  switch (c.tokenMixing) {
    case 'none':
      return null;
    case 'linear':
      return { name: 'linear_tokens', layer: new CrossToken({ seqLen: c.seqLen, causal: c.causal }, rng) };
    case 'mlp': {
      const hidden = Math.max(1, Math.floor(c.tokenMlpRatio * c.dim));
      return { name: 'mlp_tokens', layer: new TokenMlp({ seqLen: c.seqLen, hidden, drop: c.drop }, rng) };
    }
    case 'attention':
      return {
        name: 'self_attn',
        layer: new SelfAttention({ dim: c.dim, heads: c.heads, dropout: c.attentionDropout, causal: c.causal }, rng),
      };
    default: {
      const never: never = c.tokenMixing;
      throw new Error(`makeTokenMixer: unknown tokenMixing ${JSON.stringify(never)}`);
    }
  }
}

/** The layers a block is made of (built by the caller, in init order: tokens, extras, mlp). */
export interface ResBlockLayers<C extends BlockContext, X extends Sublayer<C>> {
  /** Channels d. */
  dim: number;
  /** LayerScale init of every branch (timm `init_values`); null = no LayerScale parameters. */
  layerScale: number | null;
  /** Makes the pre-norm of each sublayer (timm's norm_layer), e.g. () => makeNorm(config). */
  norm: () => Norm;
  /** The token mixer under its state-dict name (makeTokenMixer), or null for no token mixing. */
  tokens: Named<TokenMixer<C>> | null;
  /** Sublayers between the token mixer and the MLP, each with its own `norm_<tag>` and `ls_<tag>`. */
  extras?: readonly (Named<X> & { tag: string })[];
  /** The channel MLP (`mlp_channels`). */
  mlp: ChannelMlp;
  /** Drop-path of every branch (`drop_path`). */
  dropPath?: DropPath | null;
  /** Dropout of the token and extra branches (`drop`); the channel MLP drops its own output. */
  dropout?: Dropout | null;
}

/** An extra sublayer as the block holds it. */
export interface ExtraBranch<X> {
  readonly tag: string;
  readonly ls: tf.Variable | null;
  readonly norm: Norm;
  readonly layer: X;
}

export class ResBlock<C extends BlockContext = BlockContext, X extends Sublayer<C> = Sublayer<C>> extends Module implements Resettable {
  readonly dim: number;
  readonly layerScale: number | null;
  readonly ls1: tf.Variable | null = null;
  readonly ls2: tf.Variable | null = null;
  readonly norm1: Norm | null = null;
  readonly tokens: TokenMixer<C> | null = null;
  readonly extras: readonly ExtraBranch<X>[];
  readonly norm2: Norm;
  readonly mlp: ChannelMlp;
  readonly dropPath: DropPath | null;
  readonly dropout: Dropout | null;

  /** The config-built block (vision, the ablations): mixer, MLP and norms from `config`, drop-path. */
  static fromConfig(config: Partial<ResBlockConfig>, rng: RandomSource): ResBlock {
    const c = resolveResBlockConfig(config);
    const tokens = makeTokenMixer(c, rng);
    const mlp = makeChannelMlp(c, rng);
    return new ResBlock({
      dim: c.dim,
      layerScale: c.layerScale,
      norm: () => makeNorm(c),
      tokens,
      mlp,
      dropPath: new DropPath(c.dropPath, rng.fork('drop_path')),
    });
  }

  constructor(layers: ResBlockLayers<C, X>) {
    super();
    const { dim, layerScale, tokens } = layers;
    checkInt('ResBlock', 'dim', dim);
    this.dim = dim;
    this.layerScale = layerScale;
    const extras = layers.extras ?? [];
    // own parameters first, as PyTorch lists them (ls1, ls_<tag>, ls2 before the children)
    const ls = (name: string) => (layerScale === null ? null : this.registerParameter(name, tf.fill([dim], layerScale)));
    if (tokens) this.ls1 = ls('ls1');
    const extraLs = extras.map((e) => ls(`ls_${e.tag}`));
    this.ls2 = ls('ls2');
    if (tokens) {
      this.norm1 = this.registerModule('norm1', layers.norm());
      this.tokens = this.registerModule(tokens.name, tokens.layer);
    }
    this.extras = extras.map((e, i) => ({
      tag: e.tag,
      ls: extraLs[i]!,
      norm: this.registerModule(`norm_${e.tag}`, layers.norm()),
      layer: this.registerModule(e.name, e.layer),
    }));
    this.norm2 = this.registerModule('norm2', layers.norm());
    this.mlp = this.registerModule('mlp_channels', layers.mlp);
    this.dropPath = layers.dropPath ? this.registerModule('drop_path', layers.dropPath) : null;
    this.dropout = layers.dropout ? this.registerModule('drop', layers.dropout) : null;
  }

  /** Resets LayerScale to its init value (children reset themselves via init.resetParameters). */
  resetParameters(): void {
    const v = this.layerScale;
    if (v === null) return;
    tf.tidy(() => {
      for (const ls of [this.ls1, ...this.extras.map((e) => e.ls), this.ls2]) if (ls) ls.assign(tf.fill(ls.shape, v));
    });
  }

  /** x + ls ⊙ branch, the branch through dropout (token and extra branches) and drop-path. */
  private residual(x: tf.Tensor3D, branch: tf.Tensor3D, ls: tf.Tensor | null, dropout: boolean): tf.Tensor3D {
    let b = branch;
    if (dropout && this.dropout) b = this.dropout.forward(b);
    if (this.dropPath) b = this.dropPath.forward(b);
    return addBranch(x, b, ls);
  }

  /** The extra sublayers and the channel MLP on h (B, L, d). */
  private tail(h: tf.Tensor3D, ctx: C): tf.Tensor3D {
    for (const e of this.extras) h = this.residual(h, e.layer.forward(e.norm.forward(h), ctx), e.ls, true); // (B, L, d)
    return this.residual(h, this.mlp.forward(this.norm2.forward(h)), this.ls2, false); // (B, L, d)
  }

  /** x (B, L, d), L ≤ seqLen → (B, L, d). `ctx`: padding mask, attention bias, what extras read. */
  forward(x: tf.Tensor3D, ctx: C = {} as C): tf.Tensor3D {
    if (x.rank !== 3 || x.shape[2] !== this.dim) {
      throw new Error(`ResBlock: expected input (B, L, ${this.dim}), got shape [${x.shape}]`);
    }
    return tf.tidy(() => {
      let h = x;
      if (this.tokens && this.norm1) {
        const normed = this.norm1.forward(x); // (B, L, d)
        const n = ctx.mask ? (tf.mul(normed, ctx.mask) as tf.Tensor3D) : normed; // padding zero
        h = this.residual(x, this.tokens.forward(n, ctx), this.ls1, true);
      }
      return this.tail(h, ctx);
    });
  }

  /**
   * Incremental decoding: position t of every row, x (R, 1, d), with `cache` holding the token
   * mixer's view of positions < t (null at t = 0). Returns the output (R, 1, d) and the cache
   * extended with position t (the old one is not disposed: the caller owns it).
   */
  step(x: tf.Tensor3D, cache: MixerCache | null, t: StepPositions, ctx: C): { y: tf.Tensor3D; cache: MixerCache } {
    const tokens = this.tokens;
    if (!tokens?.step || !this.norm1) throw new Error('ResBlock.step: the block has no causal token mixer to decode incrementally');
    const norm1 = this.norm1;
    const out = tf.tidy(() => {
      const r = tokens.step!(norm1.forward(x), cache, t); // (R, 1, d)
      const h = this.residual(x, r.y, this.ls1, true);
      return { y: this.tail(h, ctx), cache: r.cache } as unknown as tf.TensorContainer;
    });
    return out as unknown as { y: tf.Tensor3D; cache: MixerCache };
  }
}
