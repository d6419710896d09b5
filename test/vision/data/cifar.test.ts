// Tests of the CIFAR-10 binary reader on small synthetic batches: CHW → HWC transpose, directory
// layout, and the bad-file errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cifar10, readCifarBatch } from '../../../src/vision/data/cifar.js';

/** `n` records; pixel (ch, y, x) of record i has value (i + 3ch + y + 2x) mod 256, label i mod 10. */
function batchBytes(n: number, offset = 0): Buffer {
  const b = Buffer.alloc(n * 3073);
  for (let i = 0; i < n; i++) {
    const r = i * 3073;
    b[r] = (i + offset) % 10;
    for (let ch = 0; ch < 3; ch++)
      for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) b[r + 1 + ch * 1024 + y * 32 + x] = (i + offset + 3 * ch + y + 2 * x) % 256;
  }
  return b;
}

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'cifar-test-'));
}

test('a batch is read as NHWC with its labels', () => {
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, 'b.bin'), batchBytes(3));
  const s = readCifarBatch(path.join(dir, 'b.bin'));
  assert.deepEqual([s.n, s.h, s.w, s.c], [3, 32, 32, 3]);
  assert.deepEqual([...s.labels], [0, 1, 2]);
  for (const [i, y, x, ch] of [
    [0, 0, 0, 0],
    [1, 5, 7, 2],
    [2, 31, 31, 1],
  ]) {
    assert.equal(s.images[((i * 32 + y) * 32 + x) * 3 + ch], (i + 3 * ch + y + 2 * x) % 256);
  }
  assert.equal(s.classes![9], 'truck');
  fs.rmSync(dir, { recursive: true });
});

test('cifar10(dir) reads 5 train batches and the test batch, also from cifar-10-batches-bin/', () => {
  const dir = tmpDir();
  const sub = path.join(dir, 'cifar-10-batches-bin');
  fs.mkdirSync(sub);
  for (let i = 1; i <= 5; i++) fs.writeFileSync(path.join(sub, `data_batch_${i}.bin`), batchBytes(2, 2 * (i - 1)));
  fs.writeFileSync(path.join(sub, 'test_batch.bin'), batchBytes(4));
  const { train, test: t } = cifar10(dir);
  assert.equal(train.n, 10);
  assert.deepEqual([...train.labels], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(t.n, 4);
  // the 2nd image of batch 3 is train image 5
  assert.equal(train.images[5 * 3072 + (1 * 32 + 2) * 3 + 1], (5 + 3 + 1 + 4) % 256);
  fs.rmSync(path.join(sub, 'data_batch_4.bin'));
  assert.throws(() => cifar10(dir), /data_batch_4\.bin: file not found \(download cifar-10-binary/);
  fs.rmSync(dir, { recursive: true });
});

test('bad batches: size not a multiple of the record, bad label, missing directory', () => {
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, 'cut.bin'), batchBytes(2).subarray(0, 3073 + 100));
  assert.throws(
    () => readCifarBatch(path.join(dir, 'cut.bin')),
    /cut\.bin: not a CIFAR-10 binary batch: 3173 bytes is not a positive multiple of the 3073-byte record .*truncated\? 100 bytes past/,
  );
  fs.writeFileSync(path.join(dir, 'empty.bin'), Buffer.alloc(0));
  assert.throws(() => readCifarBatch(path.join(dir, 'empty.bin')), /empty\.bin: not a CIFAR-10 binary batch: 0 bytes/);
  const bad = batchBytes(2);
  bad[3073] = 57;
  fs.writeFileSync(path.join(dir, 'label.bin'), bad);
  assert.throws(() => readCifarBatch(path.join(dir, 'label.bin')), /label\.bin: record 1 has label 57, expected 0\.\.9/);
  assert.throws(() => cifar10(path.join(dir, 'none')), /none: CIFAR-10 directory not found/);
  fs.rmSync(dir, { recursive: true });
});
