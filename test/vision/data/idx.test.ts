// Tests of the IDX reader: small hand-written files (raw and gzipped), every bad-file case, and the
// real Fashion-MNIST files of the Debian package.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { readIdx, readIdxImageSet, fashionMnist, mnist, FASHION_MNIST_DIR } from '../../../src/vision/data/idx.js';
import { channelStats } from '../../../src/vision/data/image-set.js';
import { NORMALIZATION } from '../../../src/vision/data/dataset.js';

function idxBytes(type: number, dims: number[], body: Uint8Array): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head[2] = type;
  head[3] = dims.length;
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, body]);
}

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'idx-test-'));
}

test('reads ubyte images and labels, raw and gzipped, into NHWC', () => {
  const dir = tmpDir();
  const pixels = Uint8Array.from({ length: 3 * 2 * 3 }, (_, i) => i * 10);
  fs.writeFileSync(path.join(dir, 'img'), idxBytes(0x08, [3, 2, 3], pixels));
  fs.writeFileSync(path.join(dir, 'lab.gz'), zlib.gzipSync(idxBytes(0x08, [3], new Uint8Array([2, 0, 1]))));
  const set = readIdxImageSet(path.join(dir, 'img'), path.join(dir, 'lab.gz'));
  assert.deepEqual([set.n, set.h, set.w, set.c], [3, 2, 3, 1]);
  assert.deepEqual(set.images, pixels);
  assert.deepEqual([...set.labels], [2, 0, 1]);
  fs.rmSync(dir, { recursive: true });
});

test('reads big-endian int, float and double IDX data', () => {
  const dir = tmpDir();
  const body = Buffer.alloc(8);
  body.writeInt32BE(-7, 0);
  body.writeInt32BE(123456, 4);
  fs.writeFileSync(path.join(dir, 'i'), idxBytes(0x0c, [2], body));
  assert.deepEqual([...readIdx(path.join(dir, 'i')).data], [-7, 123456]);
  const fb = Buffer.alloc(8);
  fb.writeFloatBE(1.5, 0);
  fb.writeFloatBE(-0.25, 4);
  fs.writeFileSync(path.join(dir, 'f'), idxBytes(0x0d, [1, 2], fb));
  const f = readIdx(path.join(dir, 'f'));
  assert.deepEqual(f.dims, [1, 2]);
  assert.ok(f.data instanceof Float32Array);
  assert.deepEqual([...f.data], [1.5, -0.25]);
  const db = Buffer.alloc(8);
  db.writeDoubleBE(Math.PI, 0);
  fs.writeFileSync(path.join(dir, 'd'), idxBytes(0x0e, [1], db));
  assert.deepEqual([...readIdx(path.join(dir, 'd')).data], [Math.PI]);
  fs.writeFileSync(path.join(dir, 'b'), idxBytes(0x09, [2], new Uint8Array([0xff, 5])));
  assert.deepEqual([...readIdx(path.join(dir, 'b')).data], [-1, 5]);
  fs.rmSync(dir, { recursive: true });
});

test('bad files: one error naming the file and the problem', () => {
  const dir = tmpDir();
  const good = idxBytes(0x08, [2, 2, 2], new Uint8Array(8));
  const files: Record<string, Uint8Array> = {
    tiny: new Uint8Array([0, 0]),
    magic: Buffer.from('PK\x03\x04 not idx'),
    type: Buffer.from([0, 0, 0x07, 1, 0, 0, 0, 1, 5]),
    header: Buffer.from([0, 0, 8, 3, 0, 0, 0, 2]),
    trunc: good.subarray(0, good.length - 3),
    trail: Buffer.concat([good, Buffer.from([1, 2])]),
    'badgz.gz': zlib.gzipSync(good).subarray(0, 15),
    floatimg: idxBytes(0x0d, [1, 1, 1], Buffer.alloc(4)),
    labels2d: idxBytes(0x08, [2, 1], new Uint8Array(2)),
    labels3: idxBytes(0x08, [3], new Uint8Array(3)),
    good: good,
  };
  for (const [name, bytes] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), bytes);
  const p = (name: string) => path.join(dir, name);
  assert.throws(() => readIdx(p('tiny')), /tiny: truncated IDX file: 2 bytes, the 4-byte magic number is missing/);
  assert.throws(() => readIdx(p('magic')), /magic: not an IDX file: magic number 50 4b 03 04, expected 00 00/);
  assert.throws(() => readIdx(p('type')), /type: not an IDX file: magic number 00 00 07 01/);
  assert.throws(() => readIdx(p('header')), /header: truncated IDX file: 8 bytes, the header of 3 dimensions needs 16/);
  assert.throws(() => readIdx(p('trunc')), /trunc: truncated IDX file: dims \[2, 2, 2\] of ubyte need 24 bytes, found 21 \(3 missing\)/);
  assert.throws(() => readIdx(p('trail')), /trail: IDX file has 2 trailing bytes/);
  assert.throws(() => readIdx(p('badgz.gz')), /badgz\.gz: gzip data is corrupt or truncated/);
  assert.throws(() => readIdx(p('missing'), 'install the thing'), /missing: file not found \(install the thing\)/);
  assert.throws(() => readIdx(dir), /is a directory/);
  assert.throws(
    () => readIdxImageSet(p('floatimg'), p('good')),
    /floatimg: expected images of unsigned bytes \(type 0x08\), found type 0x0d \(float\)/,
  );
  assert.throws(() => readIdxImageSet(p('good'), p('labels2d')), /labels2d: expected labels with 1 dimensions, found 2/);
  assert.throws(() => readIdxImageSet(p('good'), p('labels3')), /labels3: 3 labels but .*good has 2 images/);
  fs.writeFileSync(p('labbad'), idxBytes(0x08, [2], new Uint8Array([1, 12])));
  assert.throws(() => readIdxImageSet(p('good'), p('labbad'), ['a', 'b']), /labbad: label 12 at index 1 is out of range for 2 classes/);
  assert.throws(() => mnist(path.join(dir, 'nodir')), /nodir: dataset directory not found/);
  assert.throws(() => mnist(dir), /train-images-idx3-ubyte: file not found/);
  fs.rmSync(dir, { recursive: true });
});

test('Fashion-MNIST from the Debian package: sizes, labels, and the normalisation constants', {
  skip: !fs.existsSync(FASHION_MNIST_DIR) && `${FASHION_MNIST_DIR} absent (apt install dataset-fashion-mnist)`,
}, () => {
  const { train, test: testSet } = fashionMnist();
  assert.deepEqual([train.n, train.h, train.w, train.c], [60000, 28, 28, 1]);
  assert.deepEqual([testSet.n, testSet.h, testSet.w, testSet.c], [10000, 28, 28, 1]);
  assert.equal(train.classes!.length, 10);
  const counts = new Array(10).fill(0);
  for (const l of train.labels) counts[l]++;
  assert.deepEqual(counts, new Array(10).fill(6000)); // Fashion-MNIST is balanced
  const { mean, std } = channelStats(train);
  assert.ok(Math.abs(mean[0] - NORMALIZATION.fashionMnist.mean[0]) < 5e-4, `mean ${mean}`);
  assert.ok(Math.abs(std[0] - NORMALIZATION.fashionMnist.std[0]) < 5e-4, `std ${std}`);
});
