// Reading a PNG for `resmlp vision predict`: decode with pngjs (alpha composited over white),
// convert to the model's channels (ITU-R BT.601 luma for 1 channel, as PIL's convert('L')),
// resize to the model's input (bilinear with half-pixel centres, as PIL/OpenCV; or nearest), and
// normalise like the training loader: (v/255 − mean)/std. Output: float32 NHWC (1, H, W, C).
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { PNG } from 'pngjs';

export interface DecodedImage {
  /** Pixels 0..255, (h, w, c) row-major. */
  data: Float32Array;
  h: number;
  w: number;
  c: number;
}

/** Decodes a PNG file to RGB (c = 3) floats 0..255. Errors name the file. */
export function readPng(file: string): DecodedImage {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new Error(`${file}: cannot read image (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let png: PNG;
  try {
    png = PNG.sync.read(bytes);
  } catch (e) {
    throw new Error(`${file}: not a valid PNG image (${(e as Error).message})`);
  }
  const { width: w, height: h, data } = png; // RGBA
  const out = new Float32Array(h * w * 3);
  for (let i = 0; i < h * w; i++) {
    const a = data[4 * i + 3]! / 255;
    for (let ch = 0; ch < 3; ch++) out[3 * i + ch] = data[4 * i + ch]! * a + 255 * (1 - a);
  }
  return { data: out, h, w, c: 3 };
}

/** RGB → the wanted channel count (1: luma 0.299 R + 0.587 G + 0.114 B; 3: unchanged). */
export function toChannels(img: DecodedImage, c: number): DecodedImage {
  if (img.c === c) return img;
  if (img.c === 3 && c === 1) {
    const out = new Float32Array(img.h * img.w);
    for (let i = 0; i < out.length; i++) out[i] = 0.299 * img.data[3 * i]! + 0.587 * img.data[3 * i + 1]! + 0.114 * img.data[3 * i + 2]!;
    return { data: out, h: img.h, w: img.w, c: 1 };
  }
  if (img.c === 1 && c === 3) {
    const out = new Float32Array(img.h * img.w * 3);
    for (let i = 0; i < img.h * img.w; i++) out.fill(img.data[i]!, 3 * i, 3 * i + 3);
    return { data: out, h: img.h, w: img.w, c: 3 };
  }
  throw new Error(`cannot convert a ${img.c}-channel image to ${c} channels`);
}

/** Resizes to (h, w): 'bilinear' (half-pixel centres, edge clamped) or 'nearest'. */
export function resizeImage(img: DecodedImage, h: number, w: number, mode: 'bilinear' | 'nearest' = 'bilinear'): DecodedImage {
  if (img.h === h && img.w === w) return img;
  const { c } = img;
  const out = new Float32Array(h * w * c);
  const sy = img.h / h;
  const sx = img.w / w;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * c;
      if (mode === 'nearest') {
        const yy = Math.min(img.h - 1, Math.floor((y + 0.5) * sy));
        const xx = Math.min(img.w - 1, Math.floor((x + 0.5) * sx));
        for (let ch = 0; ch < c; ch++) out[o + ch] = img.data[(yy * img.w + xx) * c + ch]!;
        continue;
      }
      const fy = Math.min(img.h - 1, Math.max(0, (y + 0.5) * sy - 0.5));
      const fx = Math.min(img.w - 1, Math.max(0, (x + 0.5) * sx - 0.5));
      const y0 = Math.floor(fy);
      const x0 = Math.floor(fx);
      const y1 = Math.min(img.h - 1, y0 + 1);
      const x1 = Math.min(img.w - 1, x0 + 1);
      const dy = fy - y0;
      const dx = fx - x0;
      for (let ch = 0; ch < c; ch++) {
        const p = (yy: number, xx: number) => img.data[(yy * img.w + xx) * c + ch]!;
        out[o + ch] = (1 - dy) * ((1 - dx) * p(y0, x0) + dx * p(y0, x1)) + dy * ((1 - dx) * p(y1, x0) + dx * p(y1, x1));
      }
    }
  }
  return { data: out, h, w, c };
}

/** A PNG file as the model's normalised NHWC input (1, size, size, channels). */
export function imageToInput(
  file: string,
  size: number,
  channels: number,
  norm: { mean: number[]; std: number[] },
  opts: { resize?: 'bilinear' | 'nearest'; invert?: boolean } = {},
): tf.Tensor4D {
  let img = resizeImage(toChannels(readPng(file), channels), size, size, opts.resize ?? 'bilinear');
  const out = new Float32Array(img.data.length);
  for (let i = 0; i < out.length; i++) {
    const ch = i % channels;
    const m = norm.mean.length === 1 ? norm.mean[0]! : norm.mean[ch]!;
    const s = norm.std.length === 1 ? norm.std[0]! : norm.std[ch]!;
    const v = opts.invert ? 255 - img.data[i]! : img.data[i]!;
    out[i] = (v / 255 - m) / s;
  }
  img = { ...img, data: out };
  return tf.tensor4d(img.data, [1, size, size, channels], 'float32');
}
