// Tests of the Translator (src/mt/translator.ts) on a tiny random Seq2Seq and a tiny SentencePiece
// model (translator-fixture.ts): input order across internal batches, the over-length error,
// n-best records, step events, empty lines, cancellation, options errors, no tensor leaks.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useTestBackend } from '../helpers/backend.js';
import { SentencePiece } from '../../src/mt/data/spm.js';
import { Seq2Seq } from '../../src/mt/model/index.js';
import {
  SentenceTooLongError,
  TranslationInputError,
  TranslationOptionsError,
  Translator,
  type TranslationStepEvent,
} from '../../src/mt/translator.js';
import { type Fixture, translatorFixture } from './translator-fixture.js';

let fx: Fixture;
let model: Seq2Seq;
let spm: SentencePiece;

before(async () => {
  await useTestBackend();
  fx = await translatorFixture();
  spm = await SentencePiece.load(fx.spmModel);
  model = new Seq2Seq(fx.modelConfig).eval();
});

after(() => {
  model?.dispose();
  fx?.cleanup();
});

const GEN = { beamSize: 2, maxLenA: 0, maxLenB: 6 };

describe('Translator', () => {
  it('keeps input order across internal batches (same output as one sentence at a time)', async () => {
    const texts = fx.lines.slice(0, 10);
    const small = new Translator(model, spm, { maxTokens: 64, generation: GEN }); // ≤ 2–3 sentences per batch
    const big = new Translator(model, spm, { maxTokens: 4096, generation: GEN });
    const a = await small.translate(texts);
    const b = await big.translate(texts);
    assert.equal(a.length, texts.length);
    for (let i = 0; i < texts.length; i++) {
      const alone = (await big.translate([texts[i]!]))[0]!;
      assert.equal(a[i]!.srcTokens, small.tokenize(texts[i]!).length, `sentence ${i}: source length`);
      assert.deepEqual(a[i]!.hypotheses[0]!.tokens, alone.hypotheses[0]!.tokens, `sentence ${i}: small batches vs alone`);
      assert.deepEqual(b[i]!.hypotheses[0]!.tokens, alone.hypotheses[0]!.tokens, `sentence ${i}: one batch vs alone`);
      assert.ok(Math.abs(a[i]!.hypotheses[0]!.score - alone.hypotheses[0]!.score) < 1e-4);
      assert.equal(a[i]!.text, alone.text);
    }
    // different inputs give different outputs, so the comparison above can see a permutation
    assert.ok(new Set(a.map((r) => r.hypotheses[0]!.tokens.join(' '))).size > 3, 'random model gives varied outputs');
    // reversed input → reversed output
    const rev = await small.translate(texts.slice().reverse());
    assert.deepEqual(
      rev.map((r) => r.text),
      a.map((r) => r.text).reverse(),
    );
  });

  it('refuses an over-length sentence naming its index, length and the limit; skips it on request', async () => {
    const t = new Translator(model, spm, { generation: GEN });
    const long = Array.from({ length: 8 }, () => fx.lines[0]).join(' ');
    const len = t.tokenize(long).length;
    assert.ok(len > 63, `fixture sentence should exceed the limit (${len})`);
    const before = tf.memory().numTensors;
    await assert.rejects(t.translate([fx.lines[1]!, long, fx.lines[2]!]), (e: unknown) => {
      assert.ok(e instanceof SentenceTooLongError && e instanceof TranslationInputError);
      assert.equal(e.sentence, 1);
      assert.equal(e.length, len);
      assert.equal(e.limit, 63);
      assert.match(e.message, new RegExp(`sentence 1 has ${len} SentencePiece tokens but the model accepts at most 63`));
      return true;
    });
    // exactly at the limit is fine: 63 tokens + EOS = maxLen 64 positions
    const ids = t.tokenize(long).slice(0, 63);
    const atLimit = spm.decode(ids);
    assert.equal(t.tokenize(atLimit).length, 63, 'fixture: a sentence of exactly 63 tokens');
    const [r] = await t.translate([atLimit]);
    assert.equal(r!.srcTokens, 63);
    assert.equal(r!.hypotheses.length, 1);
    assert.throws(
      () => t.validate([fx.lines[1]!, fx.lines[2]!, long]),
      (e: unknown) => e instanceof SentenceTooLongError && e.sentence === 2,
    );
    assert.deepEqual(t.validate([fx.lines[1]!, '', atLimit]), [t.tokenize(fx.lines[1]!).length, 0, 63]);
    const skipped = await t.translate([fx.lines[1]!, long, fx.lines[2]!], { onTooLong: 'skip' });
    assert.equal(skipped[1]!.skipped, 'too-long');
    assert.equal(skipped[1]!.text, '');
    assert.deepEqual(skipped[1]!.hypotheses, []);
    assert.equal(skipped[0]!.hypotheses.length, 1);
    assert.equal(tf.memory().numTensors, before, 'tensors leaked');
  });

  it('returns n-best records: best first, tokens ending in EOS, scores = Σ positional / len', async () => {
    const t = new Translator(model, spm, { generation: GEN });
    const res = await t.translate(fx.lines.slice(0, 4), { beamSize: 4, nbest: 3, lenpen: 1 });
    for (const r of res) {
      assert.equal(r.hypotheses.length, 3);
      assert.equal(r.text, r.hypotheses[0]!.text);
      for (let k = 0; k < 3; k++) {
        const h = r.hypotheses[k]!;
        if (k > 0) assert.ok(r.hypotheses[k - 1]!.score >= h.score, 'sorted best first');
        assert.equal(h.tokens.at(-1), model.eosId);
        assert.ok(h.tokens.length <= 7, 'maxLenB 6 tokens + EOS');
        assert.equal(h.positionalScores.length, h.tokens.length);
        const sum = h.positionalScores.reduce((s, x) => s + x, 0);
        assert.ok(Math.abs(h.score - sum / h.tokens.length) < 1e-4, `score ${h.score} vs ${sum / h.tokens.length}`);
        assert.equal(h.text, spm.decode(h.tokens.slice(0, -1)));
      }
    }
    await assert.rejects(t.translate(['x'], { beamSize: 2, nbest: 3 }), TranslationOptionsError);
    await assert.rejects(t.translate(['x'], { beamSize: 0 }), TranslationOptionsError);
    await assert.rejects(t.translate(['x'], { beam: 2 } as never), /GenerationConfig: unknown config key 'beam'/);
  });

  it('streams step events with partial text, original sentence indices and a final done', async () => {
    const t = new Translator(model, spm, { maxTokens: 64, generation: GEN });
    const texts = [fx.lines[5]!, '', fx.lines[0]!, fx.lines[7]!];
    const events: TranslationStepEvent[] = [];
    const res = await t.translate(texts, { onStep: (e) => events.push(e) });
    assert.deepEqual([...new Set(events.map((e) => e.sentence))].sort(), [0, 2, 3], 'no events for the empty line');
    for (const s of [0, 2, 3]) {
      const ev = events.filter((e) => e.sentence === s);
      ev.forEach((e, i) => assert.equal(e.step, i));
      assert.equal(ev.at(-1)!.done, true);
      assert.ok(ev.slice(0, -1).every((e) => !e.done && e.beams.length === 2));
      for (const e of ev) {
        for (const b of e.beams) {
          assert.equal(b.tokens.length, e.step + 1);
          assert.equal(b.text, spm.decode(b.tokens));
        }
      }
      // the best final hypothesis extends one of the beams of the step before the last
      const best = res[s]!.hypotheses[0]!.tokens;
      const prev = ev.at(-2)!;
      assert.ok(prev.beams.some((b) => b.tokens.join(' ') === best.slice(0, b.tokens.length).join(' ')));
    }
  });

  it('gives empty results for empty or whitespace-only lines, and cleans input as in training', async () => {
    const t = new Translator(model, spm, { generation: GEN });
    const res = await t.translate(['', '  \t ', fx.lines[3]!]);
    assert.deepEqual(
      res.slice(0, 2).map((r) => [r.text, r.skipped, r.hypotheses.length]),
      [
        ['', 'empty', 0],
        ['', 'empty', 0],
      ],
    );
    assert.equal(res[2]!.hypotheses.length, 1);
    assert.deepEqual(t.tokenize(`  ${fx.lines[3]}\u0007 `), t.tokenize(fx.lines[3]!));
    assert.deepEqual(await t.translate([]), []);
  });

  it('cancels one sentence (aborted result) or the whole call (rejects), freeing every tensor', async () => {
    const t = new Translator(model, spm, { generation: { ...GEN, maxLenB: 20 } });
    const before = tf.memory().numTensors;
    const ac = new AbortController();
    const res = await t.translate(fx.lines.slice(0, 3), {
      signals: [undefined, ac.signal, undefined],
      onStep: (e) => {
        if (e.sentence === 1 && e.step === 1) ac.abort();
      },
    });
    assert.equal(res[1]!.aborted, true);
    assert.equal(res[0]!.aborted, false);
    assert.equal(res[0]!.hypotheses.length, 1);
    const all = new AbortController();
    await assert.rejects(
      t.translate(fx.lines.slice(0, 3), { signal: all.signal, onStep: (e) => e.step === 2 && all.abort(new Error('client left')) }),
      /client left/,
    );
    await t.translate(fx.lines.slice(0, 6), { beamSize: 3, nbest: 2 });
    assert.equal(tf.memory().numTensors, before, 'tensors leaked');
  });

  it('is safe to call concurrently on one model (interleaved steps give the same results)', async () => {
    const t = new Translator(model, spm, { generation: GEN });
    const a = fx.lines.slice(10, 16);
    const b = fx.lines.slice(16, 20);
    const seqA = await t.translate(a);
    const seqB = await t.translate(b, { beamSize: 3, nbest: 2 });
    const before = tf.memory().numTensors;
    const [parA, parB] = await Promise.all([t.translate(a), t.translate(b, { beamSize: 3, nbest: 2 })]);
    assert.deepEqual(
      parA.map((r) => r.hypotheses.map((h) => h.tokens)),
      seqA.map((r) => r.hypotheses.map((h) => h.tokens)),
    );
    assert.deepEqual(
      parB.map((r) => r.hypotheses.map((h) => h.tokens)),
      seqB.map((r) => r.hypotheses.map((h) => h.tokens)),
    );
    assert.equal(tf.memory().numTensors, before);
  });

  it('loads a checkpoint with its generation defaults, overridable', async () => {
    const t = await Translator.load(fx.checkpoint, { generation: { maxLenB: 4 } });
    try {
      assert.equal(t.generation.beamSize, 2, 'beam from the checkpoint');
      assert.equal(t.generation.maxLenB, 4, 'override');
      assert.deepEqual(t.meta?.langs, { src: 'en', tgt: 'de' });
      assert.equal(t.meta?.model.maxLen, 64);
      const [r] = await t.translate([fx.lines[0]!]);
      assert.ok(r!.hypotheses[0]!.tokens.length <= 5);
    } finally {
      t.dispose();
    }
    assert.throws(() => new Translator(model, spm, { maxTokens: 10 }), /maxTokens 10 is below the model's maxLen 64/);
    assert.throws(
      () => new Translator(model, spm, { maxTokenz: 10 } as never),
      /TranslatorOptions: unknown config key 'maxTokenz'; known keys: maxTokens, maxSentences, generation/,
    );
  });
});
