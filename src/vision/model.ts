// ResMLP image classifier (Touvron et al., arXiv 2105.03404 §2, Fig. 1), laid out as timm's
// `MlpMixer` with `block_layer=ResBlock, norm_layer=Affine` (timm/models/mlp_mixer.py):
//   stem.proj   patch embedding, a conv with kernel = stride = patch (weight (d, C, p, p))
//   blocks.i    core ResBlock (Aff → cross-patch linear → LayerScale; Aff → MLP → LayerScale)
//   norm        final Affine
//   pooling     average over patches (timm, paper §2); or 'class-mlp' (paper §3 / appendix: a
//               CaiT-style class token refined by `classBlocks` MLP layers that read the patches)
//   head        Linear(d, numClasses)
// The stem is computed as reshape-to-patches + one matmul (much faster than conv2d on the CPU
// backends) while keeping timm's (d, C, p, p) weight, so timm checkpoints load unchanged.
// Inputs are float32 NHWC (B, H, W, C), the layout of src/vision/data.
import * as tf from '@tensorflow/tfjs';
import { gelu } from '../backend/fused.js';
import { Affine } from '../core/affine.js';
import { addBranch, ResBlock } from '../core/block.js';
import { CrossToken } from '../core/cross-token.js';
import { initTensor } from '../core/init.js';
import { Linear, linear } from '../core/linear.js';
import { Module, ModuleList } from '../core/module.js';
import { checkInt, checkRate, resolveConfig } from '../util/config.js';
import type { RandomSource } from '../core/rng.js';
import { Rng } from '../util/rng.js';
import { SeedTree } from '../util/seed-tree.js';

export type Pooling = 'avg' | 'class-mlp';

export interface ResMlpConfig {
  /** Input height = width in pixels. Default 224. */
  imgSize: number;
  /** Input channels (3 RGB, 1 grayscale). Default 3. */
  inChans: number;
  /** Patch side p (kernel = stride of the stem). imgSize must be a multiple. Default 16. */
  patchSize: number;
  /** Channels d. Default 384 (ResMLP-S12/S24/S36). */
  embedDim: number;
  /** Number of ResBlocks. Default 12. */
  depth: number;
  /** Channel MLP hidden = mlpRatio·d. Default 4. */
  mlpRatio: number;
  /** Classes of the head. Default 1000. */
  numClasses: number;
  /** LayerScale init (timm `init_values`): timm uses 1e-4 for resmlp_12, 1e-5 for 24, 1e-6 for 36/big. Default 1e-4. */
  layerScale: number;
  /** Dropout inside the MLPs (timm `drop_rate`). Default 0. */
  drop: number;
  /** Drop-path rate of every block (timm passes the same rate to all blocks). Default 0. */
  dropPath: number;
  /** 'avg' (timm, default) or 'class-mlp'. */
  pooling: Pooling;
  /** Class-MLP layers when pooling is 'class-mlp'. Default 2 (CaiT's class-attention depth). */
  classBlocks: number;
}

export const DEFAULT_RESMLP: ResMlpConfig = {
  imgSize: 224,
  inChans: 3,
  patchSize: 16,
  embedDim: 384,
  depth: 12,
  mlpRatio: 4,
  numClasses: 1000,
  layerScale: 1e-4,
  drop: 0,
  dropPath: 0,
  pooling: 'avg',
  classBlocks: 2,
};

export function resolveResMlpConfig(c: Partial<ResMlpConfig> = {}): ResMlpConfig {
  const where = 'ResMlpConfig';
  const r = resolveConfig(where, DEFAULT_RESMLP, c);
  for (const k of ['imgSize', 'inChans', 'patchSize', 'embedDim', 'depth', 'numClasses'] as const) checkInt(where, k, r[k]);
  checkInt(where, 'classBlocks', r.classBlocks, 0);
  if (r.imgSize % r.patchSize !== 0) throw new Error(`${where}: imgSize ${r.imgSize} is not a multiple of patchSize ${r.patchSize}`);
  if (!(r.mlpRatio > 0)) throw new Error(`${where}: 'mlpRatio' must be > 0, got ${r.mlpRatio}`);
  if (!Number.isFinite(r.layerScale)) throw new Error(`${where}: 'layerScale' must be a finite number, got ${r.layerScale}`);
  checkRate(where, 'drop', r.drop);
  checkRate(where, 'dropPath', r.dropPath);
  if (r.pooling !== 'avg' && r.pooling !== 'class-mlp')
    throw new Error(`${where}: 'pooling' must be 'avg' or 'class-mlp', got ${JSON.stringify(r.pooling)}`);
  return r;
}

