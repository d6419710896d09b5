// BLEU/chrF/TER behaviour on hand-made inputs whose values follow from the definitions:
// smoothing, effective order, brevity penalty, multiple references, formatting, option checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BLEU,
  CHRF,
  TER,
  computeBleu,
  corpusBleu,
  corpusChrf,
  corpusTer,
  packageVersion,
  sentenceBleu,
  sentenceChrf,
  sentenceTer,
} from '../../src/metrics/index.js';

const close = (a: number, b: number, tol = 1e-9): void => assert.ok(Math.abs(a - b) <= tol, `${a} != ${b}`);
const geo = (ps: number[]): number => Math.exp(ps.reduce((s, p) => s + Math.log(p), 0) / ps.length);

test('sentence BLEU with effective order and brevity penalty', () => {
  // 1-grams 2/2, 2-grams 1/1, no 3-grams: effective order 2; BP = exp(1 - 3/2)
  const s = sentenceBleu('the cat', ['the cat sat']);
  close(s.score, 100 * Math.exp(-0.5));
  assert.deepEqual(s.counts, [2, 1, 0, 0]);
  assert.deepEqual(s.totals, [2, 1, 0, 0]);
  assert.equal(s.signature, `nrefs:1|case:mixed|eff:yes|tok:13a|smooth:exp|version:${packageVersion()}`);
});

test('smoothing methods on zero higher-order matches', () => {
  // hyp 'a b c d' vs ref 'a b x d': 1-grams 3/4, 2-grams 1/3, 3-grams 0/2, 4-grams 0/1
  const h = ['a b c d'];
  const r = [['a b x d']];
  close(corpusBleu(h, r).score, geo([75, 100 / 3, 100 / (2 * 2), 100 / (4 * 1)]));
  close(corpusBleu(h, r, { smoothMethod: 'floor' }).score, geo([75, 100 / 3, (100 * 0.1) / 2, (100 * 0.1) / 1]));
  close(corpusBleu(h, r, { smoothMethod: 'floor', smoothValue: 0.5 }).score, geo([75, 100 / 3, 50 / 2, 50 / 1]));
  // add-k adds k to matches and totals of orders >= 2
  close(corpusBleu(h, r, { smoothMethod: 'add-k' }).score, geo([75, 200 / 4, 100 / 3, 100 / 2]));
  // none: log(0) is floored, so the score is 0
  assert.equal(corpusBleu(h, r, { smoothMethod: 'none' }).score, 0);
  assert.equal(corpusBleu(h, r, { smoothMethod: 'floor' }).signature.split('|')[4], 'smooth:floor[0.10]');
  assert.equal(corpusBleu(h, r, { smoothMethod: 'add-k', smoothValue: 2 }).signature.split('|')[4], 'smooth:add-k[2.00]');
});

test('no matches and empty hypotheses give 0 with the right brevity penalty', () => {
  const s = corpusBleu(['', ''], [['a b', 'c']]);
  assert.equal(s.score, 0);
  assert.equal(s.bp, 0);
  assert.equal(s.sysLen, 0);
  assert.equal(s.refLen, 3);
  assert.equal(computeBleu([0, 0, 0, 0], [3, 2, 1, 0], 3, 3).score, 0);
});

test('several references: max n-gram counts and closest (shorter on ties) reference length', () => {
  assert.equal(BLEU.closestRefLen(5, [3, 7]), 3);
  assert.equal(BLEU.closestRefLen(5, [7, 4]), 4);
  // 'a' occurs twice in reference 2 (max over references), 'b' nowhere; bigram 'a a' once
  const s = corpusBleu(['a a b'], [['a c d e'], ['a a x']]);
  assert.deepEqual(s.counts.slice(0, 2), [2, 1]);
  assert.equal(s.refLen, 3);
  assert.equal(s.signature.split('|')[0], 'nrefs:2');
  // '' marks a missing reference: the signature reports a variable number
  const v = corpusBleu(
    ['a b', 'c d'],
    [
      ['a b', 'c d'],
      ['a x', ''],
    ],
  );
  assert.equal(v.signature.split('|')[0], 'nrefs:var');
  assert.throws(() => corpusBleu(['a'], [['']]), /empty reference sentence at segment 1/);
});

test('text and JSON formatting as sacreBLEU prints them', () => {
  const s = corpusBleu(['the cat sat on the mat'], [['the cat sat on a mat']]);
  const text = s.format(1, false, s.signature);
  assert.match(
    text,
    /^BLEU\|nrefs:1\|case:mixed\|eff:no\|tok:13a\|smooth:exp\|version:[^ ]+ = \d+\.\d \d+\.\d\/\d+\.\d\/\d+\.\d\/\d+\.\d \(BP = 1\.000 ratio = 1\.000 hyp_len = 6 ref_len = 6\)$/,
  );
  assert.equal(s.format(2, true), s.score.toFixed(2));
  const json = JSON.parse(s.format(1, false, s.signature, true));
  assert.equal(json.name, 'BLEU');
  assert.equal(json.score, Number(s.score.toFixed(1)));
  assert.equal(json.tok, '13a');
  assert.equal(json.nrefs, '1');
  assert.ok(json.verbose_score.startsWith(s.precStr));
  // a zero score prints as 0.0 like Python's float repr
  assert.match(corpusBleu(['x'], [['y']]).format(1, false, 'a:b', true), /"score": 0\.0,/);
});

