// Scheduling (src/server/batcher.ts), both ways. Batch-level: concurrent requests are decoded
// together, grouped by pair + settings, within the token/sentence limits. Step-level (the
// default): sentences join the running decode loop between steps, also mid-decode, a lone one
// starts at once, live rows are bounded. Every result equals one-by-one decoding, with the fake
// model and with a tiny real Seq2Seq (random init) on the test backend.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { Seq2Seq } from '../../src/mt/model/seq2seq.js';
import { Batcher } from '../../src/server/batcher.js';
import type { DecodeSettings, TranslationHypothesis, TranslateOptions, TranslationEngine } from '../../src/server/engine.js';
import { useTestBackend } from '../helpers/backend.js';
import { CharTokenizer, engineFor, FakeSeqModel, post, SlowFakeSeqModel, startTestServer, waitFor } from './helpers.js';

const SENTENCES = [
  'a man rides a bike',
  'two dogs play',
  'the sun is hot today',
  'hello',
  'where is the station?',
  'i like green tea',
  'a very long sentence with many words in it',
  'ok',
  'children run in the park',
  'the cat sleeps',
  'snow falls',
  'we eat bread and cheese',
];
const S: DecodeSettings = { beamSize: 4, nbest: 2, lenpen: 1, maxLength: 30 };

/** Records every generate call's sources and settings. */
class SpyEngine implements TranslationEngine {
  calls: { srcs: Int32Array[]; settings: DecodeSettings }[] = [];
  constructor(readonly inner: TranslationEngine) {}
  get maxInputTokens() {
    return this.inner.maxInputTokens;
  }
  get maxOutputTokens() {
    return this.inner.maxOutputTokens;
  }
  encode(t: string) {
    return this.inner.encode(t);
  }
  translate(srcs: readonly Int32Array[], o: TranslateOptions): Promise<TranslationHypothesis[][]> {
    this.calls.push({ srcs: [...srcs], settings: { beamSize: o.beamSize, nbest: o.nbest, lenpen: o.lenpen, maxLength: o.maxLength } });
    return this.inner.translate(srcs, o);
  }
}

function fakeEngine(): SpyEngine {
  const tok = new CharTokenizer();
  return new SpyEngine(engineFor(new FakeSeqModel(tok.vocabSize), tok));
}

const enc = (e: TranslationEngine, texts: string[]) => texts.map((t) => e.encode(t));

/** The tiny random-init Seq2Seq of the real-model tests (character vocabulary, 1+1 layers, d 16). */
function tinySeq2Seq(tok: CharTokenizer): Seq2Seq {
  return new Seq2Seq({
    vocabSize: tok.vocabSize,
    maxLen: 48,
    dim: 16,
    mlpHidden: 32,
    encoderLayers: 1,
    decoderLayers: 1,
    heads: 2,
    dropout: 0,
    bosId: 0,
    padId: 1,
    eosId: 2,
    unkId: 3,
    seed: 7,
  });
}
/**
 * Runs `use` on the tiny real Seq2Seq (random init, eval mode, test backend): its engine, six
 * sentences, decoding settings, and each sentence's hypotheses decoded alone; then frees the model.
 */
async function withTinySeq2Seq(
  use: (m: {
    engine: ReturnType<typeof engineFor>;
    texts: string[];
    settings: DecodeSettings;
    alone: TranslationHypothesis[][];
  }) => Promise<void>,
): Promise<void> {
  await useTestBackend();
  const tok = new CharTokenizer();
  const model = tinySeq2Seq(tok);
  model.eval();
  try {
    const engine = engineFor(model, tok);
    const texts = SENTENCES.slice(0, 6);
    const settings = { beamSize: 3, nbest: 2, lenpen: 1, maxLength: 12 };
    const alone: TranslationHypothesis[][] = [];
    for (const t of texts) alone.push((await engine.translate(enc(engine, [t]), settings))[0]!);
    await use({ engine, texts, settings, alone });
  } finally {
    model.dispose();
  }
}

/** Each sentence of `got` has the hypotheses of `expected`: the same tokens, scores within 1e-4. */
function assertSameHypotheses(got: TranslationHypothesis[][], expected: TranslationHypothesis[][]): void {
  for (const [i, g] of got.entries()) {
    assert.deepEqual(
      g.map((h) => h.tokens),
      expected[i]!.map((h) => h.tokens),
      `sentence ${i}`,
    );
    g.forEach((h, k) => assert.ok(Math.abs(h.score - expected[i]![k]!.score) < 1e-4));
  }
}

