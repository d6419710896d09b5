// The `resmlp mt prepare` and `resmlp mt multi30k` commands (src/cli/mt-prepare.ts): exit codes and
// messages for good and bad flags, their help, and what a failed download says. (Kept beside the
// data tests it drives.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCommand, type CliIO } from '../../../src/cli/command.js';
import { multi30k as multi30kCommand, prepare } from '../../../src/cli/mt-prepare.js';
import { readManifest } from '../../../src/mt/data/dataset.js';
import { tempDir, multi30k, headFile, localServer, MULTI30K_SKIP } from './helpers.js';

let dir = '';
before(() => {
  dir = tempDir('cli');
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Runs a command with its output captured. */
async function capture(fn: (io: Partial<CliIO>) => Promise<number>): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await fn({ stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

test('mt prepare: generic parallel text', { skip: MULTI30K_SKIP }, async () => {
  const en = headFile(multi30k('train.en'), 1500, dir, 'a.en');
  const de = headFile(multi30k('train.de'), 1500, dir, 'a.de');
  const ven = headFile(multi30k('val.en'), 50, dir, 'v.en');
  const vde = headFile(multi30k('val.de'), 50, dir, 'v.de');
  const out = path.join(dir, 'ds');
  const r = await capture((io) =>
    runCommand(
      prepare,
      ['--src', en, '--tgt', de, '--valid-src', ven, '--valid-tgt', vde, '--out', out, '--vocab-size', '800', '--max-len', '64'],
      io,
    ),
  );
  assert.equal(r.code, 0, r.err);
  const m = readManifest(out);
  const tr = m.splits.train!;
  assert.equal(m.options.maxLen, 64);
  assert.equal(tr.pairs + tr.dropped.tooLong + tr.dropped.ratio + tr.dropped.empty, 1500);
  assert.match(r.out, new RegExp(`wrote .*ds: en→de, vocab 800, train ${tr.pairs.toLocaleString('en-US')} pairs, valid 50 pairs`));
  assert.match(r.err, /training SentencePiece \(unigram, vocab 800\)/);
  assert.match(r.err, new RegExp(`dropped: 0 empty, ${tr.dropped.tooLong} longer than 64 tokens`));
  const again = await capture((io) =>
    runCommand(
      prepare,
      ['--src', en, '--tgt', de, '--valid-src', ven, '--valid-tgt', vde, '--out', out, '--vocab-size', '800', '--max-len', '64'],
      io,
    ),
  );
  assert.equal(again.code, 0);
  assert.match(again.out, /^reused/);
  const diff = await capture((io) => runCommand(prepare, ['--src', en, '--tgt', de, '--out', out, '--vocab-size', '800'], io));
  assert.equal(diff.code, 1);
  assert.match(diff.err, /already holds a different dataset .*--force/);
});

test('mt prepare: flag errors exit 2 with the usage', async () => {
  const cases: [string[], RegExp][] = [
    [['--src', 'a', '--tgt', 'b'], /--out is required/],
    [['--src', 'a', '--tgt', 'b', '--out', 'o', '--valid-src', 'v'], /--valid-src and --valid-tgt go together \(got only --valid-src\)/],
    [['--src', 'a', '--tgt', 'b', '--out', 'o', '--model-type', 'word'], /--model-type must be 'unigram' or 'bpe'/],
    [['--src', 'a', '--tgt', 'b', '--out', 'o', '--vocab-size', 'many'], /--vocab-size expects an integer/],
    [['--src', 'a', '--tgt', 'b', '--out', 'o', '--vocab'], /unknown option '--vocab'/],
  ];
  for (const [argv, re] of cases) {
    const r = await capture((io) => runCommand(prepare, argv, io));
    assert.equal(r.code, 2, argv.join(' '));
    assert.match(r.err, re);
    assert.match(r.err, /usage: resmlp mt prepare/);
  }
  const missing = await capture((io) =>
    runCommand(prepare, ['--src', path.join(dir, 'none.en'), '--tgt', path.join(dir, 'none.de'), '--out', path.join(dir, 'o')], io),
  );
  assert.equal(missing.code, 1);
  assert.match(missing.err, /train source file .*none\.en does not exist/);
});

test('multi30k script with --from a folder of Multi30k files', { skip: MULTI30K_SKIP }, async () => {
  // a 2,000-line slice of the shared copy, laid out like it (train/val/test_2016_flickr × en/fr)
  const from = path.join(dir, 'm30k-from');
  fs.mkdirSync(from);
  for (const [stem, n] of [
    ['train', 2000],
    ['val', 100],
    ['test_2016_flickr', 100],
  ] as const) {
    for (const lang of ['en', 'fr']) headFile(multi30k(`${stem}.${lang}`), n, from, `${stem}.${lang}`);
  }
  const out = path.join(dir, 'm30k');
  const r = await capture((io) =>
    runCommand(multi30kCommand, ['--out', out, '--from', from, '--src', 'en', '--tgt', 'fr', '--vocab-size', '1000'], io),
  );
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /en→fr, vocab 1000, train 2,000 pairs, valid 100 pairs, test 100 pairs/);
  const m = readManifest(out);
  assert.equal(m.splits.test!.inputs.tgt.path, path.join(from, 'test_2016_flickr.fr'));
  const bad = await capture((io) => runCommand(multi30kCommand, ['--out', out, '--from', from, '--src', 'en', '--tgt', 'xx'], io));
  assert.equal(bad.code, 1);
  assert.match(bad.err, /target language "xx" is not available; choose one of en, de, fr/);
});

test('mt multi30k --help prints its own usage', async () => {
  const r = await capture((io) => runCommand(multi30kCommand, ['--help'], io));
  assert.equal(r.code, 0);
  assert.match(r.out, /^usage: resmlp mt multi30k --out DIR \[--from DIR\]/);
  assert.doesNotMatch(r.out, /data-scripts/);
  assert.match(r.out, /--base-url/);
});

test('mt multi30k: a download that keeps failing says how to give local files', async () => {
  // every connection is cut before an answer, as offline or behind a dead proxy
  const srv = await localServer((req) => req.socket.destroy());
  try {
    const out = path.join(dir, 'offline');
    const r = await capture((io) => runCommand(multi30kCommand, ['--out', out, '--base-url', srv.url], io));
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, /resmlp mt multi30k: cannot download http:\/\/127\.0\.0\.1:\d+\/train\.en\.gz after 6 attempts/);
    assert.match(r.err, /pass --from DIR/);
    assert.match(r.err, /MULTI30K_FROM=DIR bash scripts\/quickstart\.sh/);
    assert.equal(r.out, '');
  } finally {
    await srv.close();
  }
});