/** Patches per image N = (imgSize / patchSize)². */
export function numPatches(c: ResMlpConfig): number {
  return (c.imgSize / c.patchSize) ** 2;
}

/**
 * Parameter count from the config alone (no allocation), in the same order as the model's
 * parameters; the test checks it against a real model.
 */
export function countParameters(config: Partial<ResMlpConfig>): number {
  const c = resolveResMlpConfig(config);
  const d = c.embedDim;
  const N = numPatches(c);
  const h = Math.floor(c.mlpRatio * d);
  const stem = d * c.inChans * c.patchSize * c.patchSize + d;
  const block = 2 * d + 4 * d + (N * N + N) + (d * h + h) + (h * d + d);
  const classBlock = 2 * d + 4 * d + (N + 1) + (2 * d * d + d) + (d * h + h) + (h * d + d); // see ClassMlpBlock
  const pool = c.pooling === 'class-mlp' ? d + c.classBlocks * classBlock : 0;
  return stem + c.depth * block + pool + 2 * d + (d * c.numClasses + c.numClasses);
}

/**
 * x (B, H, W, C) NHWC → patch rows (N·B, C·p·p), token-major (row n·B + b is patch n of image b,
 * patches row-major over the grid), each row in (c, ky, kx) order: the layout in which a conv
 * weight (d, C, p, p) flattens to (d, C·p·p).
 */
export function patchify(x: tf.Tensor4D, p: number): tf.Tensor2D {
  const [B, H, W, C] = x.shape;
  if (H % p !== 0 || W % p !== 0) throw new Error(`patchify: image ${H}×${W} is not a multiple of the patch size ${p}`);
  const gh = H / p;
  const gw = W / p;
  return tf.tidy(() => {
    const t = tf.reshape(x, [B, gh, p, gw, p, C]); // (B, gh, ky, gw, kx, C)
    const u = tf.transpose(t, [1, 3, 0, 5, 2, 4]); // (gh, gw, B, C, ky, kx)
    return tf.reshape(u, [gh * gw * B, C * p * p]); // (N·B, C·p·p)
  });
}

/** timm's PatchEmbed without norm: `proj` = Conv2d(C, d, p, stride p); output (B, N, d). */
export class PatchEmbed extends Module {
  readonly proj: Conv2dParams;

  constructor(
    readonly inChans: number,
    readonly embedDim: number,
    readonly patchSize: number,
    rng: RandomSource,
  ) {
    super();
    this.proj = this.registerModule('proj', new Conv2dParams(inChans, embedDim, patchSize, rng));
  }

  /** x (B, H, W, C) → token-major patch embeddings (N, B, d). */
  forward(x: tf.Tensor4D): tf.Tensor3D {
    const [B, H, W, C] = x.shape;
    if (C !== this.inChans) throw new Error(`PatchEmbed: expected ${this.inChans} input channel(s), got input shape [${x.shape}] (NHWC)`);
    const p = this.patchSize;
    const N = (H / p) * (W / p);
    return tf.tidy(() => {
      const rows = patchify(x, p); // (N·B, C·p·p)
      const w = tf.reshape(this.proj.weight, [this.embedDim, C * p * p]); // (d, C·p·p)
      const y = linear(rows, w, this.proj.bias); // (N·B, d)
      return tf.reshape(y, [N, B, this.embedDim]); // (N, B, d)
    });
  }
}

/** The parameters of a patch conv under timm's names: weight (d, C, p, p), lecun-normal; bias zeros. */
export class Conv2dParams extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(inChans: number, outChans: number, k: number, rng: RandomSource) {
    super();
    this.weight = this.registerParameter('weight', initTensor([outChans, inChans, k, k], { kind: 'lecun_normal' }, rng));
    this.bias = this.registerParameter('bias', tf.zeros([outChans]));
  }
}

/**
 * One class-MLP layer: the paper's alternative to average pooling (§3.4 / Table 3 "class-MLP"),
 * adapted from CaiT's class-attention: "after aggregating the patches with a linear layer, we
 * replace the attention-based interaction between the class and patch embeddings by simple linear
 * layers, still keeping the patch embeddings frozen". Our reading of that paragraph:
 *   a = Σ_j w_j · Aff1(X)_j + b                  (`aggregate`: a linear layer over the N patches)
 *   c ← c + ls1 ⊙ proj([Aff1(c); a])            (`proj`: Linear(2d → d), the class–patch interaction)
 *   c ← c + ls2 ⊙ MLP(Aff2(c))                  (`mlp`: d → hidden → d, GELU)
 * Only the class token c (B, d) is updated; the patches X (N, B, d) are read, never changed.
 */
