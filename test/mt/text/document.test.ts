// planText + assemble: sentences as units, runs without letters or digits copied, long
// sentences split, layout (spaces, line breaks) kept around the translations.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assemble, planText } from '../../../src/mt/text/document.js';

const words = (s: string) => (s.trim() === '' ? 0 : s.trim().split(/\s+/u).length);
const opts = { lang: 'en', sentences: true, countTokens: words, maxTokens: 63 };

test('units are sentences; assemble keeps the whitespace and line breaks', () => {
  const t = 'A dog runs.  A cat sleeps!\n\n* * *\n  Birds sing. ';
  const units = planText(t, opts);
  assert.deepEqual(
    units.map((u) => t.slice(u.start, u.end)),
    ['A dog runs.', 'A cat sleeps!', 'Birds sing.'],
  );
  const out = assemble(t, units, ['Ein Hund rennt.', 'Eine Katze schläft!', 'Vögel singen.']);
  assert.equal(out.text, 'Ein Hund rennt.  Eine Katze schläft!\n\n* * *\n  Vögel singen. ');
  for (const [i, s] of out.spans.entries())
    assert.equal(out.text.slice(...s.tgt), ['Ein Hund rennt.', 'Eine Katze schläft!', 'Vögel singen.'][i]);
});

test('sentences: false keeps one unit unless it is too long', () => {
  const t = 'A dog runs. A cat sleeps.';
  assert.deepEqual(
    planText(t, { ...opts, sentences: false }).map((u) => t.slice(u.start, u.end)),
    [t],
  );
  const long = 'a b c d e f g h i j';
  assert.deepEqual(
    planText(long, { ...opts, sentences: false, maxTokens: 5 }).map((u) => long.slice(u.start, u.end)),
    ['a b c d e', 'f g h i j'],
  );
});

test('nothing to translate: no units, assemble returns the text', () => {
  for (const t of ['', '   ', '!!! ---', '\u200b']) {
    const u = planText(t, { ...opts, countTokens: (s) => words(s.replace(/\u200b/g, '')) });
    assert.deepEqual(u, []);
    assert.equal(assemble(t, u, []).text, t);
  }
});

test('assemble checks its input', () => {
  assert.throws(() => assemble('ab', [{ start: 0, end: 1 }], []), /1 units/);
  assert.throws(
    () =>
      assemble(
        'abc',
        [
          { start: 1, end: 2 },
          { start: 0, end: 1 },
        ],
        ['x', 'y'],
      ),
    /unit 1 .* out of order/,
  );
});
