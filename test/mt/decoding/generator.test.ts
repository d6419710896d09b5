// Port of fairseq's tests/test_sequence_generator.py (TestSequenceGenerator) onto our
// generator, with the same hand-written per-step probabilities (tests/utils.py
// sequence_generator_setup), plus length limits, n-best, unk penalty and error cases.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { type Hypothesis, SequenceGenerator, generate } from '../../../src/mt/decoding/index.js';
import { EOS, PAD, PositionalFakeModel, PrefixTableModel, UNK, W1, W2, fairseqBeamProbs } from './fake-models.js';

const W3 = 6;
const SRC = [Int32Array.from([W1, W2, EOS]), Int32Array.from([W1, W2, EOS])];

function assertHypo(
  h: Hypothesis | undefined,
  tokens: number[],
  probs: number[],
  opts: { normalized?: boolean; lenpen?: number } = {},
): void {
  assert.ok(h, `expected a hypothesis ${JSON.stringify(tokens)}`);
  assert.deepEqual(Array.from(h.tokens), tokens);
  const pos = probs.map((p) => Math.fround(Math.log(p)));
  assert.equal(h.positionalScores.length, pos.length);
  pos.forEach((p, i) => assert.ok(Math.abs(h.positionalScores[i] - p) < 1e-6, `positional score ${i}: ${h.positionalScores[i]} vs ${p}`));
  let score = pos.reduce((a, b) => a + b, 0);
  if (opts.normalized ?? true) score /= pos.length ** (opts.lenpen ?? 1);
  assert.ok(Math.abs(score - h.score) < 1e-6, `score ${h.score} vs expected ${score}`);
}

async function runFairseq(config: Record<string, unknown>) {
  const model = new PositionalFakeModel(fairseqBeamProbs(), 2);
  const out = await new SequenceGenerator(model, { beamSize: 2, nbest: 2, ...config }).generate(SRC);
  assert.equal(model.liveStates, 0, 'decoder state disposed');
  assert.equal(model.liveEncs, 0, 'encoder output disposed');
  return { hypos: out.results.map((r) => r.hypos), model, stats: out.stats };
}

