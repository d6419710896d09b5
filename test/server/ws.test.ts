// WebSocket /translate/stream protocol tests (src/server/ws.ts): steps arrive in order and end
// with done; the final n-best equals POST /translate's for the same settings; several requests
// in flight on one socket; cancel and a closed socket stop decoding (sentences that only an abort
// can end); invalid messages get {id?, error} and the socket stays open.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { lexiconText, post, startTestServer, type TestServer, waitFor } from './helpers.js';

/** A socket that collects messages and lets a test wait for one matching a predicate. */
class Client {
  readonly messages: any[] = [];
  private waiters: { pred: (m: any) => boolean; resolve: (m: any) => void }[] = [];
  constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString());
      this.messages.push(m);
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred(m)) return true;
        w.resolve(m);
        return false;
      });
    });
  }
  static async open(url: string): Promise<Client> {
    const ws = new WebSocket(url);
    await new Promise((r, j) => ws.once('open', r).once('error', j));
    return new Client(ws);
  }
  send(m: unknown): void {
    this.ws.send(typeof m === 'string' || m instanceof Buffer ? m : JSON.stringify(m));
  }
  next(pred: (m: any) => boolean, ms = 5000): Promise<any> {
    const seen = this.messages.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no matching message in ${ms} ms; got ${JSON.stringify(this.messages.slice(-5))}`)), ms);
      this.waiters.push({
        pred,
        resolve: (m) => {
          clearTimeout(t);
          resolve(m);
        },
      });
    });
  }
  of(id: unknown): any[] {
    return this.messages.filter((m) => m.id === id);
  }
  close(): void {
    this.ws.close();
  }
}

describe('WebSocket /translate/stream', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ wsMaxInFlight: 3, wsMaxMessageBytes: 2000 });
  });
  after(() => s.close());

  test('steps in order, then done; final equals POST /translate with the same settings', async () => {
    const c = await Client.open(s.wsUrl);
    try {
      c.send({ id: 'a', q: 'the cat sat on the mat', source: 'en', target: 'de', beam_size: 3, n_best: 3 });
      const done = await c.next((m) => m.id === 'a' && m.done);
      const msgs = c.of('a');
      const steps = msgs.filter((m) => 'step' in m);
      assert.ok(steps.length >= 2, `got ${steps.length} steps`);
      steps.forEach((m, i) => assert.equal(m.step, i, 'steps arrive in order, one message per step'));
      assert.equal(msgs[msgs.length - 1], done, 'done is the last message');
      for (const m of steps.slice(0, -1)) {
        assert.ok(m.beams.length > 0 && m.beams.length <= 3);
        for (const b of m.beams) {
          assert.equal(typeof b.text, 'string');
          assert.equal(b.tokens.length, m.step + 1, 'a beam after step t holds t + 1 tokens');
        }
      }
      const http = await post(`${s.url}/translate`, { q: 'the cat sat on the mat', source: 'en', target: 'de', beam_size: 3, n_best: 3 });
      assert.deepEqual(done.translations, http.body.nbest);
      assert.equal(done.translations[0].text, http.body.translatedText);
    } finally {
      c.close();
    }
  });

  test('several requests in flight on one socket, each with its own stream', async () => {
    const c = await Client.open(s.wsUrl);
    try {
      const qs = ['one small step', 'two birds', 'three little pigs'];
      qs.forEach((q, i) => c.send({ id: i, q, source: i === 2 ? 'en' : 'de', target: i === 2 ? 'fr' : 'en' }));
      const done = await Promise.all(qs.map((_, i) => c.next((m) => m.id === i && m.done)));
      for (const [i, q] of qs.entries()) {
        const http = await post(`${s.url}/translate`, { q, source: i === 2 ? 'en' : 'de', target: i === 2 ? 'fr' : 'en' });
        assert.equal(done[i].translations[0].text, http.body.translatedText);
        const steps = c.of(i).filter((m) => 'step' in m);
        steps.forEach((m, k) => assert.equal(m.step, k));
      }
    } finally {
      c.close();
    }
  });

  test('cancel stops one request; the others finish; cancelling an unknown id is an error', async () => {
    const c = await Client.open(s.wsUrl);
    const m = s.models['en-de']!;
    m.endless = true; // 'slow' would run all 41 steps: only the cancel can stop it early
    const release = m.hold();
    try {
      const s0 = m.steps;
      c.send({ id: 'slow', q: 'a long sentence to decode slowly', source: 'en', target: 'de', max_length: 40 });
      c.send({ id: 'other', q: 'keep going', source: 'en', target: 'de' });
      await m.whenSteps(s0 + 1); // decoding (held)
      c.send({ id: 'slow', cancel: true });
      // messages are handled in order and an unknown id is answered at once: once this reply is
      // here, the cancel above has been handled
      c.send({ id: 'ghost', cancel: true });
      const err = await c.next((m) => m.id === 'ghost');
      assert.match(err.error, /no request with id "ghost" is in flight/);
      release();
      const cancelled = await c.next((m) => m.id === 'slow' && (m.cancelled || m.done));
      assert.deepEqual(cancelled, { id: 'slow', cancelled: true });
      const other = await c.next((m) => m.id === 'other' && m.done);
      assert.ok(other.translations.length >= 1);
      const slowSteps = c.of('slow').filter((m) => 'step' in m).length;
      assert.ok(slowSteps <= 1, `decoding stopped at the cancel (${slowSteps} step messages; the sentence runs 41)`);
    } finally {
      release();
      m.endless = false;
      c.close();
    }
  });

  test('invalid messages get {id?, error} naming the problem; the socket stays open', async () => {
    const c = await Client.open(s.wsUrl);
    let release = () => {};
    try {
      const cases: [unknown, RegExp, unknown?][] = [
        ['not json', /message is not valid JSON/],
        [Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), /binary message is not valid UTF-8/],
        [{ q: 'hi', source: 'en', target: 'de' }, /id: expected a non-empty string/],
        [{ id: 1, source: 'en', target: 'de' }, /q: /, 1],
        [{ id: 2, q: '', source: 'en', target: 'de' }, /q: must not be empty/, 2],
        [{ id: 3, q: 'hi', source: 'en', target: 'zz' }, /unknown language pair en-zz/, 3],
        [{ id: 4, q: 'hi', source: 'en', target: 'de', beam_size: 'big' }, /beam_size: /, 4],
        [{ id: 5, q: 'hi', source: 'en', target: 'de', extra: true }, /Unrecognized key.*"extra"/, 5],
        [{ id: 6, q: 'hi', source: 'en', target: 'de', format: 'pdf' }, /format: expected "text" or "html"/, 6],
        [{ id: 7, q: 'z'.repeat(2100), source: 'en', target: 'de' }, /message has \d+ bytes; the limit is wsMaxMessageBytes 2000/],
        [{ id: 8, cancel: 'yes' }, /cancel: /, 8],
        [[1, 2], /expected object/],
      ];
      for (const [msg, re, id] of cases) {
        const before = c.messages.length;
        c.send(msg);
        const m = await c.next((x) => c.messages.indexOf(x) >= before && 'error' in x);
        assert.match(m.error, re, JSON.stringify(msg).slice(0, 80));
        assert.equal(m.id, id);
      }
      assert.equal(c.ws.readyState, WebSocket.OPEN);
      c.send({ id: 'fine', q: 'still works', source: 'en', target: 'de' });
      assert.ok((await c.next((m) => m.id === 'fine' && m.done)).translations.length > 0);
      // duplicate id in flight, and too many in flight (held in decoding until both are refused)
      release = s.models['en-fr']!.hold();
      for (const id of ['d1', 'd2', 'd3']) c.send({ id, q: 'slow one', source: 'en', target: 'fr' });
      c.send({ id: 'd1', q: 'again', source: 'en', target: 'fr' });
      assert.match((await c.next((m) => m.id === 'd1' && m.error)).error, /id "d1" is already in flight/);
      c.send({ id: 'd4', q: 'fourth', source: 'en', target: 'fr' });
      assert.match(
        (await c.next((m) => m.id === 'd4' && m.error)).error,
        /3 requests in flight on this socket; the limit is wsMaxInFlight 3/,
      );
      release();
      await c.next((m) => m.id === 'd3' && m.done);
    } finally {
      release();
      c.close();
    }
  });

  test('closing the socket aborts its requests: the generator drops a sentence that would run 41 steps', async () => {
    const t = await startTestServer();
    const m = t.models['de-en']!;
    m.endless = true; // the sentence runs to max_length 40 unless it is aborted
    const release = m.hold();
    const open = async () => (await t.app.context.metrics.wsConnections.get()).values[0]?.value ?? 0;
    try {
      const c = await Client.open(t.wsUrl);
      c.send({ id: 1, q: 'abandoned request here', source: 'de', target: 'en', max_length: 40 });
      await m.whenSteps(1); // step 0 is being computed (held)
      c.close();
      await waitFor('the server sees the socket close', async () => (await open()) === 0);
      release();
      await t.app.context.batcher.idle();
      assert.ok(m.steps <= 2, `decoding stopped when the socket closed (${m.steps} steps; the sentence runs 41)`);
    } finally {
      release();
      await t.close();
    }
  });

  test('a paragraph streams per sentence: the sentences first, steps carry their sentence, done joins them', async () => {
    const l = await startTestServer({}, { lexicon: true });
    const c = await Client.open(l.wsUrl);
    try {
      const q = 'A dog runs on the beach.\nTwo cats sleep in the snow. A bird sings.';
      c.send({ id: 'p', q, source: 'en', target: 'de', beam_size: 2, n_best: 2 });
      const done = await c.next((m) => m.id === 'p' && m.done);
      const msgs = c.of('p');
      assert.deepEqual(msgs[0], { id: 'p', sentences: ['A dog runs on the beach.', 'Two cats sleep in the snow.', 'A bird sings.'] });
      for (const k of [0, 1, 2]) {
        const steps = msgs.filter((m) => m.sentence === k);
        assert.ok(steps.length >= 3, `sentence ${k}: ${steps.length} steps`);
        steps.forEach((m, t) => assert.equal(m.step, t, "each sentence's steps in order"));
        assert.deepEqual(steps[steps.length - 1].beams, [], 'a sentence ends with an empty step');
        const last = steps[steps.length - 2].beams[0].text;
        assert.equal(last, lexiconText('en-de', msgs[0].sentences[k]));
      }
      assert.equal(done.translations[0].text, 'ein hund läuft auf der strand.\nzwei katzen schlafen in der schnee. ein vogel singt.');
      const http = await post(`${l.url}/translate`, { q, source: 'en', target: 'de', beam_size: 2, n_best: 2 });
      assert.deepEqual(done.translations, http.body.nbest);
      // source auto over the socket: detected, and announced with the sentences
      c.send({ id: 'a', q: 'Ein Hund läuft am Strand.', source: 'auto', target: 'en' });
      const auto = await c.next((m) => m.id === 'a' && m.done);
      assert.equal(auto.translations[0].text, 'a dog runs on the beach.');
      assert.equal(auto.detectedLanguage.language, 'de');
    } finally {
      c.close();
      await l.close();
    }
  });

  test('other upgrade paths are refused', async () => {
    const ws = new WebSocket(s.wsUrl.replace('/translate/stream', '/elsewhere'));
    const err = await new Promise<Error>((r) => ws.once('error', r));
    assert.match(err.message, /404/);
  });
});
