// The step callback (what the server streams) and cancellation, per sentence and whole call.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { type StepEvent, SequenceGenerator, generate } from '../../../src/mt/decoding/index.js';
import { EOS, HashModel, PositionalFakeModel, W1, W2, fairseqBeamProbs, makeSources } from './fake-models.js';

const SRC = [Int32Array.from([W1, W2, EOS]), Int32Array.from([W1, W2, EOS])];

describe('step callback', () => {
  test('fairseq case: beams per step, best first, with exact scores', async () => {
    const events: StepEvent[] = [];
    const model = new PositionalFakeModel(fairseqBeamProbs(), 2);
    const out = await new SequenceGenerator(model, { beamSize: 2, nbest: 2 }).generate(SRC, { onStep: (e) => events.push(e) });
    const view = (e: StepEvent) => e.beams.map((b) => [Array.from(b.tokens), Number(b.score.toFixed(6))]);
    const at = (step: number, sentence: number) => events.find((e) => e.step === step && e.sentence === sentence)!;
    assert.deepEqual(view(at(0, 0)), [
      [[W1], Number(Math.log(Math.fround(0.9)).toFixed(6))],
      [[W2], Number(Math.log(Math.fround(0.1)).toFixed(6))],
    ]);
    // Step 1, sentence 1: w1 <eos> finalized; w2 w1 and w2 w2 continue.
    assert.deepEqual(
      at(1, 0).beams.map((b) => Array.from(b.tokens)),
      [
        [W2, W1],
        [W2, W2],
      ],
    );
    assert.deepEqual(
      at(1, 0).finalized.map((h) => Array.from(h.tokens)),
      [[W1, EOS]],
    );
    // Sentence 2 at step 1: w1 w2 (0.28), w2 w2 (0.27); w1 <eos> (0.175) ranks 4th, outside the top
    // beam: neither finalized nor continued (fairseq).
    assert.deepEqual(
      at(1, 1).beams.map((b) => Array.from(b.tokens)),
      [
        [W1, W2],
        [W2, W2],
      ],
    );
    assert.equal(at(1, 1).finalized.length, 0);
    for (const e of events) {
      for (let i = 1; i < e.beams.length; i++) assert.ok(e.beams[i - 1].score >= e.beams[i].score, 'beams best first');
      for (let i = 1; i < e.finalized.length; i++) assert.ok(e.finalized[i - 1].score >= e.finalized[i].score, 'finalized best first');
      assert.equal(e.beams.length, e.done ? 0 : 2);
    }
    // Events come step by step, sentences in order within a step, and end with done.
    assert.deepEqual(
      events.map((e) => [e.step, e.sentence]),
      [
        [0, 0],
        [0, 1],
        [1, 0],
        [1, 1],
        [2, 0],
        [2, 1],
        [3, 0],
        [3, 1],
      ],
    );
    for (const s of [0, 1]) {
      const last = events.filter((e) => e.sentence === s).at(-1)!;
      assert.equal(last.done, true);
      assert.deepEqual(last.finalized, out.results[s].hypos);
    }
  });

  test('every event token prefix extends the previous step of one of its beams', async () => {
    const events: StepEvent[] = [];
    await generate(new HashModel(30), makeSources(4, 30, 2), { beamSize: 3 }, { onStep: (e) => events.push(e) });
    for (const e of events) {
      if (e.step === 0) continue;
      const prev = events.find((p) => p.step === e.step - 1 && p.sentence === e.sentence)!;
      const prefixes = prev.beams.map((b) => Array.from(b.tokens).join(' '));
      for (const b of e.beams) {
        assert.equal(b.tokens.length, e.step + 1);
        assert.ok(prefixes.includes(Array.from(b.tokens.subarray(0, e.step)).join(' ')), 'prefix continues a previous beam');
      }
    }
  });

  test('an error thrown by the callback rejects and frees the state', async () => {
    const model = new PositionalFakeModel(fairseqBeamProbs(), 2);
    await assert.rejects(
      new SequenceGenerator(model, { beamSize: 2 }).generate(SRC, {
        onStep: () => {
          throw new Error('client went away');
        },
      }),
      /client went away/,
    );
    assert.equal(model.liveStates, 0);
    assert.equal(model.liveEncs, 0);
  });
});

describe('cancellation', () => {
  test('a per-sentence signal drops that sentence; others are unaffected', async () => {
    const src = makeSources(4, 30, 6);
    const reference = await generate(new HashModel(30), src, { beamSize: 3, nbest: 3 });
    const ctrl = [new AbortController(), new AbortController(), new AbortController(), new AbortController()];
    let seenAfterAbort = 0;
    const model = new HashModel(30);
    const out = await generate(
      model,
      src,
      { beamSize: 3, nbest: 3 },
      {
        signals: ctrl.map((c) => c.signal),
        onStep: (e) => {
          if (e.sentence === 1 && e.step === 2) ctrl[1].abort();
          if (e.sentence === 1 && e.step > 2) seenAfterAbort++;
        },
      },
    );
    assert.equal(seenAfterAbort, 0, 'no events for a cancelled sentence');
    assert.deepEqual(
      out.results.map((r) => r.aborted),
      [false, true, false, false],
    );
    for (const i of [0, 2, 3]) assert.deepEqual(out.results[i].hypos, reference.results[i].hypos);
    // Rows for sentence 1 vanish from step 3 on: 3 fewer than without cancellation.
    assert.equal(out.stats.rowsPerStep[3], reference.stats.rowsPerStep[3] - 3);
    // What was finalized before the abort is returned (possibly nothing), best first.
    const partial = out.results[1].hypos;
    for (const h of partial) assert.ok(h.tokens.length <= 3 && h.tokens.at(-1) === EOS);
  });

  test('a per-sentence signal already aborted: the sentence never reaches the model', async () => {
    const model = new HashModel(30);
    const src = makeSources(3, 30, 6);
    const out = await generate(model, src, { beamSize: 2 }, { signals: [undefined, AbortSignal.abort(), undefined] });
    assert.equal(model.rowsSeen[0], 2);
    assert.deepEqual(out.results[1], { hypos: [], aborted: true });
    assert.equal(out.results[0].hypos.length, 1);
  });

  test('the whole-call signal rejects with its reason, also from a timer during an async model', async () => {
    const model = new PositionalFakeModel(fairseqBeamProbs(), 2);
    const ctrl = new AbortController();
    const p = new SequenceGenerator(model, { beamSize: 2 }).generate(SRC, {
      signal: ctrl.signal,
      onStep: (e) => e.step === 1 && ctrl.abort(),
    });
    await assert.rejects(p, { name: 'AbortError' });
    assert.equal(model.liveStates, 0);
    assert.equal(model.liveEncs, 0);

    // A slow async model; the abort comes from a timer (as a request timeout would), firing
    // while the second step is in flight.
    const slow = new HashModel(30);
    const sync = slow.step.bind(slow);
    const ctrl2 = new AbortController();
    let calls = 0;
    (slow as { step: unknown }).step = async (...a: Parameters<HashModel['step']>) => {
      if (++calls === 2) setTimeout(() => ctrl2.abort(new Error('shutdown')), 0);
      await new Promise((r) => setTimeout(r, 20));
      return sync(...a);
    };
    await assert.rejects(generate(slow, makeSources(3, 30, 1), { beamSize: 2, maxLenB: 50 }, { signal: ctrl2.signal }), /shutdown/);
    assert.equal(calls, 2, `stopped after ${calls} steps`);
  });
});
