// PNG input for predict: decoding with alpha over white, luma conversion, bilinear/nearest resize
// and normalisation to the model's NHWC input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { imageToInput, readPng, resizeImage, toChannels, type DecodedImage } from '../../src/vision/image.js';

test('readPng: RGBA → RGB with alpha composited over white', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resmlp-img-'));
  const png = new PNG({ width: 2, height: 1 });
  png.data.set([10, 20, 30, 255, 0, 0, 0, 0]);
  const file = path.join(dir, 'a.png');
  fs.writeFileSync(file, PNG.sync.write(png));
  const img = readPng(file);
  assert.deepEqual([img.h, img.w, img.c], [1, 2, 3]);
  assert.deepEqual(Array.from(img.data), [10, 20, 30, 255, 255, 255]);
  const x = imageToInput(file, 2, 1, { mean: [0], std: [1] }, { resize: 'nearest' });
  assert.deepEqual(x.shape, [1, 2, 2, 1]);
  const v = x.dataSync();
  assert.ok(Math.abs(v[0]! - (0.299 * 10 + 0.587 * 20 + 0.114 * 30) / 255) < 1e-6);
  assert.ok(Math.abs(v[1]! - 1) < 1e-6);
  x.dispose();
  assert.throws(() => readPng(path.join(dir, 'missing.png')), /missing\.png: cannot read image \(ENOENT\)/);
  fs.rmSync(dir, { recursive: true });
});

test('resize: bilinear with half-pixel centres, nearest, identity', () => {
  const img: DecodedImage = { data: Float32Array.from([0, 100, 200, 300]), h: 1, w: 4, c: 1 };
  assert.deepEqual(Array.from(resizeImage(img, 1, 2, 'bilinear').data), [50, 250]);
  assert.deepEqual(Array.from(resizeImage(img, 1, 2, 'nearest').data), [100, 300]);
  // upsampling: source x = (x + 0.5)/2 − 0.5, clamped at the edges
  assert.deepEqual(Array.from(resizeImage(img, 1, 8, 'bilinear').data), [0, 25, 75, 125, 175, 225, 275, 300]);
  assert.equal(resizeImage(img, 1, 4), img);
});

test('channels: luma for 1, replication for 3', () => {
  const rgb: DecodedImage = { data: Float32Array.from([255, 0, 0]), h: 1, w: 1, c: 3 };
  assert.ok(Math.abs(toChannels(rgb, 1).data[0]! - 0.299 * 255) < 1e-4);
  assert.deepEqual(Array.from(toChannels({ data: Float32Array.from([7]), h: 1, w: 1, c: 1 }, 3).data), [7, 7, 7]);
  assert.throws(() => toChannels(rgb, 2), /cannot convert a 3-channel image to 2 channels/);
});
