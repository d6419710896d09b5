// Batches of an ImageSet for training and evaluation: per-channel normalisation
// ((x/255 − mean)/std, as torchvision's ToTensor + Normalize), seeded shuffling, and the standard
// small-image augmentation (random crop after padding, random horizontal flip; torchvision
// RandomCrop(padding, padding_mode) and RandomHorizontalFlip, as in the CIFAR/Fashion-MNIST recipes)
// and random erasing (timm's RandomErasing, as in DeiT's recipe).
// Batches are float32 NHWC tf.Tensor4D (B, H, W, C) plus int32 labels (B), each filled into one
// Float32Array and uploaded with one tf.tensor call.
// Every random choice derives from the seed and the position (epoch, batch index), so the loader
// state is just {seed, epoch, batch}: a resumed run sees exactly the batches it would have seen.
import * as tf from '@tensorflow/tfjs';
import { resolveConfig } from '../../util/config.js';
import { Rng } from '../../util/rng.js';
import { checkImageSet, type ImageSet } from './image-set.js';

export interface LoaderConfig {
  /** Images per batch. Default 128. */
  batchSize: number;
  /** Shuffle the order every epoch (a new permutation per epoch). Default true. */
  shuffle: boolean;
  /** Drop the last incomplete batch of an epoch. Default false (training usually sets true). */
  dropLast: boolean;
  /** Per-channel mean of pixels in [0, 1]; one value (broadcast) or C values. Default [0]. */
  mean: number[];
  /** Per-channel std of pixels in [0, 1]; one value or C values. Default [1]. */
  std: number[];
  /** Random crop: pad each side by this many pixels, then crop back to H×W at a random offset. 0 = off. Default 0. */
  cropPadding: number;
  /** Padding of the random crop: 'zero' (black pixels, torchvision's default) or 'reflect' (mirror, edge excluded). Default 'zero'. */
  padMode: 'zero' | 'reflect';
  /** Random horizontal flip with probability 1/2. Default false. */
  hflip: boolean;
  /**
   * The last this many epochs of the run train without the random crop (every image centred, as
   * the test set's are; flip and erasing stay), so that a model trained on shifted copies ends
   * on the positions it is tested on. Needs the run's length: `setEpochs` (the training loop
   * calls it, also after a time-budget re-plan); until then every epoch is cropped. The crop
   * draws are made all the same, so the other augmentation streams do not move. 0 = off. Default 0.
   */
  cleanEpochs: number;
  /**
   * Whether the clean epochs keep the horizontal flip (true), or show every image unflipped too
   * (false: the last epochs see exactly the test set's views). The flip draws are made all the
   * same. Default true.
   */
  cleanFlip: boolean;
  /**
   * Random erasing (Zhong et al. 2017, timm's RandomErasing as DeiT uses it): with this
   * probability, one rectangle of 2–33% of the image with aspect ratio in [0.3, 3.3] (log-uniform)
   * is overwritten, after crop and flip. 0 = off. Default 0.
   */
  eraseProb: number;
  /** Fill of erased rectangles in normalised units: 'pixel' (N(0, 1) noise per value, timm's mode DeiT uses) or 'const' (0, the dataset mean). Default 'pixel'. */
  eraseMode: 'pixel' | 'const';
  /** Seed of the shuffling and augmentation streams. Default 0. */
  seed: number;
}

export const DEFAULT_LOADER_CONFIG: LoaderConfig = {
  batchSize: 128,
  shuffle: true,
  dropLast: false,
  mean: [0],
  std: [1],
  cropPadding: 0,
  padMode: 'zero',
  hflip: false,
  cleanEpochs: 0,
  cleanFlip: true,
  eraseProb: 0,
  eraseMode: 'pixel',
  seed: 0,
};

/** Normalisation constants (pixels in [0, 1]) of the training sets. */
export const NORMALIZATION = {
  /** Fashion-MNIST train set, measured with channelStats (test/vision/data/idx.test.ts checks it). */
  fashionMnist: { mean: [0.286], std: [0.353] },
  /** MNIST train set (the usual 0.1307 / 0.3081). */
  mnist: { mean: [0.1307], std: [0.3081] },
  /** CIFAR-10 train set (per-pixel std averaged, as in most CIFAR recipes). */
  cifar10: { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] },
  /** ImageNet-1k: timm's IMAGENET_DEFAULT_MEAN / STD, the preprocessing of the ResMLP checkpoints of timm and deit. */
  imagenet: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
} as const;

