// Reader for the CIFAR-10 binary version (Krizhevsky 2009, www.cs.toronto.edu/~kriz/cifar.html):
// data_batch_1..5.bin and test_batch.bin, each 10000 records of 1 label byte + 3072 pixel bytes
// stored channel-planar (1024 R, 1024 G, 1024 B, rows of 32). Pixels are transposed to NHWC.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkImageSet, type ImageSet } from './image-set.js';
import { readDataFile } from './read-file.js';

export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
const H = 32;
const W = 32;
const C = 3;
const RECORD = 1 + H * W * C; // 3073

const HINT = 'download cifar-10-binary.tar.gz from www.cs.toronto.edu/~kriz/cifar.html and extract it';

/** Parse CIFAR-10 binary records (any number of whole records). `where` names the file in errors. */
export function parseCifarBatch(bytes: Uint8Array, where: string): ImageSet {
  if (bytes.length === 0 || bytes.length % RECORD !== 0) {
    throw new Error(
      `${where}: not a CIFAR-10 binary batch: ${bytes.length} bytes is not a positive multiple of the ${RECORD}-byte record ` +
        `(1 label + 3072 pixels)${bytes.length > RECORD ? `; truncated? ${bytes.length % RECORD} bytes past the last whole record` : ''}`,
    );
  }
  const n = bytes.length / RECORD;
  const images = new Uint8Array(n * H * W * C);
  const labels = new Uint8Array(n);
  const plane = H * W;
  for (let i = 0; i < n; i++) {
    const rec = i * RECORD;
    const label = bytes[rec];
    if (label >= CIFAR10_CLASSES.length) {
      throw new Error(`${where}: record ${i} has label ${label}, expected 0..9 (is this the CIFAR-100 format, with 2 label bytes?)`);
    }
    labels[i] = label;
    const src = rec + 1;
    const dst = i * plane * C;
    for (let p = 0; p < plane; p++) {
      images[dst + p * C] = bytes[src + p];
      images[dst + p * C + 1] = bytes[src + plane + p];
      images[dst + p * C + 2] = bytes[src + 2 * plane + p];
    }
  }
  return checkImageSet({ images, labels, n, h: H, w: W, c: C, classes: CIFAR10_CLASSES }, where);
}

/** Read one CIFAR-10 binary batch file. */
export function readCifarBatch(file: string): ImageSet {
  return parseCifarBatch(readDataFile(file, HINT), file);
}

/** Concatenate image sets of equal image size. */
export function concatImageSets(sets: ImageSet[]): ImageSet {
  if (sets.length === 0) throw new Error('concatImageSets: no sets given');
  const { h, w, c, classes } = sets[0];
  for (const s of sets)
    if (s.h !== h || s.w !== w || s.c !== c)
      throw new Error(`concatImageSets: image size ${s.h}×${s.w}×${s.c} differs from ${h}×${w}×${c}`);
  const n = sets.reduce((a, s) => a + s.n, 0);
  const images = new Uint8Array(n * h * w * c);
  const labels = new Uint8Array(n);
  let o = 0;
  for (const s of sets) {
    images.set(s.images, o * h * w * c);
    labels.set(s.labels, o);
    o += s.n;
  }
  return { images, labels, n, h, w, c, classes };
}

/**
 * CIFAR-10 from `dir` holding data_batch_1..5.bin and test_batch.bin (or from its
 * `cifar-10-batches-bin` subdirectory, as the archive extracts): 50000 train + 10000 test.
 */
export function cifar10(dir: string): { train: ImageSet; test: ImageSet } {
  if (!fs.existsSync(dir)) throw new Error(`${dir}: CIFAR-10 directory not found (${HINT})`);
  const sub = path.join(dir, 'cifar-10-batches-bin');
  const root = !fs.existsSync(path.join(dir, 'test_batch.bin')) && fs.existsSync(sub) ? sub : dir;
  const train = concatImageSets([1, 2, 3, 4, 5].map((i) => readCifarBatch(path.join(root, `data_batch_${i}.bin`))));
  const test = readCifarBatch(path.join(root, 'test_batch.bin'));
  return { train, test };
}