describe('Batcher', () => {
  test('concurrent sentences are decoded together and each gets its one-by-one result', async () => {
    const e = fakeEngine();
    const solo = [];
    for (const t of SENTENCES) solo.push((await e.inner.translate(enc(e.inner, [t]), S))[0]);
    // the batch leaves once all are queued (maxBatchSentences), not on a timer a slow machine could miss
    const b = new Batcher({ maxWaitMs: 60_000, maxBatchSentences: SENTENCES.length });
    const got = await Promise.all(SENTENCES.map((t) => b.submit(e, 'en-de', enc(e, [t]), S).then((r) => r[0])));
    assert.deepEqual(got, solo);
    assert.equal(e.calls.length, 1, `one generate call for ${SENTENCES.length} requests, got ${e.calls.map((c) => c.srcs.length)}`);
    assert.deepEqual(b.batchSizes, [SENTENCES.length]);
  });

  test('batching off (1 sentence, no wait) decodes one by one', async () => {
    const e = fakeEngine();
    const b = new Batcher({ maxWaitMs: 0, maxBatchSentences: 1 });
    await Promise.all(SENTENCES.slice(0, 4).map((t) => b.submit(e, 'en-de', enc(e, [t]), S)));
    assert.deepEqual(b.batchSizes, [1, 1, 1, 1]);
  });

  test('groups by decoding settings; respects maxBatchTokens and maxBatchSentences', async () => {
    const e = fakeEngine();
    const b = new Batcher({ maxWaitMs: 20, maxBatchSentences: 5, maxBatchTokens: 60 });
    const S2 = { ...S, beamSize: 2, nbest: 1 };
    const jobs = SENTENCES.map((t, i) => b.submit(e, 'en-de', enc(e, [t]), i % 2 ? S2 : S));
    const got = await Promise.all(jobs);
    for (const c of e.calls) {
      assert.ok(c.srcs.length <= 5);
      const toks = c.srcs.reduce((a, x) => a + x.length, 0);
      assert.ok(toks <= 60 || c.srcs.length === 1, `batch of ${toks} tokens`);
    }
    for (const [i, t] of SENTENCES.entries()) {
      const call = e.calls.find((c) => c.srcs.some((x) => x.join() === e.encode(t).join()))!;
      assert.deepEqual(call.settings, i % 2 ? S2 : S, 'never mixes settings in one call');
      assert.deepEqual(got[i]![0], (await e.inner.translate(enc(e.inner, [t]), i % 2 ? S2 : S))[0]);
    }
  });

  test('the wait counts from when the model is free: clients answered by a batch rejoin the next one', async () => {
    const inner = fakeEngine();
    // an engine that decodes only once the test opens the gate, and says when a call begins
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    let begun!: () => void;
    const firstCall = new Promise<void>((r) => (begun = r));
    const slow: TranslationEngine = {
      maxInputTokens: inner.maxInputTokens,
      maxOutputTokens: inner.maxOutputTokens,
      encode: (t) => inner.encode(t),
      translate: async (texts, o) => {
        begun();
        await gate;
        return inner.translate(texts, o);
      },
    };
    const b = new Batcher({ maxWaitMs: 30 });
    const ask = (t: string) => b.submit(slow, 'en-de', enc(inner, [t]), S);
    // cohort A: 3 sentences; when answered, each client asks again at once
    const again: Promise<unknown>[] = [];
    const first = ['a one', 'a two', 'a three'].map((t) => ask(t).then(() => again.push(ask(t + ' again'))));
    await firstCall; // A is decoding
    const cohortB = ['b one', 'b two'].map(ask); // queued while A runs
    // B has now waited longer than maxWaitMs (a lower bound: a slow machine only waits longer), so
    // a wait counted from arrival would send it off alone the moment A ends
    await new Promise((r) => setTimeout(r, 40));
    open();
    await Promise.all(first);
    await Promise.all([...cohortB, ...again]);
    assert.deepEqual(b.batchSizes, [3, 5], "B waits 30 ms after A ends, so A's clients join it");
  });

  test('stop(): queued and decoding work finishes, new work is refused with 503, idle() resolves after', async () => {
    const e = fakeEngine();
    const b = new Batcher({ maxWaitMs: 0, maxBatchSentences: 1 });
    const decoding = b.submit(e, 'en-de', enc(e, ['two dogs play']), S); // starts at once
    const queued = b.submit(e, 'en-de', enc(e, ['hello']), S); // waits for the model
    assert.equal(b.queued, 1);
    b.stop();
    await assert.rejects(b.submit(e, 'en-de', enc(e, ['ok']), S), (err: { status?: number; kind?: string; message: string }) => {
      assert.equal(err.status, 503);
      assert.equal(err.kind, 'unavailable');
      assert.match(err.message, /the server is shutting down/);
      return true;
    });
    let idle = false;
    const idled = b.idle().then(() => (idle = true));
    assert.deepEqual(await decoding, await e.inner.translate(enc(e.inner, ['two dogs play']), S).then((r) => [r[0]]));
    assert.deepEqual(await queued, await e.inner.translate(enc(e.inner, ['hello']), S).then((r) => [r[0]]));
    await idled;
    assert.ok(idle);
    assert.deepEqual(b.batchSizes, [1, 1], 'the refused sentence never reached the model');
  });

  test('a multi-sentence request keeps its order; a sentence aborted in the queue leaves it', async () => {
    const e = fakeEngine();
    const b = new Batcher({ maxWaitMs: 30 });
    const ctrl = new AbortController();
    const doomed = b.submit(e, 'en-de', enc(e, ['bye']), S, { signal: ctrl.signal });
    const kept = b.submit(e, 'en-de', enc(e, SENTENCES.slice(0, 3)), S);
    assert.equal(b.queued, 4);
    ctrl.abort(new Error('gone'));
    await assert.rejects(doomed, /gone/);
    assert.equal(b.queued, 3);
    const r = await kept;
    assert.deepEqual(r, await e.inner.translate(enc(e, SENTENCES.slice(0, 3)), S));
    assert.deepEqual(e.calls[0]!.srcs, enc(e, SENTENCES.slice(0, 3)));
  });

  test('HTTP clients share batches: results equal to batching off', async () => {
    const ask = (url: string, q: string) =>
      post(`${url}/translate`, { q, source: 'en', target: 'de', n_best: 2, return_scores: true }).then((r) => r.body);
    const off = await startTestServer({ scheduler: 'batch', maxWaitMs: 0, maxBatchSentences: 1 });
    const single = [];
    try {
      for (const q of SENTENCES) single.push(await ask(off.url, q));
      assert.ok(off.app.context.batcher.batchSizes.every((n) => n === 1));
    } finally {
      await off.close();
    }
    // the units the requests are cut into (the longest sentence is two), all in one batch that
    // leaves when they are all there (maxBatchSentences), never on a timer, so however slowly the
    // requests arrive they share it
    const units = off.app.context.batcher.batchSizes.length;
    const on = await startTestServer({ scheduler: 'batch', maxWaitMs: 60_000, maxBatchSentences: units });
    try {
      const batched = await Promise.all(SENTENCES.map((q) => ask(on.url, q)));
      assert.deepEqual(batched, single);
      assert.deepEqual(on.app.context.batcher.batchSizes, [units]);
    } finally {
      await on.close();
    }
  });

  test('tiny real Seq2Seq (random init): batched == one by one, no tensor leak', () =>
    withTinySeq2Seq(async ({ engine, texts, settings, alone }) => {
      const e = new SpyEngine(engine);
      const before = tf.memory().numTensors;
      const b = new Batcher({ maxWaitMs: 60_000, maxBatchSentences: texts.length });
      const got = await Promise.all(texts.map((t) => b.submit(e, 'en-de', enc(e, [t]), settings).then((r) => r[0]!)));
      assert.equal(e.calls.length, 1);
      assertSameHypotheses(got, alone);
      assert.equal(tf.memory().numTensors, before);
    }));
});

