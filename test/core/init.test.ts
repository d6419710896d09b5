// Initialisers: bounds, moments, PyTorch fans (the seeded RNG they draw from: test/util/rng.test.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { drawValues, fans } from '../../src/core/init.js';
import { Rng } from '../../src/util/rng.js';

test('fans follow PyTorch; xavier_uniform bound and std; trunc normal within ±2σ', () => {
  assert.deepEqual(fans([8, 4]), { fanIn: 4, fanOut: 8 });
  assert.deepEqual(fans([8, 4, 3, 3]), { fanIn: 36, fanOut: 72 });
  const w = drawValues([100, 300], { kind: 'xavier_uniform' }, new Rng(1));
  const bound = Math.sqrt(6 / 400);
  assert.ok(w.every((v) => Math.abs(v) <= bound));
  const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
  assert.ok(Math.abs(std - bound / Math.sqrt(3)) < 0.02 * bound);
  const t = drawValues([5000], { kind: 'trunc_normal', std: 0.02 }, new Rng(2));
  assert.ok(t.every((v) => Math.abs(v) <= 0.04));
  const z = drawValues([3, 4], { kind: 'zeros' }, new Rng(3));
  assert.ok(z.every((v) => v === 0));
  assert.deepEqual(
    Array.from(drawValues([6], { kind: 'normal', std: 1 }, new Rng(4))),
    Array.from(drawValues([6], { kind: 'normal', std: 1 }, new Rng(4))),
  );
});
