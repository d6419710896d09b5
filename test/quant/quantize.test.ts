// The int8 weight scheme (src/quant/quantize.ts): per-row symmetric scales, values in [−127, 127]
// with each non-zero row reaching ±127, every weight within half a step of its dequantised value,
// a zero row kept exact, and a non-finite weight refused with its position.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dequantizeRows, quantizeRows } from '../../src/quant/quantize.js';
import { Rng } from '../../src/util/rng.js';

test('quantizeRows: one scale per row, |w − ŵ| ≤ scale/2, ±127 reached, zero rows exact', () => {
  const rng = new Rng(3);
  const rows = 6;
  const cols = 37;
  const rowScale = [1, 1e-4, 300, 0, 0.02, 7];
  const w = Float32Array.from({ length: rows * cols }, (_, i) => rng.normal() * rowScale[Math.floor(i / cols)]!);
  const q = quantizeRows(w, rows, cols);
  const back = dequantizeRows(q);
  assert.equal(q.scales[3], 1, 'a zero row gets scale 1');
  for (let r = 0; r < rows; r++) {
    let maxAbsQ = 0;
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      assert.ok(q.q[i]! >= -127 && q.q[i]! <= 127);
      maxAbsQ = Math.max(maxAbsQ, Math.abs(q.q[i]!));
      assert.ok(Math.abs(w[i]! - back[i]!) <= q.scales[r]! * 0.5 * (1 + 1e-6), `row ${r}, col ${c}: ${w[i]} vs ${back[i]}`);
    }
    if (rowScale[r] !== 0) assert.equal(maxAbsQ, 127, `row ${r} uses the whole range`);
    else assert.equal(maxAbsQ, 0);
  }
});

test('quantizeRows refuses a non-finite weight, naming where it is', () => {
  const w = new Float32Array([1, 2, 3, 4, NaN, 6]);
  assert.throws(() => quantizeRows(w, 2, 3), /row 1 holds a non-finite weight \(NaN\) at column 1/);
  assert.throws(() => quantizeRows(w, 3, 3), /expected 3×3 = 9 values, found 6/);
});
