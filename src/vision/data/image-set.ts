// The in-memory image set every reader returns and every loader consumes: uint8 pixels in NHWC
// order (N, H, W, C) with one uint8 label per image, plus subsets, a stratified held-out split
// (the tuner's 20% validation set) and per-channel statistics for normalisation.
import { Rng } from '../../util/rng.js';

export interface ImageSet {
  /** Pixels, (N, H, W, C) row-major, 0..255. */
  images: Uint8Array;
  /** Class index per image, (N). */
  labels: Uint8Array;
  n: number;
  h: number;
  w: number;
  c: number;
  /** Class names by index, when the source provides them. */
  classes?: string[];
}

/** Throws unless the arrays agree with n, h, w, c (and labels < classes.length when known). */
export function checkImageSet(set: ImageSet, where = 'image set'): ImageSet {
  const { n, h, w, c } = set;
  for (const [k, v] of Object.entries({ n, h, w, c })) {
    if (!Number.isInteger(v) || v < (k === 'n' ? 0 : 1)) throw new Error(`${where}: ${k} must be a positive integer, got ${v}`);
  }
  if (set.images.length !== n * h * w * c) {
    throw new Error(`${where}: images has ${set.images.length} bytes, expected n·h·w·c = ${n}·${h}·${w}·${c} = ${n * h * w * c}`);
  }
  if (set.labels.length !== n) throw new Error(`${where}: labels has ${set.labels.length} entries, expected ${n}`);
  if (set.classes) {
    const k = set.classes.length;
    for (let i = 0; i < n; i++) {
      if (set.labels[i] >= k) throw new Error(`${where}: label ${set.labels[i]} at index ${i} is out of range for ${k} classes`);
    }
  }
  return set;
}

/** The images at `indices`, in that order (copied). */
export function subset(set: ImageSet, indices: ArrayLike<number>): ImageSet {
  const size = set.h * set.w * set.c;
  const images = new Uint8Array(indices.length * size);
  const labels = new Uint8Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const j = indices[i];
    if (!(j >= 0 && j < set.n)) throw new Error(`subset: index ${j} out of range [0, ${set.n})`);
    images.set(set.images.subarray(j * size, (j + 1) * size), i * size);
    labels[i] = set.labels[j];
  }
  return { images, labels, n: indices.length, h: set.h, w: set.w, c: set.c, classes: set.classes };
}

/**
 * Split off `fraction` of the set as a held-out validation set, stratified by label (each class
 * contributes round(fraction · its count) images), chosen by a seeded shuffle. Both parts keep the
 * original order. Deterministic for a given seed.
 */
export function heldOutSplit(set: ImageSet, fraction: number, seed: number | string = 0): { train: ImageSet; val: ImageSet } {
  if (!(fraction > 0 && fraction < 1)) throw new Error(`heldOutSplit: fraction must be in (0, 1), got ${fraction}`);
  const rng = new Rng(seed).fork('held-out-split');
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < set.n; i++) {
    const l = set.labels[i];
    let list = byClass.get(l);
    if (!list) byClass.set(l, (list = []));
    list.push(i);
  }
  const isVal = new Uint8Array(set.n);
  for (const label of [...byClass.keys()].sort((a, b) => a - b)) {
    const list = rng.shuffle(byClass.get(label)!);
    const k = Math.round(fraction * list.length);
    for (let i = 0; i < k; i++) isVal[list[i]] = 1;
  }
  const trainIdx: number[] = [];
  const valIdx: number[] = [];
  for (let i = 0; i < set.n; i++) (isVal[i] ? valIdx : trainIdx).push(i);
  return { train: subset(set, trainIdx), val: subset(set, valIdx) };
}

/** Per-channel mean and standard deviation of the pixels scaled to [0, 1]. */
export function channelStats(set: ImageSet): { mean: number[]; std: number[] } {
  const c = set.c;
  const sum = new Float64Array(c);
  const sumSq = new Float64Array(c);
  const px = set.images;
  for (let i = 0; i < px.length; i += c) {
    for (let ch = 0; ch < c; ch++) {
      const v = px[i + ch];
      sum[ch] += v;
      sumSq[ch] += v * v;
    }
  }
  const count = px.length / c;
  const mean: number[] = [];
  const std: number[] = [];
  for (let ch = 0; ch < c; ch++) {
    const m = sum[ch] / count;
    mean.push(m / 255);
    std.push(Math.sqrt(Math.max(0, sumSq[ch] / count - m * m)) / 255);
  }
  return { mean, std };
}
