// `resmlp bleu` in-process: argv + temp files in, captured stdout/stderr out, exit codes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { command } from '../../src/cli/bleu.js';
import { runCommand } from '../../src/cli/command.js';
import { corpusBleu, corpusChrf, corpusTer, packageVersion, tokenizedBleu } from '../../src/metrics/index.js';

const HYPS = ['The cat sat on the mat.', 'A dog barks at the mailman!', 'Hello, world.', 'state-of-the-art results'];
const REFS = ['The cat sat on a mat.', 'The dog barks at the postman!', 'Hello world.', 'state-of-the-art results'];
const REFS2 = ['A cat sat on the mat.', 'A dog is barking at the mailman.', 'Hello, world!', 'results of the state of the art'];

let dir = '';
const file = (name: string, lines: string[] | string): string => {
  const p = path.join(dir, name);
  writeFileSync(p, typeof lines === 'string' ? lines : lines.join('\n') + '\n');
  return p;
};

class Sink {
  text = '';
  write(s: string): boolean {
    this.text += s;
    return true;
  }
}

async function cli(argv: string[], stdin = ''): Promise<{ code: number; out: string; err: string }> {
  const stdout = new Sink();
  const stderr = new Sink();
  const code = await runCommand(command, argv, { stdout, stderr, stdin: Readable.from([stdin]) });
  return { code, out: stdout.text, err: stderr.text };
}

