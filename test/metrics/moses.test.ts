// Moses tokenizer (sacremoses port, en/de/fr) and paper-style tokenized BLEU. Each expected
// tokenization was derived by applying tokenizer.perl's rules in order (see src/metrics/moses.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MosesTokenizer, TokenizedBLEU, compoundSplit, corpusBleu, tokenizedBleu } from '../../src/metrics/index.js';

const en = new MosesTokenizer('en');
const de = new MosesTokenizer('de');
const fr = new MosesTokenizer('fr');

test('English: contractions, quotes, abbreviations, numbers, multi-dots, escaping', () => {
  assert.equal(
    en.tokenize('This isn\'t "great", is it? Mr. Smith paid $5,300.50 for A&B\'s car...'),
    'This isn &apos;t &quot; great &quot; , is it ? Mr. Smith paid $ 5,300.50 for A &amp; B &apos;s car ...',
  );
  // 'No' keeps its dot only before a number; a lowercase next word also keeps the dot
  assert.equal(en.tokenize('No. 5 is here. The No. was wrong.'), 'No. 5 is here . The No. was wrong .');
  assert.equal(en.tokenize("I said 'hello' to the U.S.A. today."), 'I said &apos; hello &apos; to the U.S.A. today .');
  assert.equal(en.tokenize('state-of-the-art  tools'), 'state-of-the-art tools');
  assert.equal(en.tokenize('state-of-the-art', { aggressiveDashSplits: true }), 'state @-@ of @-@ the @-@ art');
  assert.equal(en.tokenize('a|b <c> [d]', { escape: false }), 'a | b < c > [ d ]');
});

test('German: ordinals and abbreviations keep their dot, apostrophes are split off', () => {
  assert.equal(
    de.tokenize('Der Preis liegt bei 1.000,50 € (ca. 900 $) - oder? Z.B. am 3. Mai.'),
    'Der Preis liegt bei 1.000,50 € ( ca. 900 $ ) - oder ? Z.B. am 3. Mai .',
  );
  assert.equal(de.tokenize("Tom's e-mail: a|b [x] <b>"), 'Tom &apos; s e-mail : a &#124; b &#91; x &#93; &lt; b &gt;');
});

test('French: elision apostrophes stay on the left word', () => {
  assert.equal(
    fr.tokenize("L'homme qu'il a vu, c'est M. Dupont... n'est-ce pas ?"),
    'L&apos; homme qu&apos; il a vu , c&apos; est M. Dupont ... n&apos; est-ce pas ?',
  );
});

test('unsupported languages are rejected by name', () => {
  assert.throws(() => new MosesTokenizer('cs' as never), /unsupported language "cs": expected one of en, de, fr/);
});

test('compound splitting as fairseq compound_split_bleu.sh (perl s{(\\S)-(\\S)}{...}g)', () => {
  assert.equal(compoundSplit('state-of-the-art'), 'state ##AT##-##AT## of ##AT##-##AT## the ##AT##-##AT## art');
  // non-overlapping left to right: the 'b' of the first match cannot start the second
  assert.equal(compoundSplit('a-b-c'), 'a ##AT##-##AT## b-c');
  assert.equal(compoundSplit('x - y -z'), 'x - y -z');
});

test('tokenized BLEU is labelled as such and differs from sacreBLEU where tokenization matters', () => {
  const hyps = ['Der Giants-Trikot ist rot.'];
  const refs = [['Das Giants-Trikot ist rot.']];
  const t = tokenizedBleu(hyps, refs, { lang: 'de' });
  assert.equal(t.name, 'tokenized BLEU');
  assert.match(t.signature, /\|tok:moses-de\+compound\|smooth:none\|/);
  assert.match(t.format(1, false, t.signature), /^tokenized BLEU\|/);
  // tokens: Der Giants ##AT##-##AT## Trikot ist rot . (7) vs Das ...: 6/7 unigrams, 5/6 bigrams ...
  assert.equal(t.sysLen, 7);
  assert.deepEqual(t.counts, [6, 5, 4, 3]);
  const s = corpusBleu(hyps, refs);
  assert.equal(s.sysLen, 5); // 13a: Der Giants-Trikot ist rot .
  assert.equal(new TokenizedBLEU({ lang: 'de' }).corpusScore(hyps, refs).score, t.score);
  assert.throws(() => new TokenizedBLEU({ tokenize: '13a' } as never), /TokenizedBLEU: unknown config key 'tokenize'/);
});
