// Real text from real clients (issue 19), against fake models that really translate word by word
// (LexiconModel: the answer can be checked as text): the npm `libretranslate` client unchanged,
// paragraphs cut into sentences that decode in one batch and come back in place, a 300-token
// sentence, invisible characters, source "auto" and POST /detect, /languages and
// /frontend/settings in LibreTranslate's shape, ignored fields, the translation cache, HTML.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { translate as libreTranslate } from 'libretranslate';
import { lexiconText, post, startTestServer, type TestServer } from './helpers.js';

/** Eight sentences, 1,000 characters, as a user pastes them (single and double spaces, a line break). */
const PARAGRAPH = [
  'A man in a blue shirt is standing on a ladder and cleaning a window of the big house near the green park on the street.',
  'Two dogs are playing in the snow near a red fence, and a group of children are playing with a ball in the park at night.',
  'A woman with a small dog is standing on the beach, and the sun is very big over the green grass and the blue window.',
  'A group of children are playing on the street near the house, and two cats sleep in the snow near a red fence at night.',
  'The man is cleaning a window and the woman is standing near a tree in the park, and a bird sings in the big green tree.',
  'Two dogs run on the beach with a ball, and the children are playing with the dogs in the snow near the small red house.',
  'The cat sleeps on the green grass near the fence, and a man in a blue shirt is playing with a small ball in the park.',
  'When the sun rose, the birds sang in the tree, and the children are playing on the street near the house with a dog.',
];
const TEXT = `${PARAGRAPH.slice(0, 4).join(' ')}\n${PARAGRAPH.slice(4, 6).join('  ')} ${PARAGRAPH.slice(6).join(' ')}`;

