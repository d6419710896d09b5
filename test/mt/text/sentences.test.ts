// splitSentences: ICU's sentence breaks plus CLDR-style suppressions (abbreviations, initials,
// list markers, ordinals, no whitespace after the break), lines kept apart, ranges trimmed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitSentences } from '../../../src/mt/text/sentences.js';

const split = (t: string, lang = 'en') => splitSentences(t, lang).map((r) => t.slice(r.start, r.end));

test('sentences of running text, whitespace outside the ranges', () => {
  const t = '  A dog runs.  Two cats sleep!\tIs it late?  ';
  const r = splitSentences(t, 'en');
  assert.deepEqual(
    r.map((x) => t.slice(x.start, x.end)),
    ['A dog runs.', 'Two cats sleep!', 'Is it late?'],
  );
  assert.equal(r[0]!.start, 2);
});

test('a line break always ends a sentence; blank lines give nothing', () => {
  assert.deepEqual(split('Title\nA line without a stop\n\nA last one.'), ['Title', 'A line without a stop', 'A last one.']);
});

test('suppressions: abbreviations, initials, list markers, no space after the break', () => {
  assert.deepEqual(split('Mr. Smith met Dr. Jones. They talked.'), ['Mr. Smith met Dr. Jones.', 'They talked.']);
  assert.deepEqual(split('J. K. Rowling wrote it. He won in 2010. Then he left.'), [
    'J. K. Rowling wrote it.',
    'He won in 2010.',
    'Then he left.',
  ]);
  assert.deepEqual(split('1. First item\n2. Second item'), ['1. First item', '2. Second item']);
  assert.deepEqual(split('See https://x.y/a.b?c=d. Done.'), ['See https://x.y/a.b?c=d.', 'Done.']);
  assert.deepEqual(split('Er kam am 3. Mai. Das ist z. B. gut.', 'de'), ['Er kam am 3. Mai.', 'Das ist z. B. gut.']);
  assert.deepEqual(split('M. Dupont est arrivé. Il fait beau.', 'fr'), ['M. Dupont est arrivé.', 'Il fait beau.']);
  // without the German ordinal rule, English keeps the break after a number
  assert.deepEqual(split('He scored 3. Then he left.'), ['He scored 3.', 'Then he left.']);
  // "zu." ends a German sentence: "u." is an abbreviation only as a word of its own
  assert.deepEqual(split('Er hört zu. Sie geht.', 'de'), ['Er hört zu.', 'Sie geht.']);
});

test('full-width stops: Chinese sentences without spaces between them', () => {
  assert.deepEqual(split('你好。我很好。谢谢！', 'zh'), ['你好。', '我很好。', '谢谢！']);
});

test('empty and whitespace-only text', () => {
  assert.deepEqual(split(''), []);
  assert.deepEqual(split(' \n\t '), []);
});
