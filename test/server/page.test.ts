// The demo page (src/server/page/index.ts) end to end in headless Chromium against the
// in-process app: the pair list comes from /languages, typing and Translate streams beams over
// the WebSocket step by step, and the final n-best equals POST /translate's; a paragraph is built
// sentence by sentence. Screenshots are written to $RESMLP_SCREENSHOT_DIR (default: the OS temp
// dir) for a human look.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { chromium, type Page } from 'playwright-core';
import { lexiconText, post, startTestServer, type TestServer } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';

const LAUNCH = {
  executablePath: CHROMIUM,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
};

const SKIP = existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing (apt-get install chromium)`;

/**
 * Opens the page of the test server `s` in headless Chromium once it says ready, runs `use` on it,
 * saves a screenshot `shot` in $RESMLP_SCREENSHOT_DIR (default: the OS temp dir) and asserts that
 * the page threw no error; closes the browser and the server however it ends.
 */
async function onPage(s: TestServer, viewport: { width: number; height: number }, shot: string, use: (page: Page) => Promise<void>) {
  const browser = await chromium.launch(LAUNCH);
  try {
    const page = await browser.newPage({ viewport });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(s.url + '/');
    await page.waitForSelector('#status:text("ready")');
    await use(page);
    await page.screenshot({ path: join(process.env.RESMLP_SCREENSHOT_DIR ?? tmpdir(), shot), fullPage: true });
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await s.close();
  }
}

test('page: pick a pair, type, watch the beams, get the n-best', { skip: SKIP }, async () => {
  const s = await startTestServer();
  s.models['en-fr']!.stepDelayMs = 30; // slow enough to see intermediate steps
  await onPage(s, { width: 900, height: 700 }, 'resmlp-serve-page.png', async (page) => {
    const options = await page.$$eval('#pair option', (os) => os.map((o) => (o as unknown as { value: string }).value));
    assert.deepEqual(options, ['de-en', 'en-de', 'en-fr', 'auto-de', 'auto-en', 'auto-fr']);
    await page.selectOption('#pair', 'en-fr');
    await page.fill('#text', 'a little girl climbs a tree');
    await page.fill('#beam', '3');
    await page.fill('#nbest', '3');
    // Record the step counter as the page updates it.
    await page.evaluate(`(() => {
      window.seenSteps = [];
      const el = document.getElementById('step');
      new MutationObserver(() => window.seenSteps.push(el.textContent)).observe(el, { childList: true, characterData: true, subtree: true });
    })()`);
    await page.click('#go');
    await page.waitForSelector('#status:text("done")', { timeout: 10_000 });
    const seen = (await page.evaluate('window.seenSteps')) as string[];
    const steps = seen.filter((x) => x !== '–').map(Number);
    assert.ok(steps.length >= 3, `the page showed steps ${steps}`);
    assert.deepEqual(
      steps,
      [...steps].sort((a, b) => a - b),
      'steps shown in order',
    );
    const final = await page.$$eval('#final tbody tr', (rows) =>
      rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent)),
    );
    const http = await post(`${s.url}/translate`, {
      q: 'a little girl climbs a tree',
      source: 'en',
      target: 'fr',
      beam_size: 3,
      n_best: 3,
    });
    assert.deepEqual(
      final,
      http.body.nbest.map((h: { text: string; score: number }, i: number) => [String(i + 1), h.text, h.score.toFixed(3)]),
    );
  });
});

test('page: a paragraph is built sentence by sentence, with the detected language', { skip: SKIP }, async () => {
  const s = await startTestServer({}, { lexicon: true });
  s.models['en-de']!.stepDelayMs = 20; // slow enough to see the sentences grow
  await onPage(s, { width: 900, height: 760 }, 'resmlp-serve-page-paragraph.png', async (page) => {
    await page.selectOption('#pair', 'auto-de');
    const q = 'A dog runs on the beach. Two cats sleep in the snow.\nA bird sings in the tree.';
    await page.fill('#text', q);
    // Record the sentence spans (state and text) at every change of the paragraph.
    await page.evaluate(`(() => {
      window.seen = [];
      const el = document.getElementById('paragraph');
      new MutationObserver(() => window.seen.push([...el.querySelectorAll('.sent')].map((x) => x.className.replace('sent ', '') + ':' + x.textContent))).observe(el, { childList: true, subtree: true, characterData: true });
    })()`);
    await page.click('#go');
    await page.waitForSelector('#status:text("done")', { timeout: 20_000 });
    const seen = (await page.evaluate('window.seen')) as string[][];
    const built = seen.filter((v) => v.length === 3);
    assert.ok(built.length >= 5, `the paragraph changed ${built.length} times while decoding`);
    assert.ok(
      built.some((v) => v.filter((x) => x.startsWith('live:')).length >= 2),
      'several sentences decode at once (one batch)',
    );
    assert.ok(
      built.some(
        (v) =>
          v[0]!.startsWith('live:') &&
          v[0]!.length > 'live:'.length + 3 &&
          v[0] !== 'live:' + lexiconText('en-de', 'A dog runs on the beach.'),
      ),
      'a sentence shown half built',
    );
    assert.match((await page.textContent('#sentences')) ?? '', /3 sentences, detected en \d+%/);
    const final = await page.textContent('#paragraph');
    const http = await post(`${s.url}/translate`, { q, source: 'en', target: 'de' });
    assert.equal(final, http.body.translatedText);
    assert.equal(final, lexiconText('en-de', q));
  });
});
