// In-process tests of `resmlp mt translate` and `resmlp mt eval` on a tiny random checkpoint
// (test/mt/translator-fixture.ts): flag validation, order kept across chunks, empty lines,
// --json shape, Moses n-best lines, over-length lines, streaming (output before the input ends),
// eval scores equal to the metrics on the written hypotheses.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import * as tf from '@tensorflow/tfjs';
import { runCommand } from '../../src/cli/command.js';
import { input, runCli } from '../helpers/cli.js';
import { command as translateCommand } from '../../src/cli/mt-translate.js';
import { command as evalCommand } from '../../src/cli/mt-eval.js';
import { corpusBleu, corpusChrf } from '../../src/metrics/index.js';
import { Translator } from '../../src/mt/translator.js';
import { fixturePath } from '../fixtures/paths.js';
import { useTranslatorFixture } from '../mt/translator-fixture.js';

const env = useTranslatorFixture('resmlp-mt-cli-');

after(() => env.fx?.cleanup());

const base = () => ['--checkpoint', env.fx.checkpoint, '--backend', env.backend, '--max-len-b', '5'];

describe('resmlp mt translate', () => {
  it('rejects bad flags with exit 2 and a message naming the flag', async () => {
    const cases: [string[], RegExp][] = [
      [[], /--checkpoint is required/],
      [['-c', 'x', '--beam', '2', '--nbest', '3'], /--nbest 3 exceeds --beam 2/],
      [['-c', 'x', '--beam', '0'], /--beam must be ≥ 1/],
      [['-c', 'x', '--max-len-b', '-1'], /--max-len-b must be ≥ 0/],
      [['-c', 'x', '--beam', 'four'], /--beam expects an integer/],
      [['-c', 'x', '--bem', '4'], /unknown option '--bem'/],
      [['-c', 'x', 'in.txt'], /unexpected argument\(s\) in.txt/],
      [['-c', 'x', '--chunk-lines', '0'], /--chunk-lines must be ≥ 1/],
    ];
    for (const [argv, re] of cases) {
      const r = await runCli(translateCommand, argv);
      assert.equal(r.code, 2, argv.join(' '));
      assert.match(r.stderr, re);
    }
    const missing = await runCli(translateCommand, ['-c', join(env.tmp, 'nope.safetensors'), '--backend', env.backend]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /checkpoint not found: .*nope.safetensors/);
    const help = await runCli(translateCommand, ['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--max-len-a/);
  });

  it('writes one line per input line, in order across chunks, empty lines kept', async () => {
    const lines = [env.fx.lines[0]!, '', ...env.fx.lines.slice(1, 9), '   ', env.fx.lines[9]!];
    const args = [...base(), '--chunk-lines', '3', '--max-tokens', '64', '--beam', '2', '--quiet'];
    const r = await runCli(translateCommand, args, input(lines));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const out = r.stdout.split('\n');
    assert.equal(out.pop(), '', 'output ends with a newline');
    assert.equal(out.length, lines.length);
    const t = await Translator.load(env.fx.checkpoint, { generation: { beamSize: 2, maxLenB: 5 } });
    let expected: Awaited<ReturnType<Translator['translateDocuments']>>;
    try {
      expected = await t.translateDocuments(lines);
    } finally {
      t.dispose();
    }
    assert.deepEqual(
      out,
      expected.map((x) => x.text),
    );
    assert.equal(out[1], '');
    assert.equal(out[10], '');
    // the random model's texts repeat, its scores do not: check the order on the scores
    const j = await runCli(translateCommand, [...args, '--json'], input(lines));
    const scores = j.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { hypotheses: { score: number }[] }).hypotheses[0]?.score ?? null);
    const want = expected.map((x) => x.hypotheses[0]?.score ?? null);
    scores.forEach((s, i) => assert.ok(s === want[i] || Math.abs(s! - want[i]!) < 1e-5, `line ${i + 1}: score ${s} vs ${want[i]}`));
    assert.equal(new Set(want.filter((x) => x !== null).map((x) => x!.toFixed(4))).size, 10, 'scores differ by line');
  });

  it('--json: one object per line with the hypotheses and their scores', async () => {
    const lines = [env.fx.lines[2]!, '', env.fx.lines[3]!];
    const r = await runCli(translateCommand, [...base(), '--json', '--beam', '3', '--nbest', '2'], input(lines));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /translated 3 lines .* lines\/s; beam 3/);
    const objs = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, any>);
    assert.equal(objs.length, 3);
    objs.forEach((o, i) => {
      assert.equal(o.line, i + 1);
      assert.equal(o.source, lines[i]);
    });
    for (const o of [objs[0]!, objs[2]!]) {
      assert.deepEqual(Object.keys(o), ['line', 'source', 'translation', 'hypotheses']);
      assert.equal(o.hypotheses.length, 2);
      assert.equal(o.translation, o.hypotheses[0].text);
      for (const h of o.hypotheses) {
        assert.deepEqual(Object.keys(h), ['text', 'score', 'tokens', 'positionalScores']);
        assert.equal(h.tokens.length, h.positionalScores.length);
        assert.equal(typeof h.score, 'number');
      }
      assert.ok(o.hypotheses[0].score >= o.hypotheses[1].score);
    }
    assert.deepEqual(objs[1], { line: 2, source: '', translation: '', hypotheses: [], skipped: 'empty' });
  });

  it('text mode with --nbest > 1 writes Moses n-best lines', async () => {
    const r = await runCli(translateCommand, [...base(), '--beam', '2', '--nbest', '2', '-q'], input([env.fx.lines[4]!, env.fx.lines[5]!]));
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout
      .trim()
      .split('\n')
      .map((l) => l.split(' ||| '));
    assert.deepEqual(
      rows.map((x) => x[0]),
      ['0', '0', '1', '1'],
    );
    for (const x of rows) assert.match(x[2]!, /^-?\d+\.\d{6}$/);
  });

  it('a line of several sentences is translated sentence by sentence; a line too long for the model is cut, never refused', async () => {
    const long = Array.from({ length: 8 }, (_, i) => env.fx.lines[i]).join(' ');
    const lines = [env.fx.lines[1]!, long, env.fx.lines[4]!];
    const json = async (extra: string[]) => {
      const r = await runCli(translateCommand, [...base(), '--json', '--beam', '2', '--chunk-lines', '2', ...extra], input(lines));
      assert.equal(r.code, 0, r.stderr);
      return {
        stderr: r.stderr,
        objs: r.stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as Record<string, any>),
      };
    };
    const { objs } = await json(['-q']);
    assert.equal(objs.length, 3);
    // the long line is its eight sentences translated one by one: each is what the line alone gives
    const alone = await json(['-q', '--split-sentences=false']);
    const each = await runCli(translateCommand, [...base(), '--beam', '2', '-q'], input(env.fx.lines.slice(0, 8) as string[]));
    assert.equal(objs[1]!.translation, each.stdout.trim().split('\n').join(' '));
    assert.equal(objs[0]!.translation, alone.objs[0]!.translation, 'a one-sentence line is the same either way');
    // without sentence splitting the long line (over 63 tokens) is cut into pieces, and said so
    assert.ok(alone.objs[1]!.translation.length > 0);
    const noisy = await json(['--split-sentences=false']);
    assert.match(noisy.stderr, /1 sentence\(s\) too long for the model were translated in pieces/);
  });

  it('streams: translations of early lines are written before the input ends', async () => {
    const stdin = new PassThrough();
    let stdout = '';
    const before = tf.memory().numTensors;
    const done = runCommand(translateCommand, [...base(), '--chunk-lines', '2', '-q'], {
      stdin,
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: () => true },
    });
    stdin.write(`${env.fx.lines[0]}\n${env.fx.lines[1]}\n`);
    const t0 = Date.now();
    try {
      while (stdout.split('\n').length - 1 < 2 && Date.now() - t0 < 20000) await new Promise((r) => setTimeout(r, 10));
      assert.equal(stdout.split('\n').length - 1, 2, 'two lines out while stdin is still open');
    } finally {
      stdin.end(`${env.fx.lines[2]}\n`);
    }
    assert.equal(await done, 0);
    assert.equal(stdout.split('\n').length - 1, 3);
    assert.equal(tf.memory().numTensors, before, 'the CLI disposes the model it loaded');
  });
});

