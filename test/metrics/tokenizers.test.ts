// Hand-checked tokenizations for sacreBLEU's tokenizers and the Python string semantics they
// rely on (expected outputs derived by applying the Python rules step by step).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getTokenizer, TOKENIZER_NAMES } from '../../src/metrics/index.js';
import { TercomTokenizer } from '../../src/metrics/tokenizers/tokenizer-ter.js';
import { isChineseChar } from '../../src/metrics/tokenizers/tokenizer-zh.js';
import { pyCompareStr, pyFixed, pyFloatRepr, pyLen, pyRstrip, pySplit, pyStrip } from '../../src/metrics/pystr.js';

const tok = (name: string, s: string): string => getTokenizer(name).tokenize(s);

test('registry knows the sacreBLEU names and rejects others by name', () => {
  assert.deepEqual([...TOKENIZER_NAMES].sort(), ['13a', 'char', 'intl', 'none', 'zh']);
  for (const n of TOKENIZER_NAMES) assert.equal(getTokenizer(n).signature(), n);
  assert.throws(() => getTokenizer('14a'), /unknown tokenizer "14a": expected one of .*13a/);
});

test('13a: punctuation, numbers, XML entities, dash after digits', () => {
  assert.equal(tok('13a', 'Hello, world!'), 'Hello , world !');
  assert.equal(tok('13a', '3.5% of 1,000.'), '3.5 % of 1,000 .');
  assert.equal(tok('13a', '&quot;Hi&quot; &amp; bye'), '" Hi " & bye');
  assert.equal(tok('13a', '2019-2020 e-mail'), '2019 - 2020 e-mail');
  assert.equal(tok('13a', 'a <skipped> b'), 'a b');
  assert.equal(tok('13a', 'It costs $5.'), 'It costs $ 5 .');
});

test('intl: Unicode punctuation and symbols, digits keep separators', () => {
  assert.equal(tok('intl', 'Hello, world!'), 'Hello , world !');
  assert.equal(tok('intl', '1,000.50 €'), '1,000.50 €');
  assert.equal(tok('intl', '„ja“'), '„ ja “');
  assert.equal(tok('intl', '3$'), '3 $');
  // mteval-v14 quirk kept by sacreBLEU: a number followed by the final dot keeps it
  assert.equal(tok('intl', 'in 2019.'), 'in 2019.');
});

test('zh: CJK characters split, then 13a rules; the Python range quirk is kept', () => {
  assert.equal(tok('zh', '我爱北京。'), '我 爱 北 京 。');
  assert.equal(tok('zh', ' 我爱abc, ok '), '我 爱 abc , ok');
  // '\u20000' in the Python source is '\u2000' + '0': U+2001..U+2A6D count as Chinese
  assert.equal(tok('zh', 'a–b'), 'a – b');
  assert.equal(tok('13a', 'a–b'), 'a–b');
  assert.equal(tok('zh', '€5'), '€ 5');
  assert.ok(isChineseChar(0x2001) && isChineseChar(0x2a6d) && !isChineseChar(0x2000) && !isChineseChar(0x2a6e));
  assert.ok(!isChineseChar(0x20000), 'CJK Extension B is not in the (buggy) range');
  assert.equal(tok('zh', 'a𠀀b'), 'a𠀀b');
});

test('char and none', () => {
  assert.equal(tok('char', 'ab c'), 'a b   c');
  assert.equal(tok('char', '😀x'), '😀 x');
  assert.equal(tok('none', ' a  b '), ' a  b ');
});

test('Tercom tokenizer: lowercase by default, optional normalization and punctuation removal', () => {
  const base = { normalized: false, noPunct: false, asianSupport: false, caseSensitive: false };
  assert.equal(new TercomTokenizer(base).tokenize('Hello,  World!'), 'hello, world!');
  assert.equal(new TercomTokenizer({ ...base, caseSensitive: true }).tokenize('Hello,  World!'), 'Hello, World!');
  assert.equal(new TercomTokenizer({ ...base, normalized: true }).tokenize("Hello, John's world!"), "hello , john 's world !");
  assert.equal(new TercomTokenizer({ ...base, noPunct: true }).tokenize('Hello, (big) world!'), 'hello big world');
  assert.equal(new TercomTokenizer(base).tokenize(''), '');
});

test('Python string semantics: whitespace, strip, length, order, formatting', () => {
  assert.deepEqual(pySplit(' a\x1cb\u00a0c\ufeffd\u3000 '), ['a', 'b', 'c\ufeffd']);
  assert.equal(pyStrip('\u2003 x \x85'), 'x');
  assert.equal(pyRstrip(' x \r'), ' x');
  assert.equal(pyLen('a😀b'), 3);
  // code-point order: U+FFFF < U+1F600 (UTF-16 unit order says the opposite)
  assert.ok(pyCompareStr('\uffff', '😀') < 0);
  assert.ok(pyCompareStr('ab', 'abc') < 0 && pyCompareStr('b', 'abc') > 0 && pyCompareStr('x', 'x') === 0);
  // f'{x:.2f}' rounds exact binary ties half to even; toFixed rounds them up
  assert.equal(pyFixed(0.125, 2), '0.12');
  assert.equal(pyFixed(0.375, 2), '0.38');
  assert.equal(pyFixed(2.5, 0), '2');
  assert.equal(pyFixed(66.86481258995205, 1), '66.9');
  assert.equal(pyFixed(-0, 1), '-0.0');
  assert.equal(pyFloatRepr(0), '0.0');
  assert.equal(pyFloatRepr(100), '100.0');
  assert.equal(pyFloatRepr(34.2), '34.2');
  assert.equal(pyFloatRepr(1e-5), '1e-05');
});
