// joinNBest: rank k joins the k-th hypothesis of every unit (the best where a unit has fewer);
// the score of a multi-unit text is Σ log-probs / (Σ lengths) ** lenpen; one unit keeps its own.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { joinNBest, type UnitHypothesis } from '../../../src/mt/text/nbest.js';

const h = (text: string, pos: number[], lenpen = 1): UnitHypothesis => ({
  text,
  tokens: pos.slice(0, -1).map((_, i) => i + 10),
  positionalScores: pos,
  score: pos.reduce((a, b) => a + b, 0) / pos.length ** lenpen,
});
const join = (pick: (u: number) => string, n: number) => Array.from({ length: n }, (_, i) => pick(i)).join(' | ');

test('ranks join the k-th hypothesis of each unit, the best where a unit has fewer', async () => {
  const units = [[h('a1', [-0.1, -0.1]), h('a2', [-0.5, -0.1]), h('a3', [-1, -1])], [h('b1', [-0.2, -0.3, -0.1])]];
  const out = await joinNBest(units, 5, 1, (pick) => join(pick, 2));
  assert.deepEqual(
    out.map((x) => x.text),
    ['a1 | b1', 'a2 | b1', 'a3 | b1'],
  );
  assert.deepEqual(out[0]!.positionalScores, [-0.1, -0.1, -0.2, -0.3, -0.1]);
  assert.deepEqual(out[0]!.tokens, [10, 10, 11]);
  assert.ok(Math.abs(out[0]!.score - -0.8 / 5) < 1e-12);
  const lp2 = await joinNBest(units, 1, 2, (pick) => join(pick, 2));
  assert.equal(lp2.length, 1, 'nbest caps the ranks');
  assert.ok(Math.abs(lp2[0]!.score - -0.8 / 25) < 1e-12);
});

test('one unit: its own hypotheses and scores; no unit: the built text alone', async () => {
  const one = [h('x', [-0.3, -0.2], 0.6), h('y', [-1, -0.2], 0.6)];
  const out = await joinNBest([one], 2, 0.6, (pick) => `«${pick(0)}»`);
  assert.deepEqual(
    out.map((x) => [x.text, x.score]),
    [
      ['«x»', one[0]!.score],
      ['«y»', one[1]!.score],
    ],
  );
  assert.deepEqual(await joinNBest([], 3, 1, () => '***'), [{ text: '***', score: 0, tokens: [], positionalScores: [] }]);
  await assert.rejects(
    joinNBest([[]], 1, 1, () => ''),
    /unit 0 has no hypothesis/,
  );
});