export class ClassMlpBlock extends Module {
  readonly ls1: tf.Variable;
  readonly ls2: tf.Variable;
  readonly norm1: Affine;
  readonly aggregate: Linear;
  readonly proj: Linear;
  readonly norm2: Affine;
  readonly fc1: Linear;
  readonly fc2: Linear;

  constructor(dim: number, seqLen: number, hidden: number, layerScale: number, rng: RandomSource) {
    super();
    this.ls1 = this.registerParameter('ls1', tf.fill([dim], layerScale));
    this.ls2 = this.registerParameter('ls2', tf.fill([dim], layerScale));
    this.norm1 = this.registerModule('norm1', new Affine(dim));
    // start as average pooling: w_j = 1/N, b = 0
    this.aggregate = this.registerModule(
      'aggregate',
      new Linear({ inFeatures: seqLen, outFeatures: 1, weightInit: { kind: 'constant', value: 1 / seqLen } }, rng),
    );
    this.proj = this.registerModule('proj', new Linear({ inFeatures: 2 * dim, outFeatures: dim }, rng));
    this.norm2 = this.registerModule('norm2', new Affine(dim));
    this.fc1 = this.registerModule(
      'fc1',
      new Linear({ inFeatures: dim, outFeatures: hidden, biasInit: { kind: 'normal', std: 1e-6 } }, rng),
    );
    this.fc2 = this.registerModule(
      'fc2',
      new Linear({ inFeatures: hidden, outFeatures: dim, biasInit: { kind: 'normal', std: 1e-6 } }, rng),
    );
  }

  /** cls (B, d), token-major patches (N, B, d) → (B, d). */
  forward(cls: tf.Tensor2D, patches: tf.Tensor3D): tf.Tensor2D {
    return tf.tidy(() => {
      const [N, B, d] = patches.shape;
      const xs = tf.reshape(this.norm1.forward(patches), [N, B * d]); // (N, B·d)
      const a = tf.add(tf.reshape(tf.matMul(this.aggregate.weight, xs), [B, d]), this.aggregate.bias!); // (B, d)
      const both = tf.concat([this.norm1.forward(cls), a], 1); // (B, 2d)
      const c1 = addBranch(cls, this.proj.forward(both), this.ls1); // (B, d)
      const m = this.fc2.forward(gelu(this.fc1.forward(this.norm2.forward(c1)))); // (B, d)
      return addBranch(c1, m, this.ls2);
    });
  }
}

/**
 * A RandomSource for building a model: draws init values from `init`; every `fork` (which the
 * core modules use to give Dropout/DropPath their generator) returns the one shared `dropout`
 * generator, which the training task reseeds per batch (src/util/seed-tree.ts).
 */
export function modelRandomSource(init: RandomSource, dropout: SeedTree): RandomSource {
  return {
    next: () => init.next(),
    uniform: () => init.uniform(),
    normal: (mean?: number, std?: number) => init.normal(mean, std),
    fork: () => dropout,
  };
}

export class ResMlp extends Module {
  readonly config: ResMlpConfig;
  readonly stem: PatchEmbed;
  readonly blocks: ModuleList<ResBlock>;
  readonly norm: Affine;
  readonly head: Linear;
  readonly clsToken: tf.Variable | null = null;
  readonly classBlocks: ModuleList<ClassMlpBlock> | null = null;
  /** The generator of every dropout / drop-path mask of this model (the task reseeds it per batch). */
  readonly dropoutRng: SeedTree;