/** The loader config of `given` over DEFAULT_LOADER_CONFIG; errors name `where` and the key. */
export function resolveLoaderConfig(given: Partial<LoaderConfig> = {}, where = 'loader config'): LoaderConfig {
  const cfg = resolveConfig(where, DEFAULT_LOADER_CONFIG, given);
  if (!Number.isInteger(cfg.batchSize) || cfg.batchSize < 1)
    throw new Error(`${where}: batchSize must be an integer ≥ 1, got ${cfg.batchSize}`);
  if (!Number.isInteger(cfg.cropPadding) || cfg.cropPadding < 0)
    throw new Error(`${where}: cropPadding must be an integer ≥ 0, got ${cfg.cropPadding}`);
  for (const k of ['shuffle', 'dropLast', 'hflip', 'cleanFlip'] as const) {
    if (typeof cfg[k] !== 'boolean') throw new Error(`${where}: ${k} must be true or false, got ${JSON.stringify(cfg[k])}`);
  }
  if (!Number.isInteger(cfg.cleanEpochs) || cfg.cleanEpochs < 0)
    throw new Error(`${where}: cleanEpochs must be an integer ≥ 0, got ${cfg.cleanEpochs}`);
  if (cfg.padMode !== 'zero' && cfg.padMode !== 'reflect')
    throw new Error(`${where}: padMode must be 'zero' or 'reflect', got ${JSON.stringify(cfg.padMode)}`);
  if (!(cfg.eraseProb >= 0 && cfg.eraseProb <= 1)) throw new Error(`${where}: eraseProb must be in [0, 1], got ${cfg.eraseProb}`);
  if (cfg.eraseMode !== 'pixel' && cfg.eraseMode !== 'const')
    throw new Error(`${where}: eraseMode must be 'pixel' or 'const', got ${JSON.stringify(cfg.eraseMode)}`);
  if (!Number.isFinite(cfg.seed)) throw new Error(`${where}: seed must be a finite number, got ${cfg.seed}`);
  if (!cfg.std.every((s) => s > 0)) throw new Error(`${where}: std values must be > 0, got [${cfg.std}]`);
  return { ...cfg, mean: [...cfg.mean], std: [...cfg.std] };
}

/** One batch. The caller owns x and y and must dispose them. */
export interface ImageBatch {
  /** (B, H, W, C) float32, normalised. */
  x: tf.Tensor4D;
  /** (B) int32 class indices. */
  y: tf.Tensor1D;
  /** B (the last batch of an epoch may be smaller unless dropLast). */
  size: number;
  /** Epoch this batch belongs to (0-based). */
  epoch: number;
  /** Index of this batch within its epoch (0-based). */
  index: number;
}

/** Where a loader is: the next batch to produce is batch `batch` of epoch `epoch`. JSON-serialisable. */
export interface LoaderState {
  seed: number;
  epoch: number;
  batch: number;
}

/** Per-channel lookup table: value of pixel v in channel ch is lut[ch * 256 + v]. */
function normalizationLut(c: number, mean: number[], std: number[]): Float32Array {
  for (const [name, a] of [
    ['mean', mean],
    ['std', std],
  ] as const) {
    if (a.length !== 1 && a.length !== c)
      throw new Error(`loader config: ${name} has ${a.length} values, expected 1 or ${c} (one per channel)`);
  }
  const lut = new Float32Array(c * 256);
  for (let ch = 0; ch < c; ch++) {
    const m = mean.length === 1 ? mean[0] : mean[ch];
    const s = std.length === 1 ? std[0] : std[ch];
    for (let v = 0; v < 256; v++) lut[ch * 256 + v] = (v / 255 - m) / s;
  }
  return lut;
}

/** Augmentation drawn for one image: crop offset in the padded image and flip. */
export interface AugmentDraw {
  dy: number;
  dx: number;
  flip: boolean;
}

