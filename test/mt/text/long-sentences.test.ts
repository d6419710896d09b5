// splitLongSentence: clause punctuation first, then words, then graphemes; balanced pieces, each
// within the limit, covering every word of the sentence in order.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitLongSentence } from '../../../src/mt/text/long-sentences.js';

/** One token per whitespace-separated word (a deterministic stand-in for SentencePiece). */
const words = (s: string) => (s.trim() === '' ? 0 : s.trim().split(/\s+/u).length);
const pieces = (t: string, max: number, count = words) =>
  splitLongSentence(t, { start: 0, end: t.length }, count, max).map((r) => t.slice(r.start, r.end));

test('a sentence that fits is one piece', () => {
  assert.deepEqual(pieces('A dog runs on the beach.', 6), ['A dog runs on the beach.']);
});

test('clauses first, packed and balanced', () => {
  const t = 'When the sun rose, the birds sang, the dogs barked, and the town woke up slowly.';
  const p = pieces(t, 10);
  assert.deepEqual(p, ['When the sun rose, the birds sang,', 'the dogs barked, and the town woke up slowly.']);
  for (const x of p) assert.ok(words(x) <= 10);
});

test('a clause over the limit is cut at words, balanced (no scrap at the end)', () => {
  const t = Array.from({ length: 70 }, (_, i) => `w${i}`).join(' ');
  const p = pieces(t, 63);
  assert.equal(p.length, 2);
  assert.deepEqual(p.map(words), [35, 35]);
  assert.equal(p.join(' '), t);
});

test('a word over the limit is cut by graphemes, never inside one', () => {
  const chars = (s: string) => [...s].length; // one token per code point
  const t = 'ab👍🏽cdefg';
  const p = pieces(t, 3, chars);
  assert.equal(p.join(''), t);
  for (const x of p) assert.ok(chars(x) <= 3, x);
  assert.ok(
    p.some((x) => x.includes('👍🏽')),
    'the emoji and its skin tone stay together',
  );
});

test('300 words in one sentence: every piece fits, all words in order', () => {
  const t = Array.from({ length: 300 }, (_, i) => (i % 17 === 16 ? `x${i},` : `x${i}`)).join(' ') + '.';
  const p = pieces(t, 63);
  for (const x of p) assert.ok(words(x) <= 63, `${words(x)} words`);
  assert.equal(p.join(' '), t);
  assert.equal(p.length, 6); // clauses of 17 words: three fit in 63, so 6 pieces (cutting inside a clause could make 5)
});

test('maxTokens must be a positive integer', () => {
  assert.throws(() => pieces('a b', 0), /maxTokens must be a positive integer, got 0/);
});
