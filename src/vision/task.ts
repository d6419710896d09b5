// Image classification as a `TrainTask` of the one training loop (src/train/loop.ts): a ResMLP
// classifier, a seeded resumable loader (src/vision/data), label-smoothed cross-entropy (the
// paper's §4 / DeiT recipe; mixup and cutmix are not used here), and evaluation (loss, top-1 and
// top-5 accuracy). Batch i of epoch e is `loader.batchAt(e, i)`, a pure function of (seed, e, i);
// the only other randomness is the model's dropout/drop-path generator, reseeded per batch from
// (seed, e, i) like the translation model's (src/util/seed-tree.ts): resume is exact with no
// generator state saved.
import * as tf from '@tensorflow/tfjs';
import { labelSmoothedCrossEntropy } from '../core/loss.js';
import type { TrainTask } from '../train/loop.js';
import { evalBatches, type ImageBatch, ImageLoader, type LoaderConfig } from './data/dataset.js';
import type { ImageSet } from './data/image-set.js';
import { UserError } from '../util/errors.js';
import type { ResMlp } from './model.js';
import type { ClassifierData } from './checkpoint.js';

export interface EvalResult {
  /** Mean cross-entropy (no smoothing). */
  loss: number;
  /** Top-1 accuracy in [0, 1]. */
  accuracy: number;
  /** Top-5 accuracy in [0, 1] (equals 1 with ≤ 5 classes). */
  top5: number;
  /** Images evaluated. */
  count: number;
}

export interface EvalOptions {
  /**
   * Horizontal-flip test-time augmentation: each image's class probabilities are the mean of the
   * softmax of the image and of its mirror (loss, top-1 and top-5 from that mean). Only for
   * datasets whose classes are mirror-symmetric (Fashion-MNIST, CIFAR-10; not digits). Default false.
   */
  flip?: boolean;
  /**
   * Shift test-time augmentation: also average over the image moved by this many pixels up, down,
   * left and right (5 views; 10 with flip), the uncovered border filled with black pixels as the
   * training crop's zero padding. 0 = off. Default 0.
   */
  shift?: number;
}

/**
 * The test-time views of a normalised batch x (B, H, W, C): x, its shifts by ±s pixels along H and
 * W (s > 0; border = `black`, the normalised value of a 0 pixel, per channel), and with `flip` the
 * mirror of each.
 */
export function testViews(x: tf.Tensor4D, black: number[], shift: number, flip: boolean): tf.Tensor4D[] {
  const [, H, W, C] = x.shape;
  if (!(Number.isInteger(shift) && shift >= 0 && shift < Math.min(H, W)))
    throw new Error(`test-time shift must be an integer in [0, ${Math.min(H, W)}), got ${shift}`);
  const views: tf.Tensor4D[] = [x];
  if (shift > 0) {
    const b = tf.tensor4d(black.length === 1 ? new Array(C).fill(black[0]) : black, [1, 1, 1, C]); // (1, 1, 1, C)
    // pad x − black with zeros, then add black back: the border reads as black pixels in every channel
    const padded = tf.add(
      tf.pad(tf.sub(x, b), [
        [0, 0],
        [shift, shift],
        [shift, shift],
        [0, 0],
      ]),
      b,
    ); // (B, H+2s, W+2s, C)
    for (const [dy, dx] of [
      [-shift, 0],
      [shift, 0],
      [0, -shift],
      [0, shift],
    ])
      views.push(tf.slice(padded, [0, shift + dy!, shift + dx!, 0], [-1, H, W, -1]) as tf.Tensor4D);
  }
  return flip ? [...views, ...views.map((v) => tf.reverse(v, 2))] : views; // NHWC: axis 2 is W
}

/** Loss and accuracy of `model` (switched to eval mode for the pass) on every image of `set`. */
export async function evaluate(
  model: ResMlp,
  set: ImageSet,
  norm: Pick<LoaderConfig, 'mean' | 'std'>,
  batchSize = 500,
  opts: EvalOptions = {},
): Promise<EvalResult> {
  const wasTraining = model.training;
  model.eval();
  let lossSum = 0;
  let correct = 0;
  let correct5 = 0;
  let count = 0;
  const k = Math.min(5, model.config.numClasses);
  const black = norm.mean.map((m, c) => (0 - m) / (norm.std.length === 1 ? norm.std[0]! : norm.std[c]!));
  try {
    for (const b of evalBatches(set, { batchSize, mean: norm.mean, std: norm.std })) {
      const [lossT, hitT, hit5T] = tf.tidy(() => {
        // (B, classes); with test-time views, the log of the mean of their class probabilities
        const views = testViews(b.x, black, opts.shift ?? 0, opts.flip ?? false);
        const logits =
          views.length === 1
            ? model.forward(b.x)
            : tf.sub(tf.logSumExp(tf.stack(views.map((v) => tf.logSoftmax(model.forward(v)))), 0), Math.log(views.length));
        const loss = tf.sum(
          tf.losses.softmaxCrossEntropy(tf.oneHot(b.y, model.config.numClasses), logits, undefined, 0, tf.Reduction.NONE),
        );
        const hit = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), b.y), 'float32'));
        const top = tf.topk(logits, k).indices; // (B, k)
        const hit5 = tf.sum(tf.cast(tf.equal(top, tf.expandDims(b.y, 1)), 'float32'));
        return [loss, hit, hit5];
      });
      tf.dispose([b.x, b.y]);
      lossSum += (await lossT.data())[0]!;
      correct += (await hitT.data())[0]!;
      correct5 += (await hit5T.data())[0]!;
      count += b.size;
      tf.dispose([lossT, hitT, hit5T]);
    }
  } finally {
    model.train(wasTraining);
  }
  return { loss: lossSum / Math.max(1, count), accuracy: correct / Math.max(1, count), top5: correct5 / Math.max(1, count), count };
}