/**
 * Fill `out` (B·H·W·C floats, NHWC) with the images at `indices`, normalised through `lut`, each
 * cropped at (dy, dx) from the image padded by `pad` on every side and flipped horizontally when
 * asked (`draws` null = no augmentation). The crop reads orig[y + dy − pad][x' + dx − pad] with
 * x' = W − 1 − x when flipped; pixels outside the image are black (zero padding) or mirrored.
 */
export function fillBatch(
  set: ImageSet,
  indices: ArrayLike<number>,
  lut: Float32Array,
  out: Float32Array,
  draws: AugmentDraw[] | null,
  pad: number,
  padMode: 'zero' | 'reflect',
): void {
  const { h, w, c, images } = set;
  const size = h * w * c;
  const reflect = padMode === 'reflect';
  if (reflect && (pad >= h || pad >= w)) throw new Error(`reflect padding ${pad} must be smaller than the image size ${h}×${w}`);
  const colSrc = new Int32Array(w); // source column per output column, −1 = padding
  for (let b = 0; b < indices.length; b++) {
    const idx = indices[b];
    const src = idx * size;
    const dst = b * size;
    if (draws === null) {
      for (let i = 0; i < size; i += c) for (let ch = 0; ch < c; ch++) out[dst + i + ch] = lut[ch * 256 + images[src + i + ch]];
      continue;
    }
    const { dy, dx, flip } = draws[b];
    for (let x = 0; x < w; x++) {
      let sx = (flip ? w - 1 - x : x) + dx - pad;
      if (sx < 0 || sx >= w) sx = reflect ? (sx < 0 ? -sx : 2 * (w - 1) - sx) : -1;
      colSrc[x] = sx;
    }
    for (let y = 0; y < h; y++) {
      let sy = y + dy - pad;
      if (sy < 0 || sy >= h) sy = reflect ? (sy < 0 ? -sy : 2 * (h - 1) - sy) : -1;
      const rowDst = dst + y * w * c;
      if (sy < 0) {
        for (let i = 0; i < w * c; i += c) for (let ch = 0; ch < c; ch++) out[rowDst + i + ch] = lut[ch * 256];
        continue;
      }
      const rowSrc = src + sy * w * c;
      for (let x = 0; x < w; x++) {
        const sx = colSrc[x];
        const o = rowDst + x * c;
        if (sx < 0) for (let ch = 0; ch < c; ch++) out[o + ch] = lut[ch * 256];
        else {
          const s = rowSrc + sx * c;
          for (let ch = 0; ch < c; ch++) out[o + ch] = lut[ch * 256 + images[s + ch]];
        }
      }
    }
  }
}

/** A rectangle to overwrite in one image: rows [top, top + h), columns [left, left + w). */
export interface EraseDraw {
  top: number;
  left: number;
  h: number;
  w: number;
}

/**
 * timm's RandomErasing._erase for one image of h×w: with probability `prob`, up to 10 attempts at
 * a rectangle of area uniform in [0.02, 1/3] of the image and aspect ratio log-uniform in
 * [0.3, 1/0.3] that fits; null when not erased (or nothing fitted).
 */
export function drawErase(rng: Rng, h: number, w: number, prob: number): EraseDraw | null {
  if (!(rng.uniform() < prob)) return null;
  const area = h * w;
  const logLo = Math.log(0.3),
    logHi = Math.log(1 / 0.3);
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = rng.range(0.02, 1 / 3) * area;
    const ratio = Math.exp(rng.range(logLo, logHi));
    const eh = Math.round(Math.sqrt(target * ratio));
    const ew = Math.round(Math.sqrt(target / ratio));
    if (eh >= 1 && ew >= 1 && eh < h && ew < w) return { top: rng.int(h - eh + 1), left: rng.int(w - ew + 1), h: eh, w: ew };
  }
  return null;
}

/**
 * Overwrites rectangle `e` of image b of `out` (NHWC, h×w×c per image) with N(0, 1) values drawn
 * from `rng` ('pixel') or zeros ('const').
 */
export function eraseRect(
  out: Float32Array,
  b: number,
  h: number,
  w: number,
  c: number,
  e: EraseDraw,
  mode: 'pixel' | 'const',
  rng: Rng,
): void {
  const base = b * h * w * c;
  for (let y = e.top; y < e.top + e.h; y++) {
    const row = base + (y * w + e.left) * c;
    for (let i = 0; i < e.w * c; i++) out[row + i] = mode === 'pixel' ? rng.normal() : 0;
  }
}

