// Line reading and cleaning: CRLF, BOM, a missing final newline, invalid UTF-8 located exactly;
// the normalisation is idempotent and does what clean.ts documents.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readLines, countLines, firstInvalidUtf8 } from '../../../src/mt/data/text-io.js';
import { normalizeLine, filterPair } from '../../../src/mt/data/clean.js';
import { tempDir } from './helpers.js';

test('lines: CRLF, BOM, no final newline, empty lines', () => {
  const dir = tempDir('textio');
  try {
    const f = path.join(dir, 'a.txt');
    fs.writeFileSync(f, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('first\r\n\r\nthird\nlast')]));
    const lines = [...readLines(f)];
    assert.deepEqual(
      lines.map((l) => l.text),
      ['first', '', 'third', 'last'],
    );
    assert.deepEqual(
      lines.map((l) => l.lineNo),
      [1, 2, 3, 4],
    );
    assert.equal(countLines(f), 4);
    const g = path.join(dir, 'b.txt');
    fs.writeFileSync(g, 'x\n');
    assert.equal(countLines(g), 1);
    fs.writeFileSync(g, '');
    assert.equal(countLines(g), 0);
    assert.deepEqual([...readLines(g)], []);
    // a long file crosses chunk boundaries
    const big = Array.from({ length: 200_000 }, (_, i) => `line ${i} ü`);
    fs.writeFileSync(g, big.join('\n') + '\n');
    let n = 0;
    for (const l of readLines(g)) assert.equal(l.text, big[n++]);
    assert.equal(n, 200_000);
    // invalid UTF-8: file, line, byte offset
    fs.writeFileSync(g, Buffer.concat([Buffer.from('ok\nalso ok\nbad '), Buffer.from([0xe2, 0x82]), Buffer.from('\n')]));
    assert.throws(
      () => [...readLines(g)],
      (e: Error) => e.message.includes('b.txt is not valid UTF-8: line 3, byte offset 15'),
    );
    assert.throws(() => [...readLines(path.join(dir, 'missing.txt'))], /missing\.txt does not exist/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('firstInvalidUtf8 finds overlongs, surrogates and truncations', () => {
  assert.equal(firstInvalidUtf8(Buffer.from('héllo €𝄞')), -1);
  assert.equal(firstInvalidUtf8(Uint8Array.from([0x41, 0xc0, 0x80])), 1); // overlong
  assert.equal(firstInvalidUtf8(Uint8Array.from([0xed, 0xa0, 0x80])), 0); // surrogate
  assert.equal(firstInvalidUtf8(Uint8Array.from([0x41, 0x42, 0xf0, 0x9d])), 2); // truncated
  assert.equal(firstInvalidUtf8(Uint8Array.from([0x80])), 0);
});

test('normalizeLine: NFC, controls, whitespace; idempotent', () => {
  const cases: [string, string][] = [
    ['  a \t b  ', 'a b'],
    ['e\u0301t\u00e9', '\u00e9t\u00e9'],
    ['a\u0000b\u0007c', 'abc'],
    ['a \u0001 b', 'a b'],
    ['x\u00a0\u2003\u3000y', 'x y'],
    ['line\r\nbreak', 'line break'],
    ['ﬁ ² …', 'ﬁ ² …'], // NFC, not NFKC: compatibility characters stay
    // characters that print nothing: soft hyphen, zero-width space, bidi marks/isolates, word joiner, tag characters
    ['Ein\u00adhorn \u200bläuft\u200e \u202aweg\u202c\u2066!\u2069\u2060\u{E0041}', 'Einhorn läuft weg!'],
    ['a \u200b b', 'a b'],
    ['lone \ud800surrogate\udfff, \ufdd0non\uffffchars\u{10FFFF}', 'lone surrogate, nonchars'],
    ['\ud83d\udc68\u200d\ud83d\udc69 \u200c', '\ud83d\udc68\u200d\ud83d\udc69 \u200c'], // ZWJ and ZWNJ stay; a valid surrogate pair is not a lone one
    ['a\ufeffb', 'a b'], // U+FEFF is whitespace (as before)
    ['', ''],
  ];
  for (const [inp, want] of cases) {
    assert.equal(normalizeLine(inp), want, JSON.stringify(inp));
    assert.equal(normalizeLine(want), want);
  }
});

test('filterPair follows clean-corpus-n', () => {
  const o = { maxLen: 10, maxRatio: 1.5 };
  assert.equal(filterPair(0, 3, o), 'empty');
  assert.equal(filterPair(11, 10, o), 'tooLong');
  assert.equal(filterPair(3, 5, o), 'ratio');
  assert.equal(filterPair(4, 6, o), null);
  assert.equal(filterPair(10, 10, o), null);
});