describe('step scheduler', () => {
  const solo = async (texts: string[], settings: DecodeSettings) => {
    const tok = new CharTokenizer();
    const e = engineFor(new FakeSeqModel(tok.vocabSize), tok);
    const out: TranslationHypothesis[][] = [];
    for (const t of texts) out.push((await e.translate(enc(e, [t]), settings))[0]!);
    return out;
  };

  test('sentences joining mid-decode each get their one-by-one result', async () => {
    const tok = new CharTokenizer();
    const model = new SlowFakeSeqModel(tok.vocabSize);
    const e = engineFor(model, tok);
    const b = new Batcher({ scheduler: 'step' });
    const release = model.hold();
    const first = b.submit(e, 'en-de', enc(e, [SENTENCES[6]!]), S);
    await model.whenSteps(1); // the first sentence is decoding (held at its first step)
    const rest = Promise.all(SENTENCES.slice(0, 6).map((t) => b.submit(e, 'en-de', enc(e, [t]), S).then((r) => r[0]!)));
    release();
    const got = [(await first)[0]!, ...(await rest)];
    assert.deepEqual(got, await solo([SENTENCES[6]!, ...SENTENCES.slice(0, 6)], S));
    const live = e.stepSentences();
    assert.equal(live[0], 1, 'the first sentence started alone');
    assert.ok(Math.max(...live) === 7, `the six joined it mid-decode (live sentences per step: ${live.join(',')})`);
    assert.deepEqual(b.batchSizes, [], 'no batch-level batches');
  });

  test('a lone request starts at once: no window to wait for company', { timeout: 20_000 }, async () => {
    const tok = new CharTokenizer();
    const e = engineFor(new FakeSeqModel(tok.vocabSize), tok);
    const b = new Batcher({ scheduler: 'step', maxWaitMs: 600_000 }); // a batch-level wait would never end in time
    const r = await b.submit(e, 'en-de', enc(e, ['hello']), S);
    assert.ok(r[0]!.length > 0);
  });

  test('maxLiveRows bounds the live sentences; waiting sentences count against the queue', async () => {
    const tok = new CharTokenizer();
    const model = new SlowFakeSeqModel(tok.vocabSize);
    const e = engineFor(model, tok);
    const b = new Batcher({ scheduler: 'step', maxLiveRows: 8, maxQueueSentences: 3 }); // beam 4: two sentences live
    const release = model.hold();
    const ps = SENTENCES.slice(0, 2).map((t) => b.submit(e, 'en-de', enc(e, [t]), S));
    await model.whenSteps(1); // two live (held)
    ps.push(...SENTENCES.slice(2, 5).map((t) => b.submit(e, 'en-de', enc(e, [t]), S)));
    assert.equal(b.queued, 3, 'two live, three waiting');
    await assert.rejects(b.submit(e, 'en-de', enc(e, ['one more']), S), /the translation queue is full \(3 of 3 sentences waiting\)/);
    release();
    const got = (await Promise.all(ps)).map((r) => r[0]!);
    assert.deepEqual(got, await solo(SENTENCES.slice(0, 5), S));
    assert.ok(Math.max(...e.stepSentences()) <= 2, `at most two live sentences: ${e.stepSentences().join(',')}`);
    b.stop();
    await assert.rejects(b.submit(e, 'en-de', enc(e, ['late']), S), /the server is shutting down/);
  });

  test('tiny real Seq2Seq (random init): joined mid-decode == one by one, no tensor leak', () =>
    withTinySeq2Seq(async ({ engine: e, texts, settings, alone }) => {
      const before = tf.memory().numTensors;
      const b = new Batcher({ scheduler: 'step' });
      const got: Promise<TranslationHypothesis[][]>[] = [b.submit(e, 'en-de', enc(e, [texts[0]!]), settings)];
      await new Promise((r) => setTimeout(r, 0)); // the first one starts decoding alone
      for (const t of texts.slice(1)) got.push(b.submit(e, 'en-de', enc(e, [t]), settings));
      const res = (await Promise.all(got)).map((r) => r[0]!);
      assertSameHypotheses(res, alone);
      assert.ok(Math.max(...e.stepSentences()) > 1, 'sentences shared steps');
      assert.equal(tf.memory().numTensors, before);
    }));

  test('HTTP clients share decoding steps: results equal to batching off', async () => {
    const ask = (url: string, q: string) =>
      post(`${url}/translate`, { q, source: 'en', target: 'de', n_best: 2, return_scores: true, cache: false }).then((r) => r.body);
    const off = await startTestServer({ scheduler: 'batch', maxWaitMs: 0, maxBatchSentences: 1 });
    const single = [];
    try {
      for (const q of SENTENCES) single.push(await ask(off.url, q));
    } finally {
      await off.close();
    }
    const on = await startTestServer();
    try {
      const release = on.models['en-de']!.hold();
      const first = ask(on.url, SENTENCES[0]!);
      await on.models['en-de']!.whenSteps(1);
      const rest = Promise.all(SENTENCES.slice(1).map((q) => ask(on.url, q)));
      await waitFor('the other requests are waiting for the decode loop', () => on.app.context.batcher.queued >= SENTENCES.length - 1);
      release();
      assert.deepEqual([await first, ...(await rest)], single);
      const engine = on.registry.get('en', 'de')!.engine;
      assert.ok(Math.max(...engine.stepSentences!()) >= SENTENCES.length, 'they joined the first one mid-decode');
    } finally {
      await on.close();
    }
  });
});