describe('resmlp mt eval', () => {
  const files = () => {
    const src = join(env.tmp, 'test.en');
    const ref = join(env.tmp, 'test.de');
    const read = (name: string) => readFileSync(fixturePath('synthetic', name), 'utf8').split('\n').slice(0, 12);
    writeFileSync(src, read('test.en').join('\n') + '\n');
    writeFileSync(ref, read('test.de').join('\n') + '\n');
    return { src, ref, refs: read('test.de') };
  };

  it('prints sacreBLEU BLEU and chrF with signatures (equal to the metrics on --out), tokenized BLEU labelled, timing', async () => {
    const { src, ref, refs } = files();
    const hypPath = join(env.tmp, 'hyp.txt');
    const r = await runCli(evalCommand, [...base(), '--src', src, '--ref', ref, '--out', hypPath, '--tokenized-bleu', '--beam', '2']);
    assert.equal(r.code, 0, r.stderr);
    const hyps = readFileSync(hypPath, 'utf8').split('\n').slice(0, -1);
    assert.equal(hyps.length, 12);
    const bleu = corpusBleu(hyps, [refs]);
    const chrf = corpusChrf(hyps, [refs]);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines[0], bleu.format(1, false, bleu.signature));
    assert.match(lines[0]!, /^BLEU\|nrefs:1\|case:mixed\|eff:no\|tok:13a\|smooth:exp\|version:\S+ = \d+\.\d /);
    assert.equal(lines[1], chrf.format(1, false, chrf.signature));
    assert.match(lines[1]!, /^chrF2\|/);
    assert.match(lines[2]!, /^tokenized BLEU\|.*tok:moses-de\+compound.* = \d+\.\d.*not comparable with sacreBLEU/);
    // the tiny SentencePiece model makes some test lines too long for the tiny model: translated in pieces, and said so
    assert.match(lines[3]!, /^note: \d+ source sentence\(s\) too long for the model were translated in pieces/);
    assert.match(lines[4]!, /^decoded 12 sentences in \d+\.\d s \(\d+\.\d\d sentences\/s\); beam 2/);
    const j = await runCli(evalCommand, [...base(), '--src', src, '--ref', ref, '--beam', '2', '--json', '--limit', '5']);
    assert.equal(j.code, 0, j.stderr);
    const o = JSON.parse(j.stdout) as Record<string, any>;
    assert.equal(o.sentences, 5);
    assert.equal(typeof o.bleu.score, 'number');
    assert.match(o.bleu.signature, /^nrefs:1\|/);
    assert.ok(o.sentencesPerSec > 0);
    assert.equal(typeof o.cutTooLong, 'number');
  });

  it('reports unusable inputs', async () => {
    const { src, ref } = files();
    const short = join(env.tmp, 'short.de');
    writeFileSync(short, 'eins\nzwei\n');
    const mism = await runCli(evalCommand, [...base(), '--src', src, '--ref', short]);
    assert.equal(mism.code, 1);
    assert.match(mism.stderr, /has 12 lines but .*short.de has 2; they must be parallel/);
    const noRef = await runCli(evalCommand, [...base(), '--src', src]);
    assert.equal(noRef.code, 2);
    assert.match(noRef.stderr, /--ref is required/);
    const missing = await runCli(evalCommand, [...base(), '--src', join(env.tmp, 'none.en'), '--ref', ref]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /source file not found/);
  });
});