/**
 * An endless, resumable stream of batches over an ImageSet: `next()` returns batch after batch,
 * moving to the next epoch (with a new permutation) after `batchesPerEpoch`.
 */
export class ImageLoader {
  readonly config: LoaderConfig;
  readonly batchesPerEpoch: number;
  private readonly lut: Float32Array;
  private readonly base: Rng;
  private epoch = 0;
  private batch = 0;
  private order: Int32Array | null = null;
  private orderEpoch = -1;

  constructor(
    readonly data: ImageSet,
    config: Partial<LoaderConfig> = {},
  ) {
    checkImageSet(data, 'ImageLoader data');
    this.config = resolveLoaderConfig(config);
    this.lut = normalizationLut(data.c, this.config.mean, this.config.std);
    const { batchSize, dropLast } = this.config;
    this.batchesPerEpoch = dropLast ? Math.floor(data.n / batchSize) : Math.ceil(data.n / batchSize);
    if (this.batchesPerEpoch === 0) {
      throw new Error(`ImageLoader: ${data.n} images make no batch of ${batchSize}${dropLast ? ' with dropLast' : ''}`);
    }
    this.base = new Rng(this.config.seed);
  }

  /** Epochs of the run (setEpochs); the last cleanEpochs of them are not cropped. */
  private totalEpochs = Infinity;

  /** The run's number of epochs, for cleanEpochs (the training loop calls it through the task). */
  setEpochs(epochs: number): void {
    if (!(Number.isInteger(epochs) && epochs >= 1)) throw new Error(`ImageLoader.setEpochs: expected an integer ≥ 1, got ${epochs}`);
    this.totalEpochs = epochs;
  }

  /** Whether epoch `epoch` is one of the run's last cleanEpochs (no random crop; no flip unless cleanFlip). */
  isCleanEpoch(epoch: number): boolean {
    return this.config.cleanEpochs > 0 && epoch >= this.totalEpochs - this.config.cleanEpochs;
  }

  /** Whether batches are augmented (random crop or flip configured). */
  get augments(): boolean {
    return this.config.cropPadding > 0 || this.config.hflip;
  }

  /** The image order of `epoch` (a seeded permutation, or 0..n-1 without shuffle). */
  epochOrder(epoch: number): Int32Array {
    if (this.orderEpoch !== epoch || this.order === null) {
      const n = this.data.n;
      if (this.config.shuffle) this.order = this.base.fork(`order/${epoch}`).permutation(n);
      else this.order = Int32Array.from({ length: n }, (_, i) => i);
      this.orderEpoch = epoch;
    }
    return this.order;
  }

  /** The augmentation draws of batch `index` of `epoch` (deterministic). */
  augmentDraws(epoch: number, index: number, size: number): AugmentDraw[] | null {
    if (!this.augments) return null;
    const rng = this.base.fork(`augment/${epoch}/${index}`);
    const p = this.config.cropPadding;
    const clean = this.isCleanEpoch(epoch);
    const draws: AugmentDraw[] = [];
    for (let b = 0; b < size; b++) {
      let dy = p > 0 ? rng.int(2 * p + 1) : 0;
      let dx = p > 0 ? rng.int(2 * p + 1) : 0;
      if (clean) dy = dx = p; // the centred crop of the padded image: the image itself
      let flip = this.config.hflip ? rng.uniform() < 0.5 : false;
      if (clean && !this.config.cleanFlip) flip = false;
      draws.push({ dy, dx, flip });
    }
    return draws;
  }

  /**
   * Random erasing of batch `index` of `epoch` in place (after crop and flip), from its own stream
   * (so turning it on leaves the crop and flip draws unchanged). Returns how many images it erased.
   */
  erase(out: Float32Array, epoch: number, index: number, size: number): number {
    const { eraseProb, eraseMode } = this.config;
    if (eraseProb <= 0) return 0;
    const { h, w, c } = this.data;
    // rectangles and noise from separate streams: the rectangles do not depend on the fill
    const rects = this.base.fork(`erase/${epoch}/${index}`);
    const noise = this.base.fork(`erase-noise/${epoch}/${index}`);
    let erased = 0;
    for (let b = 0; b < size; b++) {
      const e = drawErase(rects, h, w, eraseProb);
      if (e) {
        eraseRect(out, b, h, w, c, e, eraseMode, noise);
        erased++;
      }
    }
    return erased;
  }

