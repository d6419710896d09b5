// Batching, search equivalences and the incremental == full property, checked against an
// independent, deliberately naive implementation of fairseq's beam search (one sentence at a
// time, full sort of every candidate, prefixes as plain arrays, the full-prefix model path).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  type FullDecoderModel,
  type GenerationConfig,
  type Hypothesis,
  SequenceGenerator,
  generate,
  incrementalFullCheck,
  maxLength,
  resolveGenerationConfig,
  specOf,
} from '../../../src/mt/decoding/index.js';
import { BOS, EOS, HashModel, PAD, makeSources } from './fake-models.js';

/** The full-prefix path of a HashModel, as a model without step(). */
function fullOnly(m: HashModel): FullDecoderModel<ReturnType<HashModel['encode']>> {
  return {
    ...specOf(m),
    encode: (src) => m.encode(src),
    fullStep: (enc, rows, prefixes, len) => m.fullStep(enc, rows, prefixes, len),
    disposeEnc: () => {},
  };
}

interface RefBeam {
  tokens: number[];
  lps: number[];
  score: number;
}

/** fairseq SequenceGenerator semantics for one sentence, written as plainly as possible. */
function referenceBeamSearch(m: HashModel, src: Int32Array, overrides: Partial<GenerationConfig>): Hypothesis[] {
  const cfg = resolveGenerationConfig(overrides);
  const beam = cfg.beamSize;
  const V = m.vocabSize;
  const enc = m.encode([src]);
  const maxLen = maxLength(cfg, src.length, m.maxPositions);
  let beams: RefBeam[] = [{ tokens: [], lps: [], score: 0 }];
  const fin: Hypothesis[] = [];
  for (let t = 0; ; t++) {
    const cands: { score: number; b: number; v: number; lp: number }[] = [];
    beams.forEach((bm, b) => {
      const prefix = Int32Array.from([BOS, ...bm.tokens]);
      const lp = m.fullStep(enc, Int32Array.of(0), prefix, prefix.length);
      lp[PAD] = -Infinity;
      const n = cfg.noRepeatNgramSize;
      if (n > 0) {
        const seq = Array.from(prefix);
        const last = seq.slice(seq.length - (n - 1)).join(' ');
        for (let i = 0; i + n <= seq.length; i++) if (seq.slice(i, i + n - 1).join(' ') === last) lp[seq[i + n - 1]] = -Infinity;
      }
      if (t < cfg.minLen && t < maxLen) lp[EOS] = -Infinity;
      if (t >= maxLen) for (let v = 0; v < V; v++) if (v !== EOS) lp[v] = -Infinity;
      for (let v = 0; v < V; v++) cands.push({ score: bm.score + lp[v], b, v, lp: lp[v] });
    });
    cands.sort((x, y) => (x.score > y.score ? -1 : x.score < y.score ? 1 : x.b - y.b || x.v - y.v));
    const top = cands.slice(0, Math.min(2 * beam, cands.length));
    for (const c of top.slice(0, beam)) {
      if (c.v === EOS && c.score > -Infinity && fin.length < beam) {
        const len = beams[c.b].tokens.length + 1;
        fin.push({
          tokens: Int32Array.from([...beams[c.b].tokens, EOS]),
          positionalScores: Float32Array.from([...beams[c.b].lps, c.lp]),
          score: cfg.normalizeScores ? c.score / len ** cfg.lenpen : c.score,
        });
      }
    }
    if (fin.length >= beam || t >= maxLen) break;
    beams = top
      .filter((c) => !(c.v === EOS && c.score > -Infinity))
      .slice(0, beam)
      .map((c) => ({ tokens: [...beams[c.b].tokens, c.v], lps: [...beams[c.b].lps, c.lp], score: c.score }));
    assert.equal(beams.length, beam, 'reference: vocabulary large enough for a full beam');
  }
  return fin
    .map((h, i) => ({ h, i }))
    .sort((a, b) => b.h.score - a.h.score || a.i - b.i)
    .map((e) => e.h);
}

