// In-process route tests of the translation server (src/server/app.ts) around fake engines:
// LibreTranslate-compatible POST /translate and our extensions, /languages, /health, /metrics,
// and every invalid case answering 4xx/5xx with an {error} that names the problem. The limits
// (queue, deadline, client gone, shutdown) use models held in decoding or sentences that only an
// abort can end (test/server/helpers.ts), never sleeps that a slow machine could outlast.
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { post, startTestServer, type TestServer, waitFor } from './helpers.js';

describe('POST /translate', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ maxTextsPerRequest: 4, maxCharsPerText: 60, maxBeamSize: 6, bodyLimitBytes: 4000, maxBatchTokens: 50 });
  });
  after(() => s.close());
  const T = () => `${s.url}/translate`;

  test('LibreTranslate request → {translatedText}', async () => {
    const r = await post(T(), { q: 'hello world', source: 'en', target: 'de', format: 'text' });
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.body), ['translatedText']);
    assert.equal(typeof r.body.translatedText, 'string');
    assert.ok(r.body.translatedText.length > 0);
    // deterministic: same request, same answer
    const again = await post(T(), { q: 'hello world', source: 'en', target: 'de' });
    assert.equal(again.body.translatedText, r.body.translatedText);
  });

  test('array q → array translatedText in order; alternatives', async () => {
    const one = await post(T(), { q: 'a cat', source: 'en', target: 'de' });
    const two = await post(T(), { q: 'a dog', source: 'en', target: 'de' });
    const r = await post(T(), { q: ['a cat', 'a dog'], source: 'en', target: 'de' });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.translatedText, [one.body.translatedText, two.body.translatedText]);
    const alt = await post(T(), { q: 'a cat', source: 'en', target: 'de', alternatives: 2 });
    assert.equal(alt.body.translatedText, one.body.translatedText);
    assert.equal(alt.body.alternatives.length, 2);
    const alts = await post(T(), { q: ['a cat', 'a dog'], source: 'en', target: 'de', alternatives: 1 });
    assert.equal(alts.body.alternatives.length, 2);
    assert.equal(alts.body.alternatives[0].length, 1);
  });

  test('extensions: n_best with scores, return_scores, beam_size, length_penalty, max_length', async () => {
    const r = await post(T(), { q: 'the house is small', source: 'en', target: 'de', beam_size: 5, n_best: 3, return_scores: true });
    assert.equal(r.status, 200);
    assert.equal(r.body.nbest.length, 3);
    const scores = r.body.nbest.map((h: { score: number }) => h.score);
    assert.deepEqual(
      [...scores].sort((a, b) => b - a),
      scores,
    );
    assert.equal(r.body.nbest[0].text, r.body.translatedText);
    assert.equal(r.body.score, scores[0]);
    const best = r.body.nbest[0];
    assert.equal(best.positional_scores.length, best.tokens.length); // one score per token, EOS included
    assert.equal(best.tokens.at(-1), 2, 'tokens end with EOS');
    const sum = best.positional_scores.reduce((a: number, b: number) => a + b, 0);
    assert.ok(Math.abs(sum / best.positional_scores.length - best.score) < 1e-5, 'score = Σ log-probs / len (lenpen 1)');
    const short = await post(T(), { q: 'the house is small', source: 'en', target: 'de', max_length: 1, n_best: 1, return_scores: true });
    assert.ok(short.body.nbest[0].tokens.length <= 2, 'max_length 1: at most one token, then EOS');
    const lp = await post(T(), { q: 'the house is small', source: 'en', target: 'de', length_penalty: 0, n_best: 1, return_scores: true });
    const lpBest = lp.body.nbest[0];
    const lpSum = lpBest.positional_scores.reduce((a: number, b: number) => a + b, 0);
    assert.ok(Math.abs(lpSum - lpBest.score) < 1e-5, 'lenpen 0: score is the plain sum');
  });

  test('form body (application/x-www-form-urlencoded), as LibreTranslate accepts', async () => {
    const json = await post(T(), { q: 'a cat', source: 'en', target: 'de', alternatives: 1 });
    const r = await post(T(), 'q=a+cat&source=en&target=de&alternatives=1', { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, json.body);
  });

  const bad: [string, unknown, RegExp, number?][] = [
    ['q missing', { source: 'en', target: 'de' }, /^q: /],
    ['q a number', { q: 5, source: 'en', target: 'de' }, /q: expected a non-empty string or an array/],
    ['q empty', { q: '', source: 'en', target: 'de' }, /q: must not be empty/],
    ['q whitespace', { q: '  \n ', source: 'en', target: 'de' }, /q: must not be empty/],
    ['q empty array', { q: [], source: 'en', target: 'de' }, /q: must hold at least one text/],
    ['q array with an empty text', { q: ['ok', ''], source: 'en', target: 'de' }, /q\.1: must not be empty/],
    ['q array with a number', { q: ['ok', 3], source: 'en', target: 'de' }, /q\.1: expected a string/],
    ['q only control characters', { q: '\u0001\u0002', source: 'en', target: 'de' }, /q has nothing to translate after cleaning/],
    ['source missing', { q: 'hi', target: 'de' }, /source: expected a language code/],
    ['target a number', { q: 'hi', source: 'en', target: 7 }, /target: expected a language code/],
    ['unknown pair', { q: 'hi', source: 'en', target: 'xx' }, /unknown language pair en-xx; pairs served: de-en, en-de, en-fr/],
    ['source auto, nothing to detect', { q: '12 34', source: 'auto', target: 'de' }, /could not detect the language of q \("12 34"\)/],
    ['format pdf', { q: 'hi', source: 'en', target: 'de', format: 'pdf' }, /format: expected "text" or "html"/],
    ['beam_size 0', { q: 'hi', source: 'en', target: 'de', beam_size: 0 }, /beam_size: /],
    ['beam_size 2.5', { q: 'hi', source: 'en', target: 'de', beam_size: 2.5 }, /beam_size: .*expected int/],
    ['beam_size a string', { q: 'hi', source: 'en', target: 'de', beam_size: '4' }, /beam_size: .*number/],
    ['beam_size over the limit', { q: 'hi', source: 'en', target: 'de', beam_size: 7 }, /beam_size 7 is over the limit maxBeamSize 6/],
    [
      'n_best over beam',
      { q: 'hi', source: 'en', target: 'de', beam_size: 2, n_best: 3 },
      /n_best 3 asks for more hypotheses than beam_size 2/,
    ],
    [
      'alternatives over beam',
      { q: 'hi', source: 'en', target: 'de', beam_size: 2, alternatives: 2 },
      /alternatives 2 \(\+1 for the best\) asks for more hypotheses than beam_size 2/,
    ],
    ['alternatives negative', { q: 'hi', source: 'en', target: 'de', alternatives: -1 }, /alternatives: /],
    ['return_scores not a boolean', { q: 'hi', source: 'en', target: 'de', return_scores: 'yes' }, /return_scores: .*boolean/],
    ['length_penalty not finite', { q: 'hi', source: 'en', target: 'de', length_penalty: 'inf' }, /length_penalty: /],
    [
      'max_length over the model',
      { q: 'hi', source: 'en', target: 'de', max_length: 500 },
      /max_length 500 is over this model's limit of 47 tokens/,
    ],
    ['too many texts', { q: ['a', 'b', 'c', 'd', 'e'], source: 'en', target: 'de' }, /q has 5 texts; the limit is maxTextsPerRequest 4/],
    [
      'text over the char limit',
      { q: ['ok', 'x'.repeat(61)], source: 'en', target: 'de' },
      /q\[1\] has 61 characters; the limit is maxCharsPerText 60/,
    ],
    ['body not an object', [1, 2], /expected object/],
    ['body null', null, /expected object/],
  ];
  for (const [name, body, re, status] of bad) {
    test(`400: ${name}`, async () => {
      const r = await post(T(), body);
      assert.equal(r.status, status ?? 400, JSON.stringify(r.body));
      assert.deepEqual(Object.keys(r.body), ['error']);
      assert.match(r.body.error, re);
    });
  }

  test('a text longer than maxBatchTokens is cut into pieces that fit a batch, not refused', async () => {
    const s2 = await startTestServer({ scheduler: 'batch', maxBatchTokens: 10 });
    try {
      const r = await post(`${s2.url}/translate`, { q: 'twelve chars and then some more', source: 'en', target: 'de' });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const text = await (await fetch(`${s2.url}/metrics`)).text();
      const over = /resmlp_batch_source_tokens_bucket\{le="8"\} (\d+)[\s\S]*resmlp_batch_source_tokens_count (\d+)/.exec(text)!;
      assert.ok(Number(over[2]) >= 4, 'four or more batches (one piece of at most 9 tokens + EOS each)');
      assert.equal(
        s2.app.context.batcher.batchSizes.every((n) => n === 1),
        true,
      );
    } finally {
      await s2.close();
    }
  });

  test('400: invalid UTF-8 bytes, checked before JSON parsing', async () => {
    const bytes = Buffer.concat([Buffer.from('{"q":"caf'), Buffer.from([0xc3, 0x28]), Buffer.from('","source":"en","target":"de"}')]);
    const r = await post(T(), new Uint8Array(bytes));
    assert.equal(r.status, 400);
    assert.match(r.body.error, /request body is not valid UTF-8 \(first bad byte at offset 9\)/);
    const lone = await post(T(), new Uint8Array(Buffer.from([0x7b, 0xff, 0x7d])));
    assert.match(lone.body.error, /not valid UTF-8 \(first bad byte at offset 1\)/);
  });

  test('400: invalid JSON, empty body, multipart', async () => {
    const r = await post(T(), '{"q": "hi",');
    assert.equal(r.status, 400);
    assert.match(r.body.error, /request body is not valid JSON/);
    const e = await post(T(), '');
    assert.equal(e.status, 400);
    assert.match(e.body.error, /request body is empty/);
    const m = await post(T(), '--x\r\n', { 'content-type': 'multipart/form-data; boundary=x' });
    assert.match(m.body.error, /multipart\/form-data is not supported/);
  });

  test('413: body over bodyLimitBytes', async () => {
    const r = await post(T(), { q: 'a'.repeat(5000), source: 'en', target: 'de' });
    assert.equal(r.status, 413);
    assert.match(r.body.error, /request body has 5\d\d\d bytes; the limit is bodyLimitBytes 4000/);
  });

  test('404 names the routes', async () => {
    const r = await fetch(`${s.url}/nope`);
    assert.equal(r.status, 404);
    assert.match(((await r.json()) as { error: string }).error, /no route GET \/nope; see .*POST \/translate/);
  });

  test('GET /languages: LibreTranslate shape from the loaded models', async () => {
    const r = await fetch(`${s.url}/languages`);
    assert.deepEqual(await r.json(), [
      { code: 'de', name: 'German', targets: ['en'] },
      { code: 'en', name: 'English', targets: ['de', 'fr'] },
      { code: 'fr', name: 'French', targets: [] },
    ]);
  });

  test('GET /metrics: Prometheus text with requests, latency, queue, batches, tokens, errors', async () => {
    const text = await (await fetch(`${s.url}/metrics`)).text();
    for (const name of [
      'resmlp_http_requests_total{route="/translate",method="POST",status="200"}',
      'resmlp_http_request_duration_seconds_bucket',
      'resmlp_queue_sentences',
      'resmlp_batch_sentences_bucket',
      'resmlp_generated_tokens_total{pair="en-de"}',
      'resmlp_decode_tokens_per_second{pair="en-de"}',
      'resmlp_errors_total{kind="invalid_request"}',
      'resmlp_errors_total{kind="invalid_utf8"}',
    ]) {
      assert.ok(text.includes(name), `metrics lack ${name}`);
    }
  });

  test('500 hides internals and logs them', async () => {
    const logs: string[] = [];
    const s2 = await startTestServer({}, { log: (l) => logs.push(l) });
    try {
      s2.models['en-de']!.failWith = 'secret /etc/passwd detail';
      const r = await post(`${s2.url}/translate`, { q: 'hi', source: 'en', target: 'de' });
      assert.equal(r.status, 500);
      assert.deepEqual(r.body, { error: 'internal error' });
      assert.ok(logs.some((l) => l.includes('secret /etc/passwd detail') && l.includes('POST /translate')));
      // the process and the other pairs live on
      const ok = await post(`${s2.url}/translate`, { q: 'hi', source: 'en', target: 'fr' });
      assert.equal(ok.status, 200);
    } finally {
      await s2.close();
    }
  });
});

