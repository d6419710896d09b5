// Tiny synthetic image sets for the vision tests: learnable in a few updates, no files needed.
import type { ImageSet } from '../../src/vision/data/image-set.js';
import { Rng } from '../../src/util/rng.js';

/** n images 8×8×1, 3 classes; class k has a bright k-th third of rows (learnable). */
export function syntheticSet(n: number, seed = 0): ImageSet {
  const rng = new Rng(seed);
  const images = new Uint8Array(n * 64);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const k = i % 3;
    labels[i] = k;
    for (let p = 0; p < 64; p++) {
      const row = Math.floor(p / 8);
      const bright = Math.floor(row / 3) === k;
      images[i * 64 + p] = (bright ? 200 : 20) + rng.int(30);
    }
  }
  return { images, labels, n, h: 8, w: 8, c: 1, classes: ['top', 'middle', 'bottom'] };
}