function sameHypos(actual: Hypothesis[], expected: Hypothesis[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: number of hypotheses`);
  actual.forEach((h, i) => {
    assert.deepEqual(Array.from(h.tokens), Array.from(expected[i].tokens), `${what}: tokens of hypothesis ${i}`);
    assert.deepEqual(
      Array.from(h.positionalScores),
      Array.from(expected[i].positionalScores),
      `${what}: positional scores of hypothesis ${i}`,
    );
    assert.ok(Math.abs(h.score - expected[i].score) < 1e-9, `${what}: score of hypothesis ${i}: ${h.score} vs ${expected[i].score}`);
  });
}

const CONFIGS: Partial<GenerationConfig>[] = [
  { beamSize: 1 },
  { beamSize: 1, search: 'beam' },
  { beamSize: 2, nbest: 2 },
  { beamSize: 4, nbest: 4, lenpen: 0.6 },
  { beamSize: 5, nbest: 3, lenpen: 2, minLen: 3 },
  { beamSize: 3, nbest: 3, normalizeScores: false, maxLenA: 0.5, maxLenB: 2 },
  { beamSize: 3, nbest: 2, noRepeatNgramSize: 1 },
  { beamSize: 2, nbest: 2, noRepeatNgramSize: 2, minLen: 6 },
];

describe('batched generator == naive per-sentence beam search', () => {
  for (const cfg of CONFIGS) {
    test(JSON.stringify(cfg), async () => {
      const model = new HashModel(40);
      const src = makeSources(7, 40, 3);
      const out = await new SequenceGenerator(model, cfg).generate(src);
      const nbest = cfg.nbest ?? 1;
      src.forEach((s, i) => sameHypos(out.results[i].hypos, referenceBeamSearch(model, s, cfg).slice(0, nbest), `sentence ${i}`));
    });
  }

  test('bigram blocking on a small vocabulary, where repeats are common', async () => {
    const cfg = { beamSize: 3, nbest: 3, noRepeatNgramSize: 2, minLen: 8 };
    const src = makeSources(6, 9, 4);
    const out = await generate(new HashModel(9), src, cfg);
    const plain = await generate(new HashModel(9), src, { ...cfg, noRepeatNgramSize: 0 });
    const key = (o: typeof out) => o.results.map((r) => r.hypos.map((h) => Array.from(h.tokens).join(',')).join('|')).join(' ');
    assert.notEqual(key(out), key(plain), 'blocking changes some hypothesis');
    src.forEach((s, i) => sameHypos(out.results[i].hypos, referenceBeamSearch(new HashModel(9), s, cfg), `sentence ${i}`));
    for (const r of out.results) {
      for (const h of r.hypos) {
        const bigrams = Array.from(h.tokens.subarray(0, -1), (x, j) => `${x},${h.tokens[j + 1]}`);
        assert.equal(new Set(bigrams).size, bigrams.length, `repeated bigram in ${h.tokens}`);
      }
    }
  });

  test('sentences finish at different steps and drop out: rows shrink exactly', async () => {
    const beam = 3;
    const model = new HashModel(40);
    const src = makeSources(6, 40, 11);
    const batched = await new SequenceGenerator(model, { beamSize: beam, nbest: beam }).generate(src);
    const alone = await Promise.all(
      src.map((s) => new SequenceGenerator(new HashModel(40), { beamSize: beam, nbest: beam }).generate([s])),
    );
    src.forEach((_, i) => sameHypos(batched.results[i].hypos, alone[i].results[0].hypos, `sentence ${i}`));
    const stepsAlone = alone.map((o) => o.stats.steps);
    assert.ok(new Set(stepsAlone).size >= 3, `want varied finishing steps, got ${stepsAlone}`);
    assert.equal(batched.stats.steps, Math.max(...stepsAlone));
    const expectedRows = batched.stats.rowsPerStep.map((_, t) => (t === 0 ? src.length : beam * stepsAlone.filter((n) => n > t).length));
    assert.deepEqual(batched.stats.rowsPerStep, expectedRows);
    assert.deepEqual(model.rowsSeen, expectedRows);
  });

  test('greedy search == beam search with beam 1, and == a plain argmax loop', async () => {
    const model = new HashModel(50);
    const src = makeSources(9, 50, 5);
    const greedy = await generate(model, src, { beamSize: 1, search: 'greedy' });
    const beam1 = await generate(model, src, { beamSize: 1, search: 'beam' });
    src.forEach((s, i) => {
      sameHypos(greedy.results[i].hypos, beam1.results[i].hypos, `sentence ${i}`);
      // argmax loop over the full model
      const enc = model.encode([s]);
      const maxLen = maxLength(resolveGenerationConfig({}), s.length, model.maxPositions);
      const toks: number[] = [];
      for (let t = 0; ; t++) {
        const lp = model.fullStep(enc, Int32Array.of(0), Int32Array.from([BOS, ...toks]), toks.length + 1);
        lp[PAD] = -Infinity;
        if (t < 1) lp[EOS] = -Infinity;
        const arg = t >= maxLen ? EOS : lp.indexOf(Math.max(...lp));
        toks.push(arg);
        if (arg === EOS) break;
      }
      assert.deepEqual(Array.from(greedy.results[i].hypos[0].tokens), toks, `sentence ${i} argmax`);
    });
  });
});

describe('incremental == full', () => {
  test('generating through the full-prefix path gives identical results', async () => {
    const model = new HashModel(30);
    const src = makeSources(5, 30, 8);
    const cfg = { beamSize: 4, nbest: 4, lenpen: 1.2 };
    const inc = await generate(model, src, cfg);
    const full = await generate(fullOnly(model), src, cfg);
    src.forEach((_, i) => sameHypos(inc.results[i].hypos, full.results[i].hypos, `sentence ${i}`));
  });

  test('incrementalFullCheck reports 0 for a correct cache and catches a reorder bug', async () => {
    const src = makeSources(5, 30, 8);
    const good = incrementalFullCheck(new HashModel(30), fullOnly(new HashModel(30)));
    await generate(good.model, src, { beamSize: 4 });
    assert.ok(good.report.steps > 3);
    assert.ok(good.report.compared > 1000);
    assert.equal(good.report.maxAbsDiff, 0);
    assert.equal(good.report.worst, null);

    const buggyInc = new HashModel(30);
    buggyInc.bugNoReorder = true;
    const bad = incrementalFullCheck(buggyInc, fullOnly(new HashModel(30)));
    await generate(bad.model, src, { beamSize: 4 });
    assert.ok(bad.report.maxAbsDiff > 0.1, `max diff ${bad.report.maxAbsDiff}`);
    assert.ok(bad.report.worst !== null && bad.report.worst.step >= 1);
  });
});
