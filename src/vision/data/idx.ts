// Reader for the IDX format of MNIST and Fashion-MNIST (LeCun et al., yann.lecun.com/exdb/mnist;
// Xiao et al. 2017, arXiv 1708.07747): magic = two zero bytes, a type byte (0x08 ubyte, 0x09 byte,
// 0x0B short, 0x0C int, 0x0D float, 0x0E double) and the number of dimensions, then each dimension
// as a big-endian uint32, then the data, big-endian, row-major. Files may be gzipped.
// Also the Fashion-MNIST / MNIST loaders over the standard file names (Debian's
// dataset-fashion-mnist ships them gzipped in /usr/share/datasets/fashion-mnist).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkImageSet, type ImageSet } from './image-set.js';
import { maybeGunzip, readDataFile } from './read-file.js';

export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxArray {
  dims: number[];
  /** 0x08..0x0E, see the file comment. */
  type: number;
  data: IdxData;
}

const TYPES: Record<number, { name: string; size: number }> = {
  0x08: { name: 'ubyte', size: 1 },
  0x09: { name: 'byte', size: 1 },
  0x0b: { name: 'short', size: 2 },
  0x0c: { name: 'int', size: 4 },
  0x0d: { name: 'float', size: 4 },
  0x0e: { name: 'double', size: 8 },
};

/** Parse IDX bytes (already gunzipped). `where` names the file in errors. */
export function parseIdx(bytes: Uint8Array, where: string): IdxArray {
  if (bytes.length < 4) throw new Error(`${where}: truncated IDX file: ${bytes.length} bytes, the 4-byte magic number is missing`);
  const type = bytes[2];
  const ndim = bytes[3];
  if (bytes[0] !== 0 || bytes[1] !== 0 || !(type in TYPES) || ndim === 0) {
    const magic = [...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new Error(
      `${where}: not an IDX file: magic number ${magic}, expected 00 00 <type 08..0e> <ndim ≥ 1> (e.g. 00 00 08 03 for images)`,
    );
  }
  const headerLen = 4 + 4 * ndim;
  if (bytes.length < headerLen)
    throw new Error(`${where}: truncated IDX file: ${bytes.length} bytes, the header of ${ndim} dimensions needs ${headerLen}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const { name, size } = TYPES[type];
  const count = dims.reduce((a, b) => a * b, 1);
  const expected = headerLen + count * size;
  if (bytes.length < expected) {
    throw new Error(
      `${where}: truncated IDX file: dims [${dims.join(', ')}] of ${name} need ${expected} bytes, found ${bytes.length} (${expected - bytes.length} missing)`,
    );
  }
  if (bytes.length > expected) {
    throw new Error(
      `${where}: IDX file has ${bytes.length - expected} trailing bytes after dims [${dims.join(', ')}] of ${name} (${expected} bytes expected)`,
    );
  }
  let data: IdxData;
  // copies (Buffer.slice would return a view into Node's buffer)
  if (type === 0x08) data = new Uint8Array(bytes.subarray(headerLen, expected));
  else if (type === 0x09) data = new Int8Array(new Uint8Array(bytes.subarray(headerLen, expected)).buffer);
  else {
    const Ctor = { 0x0b: Int16Array, 0x0c: Int32Array, 0x0d: Float32Array, 0x0e: Float64Array }[type as 0x0b | 0x0c | 0x0d | 0x0e];
    const out = new Ctor(count);
    for (let i = 0, o = headerLen; i < count; i++, o += size) {
      out[i] =
        type === 0x0b
          ? view.getInt16(o, false)
          : type === 0x0c
            ? view.getInt32(o, false)
            : type === 0x0d
              ? view.getFloat32(o, false)
              : view.getFloat64(o, false);
    }
    data = out;
  }
  return { dims, type, data };
}

/** Read an IDX file (raw or gzipped). */
export function readIdx(file: string, hint = ''): IdxArray {
  return parseIdx(maybeGunzip(readDataFile(file, hint), file), file);
}

function expectUbyte(a: IdxArray, file: string, ndims: number[], what: string): Uint8Array {
  if (a.type !== 0x08)
    throw new Error(
      `${file}: expected ${what} of unsigned bytes (type 0x08), found type 0x${a.type.toString(16).padStart(2, '0')} (${TYPES[a.type].name})`,
    );
  if (!ndims.includes(a.dims.length)) {
    throw new Error(`${file}: expected ${what} with ${ndims.join(' or ')} dimensions, found ${a.dims.length} ([${a.dims.join(', ')}])`);
  }
  return a.data as Uint8Array;
}

/** Read an IDX image file (N, H, W) or (N, H, W, C) and its label file (N) into an ImageSet. */
export function readIdxImageSet(imagesFile: string, labelsFile: string, classes?: string[], hint = ''): ImageSet {
  const img = readIdx(imagesFile, hint);
  const images = expectUbyte(img, imagesFile, [3, 4], 'images');
  const lab = readIdx(labelsFile, hint);
  const labels = expectUbyte(lab, labelsFile, [1], 'labels');
  const [n, h, w, c = 1] = img.dims;
  if (labels.length !== n) throw new Error(`${labelsFile}: ${labels.length} labels but ${imagesFile} has ${n} images`);
  if (classes) {
    for (let i = 0; i < n; i++) {
      if (labels[i] >= classes.length)
        throw new Error(`${labelsFile}: label ${labels[i]} at index ${i} is out of range for ${classes.length} classes`);
    }
  }
  return checkImageSet({ images, labels, n, h, w, c, classes }, imagesFile);
}

export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];
export const MNIST_CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

/** Default location of Debian's dataset-fashion-mnist package. */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** `<dir>/<base>.gz` if present, else `<dir>/<base>` (which may not exist: the reader then names it). */
function findFile(dir: string, base: string): string {
  const gz = path.join(dir, `${base}.gz`);
  return fs.existsSync(gz) ? gz : path.join(dir, base);
}

/** Load the train/test sets from a directory with the four standard MNIST-style file names. */
export function loadMnistStyle(dir: string, classes: string[], hint: string): { train: ImageSet; test: ImageSet } {
  if (!fs.existsSync(dir)) throw new Error(`${dir}: dataset directory not found (${hint})`);
  const f = (base: string) => findFile(dir, base);
  return {
    train: readIdxImageSet(f('train-images-idx3-ubyte'), f('train-labels-idx1-ubyte'), classes, hint),
    test: readIdxImageSet(f('t10k-images-idx3-ubyte'), f('t10k-labels-idx1-ubyte'), classes, hint),
  };
}

/** Fashion-MNIST: 60000 train + 10000 test 28×28×1 images, 10 classes. */
export function fashionMnist(dir = FASHION_MNIST_DIR): { train: ImageSet; test: ImageSet } {
  return loadMnistStyle(
    dir,
    FASHION_MNIST_CLASSES,
    'install the Debian package dataset-fashion-mnist, or give the directory holding train-images-idx3-ubyte[.gz] etc.',
  );
}

/** MNIST, same file layout as Fashion-MNIST. */
export function mnist(dir: string): { train: ImageSet; test: ImageSet } {
  return loadMnistStyle(dir, MNIST_CLASSES, 'give the directory holding train-images-idx3-ubyte[.gz] etc.');
}
