// Partial top-k and the search strategies against full sorts; the generation config resolver.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { BeamSearch, DEFAULT_GENERATION, GreedySearch, TopK, maxLength, resolveGenerationConfig } from '../../../src/mt/decoding/index.js';
import { mulberry32 } from '../../helpers/random.js';

/** Reference: sort everything by (score desc, id asc), NaN as -inf. */
function sortedTop(values: number[], k: number): { s: number; i: number }[] {
  return values
    .map((s, i) => ({ s: Number.isNaN(s) ? -Infinity : s, i }))
    .sort((a, b) => (a.s > b.s ? -1 : a.s < b.s ? 1 : a.i - b.i))
    .slice(0, k);
}

describe('TopK', () => {
  test('matches a full sort, with ties, -inf and NaN', () => {
    const r = mulberry32(7);
    for (let trial = 0; trial < 200; trial++) {
      const n = 1 + Math.floor(r() * 60);
      const k = 1 + Math.floor(r() * 12);
      // Few distinct values → many ties.
      const vals = Array.from({ length: n }, () => {
        const u = r();
        return u < 0.1 ? -Infinity : u < 0.15 ? NaN : Math.floor(r() * 8) / 4;
      });
      const heap = new TopK(k);
      vals.forEach((v, i) => heap.push(v, i));
      const outS = new Float64Array(k);
      const outI = new Int32Array(k);
      const m = heap.sortedInto(outS, outI);
      const want = sortedTop(vals, k);
      assert.equal(m, want.length);
      assert.deepEqual(
        Array.from(outI.subarray(0, m)),
        want.map((w) => w.i),
        `trial ${trial}`,
      );
      assert.deepEqual(
        Array.from(outS.subarray(0, m)),
        want.map((w) => w.s),
      );
    }
  });
});

describe('search strategies', () => {
  test('BeamSearch: top 2·beam over rows × V with cumulative scores, best first', () => {
    const r = mulberry32(3);
    const V = 37;
    for (const [beam, rps, nSent] of [
      [1, 1, 3],
      [4, 1, 2],
      [4, 4, 3],
      [5, 5, 1],
    ]) {
      const lp = Float32Array.from({ length: nSent * rps * V }, () => Math.log(r()) * 3);
      lp[5] = lp[6]; // a tie inside a row
      const scores = Float64Array.from({ length: nSent * rps }, () => -r() * 4);
      const c = new BeamSearch(beam).step(lp, V, scores, nSent, rps);
      assert.equal(c.k, 2 * beam);
      for (let s = 0; s < nSent; s++) {
        const all: number[] = [];
        for (let b = 0; b < rps; b++) for (let v = 0; v < V; v++) all.push(lp[(s * rps + b) * V + v] + scores[s * rps + b]);
        const want = sortedTop(all, 2 * beam);
        assert.equal(c.count[s], want.length);
        want.forEach((w, j) => {
          assert.equal(c.beams[s * c.k + j], Math.floor(w.i / V));
          assert.equal(c.tokens[s * c.k + j], w.i % V);
          assert.equal(c.scores[s * c.k + j], w.s);
        });
      }
    }
  });

  test('BeamSearch: k is capped by the number of candidates', () => {
    const c = new BeamSearch(3).step(Float32Array.of(-1, -2, -3, -0.5), 4, Float64Array.of(0), 1, 1);
    assert.equal(c.k, 4);
    assert.deepEqual(Array.from(c.tokens), [3, 0, 1, 2]);
  });

  test('GreedySearch: argmax per row, lowest id on ties; rejects beams', () => {
    const lp = Float32Array.of(-3, -1, -1, -2, /* row 2 */ -Infinity, -Infinity, -Infinity, -Infinity);
    const c = new GreedySearch().step(lp, 4, Float64Array.of(-0.5, 0), 2, 1);
    assert.deepEqual(Array.from(c.tokens), [1, 0]);
    assert.deepEqual(Array.from(c.scores), [-1.5, -Infinity]);
    assert.throws(() => new GreedySearch().step(new Float32Array(8), 4, new Float64Array(2), 1, 2), /expected 1 row per sentence, got 2/);
  });
});

describe('GenerationConfig', () => {
  test('defaults are fairseq generate defaults', () => {
    assert.deepEqual(resolveGenerationConfig(), { ...DEFAULT_GENERATION });
    assert.equal(DEFAULT_GENERATION.beamSize, 5);
    assert.equal(DEFAULT_GENERATION.maxLenA, 0);
    assert.equal(DEFAULT_GENERATION.maxLenB, 200);
    assert.equal(DEFAULT_GENERATION.lenpen, 1);
    assert.equal(DEFAULT_GENERATION.minLen, 1);
    assert.equal(DEFAULT_GENERATION.nbest, 1);
  });

  test('overrides apply; unknown keys and bad values are rejected with names', () => {
    assert.equal(resolveGenerationConfig({ beamSize: 2, lenpen: 0.6 }).lenpen, 0.6);
    assert.throws(
      () => resolveGenerationConfig({ beam: 4, lenPenalty: 1 }),
      /GenerationConfig: unknown config keys 'beam', 'lenPenalty'; known keys: beamSize/,
    );
    assert.throws(() => resolveGenerationConfig({ beamSize: 0 }), /beamSize: expected an integer >= 1, got 0/);
    assert.throws(() => resolveGenerationConfig({ beamSize: 2.5 }), /beamSize/);
    assert.throws(() => resolveGenerationConfig({ maxLenA: -1 }), /maxLenA: expected a finite number >= 0, got -1/);
    assert.throws(() => resolveGenerationConfig({ search: 'sample' as never }), /search: expected 'auto' \| 'beam' \| 'greedy'/);
    assert.throws(() => resolveGenerationConfig({ search: 'greedy', beamSize: 4 }), /beamSize: expected 1 with search 'greedy', got 4/);
    assert.throws(() => resolveGenerationConfig({ normalizeScores: 'yes' as never }), /normalizeScores: expected a boolean/);
  });

  test('maxLength = min(trunc(a·|src| + b), maxPositions − 1)', () => {
    assert.equal(maxLength({ maxLenA: 0, maxLenB: 200 }, 10, 1024), 200);
    assert.equal(maxLength({ maxLenA: 1.2, maxLenB: 10 }, 7, 1024), 18); // 18.4
    assert.equal(maxLength({ maxLenA: 0, maxLenB: 200 }, 10, 100), 99);
  });
});
