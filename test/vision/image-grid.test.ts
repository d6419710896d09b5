// Tests of the image grids (src/vision/image-grid.ts): they decode with the right size and draw
// diverging colours by sign or a gray map; rows of a cross-patch matrix as patch-grid images.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PNG } from 'pngjs';
import { divergingColor, matrixRowsAsImages, renderImageGrid } from '../../src/vision/image-grid.js';

function decode(buf: Buffer): PNG {
  return PNG.sync.read(buf);
}

test('image grid: size from rows/cols/scale/pad, diverging colours by sign, gray map', () => {
  const pos = new Float32Array(16).fill(0.1);
  pos[5] = 1;
  const neg = new Float32Array(16).fill(-1);
  const buf = renderImageGrid([pos, neg, pos], 2, 2, { cellScale: 5, pad: 2 });
  const png = decode(buf);
  // 4×4 images scaled 5 = 20 px, 2 columns with pad 2: 2 + 2·22 = 46
  assert.equal(png.width, 46);
  assert.equal(png.height, 46);
  const px = (x: number, y: number) => [...png.data.subarray((y * png.width + x) * 4, (y * png.width + x) * 4 + 3)];
  assert.deepEqual(px(2 + 5 * 1 + 2, 2 + 5 * 1 + 2), [...divergingColor(1)]); // strongest positive: dark red
  assert.deepEqual(px(24 + 10, 2 + 10), [...divergingColor(-1)]); // negative image: dark blue
  assert.deepEqual(px(24 + 10, 24 + 10), [255, 255, 255]); // the 4th cell is empty
  const red = divergingColor(1);
  const blue = divergingColor(-1);
  assert.ok(red[0] > red[2] && blue[2] > blue[0]);
  assert.deepEqual(divergingColor(0), [247, 247, 247]);
  const g = decode(renderImageGrid([Float32Array.from([0, 1, 2, 3])], 1, 1, { colormap: 'gray', cellScale: 1, pad: 0 }));
  assert.deepEqual([g.data[0], g.data[4], g.data[12]], [0, 85, 255]);
  assert.throws(() => renderImageGrid([new Float32Array(5)], 1, 1), /not 2×2; pass imageHeight\/imageWidth/);
  assert.throws(() => renderImageGrid([pos, pos, pos], 1, 2), /3 images do not fit a 1×2 grid/);
  assert.equal(decode(renderImageGrid([new Float32Array(6)], 1, 1, { imageHeight: 2 })).width > 0, true);
});

test('matrixRowsAsImages reshapes rows of a cross-patch matrix into patch-grid images', () => {
  const n = 16;
  const a = Float32Array.from({ length: n * n }, (_, k) => k);
  const imgs = matrixRowsAsImages(a, n, [0, 5]);
  assert.equal(imgs.length, 2);
  assert.deepEqual(
    [...imgs[1]],
    Array.from({ length: 16 }, (_, j) => 5 * 16 + j),
  );
  assert.equal(matrixRowsAsImages(a, n).length, 16);
  const png = decode(renderImageGrid(matrixRowsAsImages(a, n), 4, 4, { cellScale: 2, pad: 1 }));
  assert.equal(png.width, 1 + 4 * (4 * 2 + 1));
  assert.throws(() => matrixRowsAsImages(a, 15), /expected n·n = 225/);
  assert.throws(() => matrixRowsAsImages(a, n, [16]), /row 16 out of range/);
});