describe('serving limits', () => {
  test('/health is 503 until the models are loaded, then 200', async () => {
    const s = await startTestServer({}, { ready: false });
    try {
      const r = await fetch(`${s.url}/health`);
      assert.equal(r.status, 503);
      assert.equal(((await r.json()) as { status: string }).status, 'loading');
      const t = await post(`${s.url}/translate`, { q: 'hi', source: 'en', target: 'de' });
      assert.equal(t.status, 503);
      s.registry.markReady();
      const ok = await fetch(`${s.url}/health`);
      assert.equal(ok.status, 200);
      assert.deepEqual(await ok.json(), { status: 'ok', pairs: ['de-en', 'en-de', 'en-fr'], queued: 0 });
    } finally {
      await s.close();
    }
  });

  test('429 when the queue is full', async () => {
    const s = await startTestServer({ maxQueueSentences: 2, maxBatchSentences: 1, maxWaitMs: 0 });
    const m = s.models['en-de']!;
    // the first request stays in decoding until released, so the queue fills behind it whatever the machine's speed
    const release = m.hold();
    try {
      const body = { q: 'a slow one', source: 'en', target: 'de' };
      const first = post(`${s.url}/translate`, body);
      await m.whenSteps(1);
      const queued = [post(`${s.url}/translate`, body), post(`${s.url}/translate`, body)]; // fill the queue
      await waitFor('two sentences are queued', () => s.app.context.batcher.queued === 2);
      const r = await post(`${s.url}/translate`, body);
      assert.equal(r.status, 429);
      assert.match(r.body.error, /the translation queue is full \(2 of 2 sentences waiting\)/);
      assert.equal(r.headers.get('retry-after'), '1');
      release();
      for (const q of [first, ...queued]) assert.equal((await q).status, 200);
    } finally {
      release();
      await s.close();
    }
  });

  test('504 past the request deadline: the sentence leaves the batch and the model is free again after', async () => {
    const s = await startTestServer({ requestTimeoutMs: 60 });
    const m = s.models['en-de']!;
    // 40 steps of ≥ 10 ms each: the sentence cannot end by itself before its 60 ms deadline, and
    // timers fire in the order they are due, so a loaded machine delays both alike
    m.endless = true;
    m.stepDelayMs = 10;
    try {
      const r = await post(`${s.url}/translate`, { q: 'a slow sentence here', source: 'en', target: 'de', max_length: 40 });
      assert.equal(r.status, 504);
      assert.match(r.body.error, /did not finish within its deadline of 60 ms/);
      await s.app.context.batcher.idle();
      assert.ok(m.steps < 20, `decoding stopped at the deadline (${m.steps} steps; the sentence runs 41)`);
      m.endless = false;
      m.stepDelayMs = 0;
      const ok = await post(`${s.url}/translate`, { q: 'fast', source: 'en', target: 'de' });
      assert.equal(ok.status, 200);
    } finally {
      await s.close();
    }
  });

  test('a client that goes away cancels its request: the generator stops decoding its sentence', async () => {
    const s = await startTestServer();
    const m = s.models['en-de']!;
    m.endless = true; // 41 steps unless the request is aborted
    const release = m.hold();
    try {
      const sockets: Socket[] = [];
      s.server.on('connection', (sock: Socket) => sockets.push(sock));
      const ctrl = new AbortController();
      const req = fetch(`${s.url}/translate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ q: 'nobody waits for this one', source: 'en', target: 'de', max_length: 40 }),
        signal: ctrl.signal,
      });
      await m.whenSteps(1); // step 0 is being computed (held)
      assert.equal(sockets.length, 1);
      const gone = new Promise((r) => sockets[0]!.once('close', r));
      ctrl.abort();
      await assert.rejects(req, /abort/i);
      await gone; // the server saw the disconnect (the route's response closed before finishing)
      release();
      await s.app.context.batcher.idle();
      assert.ok(m.steps <= 2, `decoding stopped when the client went away (${m.steps} steps; the sentence runs 41)`);
    } finally {
      release();
      await s.close();
    }
  });

  test('API keys (403) and a per-key rate limit (429)', async () => {
    let now = 1_000_000;
    const s = await startTestServer({ apiKeys: ['k1', 'k2'], rateLimitPerMinute: 2 });
    // the clock of the limiter: replace through the context
    (s.app.context.access as unknown as { now: () => number }).now = () => now;
    try {
      const body = { q: 'hi', source: 'en', target: 'de' };
      const none = await post(`${s.url}/translate`, body);
      assert.equal(none.status, 403);
      assert.match(none.body.error, /Invalid API key: this server needs an api_key/);
      const wrong = await post(`${s.url}/translate`, { ...body, api_key: 'nope' });
      assert.equal(wrong.status, 403);
      assert.equal((await post(`${s.url}/translate`, { ...body, api_key: 'k1' })).status, 200);
      assert.equal((await post(`${s.url}/translate`, { ...body, api_key: 'k1' })).status, 200);
      const limited = await post(`${s.url}/translate`, { ...body, api_key: 'k1' });
      assert.equal(limited.status, 429);
      assert.match(limited.body.error, /rate limit of 2 requests per minute reached/);
      assert.ok(Number(limited.headers.get('retry-after')) >= 1);
      assert.equal((await post(`${s.url}/translate`, { ...body, api_key: 'k2' })).status, 200, 'limits are per key');
      now += 60_000;
      assert.equal((await post(`${s.url}/translate`, { ...body, api_key: 'k1' })).status, 200, 'a new window');
    } finally {
      await s.close();
    }
  });

  test('CORS only for configured origins; preflight 204', async () => {
    const s = await startTestServer({ corsOrigins: ['https://app.example'] });
    try {
      const ok = await fetch(`${s.url}/languages`, { headers: { origin: 'https://app.example' } });
      assert.equal(ok.headers.get('access-control-allow-origin'), 'https://app.example');
      const other = await fetch(`${s.url}/languages`, { headers: { origin: 'https://evil.example' } });
      assert.equal(other.headers.get('access-control-allow-origin'), null);
      const pre = await fetch(`${s.url}/translate`, {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
      });
      assert.equal(pre.status, 204);
      assert.match(pre.headers.get('access-control-allow-methods') ?? '', /POST/);
    } finally {
      await s.close();
    }
    const none = await startTestServer();
    try {
      const r = await fetch(`${none.url}/languages`, { headers: { origin: 'https://app.example' } });
      assert.equal(r.headers.get('access-control-allow-origin'), null);
    } finally {
      await none.close();
    }
  });

  test('graceful shutdown: in-flight work finishes; meanwhile /health says "shutting down" and new requests, WebSocket upgrades and stream messages get 503', async () => {
    const s = await startTestServer();
    const m = s.models['en-de']!;
    const release = m.hold(); // the in-flight request decodes until the checks below are done
    try {
      const ws = new WebSocket(s.wsUrl);
      await new Promise((r, j) => ws.once('open', r).once('error', j));
      const wsClosed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
      const inflight = post(`${s.url}/translate`, { q: 'finishing this one', source: 'en', target: 'de' });
      await m.whenSteps(1);
      // app.shutdown() alone: the listener stays open, so every refusal below is the app's, not a closed port's
      let stopped = false;
      const stopping = s.app.shutdown().then(() => (stopped = true));

      const health = await fetch(`${s.url}/health`);
      assert.equal(health.status, 503);
      assert.equal(((await health.json()) as { status: string }).status, 'shutting down');

      const late = await post(`${s.url}/translate`, { q: 'a new request', source: 'en', target: 'fr' });
      assert.equal(late.status, 503, JSON.stringify(late.body));
      assert.deepEqual(late.body, { error: 'the server is shutting down' });

      const upgrade = new WebSocket(s.wsUrl);
      const refused = await new Promise<string>((r) =>
        upgrade
          .once('error', (e) => r(e.message))
          .once('open', () => {
            upgrade.close();
            r('the upgrade was accepted');
          }),
      );
      assert.match(refused, /Unexpected server response: 503/);

      const reply = new Promise<unknown>((r) => ws.once('message', (d) => r(JSON.parse(String(d)))));
      ws.send(JSON.stringify({ id: 'late', q: 'too late', source: 'en', target: 'fr' }));
      assert.deepEqual(await reply, { id: 'late', error: 'the server is shutting down', status: 503 });

      assert.equal(stopped, false, 'shutdown waits for the request being decoded');
      release();
      const r = await inflight;
      assert.equal(r.status, 200);
      await stopping;
      assert.equal(await wsClosed, 1001, 'open sockets are closed (going away) once the work is done');
    } finally {
      release();
      await s.close();
    }
  });
});
