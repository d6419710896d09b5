// The beam search's per-row top-k (native/src/topk.cc through Seq2Seq.rowTopK): each row's k best
// in the search's order (larger value, lower id on ties, NaN as −∞, (−∞, −1) past a short row), and
// BeamSearch given it proposes exactly the candidates it proposes alone, on random log-probs with
// ties, −∞ (banned tokens), NaN, vocabularies smaller than 2·beam, and several rows per sentence.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { nativeRowTopK } from '../../../src/backend/native.js';
import { BeamSearch } from '../../../src/mt/decoding/search.js';
import { Rng } from '../../../src/util/rng.js';
import { useTestBackend } from '../../helpers/backend.js';

before(async () => {
  assert.equal(await useTestBackend(), 'native');
});

/** Random log-probs (rows, V) with coarse values (many ties), some −∞ and NaN. */
function lprobs(rng: Rng, rows: number, V: number): Float32Array {
  const x = new Float32Array(rows * V);
  for (let i = 0; i < x.length; i++) {
    const u = rng.uniform();
    x[i] = u < 0.05 ? -Infinity : u < 0.07 ? NaN : -Math.round(rng.uniform() * 40) / 4;
  }
  return x;
}

test("rowTopK: each row's k best, larger value then lower id, NaN as −∞, short rows padded", () => {
  const rng = new Rng(1);
  for (const [rows, V, k] of [
    [3, 50, 8],
    [4, 5, 8],
    [2, 1000, 1],
    [7, 33, 33],
    [1, 40, 16],
  ] as const) {
    const x = lprobs(rng, rows, V);
    const values = new Float32Array(rows * k);
    const ids = new Int32Array(rows * k);
    assert.ok(nativeRowTopK(x, rows, V, k, values, ids));
    for (let r = 0; r < rows; r++) {
      const ref = Array.from({ length: V }, (_, v) => ({ v: Number.isNaN(x[r * V + v]!) ? -Infinity : x[r * V + v]!, id: v }))
        .sort((a, b) => b.v - a.v || a.id - b.id || 0)
        .slice(0, k);
      for (let j = 0; j < k; j++) {
        const want = ref[j] ?? { v: -Infinity, id: -1 };
        // among equal −∞ values the order of ids is the search's too (lower first)
        assert.equal(values[r * k + j], want.v, `rows ${rows} V ${V} k ${k}: row ${r} rank ${j} value`);
        assert.equal(ids[r * k + j], want.id, `rows ${rows} V ${V} k ${k}: row ${r} rank ${j} id`);
      }
    }
  }
});

test('BeamSearch with the native per-row top-k proposes exactly what it proposes alone', () => {
  const rng = new Rng(2);
  for (const [beam, nSent, rps, V] of [
    [4, 5, 4, 300],
    [4, 3, 1, 300],
    [2, 4, 2, 3],
    [5, 2, 5, 9],
    [1, 3, 1, 64],
    [4, 6, 4, 8000],
  ] as const) {
    const x = lprobs(rng, nSent * rps, V);
    const rowScores = Float64Array.from({ length: nSent * rps }, (_, i) =>
      i % 3 === 0 ? -Math.round(rng.uniform() * 8) / 4 : -rng.uniform() * 3,
    );
    const alone = new BeamSearch(beam).step(x, V, rowScores, nSent, rps);
    const withTopK = new BeamSearch(beam, nativeRowTopK).step(x, V, rowScores, nSent, rps);
    assert.deepEqual(withTopK, alone, `beam ${beam}, ${nSent} sentences × ${rps} rows, V ${V}`);
  }
});