let hyp = '';
let ref = '';
let ref2 = '';
before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'resmlp-bleu-'));
  hyp = file('hyp.txt', HYPS);
  ref = file('ref.txt', REFS);
  ref2 = file('ref2.txt', REFS2);
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('default: one BLEU result as sacreBLEU JSON with our version in the signature', async () => {
  const { code, out, err } = await cli([ref, '-i', hyp]);
  assert.equal(code, 0, err);
  const j = JSON.parse(out);
  const expected = corpusBleu(HYPS, [REFS]);
  assert.equal(j.name, 'BLEU');
  assert.equal(j.score, Number(expected.score.toFixed(1)));
  assert.equal(j.signature, `nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:${packageVersion()}`);
  assert.equal(j.version, packageVersion());
  assert.equal(j.verbose_score, expected.verboseScore);
  assert.match(out, /^\{\n "name": "BLEU",\n "score": /);
});

test('text output of several metrics, aligned on "=" in sacreBLEU order', async () => {
  const { code, out } = await cli([ref, ref2, '-i', hyp, '-m', 'ter', 'bleu', 'chrf', '-f', 'text', '-w', '2']);
  assert.equal(code, 0);
  const lines = out.trimEnd().split('\n');
  assert.equal(lines.length, 3);
  assert.match(lines[0], /^\s*BLEU\|nrefs:2\|/);
  assert.match(lines[1], /^\s*chrF2\|nrefs:2\|/);
  assert.match(lines[2], /^\s*TER\|nrefs:2\|case:lc\|tok:tercom\|/);
  const eq = lines.map((l) => l.indexOf(' = '));
  assert.ok(
    eq.every((c) => c === eq[0]),
    `'=' columns ${eq}`,
  );
  const refs = [REFS, REFS2];
  assert.ok(lines[0].includes(` = ${corpusBleu(HYPS, refs).score.toFixed(2)} `));
  assert.ok(lines[1].endsWith(` = ${corpusChrf(HYPS, refs).score.toFixed(2)}`));
  assert.ok(lines[2].endsWith(` = ${corpusTer(HYPS, refs).score.toFixed(2)}`));
});

test('-b prints only the scores, one per line; stdin is the hypothesis without -i', async () => {
  const { code, out } = await cli([ref, '-m', 'bleu', 'chrf', '-b', '-w', '3'], HYPS.join('\n') + '\n');
  assert.equal(code, 0);
  assert.deepEqual(out.trimEnd().split('\n'), [corpusBleu(HYPS, [REFS]).score.toFixed(3), corpusChrf(HYPS, [REFS]).score.toFixed(3)]);
});

test('BLEU options: tokenizer, lowercase, smoothing, chrF++ word order', async () => {
  const a = await cli([ref, '-i', hyp, '-tok', 'intl', '-lc', '-s', 'floor', '-sv', '0.2', '-f', 'text']);
  assert.equal(a.code, 0, a.err);
  const e = corpusBleu(HYPS, [REFS], { tokenize: 'intl', lowercase: true, smoothMethod: 'floor', smoothValue: 0.2 });
  assert.ok(
    a.out.startsWith(`BLEU|nrefs:1|case:lc|eff:no|tok:intl|smooth:floor[0.20]|version:${packageVersion()} = ${e.score.toFixed(1)} `),
    a.out,
  );
  const b = await cli([ref, '-i', hyp, '-m', 'chrf', '--chrf-word-order', '2', '-f', 'text']);
  assert.match(b.out, /^chrF2\+\+\|nrefs:1\|case:mixed\|eff:yes\|nc:6\|nw:2\|space:no\|/);
});

test('tokenized BLEU is a separate, clearly named result', async () => {
  const { code, out } = await cli([ref, '-i', hyp, '-m', 'bleu', 'tok-bleu', '--tok-bleu-lang', 'en', '-f', 'text']);
  assert.equal(code, 0);
  const lines = out.trimEnd().split('\n');
  assert.match(lines[0], /^\s*BLEU\|.*tok:13a/);
  assert.match(lines[1], /^tokenized BLEU\|nrefs:1\|case:mixed\|eff:no\|tok:moses-en\+compound\|smooth:none\|/);
  assert.ok(lines[1].includes(` = ${tokenizedBleu(HYPS, [REFS], { lang: 'en' }).score.toFixed(1)} `));
});

test('sentence level: one line per segment with effective order', async () => {
  const { code, out } = await cli([ref, '-i', hyp, '-sl', '-f', 'text']);
  assert.equal(code, 0);
  const lines = out.trimEnd().split('\n');
  assert.equal(lines.length, HYPS.length);
  assert.ok(lines.every((l) => l.startsWith('BLEU|nrefs:1|case:mixed|eff:yes|')));
});

test('tab-separated references with -nr', async () => {
  const tsv = file(
    'refs.tsv',
    REFS.map((r, i) => `${r}\t${REFS2[i]}`),
  );
  const { code, out } = await cli([tsv, '-i', hyp, '-nr', '2', '-b']);
  assert.equal(code, 0);
  assert.equal(out.trim(), corpusBleu(HYPS, [REFS, REFS2]).score.toFixed(1));
  const bad = file('bad.tsv', ['only one field', ...REFS.slice(1).map((r) => `${r}\tx`)]);
  const r = await cli([bad, '-i', hyp, '-nr', '2']);
  assert.equal(r.code, 1);
  assert.match(r.err, /bad\.tsv:1: expected 2 tab-separated references, found 1/);
});

test('errors go to stderr with exit code 1 and say what is wrong', async () => {
  const missing = await cli([path.join(dir, 'nope.txt'), '-i', hyp]);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /reference file not found: .*nope\.txt/);
  assert.equal(missing.out, '');

  const missingHyp = await cli([ref, '-i', path.join(dir, 'nohyp.txt')]);
  assert.match(missingHyp.err, /hypothesis file not found: .*nohyp\.txt/);

  const short = file('short.txt', HYPS.slice(0, 2));
  const mismatch = await cli([ref, ref2, '-i', short]);
  assert.equal(mismatch.code, 1);
  assert.match(
    mismatch.err,
    /line count mismatch: hypothesis .*short\.txt has 2 lines; reference .*ref\.txt has 4 lines; reference .*ref2\.txt has 4 lines/,
  );

  const metric = await cli([ref, '-i', hyp, '-m', 'meteor']);
  assert.equal(metric.code, 1);
  assert.match(metric.err, /unknown metric "meteor": expected one of bleu, chrf, ter, tok-bleu/);

  const tokz = await cli([ref, '-i', hyp, '-tok', 'ja-mecab']);
  assert.equal(tokz.code, 1);
  assert.match(tokz.err, /unknown tokenizer "ja-mecab"/);

  const noRefs = await cli(['-i', hyp]);
  assert.equal(noRefs.code, 1);
  assert.match(noRefs.err, /no reference files given/);

  const flag = await cli([ref, '-i', hyp, '--smooth', 'exp']);
  assert.equal(flag.code, 1);
  assert.match(flag.err, /unknown option '--smooth'/);

  const emptyRef = file('empty-line.txt', ['a', '', 'c', 'd']);
  const er = await cli([emptyRef, '-i', hyp]);
  assert.equal(er.code, 1);
  assert.match(er.err, /empty reference at line 2/);

  const emptyHyp = file('empty.txt', '');
  const eh = await cli([ref, '-i', emptyHyp]);
  assert.equal(eh.code, 1);
  assert.match(eh.err, /contains no sentence/);

  const latin1 = path.join(dir, 'latin1.txt');
  writeFileSync(latin1, Buffer.from([0x47, 0x72, 0xfc, 0xdf, 0x65, 0x0a, 0x61, 0x0a, 0x62, 0x0a, 0x63, 0x0a]));
  const bad = await cli([ref, '-i', latin1]);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /hypothesis file .*latin1\.txt is not valid UTF-8/);

  const sl = await cli([ref, '-i', hyp, '-sl', '-m', 'bleu', 'chrf']);
  assert.equal(sl.code, 1);
  assert.match(sl.err, /only one metric/);
});

test('--help and --version', async () => {
  const h = await cli(['--help']);
  assert.equal(h.code, 0);
  assert.match(h.out, /usage: resmlp bleu REF/);
  assert.match(h.out, /--chrf-word-order/);
  const v = await cli(['-V']);
  assert.equal(v.out, `resmlp bleu ${packageVersion()}\n`);
});