  /** `seed` seeds the init (and, forked, the dropout generator). */
  constructor(config: Partial<ResMlpConfig> = {}, seed: number = 0) {
    super();
    const c = (this.config = resolveResMlpConfig(config));
    const initRng = new Rng(seed).fork('init');
    this.dropoutRng = new SeedTree(`${seed}`, 'dropout');
    const rng = modelRandomSource(initRng, this.dropoutRng);
    const N = numPatches(c);
    this.stem = this.registerModule('stem', new PatchEmbed(c.inChans, c.embedDim, c.patchSize, rng));
    const blockCfg = { dim: c.embedDim, seqLen: N, mlpRatio: c.mlpRatio, layerScale: c.layerScale, drop: c.drop, dropPath: c.dropPath };
    this.blocks = this.registerModule('blocks', new ModuleList(Array.from({ length: c.depth }, () => ResBlock.fromConfig(blockCfg, rng))));
    this.norm = this.registerModule('norm', new Affine(c.embedDim));
    if (c.pooling === 'class-mlp') {
      this.clsToken = this.registerParameter('cls_token', initTensor([1, c.embedDim], { kind: 'trunc_normal', std: 0.02 }, rng));
      const hidden = Math.floor(c.mlpRatio * c.embedDim);
      this.classBlocks = this.registerModule(
        'class_blocks',
        new ModuleList(Array.from({ length: c.classBlocks }, () => new ClassMlpBlock(c.embedDim, N, hidden, c.layerScale, rng))),
      );
    }
    // timm: head weight and bias zero
    this.head = this.registerModule(
      'head',
      new Linear({ inFeatures: c.embedDim, outFeatures: c.numClasses, weightInit: { kind: 'zeros' } }, rng),
    );
  }

  /** x (B, H, W, C) NHWC → pooled features (B, d). */
  forwardFeatures(x: tf.Tensor4D): tf.Tensor2D {
    const c = this.config;
    if (x.rank !== 4 || x.shape[1] !== c.imgSize || x.shape[2] !== c.imgSize || x.shape[3] !== c.inChans) {
      throw new Error(`ResMlp: expected input (B, ${c.imgSize}, ${c.imgSize}, ${c.inChans}) NHWC, got shape [${x.shape}]`);
    }
    return tf.tidy(() => {
      let h = this.stem.forward(x); // (N, B, d)
      for (const block of this.blocks) h = this.blockForward(block, h);
      if (this.classBlocks && this.clsToken) {
        let cls = tf.tile(this.clsToken, [x.shape[0], 1]) as tf.Tensor2D; // (B, d)
        for (const cb of this.classBlocks) cls = cb.forward(cls, h);
        return this.norm.forward(cls);
      }
      return tf.mean(this.norm.forward(h), 0) as tf.Tensor2D; // (B, d)
    });
  }

  /**
   * core's ResBlock (Eq. 1–2) on token-major activations h (N, B, d), with its own parameters:
   * in this layout the cross-patch layer A·X + bias is ONE plain matmul (N, N)·(N, B·d) instead of
   * B small batched ones (measured ~5× faster for the token mixing on the cpu/native backends),
   * and the channel MLP and Affine are layout-agnostic. Drop-path masks whole samples (1, B, 1),
   * drawn from the model's shared dropout generator.
   */
  private blockForward(block: ResBlock, h: tf.Tensor3D): tf.Tensor3D {
    const [N, B, d] = h.shape;
    const tokens = block.tokens;
    const norm1 = block.norm1;
    if (!(tokens instanceof CrossToken) || !(norm1 instanceof Affine) || tokens.config.causal || block.extras.length > 0 || block.dropout) {
      throw new Error('ResMlp: blocks must be non-causal linear token mixing with Affine norms, no extra sublayers and no branch dropout');
    }
    const rate = block.dropPath?.rate ?? 0;
    const dropPath = (t: tf.Tensor3D): tf.Tensor3D =>
      this.training && rate > 0 ? (tf.dropout(t, rate, [1, B, 1], this.dropoutRng.next()) as tf.Tensor3D) : t;
    return tf.tidy(() => {
      const u = tf.reshape(norm1.forward(h), [N, B * d]); // (N, B·d)
      const t = tf.reshape(tf.add(tf.matMul(tokens.weight, u), tf.reshape(tokens.bias!, [N, 1])), [N, B, d]) as tf.Tensor3D; // (N, B, d)
      const z = addBranch(h, dropPath(t), block.ls1);
      const m = block.mlp.forward(block.norm2.forward(z)) as tf.Tensor3D; // (N, B, d)
      return addBranch(z, dropPath(m), block.ls2);
    });
  }

  /** Features (B, d) → logits (B, numClasses). */
  forwardHead(features: tf.Tensor2D): tf.Tensor2D {
    return this.head.forward(features) as tf.Tensor2D;
  }

  /** x (B, H, W, C) → logits (B, numClasses). */
  forward(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => this.forwardHead(this.forwardFeatures(x)));
  }

  /** Inference: eval mode (no dropout), logits for float32 NHWC images. The caller owns the result. */
  predict(images: tf.Tensor4D): tf.Tensor2D {
    const wasTraining = this.training;
    this.eval();
    try {
      return this.forward(images);
    } finally {
      this.train(wasTraining);
    }
  }
}
