// Table-driven parity test against sacreBLEU 2.6.0: every case of
// ../shared/fixtures/bleu/sacrebleu_cases.json (read at run time beside the repository, never
// committed: its lines are Multi30k captions, whose licence allows non-commercial research only)
// must give the same score (1e-6 for BLEU/chrF, 1e-4 for TER), statistics and signature
// (with sacreBLEU's version replaced by ours). Without the shared table the tests are skipped,
// saying why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BLEU, CHRF, TER, packageVersion, type BLEUScore, type SmoothMethod } from '../../src/metrics/index.js';
import { sharedDir, sharedMissing, sharedPath } from '../../src/util/paths.js';

const TABLE = ['fixtures', 'bleu', 'sacrebleu_cases.json'] as const;
/** Why the table cannot be read (node:test's `skip` reason), or undefined when it is there. */
const SKIP =
  sharedMissing(...TABLE) &&
  `needs sacreBLEU's table ${join(sharedDir, ...TABLE)}, which is absent: its lines are Multi30k captions, so it lives ` +
    'beside the repository (../shared) and is never committed';

interface Case {
  metric: 'bleu' | 'chrf' | 'ter';
  level: 'corpus' | 'sentence';
  name: string;
  options: Record<string, unknown>;
  hyps: string[];
  refs: string[][];
  score: number;
  signature: string;
  counts?: number[];
  totals?: number[];
  sys_len?: number;
  ref_len?: number;
  bp?: number;
}

function loadCases(): { generator: string; cases: Case[] } {
  return JSON.parse(readFileSync(sharedPath(...TABLE), 'utf8')) as { generator: string; cases: Case[] };
}

const KNOWN_OPTIONS: Record<Case['metric'], string[]> = {
  bleu: ['tokenize', 'smooth_method', 'smooth_value', 'lowercase', 'max_ngram_order', 'effective_order'],
  chrf: ['word_order', 'lowercase'],
  ter: [],
};

function makeMetric(c: Case): BLEU | CHRF | TER {
  const o = c.options;
  const unknown = Object.keys(o).filter((k) => !KNOWN_OPTIONS[c.metric].includes(k));
  assert.deepEqual(unknown, [], `case ${c.name}: fixture option(s) this test does not map: ${unknown.join(', ')}`);
  if (c.metric === 'bleu') {
    return new BLEU({
      tokenize: (o.tokenize as string | undefined) ?? '13a',
      smoothMethod: (o.smooth_method as SmoothMethod | undefined) ?? 'exp',
      smoothValue: (o.smooth_value as number | null | undefined) ?? null,
      lowercase: Boolean(o.lowercase),
      maxNgramOrder: (o.max_ngram_order as number | undefined) ?? 4,
      effectiveOrder: Boolean(o.effective_order),
    });
  }
  if (c.metric === 'chrf') {
    return new CHRF({ wordOrder: (o.word_order as number | undefined) ?? 0, lowercase: Boolean(o.lowercase) });
  }
  return new TER();
}

const { generator, cases } = SKIP ? { generator: '', cases: [] } : loadCases();

test('fixture comes from sacreBLEU 2.x and covers every metric and level (all 63 cases of the shared table)', { skip: SKIP }, () => {
  assert.match(generator, /^sacrebleu 2\./);
  assert.equal(cases.length, 63);
  const kinds = new Set(cases.map((c) => `${c.metric}/${c.level}`));
  for (const k of ['bleu/corpus', 'bleu/sentence', 'chrf/corpus', 'chrf/sentence', 'ter/corpus']) assert.ok(kinds.has(k), k);
});

const sacreVersion = generator.replace(/^sacrebleu /, '');
const ours = packageVersion();

for (const c of cases) {
  test(`${c.metric} ${c.level} ${c.name}`, () => {
    const m = makeMetric(c);
    const s =
      c.level === 'corpus'
        ? m.corpusScore(c.hyps, c.refs)
        : m.sentenceScore(
            c.hyps[0],
            c.refs.map((stream) => stream[0]),
          );
    const tol = c.metric === 'ter' ? 1e-4 : 1e-6;
    assert.ok(Math.abs(s.score - c.score) <= tol, `score ${s.score} != sacreBLEU ${c.score} (tolerance ${tol})`);
    const expectedSig = c.signature.replace(`version:${sacreVersion}`, `version:${ours}`);
    assert.ok(expectedSig.endsWith(`version:${ours}`), `fixture signature without version: ${c.signature}`);
    assert.equal(m.getSignature().format(), expectedSig);
    if (c.counts) {
      const b = s as BLEUScore;
      assert.deepEqual(b.counts, c.counts, 'matched n-gram counts');
      assert.deepEqual(b.totals, c.totals, 'total n-gram counts');
      assert.equal(b.sysLen, c.sys_len, 'hypothesis length');
      assert.equal(b.refLen, c.ref_len, 'reference length');
      assert.ok(Math.abs(b.bp - c.bp!) <= 1e-12, `brevity penalty ${b.bp} != ${c.bp}`);
    }
  });
}