test('short signatures use sacreBLEU abbreviations', () => {
  const v = packageVersion();
  assert.equal(new BLEU({ references: [['a']] }).getSignature().format(true), `#:1|c:mixed|e:no|tok:13a|s:exp|v:${v}`);
  assert.equal(new CHRF({ references: [['a']] }).getSignature().format(true), `#:1|c:mixed|e:yes|nc:6|nw:0|s:no|v:${v}`);
  assert.equal(new TER({ references: [['a']] }).getSignature().format(true), `#:1|c:lc|t:tercom|nr:no|pn:yes|as:no|v:${v}`);
  assert.throws(() => new BLEU().getSignature(), /number of references unknown/);
});

test('options are checked: unknown keys and values are named', () => {
  assert.throws(() => new BLEU({ tokenise: '13a' } as never), /BLEU: unknown config key 'tokenise'/);
  assert.throws(() => new BLEU({ smoothMethod: 'laplace' as never }), /unknown smoothMethod "laplace"/);
  assert.throws(() => new BLEU({ tokenize: 'moses' }), /unknown tokenizer "moses"/);
  assert.throws(() => new CHRF({ order: 3 } as never), /CHRF: unknown config key 'order'/);
  assert.throws(() => corpusBleu(['a', 'b'], [['a']]), /2 hypotheses but 1 reference segments/);
  assert.throws(() => corpusBleu(['a'], [['a'], ['a', 'b']]), /reference stream 2 has 2 segments/);
});

test('cached references give the same score as passing them', () => {
  const hyps = ['a b c', 'd e f g'];
  const refs = [['a b d', 'd e f h']];
  const cached = new BLEU({ references: refs });
  assert.equal(cached.corpusScore(hyps, null).score, new BLEU().corpusScore(hyps, refs).score);
});

test('chrF and chrF++ on identical and disjoint text; names and signatures', () => {
  assert.equal(sentenceChrf('abc def', ['abc def']).score, 100);
  assert.equal(sentenceChrf('xyz', ['abc']).score, 0);
  const pp = corpusChrf(['the cat.'], [['the cat.']], { wordOrder: 2 });
  assert.equal(pp.score, 100);
  assert.equal(pp.name, 'chrF2++');
  assert.equal(pp.signature, `nrefs:1|case:mixed|eff:yes|nc:6|nw:2|space:no|version:${packageVersion()}`);
  // char unigrams only: hyp 'ab' vs ref 'ac' -> P = R = 1/2, F = 0.5
  close(sentenceChrf('ab', ['ac'], { charOrder: 1 }).score, 50);
  // several references: the best-F one is used per segment
  close(corpusChrf(['ab'], [['xy'], ['ab']], { charOrder: 1 }).score, 100);
  // eps smoothing averages per-order F scores instead of P and R
  const eps = sentenceChrf('ab', ['ab'], { charOrder: 3, epsSmoothing: true });
  close(eps.score, (100 * (1 + 1 + 1e-16)) / 3);
});

test('TER: one shift of a word, empty hypothesis, case-insensitive by default', () => {
  // 'a' moved to the end: one shift, no other edit -> 1/4
  close(sentenceTer('a b c d', ['b c d a']).score, 25);
  close(sentenceTer('', ['a b c d']).score, 100);
  assert.equal(sentenceTer('The Cat', ['the cat']).score, 0);
  assert.equal(sentenceTer('The Cat', ['the cat'], { caseSensitive: true }).score, 100);
  const t = corpusTer(['a b', 'c'], [['a b', 'c d']]);
  assert.equal(t.numEdits, 1);
  assert.equal(t.refLength, 4);
  close(t.score, 25);
  assert.equal(t.signature, `nrefs:1|case:lc|tok:tercom|norm:no|punct:yes|asian:no|version:${packageVersion()}`);
  // best reference = fewest edits; length = average reference length
  const m = corpusTer(['a b c'], [['a b c'], ['x y z w s']]);
  assert.equal(m.numEdits, 0);
  assert.equal(m.refLength, 4);
});

test('TER on 200-word sentences: a block moved within 50 words is one shift, farther it is not', () => {
  const ref = Array.from({ length: 200 }, (_, i) => `w${i}`);
  // block w20..w22 moved behind w59: start positions differ by 37 <= 50 -> one shift
  const near = [...ref.slice(0, 20), ...ref.slice(23, 60), ...ref.slice(20, 23), ...ref.slice(60)];
  // moved behind w119: 97 > 50 (Tercom's max shift distance) -> 3 deletions + 3 insertions
  const far = [...ref.slice(0, 20), ...ref.slice(23, 120), ...ref.slice(20, 23), ...ref.slice(120)];
  const t0 = Date.now();
  close(new TER().sentenceScore(near.join(' '), [ref.join(' ')]).score, 100 / 200);
  close(new TER().sentenceScore(far.join(' '), [ref.join(' ')]).score, 600 / 200);
  const ms = Date.now() - t0;
  assert.ok(ms < 5000, `TER took ${ms} ms`);
});