export interface ClassificationTaskOptions {
  /** Training images. */
  train: ImageSet;
  /** Validation images (held-out split or the test set); null = no validation. */
  val: ImageSet | null;
  /** Loader settings (batch size, normalisation, augmentation, seed). */
  loader: Partial<LoaderConfig>;
  /** Label smoothing ε. Default 0.1. */
  labelSmoothing?: number;
  /** Batch size of validation passes. Default 500. */
  evalBatchSize?: number;
  /** Dataset name stored in checkpoints (with the class names and normalisation). */
  dataset?: string;
}

export class ClassificationTask implements TrainTask<ImageBatch> {
  readonly params: Map<string, tf.Variable>;
  readonly modelConfig: unknown;
  readonly loader: ImageLoader;
  private readonly smoothing: number;
  /** Loss, top-1 and top-5 accuracy on the validation set (absent without one). */
  readonly validate?: () => Promise<Record<string, number>>;

  constructor(
    readonly model: ResMlp,
    private readonly opts: ClassificationTaskOptions,
  ) {
    this.params = model.stateDict();
    const c = model.config;
    const t = opts.train;
    if (t.h !== c.imgSize || t.w !== c.imgSize || t.c !== c.inChans) {
      throw new Error(`ClassificationTask: images are ${t.h}×${t.w}×${t.c} but the model expects ${c.imgSize}×${c.imgSize}×${c.inChans}`);
    }
    if (t.classes && t.classes.length !== c.numClasses) {
      throw new Error(`ClassificationTask: the data has ${t.classes.length} classes but the model head has ${c.numClasses}`);
    }
    this.loader = new ImageLoader(t, { dropLast: true, ...opts.loader });
    this.smoothing = opts.labelSmoothing ?? 0.1;
    const data: ClassifierData = { dataset: opts.dataset, classes: t.classes, mean: this.loader.config.mean, std: this.loader.config.std };
    this.modelConfig = { ...model.config, data };
    const val = opts.val;
    if (val) {
      this.validate = async () => {
        const r = await evaluate(this.model, val, this.loader.config, this.opts.evalBatchSize ?? 500);
        return { loss: r.loss, accuracy: r.accuracy, top5: r.top5 };
      };
    }
  }

  numBatches(): number {
    return this.loader.batchesPerEpoch;
  }

  setEpochs(epochs: number): void {
    this.loader.setEpochs(epochs);
  }

  batch(epoch: number, i: number): ImageBatch {
    return this.loader.batchAt(epoch, i);
  }

  loss(b: ImageBatch): tf.Scalar {
    this.model.dropoutRng.reseed(`${this.loader.config.seed}:${b.epoch}:${b.index}`);
    return tf.tidy(() => labelSmoothedCrossEntropy(this.model.forward(b.x), b.y, { epsilon: this.smoothing }));
  }

  units(b: ImageBatch): number {
    return b.size;
  }

  disposeBatch(b: ImageBatch): void {
    tf.dispose([b.x, b.y]);
  }

  setTraining(training: boolean): void {
    this.model.train(training);
  }

  getRngState(): unknown {
    return { dropout: 'reseeded per batch from (seed, epoch, batch)', seed: this.loader.config.seed };
  }

  /**
   * Nothing to restore: masks are a function of (seed, epoch, batch). A checkpoint of another
   * seed is refused; one written before the per-batch scheme (a saved generator state) resumes
   * with the per-batch masks.
   */
  setRngState(state: unknown): void {
    const s = state as { seed?: unknown } | null;
    if (s && typeof s === 'object' && s.seed !== undefined && s.seed !== this.loader.config.seed) {
      throw new UserError(
        `cannot resume: the checkpoint was trained with seed ${String(s.seed)}, this run has seed ${this.loader.config.seed}; pass --seed ${String(s.seed)} or start a new run folder`,
        'invalid_config',
      );
    }
  }
}
