// Tests of the raster layer and its font: clipping, line endpoints and thickness, text extent and
// orientation, PNG round trip, atomic writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { Raster } from '../../src/util/raster.js';
import { glyphRows, hasGlyph, GLYPH_HEIGHT } from '../../src/util/font.js';
import { writeFileAtomic, writeTextAtomic } from '../../src/util/atomic-write.js';

const BLACK = [0, 0, 0] as const;

function inked(r: Raster): { minX: number; maxX: number; minY: number; maxY: number; count: number } {
  let minX = Infinity;
  let maxX = -Infinity;
  let minY = Infinity;
  let maxY = -Infinity;
  let count = 0;
  for (let y = 0; y < r.height; y++) {
    for (let x = 0; x < r.width; x++) {
      if (r.getPixel(x, y)[0] === 0) {
        count++;
        minX = Math.min(minX, x);
        maxX = Math.max(maxX, x);
        minY = Math.min(minY, y);
        maxY = Math.max(maxY, y);
      }
    }
  }
  return { minX, maxX, minY, maxY, count };
}

test('font covers printable ASCII; unknown characters are a box', () => {
  for (let c = 32; c < 127; c++) assert.ok(hasGlyph(String.fromCharCode(c)), `missing glyph ${String.fromCharCode(c)}`);
  assert.equal(glyphRows('A').length, GLYPH_HEIGHT);
  assert.deepEqual(glyphRows('A').slice(0, 3), [0b01110, 0b10001, 0b10001]);
  assert.ok(glyphRows('g')[7] !== 0, 'g has a descender');
  assert.deepEqual(glyphRows('€'), [0x1f, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1f, 0, 0]);
});

test('fillRect clips; lines hit both endpoints; thickness widens', () => {
  const r = new Raster(10, 10);
  r.fillRect(-5, -5, 7, 7, BLACK);
  assert.deepEqual(inked(r), { minX: 0, maxX: 1, minY: 0, maxY: 1, count: 4 });
  const l = new Raster(20, 20);
  l.line(2, 3, 17, 11, BLACK);
  assert.deepEqual(l.getPixel(2, 3), [0, 0, 0]);
  assert.deepEqual(l.getPixel(17, 11), [0, 0, 0]);
  assert.equal(inked(l).count, 16); // one pixel per column of the major axis
  const t = new Raster(20, 20);
  t.line(2, 10, 17, 10, BLACK, 3);
  assert.deepEqual(inked(t), { minX: 1, maxX: 18, minY: 9, maxY: 11, count: 18 * 3 });
});

test('text: extent matches textWidth, alignment, and vertical text is rotated', () => {
  const r = new Raster(100, 40);
  r.text(10, 5, 'H1', BLACK, { scale: 2 });
  const box = inked(r);
  assert.equal(box.minX, 10);
  assert.equal(box.maxX + 1 - box.minX, Raster.textWidth('H1', 2) - 2); // '1' has an empty last column
  assert.equal(box.minY, 5);
  assert.equal(box.maxY + 1 - box.minY, Raster.textHeight(2));
  const c = new Raster(100, 40);
  c.text(50, 20, 'HH', BLACK, { align: 'center', valign: 'middle' });
  const cb = inked(c);
  assert.ok(Math.abs((cb.minX + cb.maxX + 1) / 2 - 50) <= 0.5); // odd width: half-pixel rounding
  assert.ok(Math.abs((cb.minY + cb.maxY + 1) / 2 - 20) <= 0.5);
  const v = new Raster(40, 100);
  v.text(10, 90, 'HHHH', BLACK, { vertical: true });
  const vb = inked(v);
  assert.equal(vb.maxX + 1 - vb.minX, 7); // glyph height across
  assert.equal(vb.maxY + 1 - vb.minY, Raster.textWidth('HHHH')); // text runs upwards
  assert.equal(vb.maxY, 89);
});

test('toPNG decodes to the same pixels', () => {
  const r = new Raster(7, 5, [10, 20, 30]);
  r.setPixel(3, 2, [200, 100, 50]);
  const png = PNG.sync.read(r.toPNG());
  assert.equal(png.width, 7);
  assert.equal(png.height, 5);
  assert.deepEqual([...png.data.subarray(0, 4)], [10, 20, 30, 255]);
  const o = (2 * 7 + 3) * 4;
  assert.deepEqual([...png.data.subarray(o, o + 4)], [200, 100, 50, 255]);
  assert.throws(() => new Raster(0, 5), /positive integers/);
});

test('atomic writes replace the file and leave no temp file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atomic-test-'));
  const f = path.join(dir, 'a.txt');
  writeTextAtomic(f, 'one');
  writeFileAtomic(f, [Buffer.from('tw'), Buffer.from('o')]);
  assert.equal(fs.readFileSync(f, 'utf8'), 'two');
  assert.deepEqual(fs.readdirSync(dir), ['a.txt']);
  fs.mkdirSync(path.join(dir, 'd'));
  assert.throws(() => writeTextAtomic(path.join(dir, 'd'), 'x'), /cannot write .*d: /);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['a.txt', 'd']);
  fs.rmSync(dir, { recursive: true });
});
