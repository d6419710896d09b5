// Looking inside a trained ResMLP classifier, as the paper's §3.4 "Visualization" does:
//   - Fig. 2: each row of a layer's cross-patch matrix A (N×N) is how one patch reads every other
//     patch; reshaped to the √N×√N patch grid it shows the learned (often local, convolution-like)
//     receptive fields. One PNG per layer with a few evenly spaced rows.
//   - Fig. 3: sparsity of the linear layers: the fraction of weights whose magnitude is below 5% of
//     the layer's maximum, for A (linear_tokens) and the channel MLP's fc1 and fc2, per layer.
import * as path from 'node:path';
import * as fs from 'node:fs';
import { matrixRowsAsImages, writeImageGrid } from './image-grid.js';
import { loadClassifier } from './checkpoint.js';
import type { ResMlp } from './model.js';

/** Fraction of entries with |w| < threshold · max|w| (0 for an all-zero tensor: nothing is "small" relative to 0). */
export function sparsity(w: ArrayLike<number>, threshold = 0.05): number {
  let max = 0;
  for (let i = 0; i < w.length; i++) max = Math.max(max, Math.abs(w[i]!));
  if (max === 0 || w.length === 0) return 0;
  const cut = threshold * max;
  let small = 0;
  for (let i = 0; i < w.length; i++) if (Math.abs(w[i]!) < cut) small++;
  return small / w.length;
}

export interface LayerSparsity {
  layer: number;
  /** Cross-patch matrix A. */
  tokens: number;
  fc1: number;
  fc2: number;
}

/** Sparsity of A, fc1 and fc2 of every block. */
export function layerSparsity(model: ResMlp, threshold = 0.05): LayerSparsity[] {
  const out: LayerSparsity[] = [];
  const params = model.stateDict();
  for (let i = 0; i < model.config.depth; i++) {
    const get = (k: string) => params.get(`blocks.${i}.${k}`)!.dataSync();
    out.push({
      layer: i,
      tokens: sparsity(get('linear_tokens.weight'), threshold),
      fc1: sparsity(get('mlp_channels.fc1.weight'), threshold),
      fc2: sparsity(get('mlp_channels.fc2.weight'), threshold),
    });
  }
  return out;
}

/** `count` evenly spaced row indices of an n-row matrix (all rows when count ≥ n). */
export function spacedRows(n: number, count: number): number[] {
  if (count >= n) return Array.from({ length: n }, (_, i) => i);
  return Array.from({ length: count }, (_, k) => Math.round((k * (n - 1)) / Math.max(1, count - 1)));
}

/** Writes `<outDir>/cross_patch_layer<i>.png` for every block; returns the files. */
export function writeCrossPatchImages(model: ResMlp, outDir: string, rowsShown = 16): string[] {
  fs.mkdirSync(outDir, { recursive: true });
  const N = (model.config.imgSize / model.config.patchSize) ** 2;
  const params = model.stateDict();
  const files: string[] = [];
  const rows = spacedRows(N, rowsShown);
  const cols = Math.ceil(Math.sqrt(rows.length));
  for (let i = 0; i < model.config.depth; i++) {
    const A = params.get(`blocks.${i}.linear_tokens.weight`)!.dataSync() as Float32Array; // (N, N)
    const images = matrixRowsAsImages(A, N, rows);
    const file = path.join(outDir, `cross_patch_layer${i}.png`);
    writeImageGrid(file, images, Math.ceil(rows.length / cols), cols, {
      title: `layer ${i}: rows of A (patch i reads patch j)`,
      captions: rows.map((r) => `${r}`),
      textScale: 1,
    });
    files.push(file);
  }
  return files;
}

/** Loads a checkpoint, writes the cross-patch PNGs, and returns them with the per-layer sparsity. */
export function inspectCheckpoint(
  checkpoint: string,
  outDir: string,
  opts: { rows?: number; threshold?: number } = {},
): { files: string[]; layers: LayerSparsity[] } {
  const model = loadClassifier(checkpoint);
  try {
    const files = writeCrossPatchImages(model, outDir, opts.rows ?? 16);
    const layers = layerSparsity(model, opts.threshold ?? 0.05);
    const report = path.join(outDir, 'sparsity.json');
    fs.writeFileSync(report, JSON.stringify({ checkpoint, threshold: opts.threshold ?? 0.05, layers }, null, 2) + '\n');
    return { files: [...files, report], layers };
  } finally {
    model.dispose();
  }
}