describe('TestSequenceGenerator (fairseq port)', () => {
  test('with normalization', async () => {
    const { hypos } = await runFairseq({});
    assertHypo(hypos[0][0], [W1, EOS], [0.9, 1.0]);
    assertHypo(hypos[0][1], [W2, W1, W2, EOS], [0.1, 0.9, 0.9, 1.0]);
    assertHypo(hypos[1][0], [W1, W2, W1, EOS], [0.7, 0.4, 0.4, 1.0]);
    assertHypo(hypos[1][1], [W1, W2, EOS], [0.7, 0.4, 0.6]);
  });

  test('without normalization: sentence 2 beams swap order', async () => {
    const { hypos } = await runFairseq({ normalizeScores: false });
    const n = { normalized: false };
    assertHypo(hypos[0][0], [W1, EOS], [0.9, 1.0], n);
    assertHypo(hypos[0][1], [W2, W1, W2, EOS], [0.1, 0.9, 0.9, 1.0], n);
    assertHypo(hypos[1][0], [W1, W2, EOS], [0.7, 0.4, 0.6], n);
    assertHypo(hypos[1][1], [W1, W2, W1, EOS], [0.7, 0.4, 0.4, 1.0], n);
  });

  test('lenpen 0.6 favours short hypotheses', async () => {
    const lenpen = 0.6;
    const { hypos } = await runFairseq({ lenpen });
    assertHypo(hypos[0][0], [W1, EOS], [0.9, 1.0], { lenpen });
    assertHypo(hypos[0][1], [W2, W1, W2, EOS], [0.1, 0.9, 0.9, 1.0], { lenpen });
    assertHypo(hypos[1][0], [W1, W2, EOS], [0.7, 0.4, 0.6], { lenpen });
    assertHypo(hypos[1][1], [W1, W2, W1, EOS], [0.7, 0.4, 0.4, 1.0], { lenpen });
  });

  test('lenpen 5 favours long hypotheses', async () => {
    const lenpen = 5.0;
    const { hypos } = await runFairseq({ lenpen });
    assertHypo(hypos[0][0], [W2, W1, W2, EOS], [0.1, 0.9, 0.9, 1.0], { lenpen });
    assertHypo(hypos[0][1], [W1, EOS], [0.9, 1.0], { lenpen });
    assertHypo(hypos[1][0], [W1, W2, W1, EOS], [0.7, 0.4, 0.4, 1.0], { lenpen });
    assertHypo(hypos[1][1], [W1, W2, EOS], [0.7, 0.4, 0.6], { lenpen });
  });

  test('maxlen: max_len_b 2 forces EOS at step 2', async () => {
    const { hypos, stats } = await runFairseq({ maxLenB: 2 });
    assertHypo(hypos[0][0], [W1, EOS], [0.9, 1.0]);
    assertHypo(hypos[0][1], [W2, W2, EOS], [0.1, 0.1, 0.6]);
    assertHypo(hypos[1][0], [W1, W2, EOS], [0.7, 0.4, 0.6]);
    assertHypo(hypos[1][1], [W2, W2, EOS], [0.3, 0.9, 0.01]);
    assert.equal(stats.steps, 3);
  });

  test('nbest 1 returns only the best; rows start at one per sentence then beam per sentence', async () => {
    const { hypos, model, stats } = await runFairseq({ nbest: 1 });
    assert.deepEqual(
      hypos.map((h) => h.length),
      [1, 1],
    );
    assertHypo(hypos[0][0], [W1, EOS], [0.9, 1.0]);
    assertHypo(hypos[1][0], [W1, W2, W1, EOS], [0.7, 0.4, 0.4, 1.0]);
    // Both sentences finalize their second hypothesis at step 3 (fairseq's fake requires it).
    assert.deepEqual(model.rowsSeen, [2, 4, 4, 4]);
    assert.deepEqual(stats.rowsPerStep, model.rowsSeen);
  });
});

