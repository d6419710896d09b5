// Seeded RNG and initialisers: determinism, moments, bounds, PyTorch fans.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { drawValues, fans } from '../../src/core/init.js';
import { Rng } from '../../src/util/rng.js';

test('Rng: same seed same stream, fork is independent of later draws and of the label', () => {
  const a = new Rng(123);
  const b = new Rng(123);
  const sa = Array.from({ length: 5 }, () => a.next());
  assert.deepEqual(
    sa,
    Array.from({ length: 5 }, () => b.next()),
  );
  assert.notDeepEqual(
    sa,
    Array.from({ length: 5 }, () => new Rng(124).next()),
  );
  const f1 = a.fork('x').next();
  assert.equal(a.fork('x').next(), f1, 'fork does not advance the parent');
  assert.notEqual(a.fork('y').next(), f1);
  assert.equal(new Rng('seed').next(), new Rng('seed').next());
});

test('uniform and normal moments', () => {
  const r = new Rng(9);
  const n = 20000;
  let su = 0;
  let sn = 0;
  let sn2 = 0;
  for (let i = 0; i < n; i++) {
    const u = r.uniform();
    assert.ok(u >= 0 && u < 1);
    su += u;
    const z = r.normal();
    sn += z;
    sn2 += z * z;
  }
  assert.ok(Math.abs(su / n - 0.5) < 0.01);
  assert.ok(Math.abs(sn / n) < 0.03);
  assert.ok(Math.abs(sn2 / n - 1) < 0.04);
});

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