  /** Batch `index` of `epoch`, without moving the stream. */
  batchAt(epoch: number, index: number): ImageBatch {
    if (!(Number.isInteger(index) && index >= 0 && index < this.batchesPerEpoch)) {
      throw new Error(`ImageLoader: batch index ${index} out of range [0, ${this.batchesPerEpoch})`);
    }
    const order = this.epochOrder(epoch);
    const { batchSize } = this.config;
    const indices = order.subarray(index * batchSize, Math.min((index + 1) * batchSize, this.data.n));
    const x = makeBatchTensor(
      this.data,
      indices,
      this.lut,
      this.augmentDraws(epoch, index, indices.length),
      this.config.cropPadding,
      this.config.padMode,
      (out) => this.erase(out, epoch, index, indices.length),
    );
    return { ...x, size: indices.length, epoch, index };
  }

  /** The next batch of the stream. */
  next(): ImageBatch {
    const b = this.batchAt(this.epoch, this.batch);
    this.batch++;
    if (this.batch === this.batchesPerEpoch) {
      this.batch = 0;
      this.epoch++;
    }
    return b;
  }

  /** Epoch and batch index of the next batch. */
  position(): { epoch: number; batch: number } {
    return { epoch: this.epoch, batch: this.batch };
  }

  getState(): LoaderState {
    return { seed: this.config.seed, epoch: this.epoch, batch: this.batch };
  }

  /** Restore a state saved by getState(); the seed must equal this loader's. */
  setState(state: LoaderState): void {
    if (state.seed !== this.config.seed) {
      throw new Error(
        `ImageLoader.setState: state was saved with seed ${state.seed}, this loader has seed ${this.config.seed}; build the loader with the saved config`,
      );
    }
    if (
      !(
        Number.isInteger(state.epoch) &&
        state.epoch >= 0 &&
        Number.isInteger(state.batch) &&
        state.batch >= 0 &&
        state.batch < this.batchesPerEpoch
      )
    ) {
      throw new Error(
        `ImageLoader.setState: invalid position epoch ${state.epoch}, batch ${state.batch} (batches per epoch: ${this.batchesPerEpoch})`,
      );
    }
    this.epoch = state.epoch;
    this.batch = state.batch;
  }
}

function makeBatchTensor(
  set: ImageSet,
  indices: ArrayLike<number>,
  lut: Float32Array,
  draws: AugmentDraw[] | null,
  pad: number,
  padMode: 'zero' | 'reflect',
  post?: (out: Float32Array) => unknown,
): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const { h, w, c } = set;
  const out = new Float32Array(indices.length * h * w * c);
  fillBatch(set, indices, lut, out, draws, pad, padMode);
  post?.(out);
  const labels = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) labels[i] = set.labels[indices[i]];
  return { x: tf.tensor4d(out, [indices.length, h, w, c], 'float32'), y: tf.tensor1d(labels, 'int32') };
}

/**
 * Evaluation batches: every image once, in order, normalised, no augmentation; the last batch may
 * be smaller. `config` takes the normalisation (mean, std) and batchSize.
 */
export function* evalBatches(set: ImageSet, config: Partial<Pick<LoaderConfig, 'batchSize' | 'mean' | 'std'>> = {}): Generator<ImageBatch> {
  const cfg = resolveLoaderConfig(config);
  checkImageSet(set, 'evalBatches data');
  const lut = normalizationLut(set.c, cfg.mean, cfg.std);
  const count = Math.ceil(set.n / cfg.batchSize);
  for (let index = 0; index < count; index++) {
    const start = index * cfg.batchSize;
    const end = Math.min(start + cfg.batchSize, set.n);
    const indices = Int32Array.from({ length: end - start }, (_, i) => start + i);
    yield { ...makeBatchTensor(set, indices, lut, null, 0, 'zero'), size: end - start, epoch: 0, index };
  }
}
