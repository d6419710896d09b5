// Files are read the way sacreBLEU reads them: `open(path, encoding='utf-8')` (sacrebleu/utils.py
// smart_open) and `io.TextIOWrapper(sys.stdin.buffer, encoding='utf-8')` for standard input. The
// 'utf-8' codec (unlike 'utf-8-sig') keeps a byte-order mark, so U+FEFF stays glued to the first
// token of line 1. Fixture: test/fixtures/bleu/bom/ (README there).
//
// Expected values, derived by hand (sacreBLEU itself is not installable here): with the 13a
// tokenizer both lines are 7 tokens, "The cat sat on the mat ." and "A dog runs in the park .".
// 13a's regexes only split ASCII punctuation and Python's str.split() does not split on U+FEFF
// ('\ufeff'.isspace() is False), so the hypothesis's first token is "\ufeffThe", which matches no
// reference token. That one token costs one n-gram of each order on line 1:
//   1-grams 6/7 + 7/7 = 13/14, 2-grams 5/6 + 6/6 = 11/12, 3-grams 4/5 + 5/5 = 9/10,
//   4-grams 3/4 + 4/4 = 7/8; lengths 14 = 14, so BP = 1;
//   BLEU = 100 · (13/14 · 11/12 · 9/10 · 7/8)^(1/4) = 90.4834871504542…
// With the BOM stripped (our reading before this test) the hypothesis equals the reference: 100.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { command } from '../../src/cli/bleu.js';
import { runCommand } from '../../src/cli/command.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/bleu/bom/${name}`, import.meta.url));
const HYP_BOM = fixture('hyp-bom.txt');
const REF = fixture('ref.txt');
const REF_BOM = fixture('ref-bom.txt');
const EXPECTED = 100 * ((13 / 14) * (11 / 12) * (9 / 10) * (7 / 8)) ** 0.25;

/** `resmlp bleu -b -w 10 ARGV`: the bare score. */
async function bleu(argv: string[], stdin = ''): Promise<number> {
  let out = '';
  let err = '';
  const code = await runCommand(command, [...argv, '-b', '-w', '10'], {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    stdin: Readable.from([Buffer.from(stdin, 'utf8')]),
  });
  assert.equal(code, 0, err);
  return Number(out.trim());
}

test('the fixture files start with the UTF-8 BOM (an editor may have stripped it)', () => {
  for (const f of [HYP_BOM, REF_BOM]) assert.deepEqual([...readFileSync(f).subarray(0, 3)], [0xef, 0xbb, 0xbf], f);
  assert.notEqual(readFileSync(REF)[0], 0xef);
  assert.ok(Math.abs(EXPECTED - 90.4834871504542) < 1e-9);
});

test('a hypothesis file with a BOM keeps U+FEFF in its first token, as sacreBLEU does', async () => {
  const score = await bleu([REF, '-i', HYP_BOM]);
  assert.ok(Math.abs(score - EXPECTED) < 1e-8, `BLEU ${score}, sacreBLEU gives ${EXPECTED}`);
});

test('the same through standard input', async () => {
  const score = await bleu([REF], readFileSync(HYP_BOM, 'utf8'));
  assert.ok(Math.abs(score - EXPECTED) < 1e-8, `BLEU ${score}, sacreBLEU gives ${EXPECTED}`);
});

test('a reference file with a BOM: the same n-gram counts from the other side; both with a BOM match', async () => {
  const hypPlain = readFileSync(REF, 'utf8');
  const score = await bleu([REF_BOM], hypPlain);
  assert.ok(Math.abs(score - EXPECTED) < 1e-8, `BLEU ${score}, sacreBLEU gives ${EXPECTED}`);
  assert.equal(await bleu([REF_BOM, '-i', HYP_BOM]), 100);
});
