// Image grids of weights as PNG, drawn with the small raster layer (src/util/raster.ts): e.g. the
// rows of a ResMLP cross-patch matrix A as √N×√N images with a diverging colormap (blue < 0 < red),
// as in Fig. 2 of Touvron et al. 2021 (arXiv 2105.03404); used by inspect.ts.
import { writeFileAtomic } from '../util/atomic-write.js';
import { INK, Raster, type RGB } from '../util/raster.js';

export interface ImageGridOptions {
  /** Height and width of each image; default √(length) for square images. */
  imageHeight?: number;
  imageWidth?: number;
  /** Pixels per image pixel; default so that an image is about 64 pixels wide. */
  cellScale?: number;
  /** Gap between images, pixels. Default 4. */
  pad?: number;
  /** 'diverging' (blue − / white 0 / red +, symmetric around 0) or 'gray' (min black, max white). Default 'diverging'. */
  colormap?: 'diverging' | 'gray';
  /** Scale each image on its own ('per-image', default) or all with one range ('global'). */
  normalize?: 'per-image' | 'global';
  title?: string;
  /** Caption under each image (e.g. its index). */
  captions?: string[];
  /** Font pixel size of title and captions. Default 2. */
  textScale?: number;
}

/** Stops of ColorBrewer RdBu (reversed: blue for negative, red for positive). */
const RDBU: RGB[] = [
  [5, 48, 97],
  [33, 102, 172],
  [67, 147, 195],
  [146, 197, 222],
  [209, 229, 240],
  [247, 247, 247],
  [253, 219, 199],
  [244, 165, 130],
  [214, 96, 77],
  [178, 24, 43],
  [103, 0, 31],
];

/** Colour of t ∈ [−1, 1] on the diverging map (clamped). */
export function divergingColor(t: number): RGB {
  const u = (Math.max(-1, Math.min(1, Number.isFinite(t) ? t : 0)) + 1) / 2; // [0, 1]
  const f = u * (RDBU.length - 1);
  const i = Math.min(RDBU.length - 2, Math.floor(f));
  const a = f - i;
  const c0 = RDBU[i];
  const c1 = RDBU[i + 1];
  return [Math.round(c0[0] + a * (c1[0] - c0[0])), Math.round(c0[1] + a * (c1[1] - c0[1])), Math.round(c0[2] + a * (c1[2] - c0[2]))];
}

/**
 * A rows × cols grid of single-channel images (each a Float32Array of imageHeight·imageWidth
 * values, row-major), as PNG bytes. Missing trailing cells stay blank.
 */
export function renderImageGrid(images: Float32Array[], rows: number, cols: number, opts: ImageGridOptions = {}): Buffer {
  if (!(Number.isInteger(rows) && rows > 0 && Number.isInteger(cols) && cols > 0))
    throw new Error(`renderImageGrid: rows and cols must be positive integers, got ${rows}×${cols}`);
  if (images.length > rows * cols) throw new Error(`renderImageGrid: ${images.length} images do not fit a ${rows}×${cols} grid`);
  if (images.length === 0) throw new Error('renderImageGrid: no images');
  const n = images[0].length;
  const side = Math.round(Math.sqrt(n));
  const ih = opts.imageHeight ?? (opts.imageWidth ? n / opts.imageWidth : side);
  const iw = opts.imageWidth ?? (opts.imageHeight ? n / opts.imageHeight : side);
  if (!Number.isInteger(ih) || !Number.isInteger(iw) || ih * iw !== n) {
    throw new Error(`renderImageGrid: images of ${n} values are not ${ih}×${iw}; pass imageHeight/imageWidth`);
  }
  images.forEach((im, i) => {
    if (im.length !== n) throw new Error(`renderImageGrid: image ${i} has ${im.length} values, expected ${n}`);
  });
  const scale = opts.cellScale ?? Math.max(1, Math.round(64 / Math.max(ih, iw)));
  const pad = opts.pad ?? 4;
  const ts = opts.textScale ?? 2;
  const th = Raster.textHeight(ts);
  const captionH = opts.captions ? th + 6 : 0;
  const titleH = opts.title ? th + 16 : 0;
  const cellW = iw * scale;
  const cellH = ih * scale;
  const W = pad + cols * (cellW + pad);
  const H = titleH + pad + rows * (cellH + captionH + pad);
  const img = new Raster(Math.max(W, opts.title ? Raster.textWidth(opts.title, ts) + 2 * pad : 0), H);
  const offsetX = Math.floor((img.width - W) / 2); // centre the grid under a wider title
  const diverging = (opts.colormap ?? 'diverging') === 'diverging';
  const range = (arr: Float32Array) => {
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of arr) {
      if (!Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    return Number.isFinite(lo) ? [lo, hi] : [0, 0];
  };
  let global: number[] | null = null;
  if (opts.normalize === 'global') {
    global = [Infinity, -Infinity];
    for (const im of images) {
      const [lo, hi] = range(im);
      global = [Math.min(global[0], lo), Math.max(global[1], hi)];
    }
  }
  images.forEach((im, k) => {
    const [lo, hi] = global ?? range(im);
    const absMax = Math.max(Math.abs(lo), Math.abs(hi)) || 1;
    const r = Math.floor(k / cols);
    const c = k % cols;
    const x0 = offsetX + pad + c * (cellW + pad);
    const y0 = titleH + pad + r * (cellH + captionH + pad);
    for (let y = 0; y < ih; y++) {
      for (let x = 0; x < iw; x++) {
        const v = im[y * iw + x];
        let color: RGB;
        if (diverging) color = divergingColor(v / absMax);
        else {
          const g = hi > lo ? Math.round((255 * (v - lo)) / (hi - lo)) : 128;
          color = [g, g, g];
        }
        img.fillRect(x0 + x * scale, y0 + y * scale, scale, scale, color);
      }
    }
    if (opts.captions?.[k]) img.text(x0 + cellW / 2, y0 + cellH + 4, opts.captions[k], INK, { scale: ts, align: 'center' });
  });
  if (opts.title) img.text(img.width / 2, 8, opts.title, INK, { scale: ts, align: 'center' });
  return img.toPNG();
}

/**
 * Rows of an n×n matrix (row-major) as images, e.g. the cross-patch weights A of a ResMLP layer:
 * row i holds how patch i mixes every patch, so it reshapes to the √n×√n patch grid (Fig. 2 of the
 * paper). `rows` selects which rows (default all, in order). Images are views, not copies.
 */
export function matrixRowsAsImages(matrix: Float32Array, n: number, rows?: number[]): Float32Array[] {
  if (matrix.length !== n * n) throw new Error(`matrixRowsAsImages: matrix has ${matrix.length} values, expected n·n = ${n * n}`);
  const pick = rows ?? Array.from({ length: n }, (_, i) => i);
  return pick.map((i) => {
    if (!(Number.isInteger(i) && i >= 0 && i < n)) throw new Error(`matrixRowsAsImages: row ${i} out of range [0, ${n})`);
    return matrix.subarray(i * n, (i + 1) * n);
  });
}

/** Render and write an image grid atomically. */
export function writeImageGrid(file: string, images: Float32Array[], rows: number, cols: number, opts: ImageGridOptions = {}): void {
  writeFileAtomic(file, renderImageGrid(images, rows, cols, opts));
}