// Hand-written prefix tables: prefix → [eos, unk, w1, w2, w3]; missing prefixes end (EOS 1).
describe('length limits, n-best, unk penalty', () => {
  test('min length bans EOS before step minLen (no renormalization, as fairseq)', async () => {
    const table = { '': [0.6, 0, 0.3, 0.1, 0], '4': [0.5, 0, 0.2, 0.3, 0], '4 5': [0.9, 0, 0.05, 0.05, 0] };
    const src = [Int32Array.from([0, EOS])];
    let out = await generate(new PrefixTableModel([table]), src, { beamSize: 1, minLen: 0 });
    assertHypo(out.results[0].hypos[0], [EOS], [0.6]);
    out = await generate(new PrefixTableModel([table]), src, { beamSize: 1, minLen: 1 });
    assertHypo(out.results[0].hypos[0], [W1, EOS], [0.3, 0.5]);
    out = await generate(new PrefixTableModel([table]), src, { beamSize: 1, minLen: 2 });
    assertHypo(out.results[0].hypos[0], [W1, W2, EOS], [0.3, 0.3, 0.9]);
  });

  test('max length per sentence: floor(a·|src| + b), capped by maxPositions − 1', async () => {
    // EOS is never likely: w1 forever, so every hypothesis stops at its forced EOS.
    const table: Record<string, number[]> = {};
    let p = '';
    for (let i = 0; i < 30; i++) {
      table[p] = [0.01, 0, 0.99, 0, 0];
      p = p === '' ? '4' : `${p} 4`;
    }
    const src = [Int32Array.from([0, 9, 9, EOS]), Int32Array.from([0, EOS]), Int32Array.from([0, 9, 9, 9, 9, 9, EOS])];
    const model = new PrefixTableModel([table]);
    // Beam 1: with beam 2 the EOS in second place would finalize early hypotheses (fairseq's
    // early stop after `beam` finalized), which is tested elsewhere.
    const g = new SequenceGenerator(model, { beamSize: 1, maxLenA: 1.5, maxLenB: 1 });
    assert.deepEqual(
      src.map((s) => g.maxLen(s.length)),
      [7, 4, 11],
    );
    const out = await g.generate(src);
    const lens = out.results.map((r) => r.hypos[0].tokens.length);
    assert.deepEqual(lens, [8, 5, 12]); // max tokens + the forced EOS
    for (const r of out.results) {
      const h = r.hypos[0];
      const n = h.tokens.length - 1;
      assertHypo(h, [...new Array(n).fill(W1), EOS], [...new Array(n).fill(0.99), 0.01]);
    }
    // Sentences drop out as they hit their limits (steps 4, 7, 11).
    assert.deepEqual(out.stats.rowsPerStep, [3, 3, 3, 3, 3, 2, 2, 2, 1, 1, 1, 1]);
    model.maxPositions = 4;
    const capped = await new SequenceGenerator(model, { beamSize: 1, maxLenA: 1.5, maxLenB: 1 }).generate(src);
    assert.deepEqual(
      capped.results.map((r) => r.hypos[0].tokens.length),
      [4, 4, 4],
    );
  });

  test('forced EOS at max length wins over minLen', async () => {
    const out = await generate(new PrefixTableModel([{ '': [0.5, 0, 0.5, 0, 0] }]), [Int32Array.from([0])], {
      beamSize: 2,
      minLen: 5,
      maxLenB: 2,
    });
    // '' → w1 (EOS banned); '4' is missing, so only EOS has mass there and it is banned at
    // step 1 < minLen: every continuation is -inf, the beams die and nothing can finish.
    assert.equal(out.results[0].hypos.length, 0);
    assert.equal(out.results[0].aborted, false);
    // With mass on w1/w2 at step 1, the EOS forced at step 2 = maxLen is allowed despite minLen.
    // w1 and w2 tie at step 1 (0.5·0.25): the lower id ranks first.
    const table = { '': [0.5, 0, 0.5, 0, 0], '4': [0.5, 0, 0.25, 0.25, 0], '4 4': [0.5, 0, 0.5, 0, 0], '4 5': [0.2, 0, 0.8, 0, 0] };
    const out2 = await generate(new PrefixTableModel([table]), [Int32Array.from([0])], { beamSize: 2, nbest: 2, minLen: 5, maxLenB: 2 });
    assertHypo(out2.results[0].hypos[0], [W1, W1, EOS], [0.5, 0.25, 0.5]);
    assertHypo(out2.results[0].hypos[1], [W1, W2, EOS], [0.5, 0.25, 0.2]);
  });

  test('n-best: ordered by normalized score, at most beam, sorted stably', async () => {
    const table = {
      '': [0, 0, 0.5, 0.3, 0.2],
      '4': [0.6, 0, 0.2, 0.1, 0.1],
      '5': [0.9, 0, 0.05, 0.05, 0],
      '6': [0.3, 0, 0.7, 0, 0],
      '6 4': [1, 0, 0, 0, 0],
    };
    const out = await generate(new PrefixTableModel([table]), [Int32Array.from([0])], { beamSize: 3, nbest: 3 });
    const [a, b, c] = out.results[0].hypos;
    assertHypo(a, [W1, EOS], [0.5, 0.6]); // log .30 / 2 = -0.602
    assertHypo(b, [W2, EOS], [0.3, 0.9]); // log .27 / 2 = -0.655
    assertHypo(c, [W3, W1, EOS], [0.2, 0.7, 1]); // log .14 / 3 = -0.655...
    assert.ok(a.score >= b.score && b.score >= c.score);
    assert.throws(
      () => new SequenceGenerator(new PrefixTableModel([table]), { beamSize: 2, nbest: 3 }),
      /nbest: expected at most beamSize \(2\), got 3/,
    );
  });

  test('unk penalty lowers unk below the alternatives and shows in its positional score', async () => {
    const table = { '': [0, 0.5, 0.3, 0.2, 0], '3': [1, 0, 0, 0, 0], '4': [1, 0, 0, 0, 0] };
    let out = await generate(new PrefixTableModel([table]), [Int32Array.from([0])], { beamSize: 2, nbest: 2 });
    assertHypo(out.results[0].hypos[0], [UNK, EOS], [0.5, 1]);
    out = await generate(new PrefixTableModel([table]), [Int32Array.from([0])], { beamSize: 2, nbest: 2, unkPenalty: 0.6 });
    assertHypo(out.results[0].hypos[0], [W1, EOS], [0.3, 1]);
    assertHypo(out.results[0].hypos[1], [UNK, EOS], [0.5 * Math.exp(-0.6), 1]);
    const noUnk = Object.assign(new PrefixTableModel([table]), { unkId: undefined });
    assert.throws(() => new SequenceGenerator(noUnk, { unkPenalty: 1 }), /needs model\.unkId/);
  });

  test('no-repeat n-gram blocks the token that would repeat a bigram (fairseq NGramRepeatBlock)', async () => {
    // The model loves "w1 w2 w1 w2 ...": after "w1 w2 w1", w2 would repeat the bigram "w1 w2".
    const table = {
      '': [0, 0, 0.8, 0.1, 0.1],
      '4': [0.1, 0, 0.05, 0.8, 0.05],
      '4 5': [0.1, 0, 0.8, 0.05, 0.05],
      '4 5 4': [0.01, 0, 0.04, 0.8, 0.15],
      '4 5 4 6': [0.9, 0, 0.05, 0.05, 0],
    };
    let out = await generate(new PrefixTableModel([table]), [Int32Array.from([0])], { beamSize: 1, maxLenB: 4 });
    assertHypo(out.results[0].hypos[0], [W1, W2, W1, W2, EOS], [0.8, 0.8, 0.8, 0.8, 1]);
    out = await generate(new PrefixTableModel([table]), [Int32Array.from([0])], { beamSize: 1, maxLenB: 4, noRepeatNgramSize: 2 });
    // At "w1 w2 w1" the favourite w2 is banned; w3 is next. Banned mass is not renormalized.
    assertHypo(out.results[0].hypos[0], [W1, W2, W1, W3, EOS], [0.8, 0.8, 0.8, 0.15, 0.9]);
  });

  test('pad is never generated even when the model prefers it', async () => {
    const model = new PrefixTableModel([{}]);
    const orig = model.step.bind(model);
    model.step = (prev, st, t) => {
      const out = orig(prev, st, t);
      for (let r = 0; r < out.length / 7; r++) out[r * 7 + PAD] = 0; // pad prob 1
      return out;
    };
    const out = await generate(model, [Int32Array.from([0])], { beamSize: 2, nbest: 2 });
    for (const h of out.results[0].hypos) assert.ok(!h.tokens.includes(PAD));
  });

  test('model contract errors name what was expected and found', async () => {
    const model = new PrefixTableModel([{}]);
    model.step = () => new Float32Array(3);
    await assert.rejects(
      generate(model, [Int32Array.from([0])], { beamSize: 2 }),
      /model\.step at step 0 must return a Float32Array of 1×7 = 7 log-probs, got 3 values/,
    );
    await assert.rejects(generate(new PrefixTableModel([{}]), [[0] as unknown as Int32Array]), /src\[0\] must be an Int32Array/);
    assert.throws(
      () => new SequenceGenerator(new PrefixTableModel([{}]), { beam: 3 } as never),
      /GenerationConfig: unknown config key 'beam'/,
    );
  });

  test('empty batch returns no results without calling the model', async () => {
    const model = new PrefixTableModel([{}]);
    const out = await generate(model, []);
    assert.deepEqual(out.results, []);
    assert.deepEqual(model.rowsSeen, []);
  });
});