describe('real text', () => {
  let s: TestServer;
  const logs: string[] = [];
  before(async () => {
    s = await startTestServer({ maxCharsPerText: 5000, maxBeamSize: 16 }, { lexicon: true, log: (l) => logs.push(l) });
  });
  after(() => s.close());
  const T = () => `${s.url}/translate`;

  test('the npm libretranslate client works unchanged, with its default source (auto)', async () => {
    const auto = await libreTranslate({ query: 'A dog runs on the beach.', target: 'de', apiurl: s.url });
    assert.equal(auto, 'ein hund läuft auf der strand.');
    const explicit = await libreTranslate({ query: 'Hello world.', source: 'en', target: 'de', apiurl: s.url });
    assert.equal(explicit, 'hallo welt.');
    const fr = await libreTranslate({ query: 'A cat sleeps.', source: 'en', target: 'fr', apiurl: s.url });
    assert.equal(fr, 'un chat dort.');
  });

  test('GET /languages lists every language served, targets included', async () => {
    assert.deepEqual(await (await fetch(`${s.url}/languages`)).json(), [
      { code: 'de', name: 'German', targets: ['en'] },
      { code: 'en', name: 'English', targets: ['de', 'fr'] },
      { code: 'fr', name: 'French', targets: [] },
    ]);
  });

  test('GET /frontend/settings in LibreTranslate shape', async () => {
    assert.deepEqual(await (await fetch(`${s.url}/frontend/settings`)).json(), {
      charLimit: 5000,
      frontendTimeout: 500,
      apiKeys: false,
      keyRequired: false,
      suggestions: false,
      filesTranslation: false,
      supportedFilesFormat: [],
      language: { source: { code: 'auto', name: 'Auto Detect' }, target: { code: 'en', name: 'English' } },
    });
  });

  test('unknown fields are ignored and named once in the log; our own fields stay strict', async () => {
    const r = await post(T(), { q: 'A dog.', source: 'en', target: 'de', secret: 'x', beamsize: 3 });
    assert.equal(r.status, 200);
    await post(T(), { q: 'A cat.', source: 'en', target: 'de', beamsize: 3 });
    assert.equal(logs.filter((l) => l.includes('"beamsize"')).length, 1, logs.join('\n'));
    assert.equal(logs.filter((l) => l.includes('"secret"')).length, 1);
    const bad = await post(T(), { q: 'A dog.', source: 'en', target: 'de', beam_size: '3' });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /beam_size: .*number/);
  });

  test('a paragraph: every sentence translated in place, layout kept, decoded together', async () => {
    assert.ok(TEXT.length >= 950 && TEXT.length <= 1000, `${TEXT.length} characters`);
    const engine = s.registry.get('en', 'de')!.engine;
    const before = engine.stepSentences!().length;
    const r = await post(T(), { q: TEXT, source: 'en', target: 'de', cache: false });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.translatedText, lexiconText('en-de', TEXT));
    assert.equal(r.body.translatedText.split(/(?<=\.)\s+/u).length, 8, 'eight sentences, in order');
    const live = engine.stepSentences!().slice(before);
    assert.ok(
      live[0]! >= 8,
      `the paragraph's sentences and pieces decode in the same steps (live per step: ${live.slice(0, 5).join(',')}…)`,
    );
  });

  test('a 300-token sentence is split at words and translated, not refused', async () => {
    const words = ['the', 'dog', 'runs', 'on', 'the', 'beach', 'and'];
    const long = Array.from({ length: 80 }, (_, i) => words[i % words.length])
      .join(' ')
      .slice(0, 300)
      .trim();
    assert.ok(long.length >= 299 && !/[.!?,;:]/.test(long));
    const r = await post(T(), { q: long, source: 'en', target: 'de', cache: false });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.translatedText, lexiconText('en-de', long));
  });

  test('control and invisible characters: the same answer as for the clean text', async () => {
    const clean = await post(T(), { q: 'A dog runs on the beach. Two cats sleep.', source: 'en', target: 'de', cache: false });
    const dirty = await post(T(), {
      q: 'A\u0007 dog\u200b runs\u00ad on the\u202a beach\u202c.\u0000 Two\u2066 cats\u2069 sleep.\ufeff',
      source: 'en',
      target: 'de',
      cache: false,
    });
    assert.equal(dirty.status, 200);
    assert.equal(clean.body.translatedText, 'ein hund läuft auf der strand. zwei katzen schlafen.');
    assert.equal(dirty.body.translatedText.replace(/\ufeff$/u, ''), clean.body.translatedText);
  });

  test('n-best of a paragraph: alternatives are whole texts, the best first in nbest', async () => {
    const r = await post(T(), {
      q: 'A dog. A cat.',
      source: 'en',
      target: 'de',
      alternatives: 2,
      n_best: 3,
      return_scores: true,
      cache: false,
    });
    assert.equal(r.status, 200);
    assert.equal(r.body.translatedText, 'ein hund. ein katze.');
    // rank k joins the k-th hypothesis of each sentence (its best where it has fewer)
    const each = await post(T(), { q: ['A dog.', 'A cat.'], source: 'en', target: 'de', n_best: 3, cache: false });
    const [dog, cat] = each.body.nbest as { text: string }[][];
    assert.deepEqual(
      r.body.alternatives,
      [1, 2].map((k) => `${(dog![k] ?? dog![0]!).text} ${(cat![k] ?? cat![0]!).text}`),
    );
    assert.equal(r.body.nbest[0].text, r.body.translatedText);
    const best = r.body.nbest[0];
    assert.equal(best.positional_scores.length, best.tokens.length, 'one score per token, EOS of each sentence included');
    assert.equal(best.tokens.filter((t: number) => t === 2).length, 2, 'two sentences, two EOS');
    const sum = best.positional_scores.reduce((a: number, b: number) => a + b, 0);
    assert.ok(Math.abs(best.score - sum / best.positional_scores.length) < 1e-6, 'score of the text as one sequence (lenpen 1)');
    assert.equal(r.body.score, best.score);
  });

  test('source "auto": detected per text; a text already in the target comes back as is', async () => {
    const r = await post(T(), { q: ['Ein Hund läuft am Strand.', 'A dog runs on the beach.'], source: 'auto', target: 'en', cache: false });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.translatedText, ['a dog runs on the beach.', 'A dog runs on the beach.']);
    assert.deepEqual(
      r.body.detectedLanguage.map((d: { language: string }) => d.language),
      ['de', 'en'],
    );
    for (const d of r.body.detectedLanguage) assert.ok(d.confidence > 0 && d.confidence <= 100);
    const one = await post(T(), { q: 'A dog runs on the beach.', source: 'auto', target: 'de' });
    assert.equal(one.body.detectedLanguage.language, 'en');
    const none = await post(T(), { q: '1234 !!!', source: 'auto', target: 'de' });
    assert.equal(none.status, 400);
    assert.match(none.body.error, /could not detect the language of q \("1234 !!!"\); give "source"/);
    const nowhere = await post(T(), { q: 'hi', source: 'auto', target: 'xx' });
    assert.equal(nowhere.status, 400);
    assert.match(nowhere.body.error, /no model translates into "xx"/);
  });

  test('POST /detect: LibreTranslate shape among the source languages; 400 when it cannot tell', async () => {
    const r = await post(`${s.url}/detect`, { q: 'Der Hund läuft schnell über die grüne Wiese.' });
    assert.equal(r.status, 200);
    assert.equal(r.body[0].language, 'de');
    assert.ok(
      r.body.every((d: { language: string }) => ['de', 'en'].includes(d.language)),
      'only served source languages',
    );
    const bad = await post(`${s.url}/detect`, { q: '12 34' });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /could not detect the language of q/);
  });

  test('the cache answers a repeated paragraph without decoding; cache: false skips it', async () => {
    const metric = async (name: string) =>
      Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(await (await fetch(`${s.url}/metrics`)).text())?.[1] ?? NaN);
    const q = 'A man is standing on a ladder. Two dogs are playing in the snow. A cat sleeps.';
    const first = await post(T(), { q, source: 'en', target: 'de' });
    const steps = s.models['en-de']!.steps;
    const hits = await metric('resmlp_cache_hits_total');
    const second = await post(T(), { q, source: 'en', target: 'de' });
    assert.deepEqual(second.body, first.body);
    assert.equal(s.models['en-de']!.steps, steps, 'no decoding step for a cached paragraph');
    assert.equal((await metric('resmlp_cache_hits_total')) - hits, 3);
    await post(T(), { q, source: 'en', target: 'de', cache: false });
    assert.ok(s.models['en-de']!.steps > steps, 'cache: false decodes');
    assert.equal((await metric('resmlp_cache_hits_total')) - hits, 3, 'cache: false does not look up');
    assert.ok((await metric('resmlp_cache_bytes')) > 0);
  });

  test('the same sentence twice in one request is decoded once', async () => {
    const engine = s.registry.get('en', 'de')!.engine;
    const before = engine.stepSentences!().length;
    const r = await post(T(), { q: ['The dog runs.', 'The dog runs. The dog runs.'], source: 'en', target: 'de', cache: false });
    assert.deepEqual(r.body.translatedText, ['der hund läuft.', 'der hund läuft. der hund läuft.']);
    assert.deepEqual(new Set(engine.stepSentences!().slice(before)), new Set([1]), 'one sentence decoding at every step');
  });

  test('format html: tags, attributes and entities kept; code untouched', async () => {
    const html =
      '<p class="x">A <b>dog</b> runs on the <a href="/b?x=1&amp;y=2">beach</a>.</p>\n<pre>the dog</pre><p>Hello &amp; world.</p>';
    const r = await post(T(), { q: html, source: 'en', target: 'de', format: 'html', cache: false });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(
      r.body.translatedText,
      '<p class="x">ein <b>hund</b> läuft auf der <a href="/b?x=1&amp;y=2">strand</a>.</p>\n<pre>the dog</pre><p>hallo &amp; welt.</p>',
    );
  });

  test('errors name the field the client sent', async () => {
    const r = await post(T(), { q: 'A dog.', source: 'en', target: 'de', alternatives: 100 });
    assert.equal(r.status, 400);
    assert.match(r.body.error, /^alternatives 100 \(\+1 for the best\) needs beam_size 101, which is over the limit maxBeamSize 16$/);
    const k = await post(T(), { q: 'A dog.', source: 'en', target: 'de', api_key: 'a', apiKey: 'b' });
    assert.equal(k.status, 400);
    assert.match(k.body.error, /api_key and apiKey differ/);
  });
});

describe('apiKey (the npm client spelling of api_key)', () => {
  test('accepted where keys are required', async () => {
    const s = await startTestServer({ apiKeys: ['k1'] }, { lexicon: true });
    try {
      assert.equal((await post(`${s.url}/translate`, { q: 'A dog.', source: 'en', target: 'de', apiKey: 'k1' })).status, 200);
      assert.equal((await post(`${s.url}/translate`, { q: 'A dog.', source: 'en', target: 'de', apiKey: '' })).status, 403);
      assert.equal((await post(`${s.url}/translate`, { q: 'A dog.', source: 'en', target: 'de', apiKey: 'nope' })).status, 403);
      const settings = await (await fetch(`${s.url}/frontend/settings`)).json();
      assert.equal((settings as { keyRequired: boolean }).keyRequired, true);
    } finally {
      await s.close();
    }
  });
});
