// Top-k classes of PNG images with a classifier (`resmlp vision predict`). An image is read,
// converted to the model's channels, resized and normalised (image.ts) with the statistics its
// checkpoint stores; foreign checkpoints (timm, deit) store none, so RGB models take ImageNet's
// (timm's preprocessing of ResMLP) and one-channel models mean 0.5, std 0.5.
import * as tf from '@tensorflow/tfjs';
import type { ClassifierData } from './checkpoint.js';
import { NORMALIZATION } from './data/dataset.js';
import { imageToInput } from './image.js';
import type { ResMlp } from './model.js';

export interface PredictOptions {
  /** Classes returned per image, most probable first. Default 5. */
  top?: number;
  /** Resampling to the model's input size. Default 'bilinear'. */
  resize?: 'bilinear' | 'nearest';
  /** Invert pixel values first (dark objects on a light background → Fashion-MNIST style). Default false. */
  invert?: boolean;
}

export interface ClassProbability {
  /** Class index (the logit's position). */
  index: number;
  /** The checkpoint's class name, else `class <index>`. */
  name: string;
  /** Softmax probability in [0, 1]. */
  prob: number;
}

/** The normalisation of predict's inputs: the checkpoint's, else ImageNet's (RGB) or 0.5/0.5 (one channel). */
export function inputNormalization(inChans: number, data: ClassifierData): { mean: number[]; std: number[] } {
  const fallback = inChans === 3 ? NORMALIZATION.imagenet : { mean: [0.5], std: [0.5] };
  return { mean: data.mean ?? [...fallback.mean], std: data.std ?? [...fallback.std] };
}

/** The `top` most probable classes of the PNG `file` under `model` (eval mode), most probable first. */
export async function predictImage(
  model: ResMlp,
  data: ClassifierData,
  file: string,
  opts: PredictOptions = {},
): Promise<ClassProbability[]> {
  const c = model.config;
  const x = imageToInput(file, c.imgSize, c.inChans, inputNormalization(c.inChans, data), {
    resize: opts.resize ?? 'bilinear',
    invert: opts.invert === true,
  });
  const probs = tf.tidy(() => tf.softmax(model.predict(x))); // (1, classes)
  const p = await probs.data();
  tf.dispose([x, probs]);
  const order = [...p.keys()].sort((a, b) => p[b]! - p[a]!).slice(0, Math.min(opts.top ?? 5, p.length));
  return order.map((k) => ({ index: k, name: data.classes?.[k] ?? `class ${k}`, prob: p[k]! }));
}
