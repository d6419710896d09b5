// Tests of the seeded xoshiro128** generator: reference outputs, ranges, statistics, resume.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/util/rng.js';

test('next() matches the xoshiro128** reference output for state [1,2,3,4]', () => {
  const r = Rng.fromState({ s: [1, 2, 3, 4], spare: null });
  // values printed by the reference C code (prng.di.unimi.it/xoshiro128starstar.c) with s = {1,2,3,4}
  assert.deepEqual([r.next(), r.next(), r.next(), r.next(), r.next()], [11520, 0, 5927040, 70819200, 2031721883]);
});

test('same seed gives the same stream; different seeds differ', () => {
  const a = new Rng(42);
  const b = new Rng(42);
  const c = new Rng(43);
  const sa = Array.from({ length: 10 }, () => a.next());
  const sb = Array.from({ length: 10 }, () => b.next());
  const sc = Array.from({ length: 10 }, () => c.next());
  assert.deepEqual(sa, sb);
  assert.notDeepEqual(sa, sc);
  assert.equal(new Rng('seed').next(), new Rng('seed').next());
  assert.notDeepEqual(
    Array.from(
      { length: 4 },
      (
        (r) => () =>
          r.next()
      )(new Rng('abc')),
    ),
    Array.from(
      { length: 4 },
      (
        (r) => () =>
          r.next()
      )(new Rng('abd')),
    ),
  );
});

test('uniform in [0,1), int(n) in range and roughly uniform, normal has mean 0 / std 1', () => {
  const r = new Rng(7);
  const counts = new Array(7).fill(0);
  let sumU = 0;
  let sum = 0;
  let sumSq = 0;
  const n = 70000;
  for (let i = 0; i < n; i++) {
    const u = r.uniform();
    assert.ok(u >= 0 && u < 1);
    sumU += u;
    const k = r.int(7);
    assert.ok(Number.isInteger(k) && k >= 0 && k < 7);
    counts[k]++;
    const z = r.normal();
    sum += z;
    sumSq += z * z;
  }
  assert.ok(Math.abs(sumU / n - 0.5) < 0.01, `uniform mean ${sumU / n}`);
  for (const c of counts) assert.ok(Math.abs(c - n / 7) < 5 * Math.sqrt(n / 7), `bucket count ${c}`);
  assert.ok(Math.abs(sum / n) < 0.02, `mean ${sum / n}`);
  assert.ok(Math.abs(sumSq / n - 1) < 0.03, `var ${sumSq / n}`);
  assert.throws(() => r.int(0), /1 ≤ n/);
  assert.throws(() => r.int(2.5), /integer/);
  assert.equal(r.int(1), 0);
  const big = r.int(0x100000000);
  assert.ok(big >= 0 && big <= 0xffffffff);
});

test('shuffle and permutation are permutations', () => {
  const r = new Rng(1);
  const p = r.permutation(100);
  assert.deepEqual(
    [...p].sort((x, y) => x - y),
    Array.from({ length: 100 }, (_, i) => i),
  );
  assert.notDeepEqual(
    [...p],
    Array.from({ length: 100 }, (_, i) => i),
  );
  const arr = ['a', 'b', 'c', 'd', 'e'];
  r.shuffle(arr);
  assert.deepEqual([...arr].sort(), ['a', 'b', 'c', 'd', 'e']);
});

test('getState/setState resume exactly, through JSON, including the cached normal', () => {
  const r = new Rng(99);
  r.normal(); // leaves a spare normal in the state
  const saved = JSON.parse(JSON.stringify(r.getState()));
  const expected = [r.normal(), r.next(), r.uniform(), r.int(1000)];
  const s = Rng.fromState(saved);
  assert.deepEqual([s.normal(), s.next(), s.uniform(), s.int(1000)], expected);
  assert.throws(() => s.setState({ s: [0, 0, 0, 0], spare: null }), /all-zero/);
  assert.throws(() => s.setState({ s: [1, 2, 3] as any, spare: null }), /invalid Rng state/);
});

test('fork is deterministic, does not advance the parent, and labels give different streams', () => {
  const r = new Rng(5);
  const before = r.getState();
  const f1 = r.fork('augment');
  const f2 = r.fork('augment');
  const f3 = r.fork('shuffle');
  assert.deepEqual(r.getState(), before);
  const s1 = [f1.next(), f1.next()];
  assert.deepEqual(s1, [f2.next(), f2.next()]);
  assert.notDeepEqual(s1, [f3.next(), f3.next()]);
  const parent = [r.next(), r.next()];
  assert.notDeepEqual(s1, parent);
});
