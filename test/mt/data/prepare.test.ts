// The prepare pipeline: the round trip text → clean → encode → binary → read → decode returns
// the cleaned text; every bad input yields its error; reuse / refuse / --force on the output.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { prepareDataset, resolvePrepareOptions, type PrepareInputs } from '../../../src/mt/data/prepare.js';
import { PreparedDataset } from '../../../src/mt/data/dataset.js';
import { SentencePiece } from '../../../src/mt/data/spm.js';
import { normalizeLine } from '../../../src/mt/data/clean.js';
import { TokenBatcher, pairSource } from '../../../src/mt/data/batching.js';
import { tempDir, multi30k, MULTI30K_SKIP } from './helpers.js';

const quiet = { log: () => {} };
let dir = '';
let inputs: PrepareInputs;
let rawSrc: string[] = [];
let rawTgt: string[] = [];
const OPTS = { vocabSize: 1000, maxLen: 100, maxRatio: 2.5 };

before(() => {
  dir = tempDir('prepare');
  if (MULTI30K_SKIP) return;
  // 2,000 Multi30k pairs plus handmade lines that exercise the cleaning and the filters
  rawSrc = fs.readFileSync(multi30k('train.en'), 'utf8').split('\n').slice(0, 2000);
  rawTgt = fs.readFileSync(multi30k('train.de'), 'utf8').split('\n').slice(0, 2000);
  const extra: [string, string][] = [
    ['  A  man\tin a   red shirt .  ', 'Ein Mann  in\u00a0einem roten Hemd.'], // whitespace runs, NBSP
    ['Cafe\u0301 on a corner.', 'Ein Cafe\u0301 an einer Ecke.'], // NFD → NFC
    ['A dog\u0007 runs.', 'Ein Hund rennt.'], // control character removed
    ['   ', 'Leer.'], // empty source after cleaning → dropped
    ['Dog.', 'Ein sehr großer brauner Hund läuft schnell über eine sehr grüne Wiese im Park.'], // ratio
    [Array(150).fill('dog').join(' '), Array(150).fill('Hund').join(' ')], // too long (> 100 tokens)
  ];
  for (const [s, t] of extra) {
    rawSrc.push(s);
    rawTgt.push(t);
  }
  fs.writeFileSync(path.join(dir, 'train.en'), rawSrc.join('\r\n') + '\r\n'); // CRLF on one side
  fs.writeFileSync(path.join(dir, 'train.de'), rawTgt.join('\n')); // no final newline on the other
  const v = (f: string) => fs.readFileSync(multi30k(f), 'utf8').split('\n').slice(0, 200).join('\n') + '\n';
  fs.writeFileSync(path.join(dir, 'val.en'), v('val.en'));
  fs.writeFileSync(path.join(dir, 'val.de'), v('val.de'));
  inputs = {
    train: { src: path.join(dir, 'train.en'), tgt: path.join(dir, 'train.de') },
    valid: { src: path.join(dir, 'val.en'), tgt: path.join(dir, 'val.de') },
  };
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('round trip: binary data decodes to the cleaned text; drops are counted', { skip: MULTI30K_SKIP }, async () => {
  const out = path.join(dir, 'out');
  const r = await prepareDataset(inputs, out, OPTS, quiet);
  assert.equal(r.reused, false);
  const m = r.manifest;
  const tr = m.splits.train!;
  assert.equal(tr.read, 2006);
  assert.equal(tr.dropped.empty, 1);
  assert.equal(tr.dropped.tooLong, 1);
  assert.ok(tr.dropped.ratio >= 1, `ratio drops ${tr.dropped.ratio}`);
  assert.equal(tr.pairs + tr.dropped.empty + tr.dropped.tooLong + tr.dropped.ratio, 2006);
  assert.equal(m.langs.src, 'en');
  assert.equal(m.idDtype, 'uint16');
  assert.equal(m.spm.vocabSize, 1000);

  const ds = PreparedDataset.open(out);
  const sp = await SentencePiece.load(ds.spmModel);
  const train = ds.split('train');
  assert.equal(train.size, tr.pairs);
  for (let i = 0; i < train.size; i++) {
    const line = train.lines[i]! - 1;
    assert.equal(sp.decode(train.src.get(i)), normalizeLine(rawSrc[line]!), `src pair ${i} (line ${line + 1})`);
    assert.equal(sp.decode(train.tgt.get(i)), normalizeLine(rawTgt[line]!), `tgt pair ${i} (line ${line + 1})`);
  }
  // the handmade lines came through cleaned
  const kept = new Set(Array.from(train.lines));
  assert.ok(kept.has(2001) && kept.has(2002) && kept.has(2003));
  assert.ok(!kept.has(2004) && !kept.has(2006));
  const i2002 = Array.from(train.lines).indexOf(2002);
  assert.equal(sp.decode(train.src.get(i2002)), 'Café on a corner.');
  const i2001 = Array.from(train.lines).indexOf(2001);
  assert.equal(sp.decode(train.tgt.get(i2001)), 'Ein Mann in einem roten Hemd.');

  // valid: never filtered, references saved as cleaned text, same decode
  const valid = ds.split('valid');
  assert.equal(valid.size, 200);
  const refs = ds.text('valid', 'tgt')!;
  assert.equal(refs.length, 200);
  for (let i = 0; i < 200; i++) assert.equal(sp.decode(valid.tgt.get(i)), refs[i]);

  // batches built from the binary split: rows decode to the cleaned text (x + EOS, BOS + y, y + EOS)
  const batcher = new TokenBatcher(pairSource(train), sp, { maxTokens: 2000, maxLen: 128, seed: 1 });
  assert.equal(batcher.skipped, 0);
  let rows = 0;
  for (const b of batcher.epoch(0)) {
    for (let r = 0; r < b.size; r++) {
      const line = train.lines[b.indices[r]!]! - 1;
      const srcRow = b.src.subarray(r * b.srcLen, r * b.srcLen + b.srcLengths[r]!);
      assert.equal(srcRow[srcRow.length - 1], sp.eosId);
      assert.equal(sp.decode(srcRow), normalizeLine(rawSrc[line]!));
      const out = b.tgtOut.subarray(r * b.tgtLen, r * b.tgtLen + b.tgtLengths[r]!);
      assert.equal(sp.decode(out), normalizeLine(rawTgt[line]!));
      assert.equal(b.tgtIn[r * b.tgtLen], sp.bosId);
      rows++;
    }
  }
  assert.equal(rows, train.size);

  // on-demand reads give the same ids as in-memory ones
  const lazy = PreparedDataset.open(out, { inMemory: false }).split('train');
  for (const i of [0, 17, train.size - 1]) assert.deepEqual(lazy.src.get(i), train.src.get(i));
  lazy.close();

  // same inputs and options: reused, nothing rewritten
  const before = fs.statSync(path.join(out, 'train.src.ids')).mtimeMs;
  const again = await prepareDataset(inputs, out, OPTS, quiet);
  assert.equal(again.reused, true);
  assert.equal(fs.statSync(path.join(out, 'train.src.ids')).mtimeMs, before);

  // different options: refused, then --force replaces
  await assert.rejects(
    prepareDataset(inputs, out, { ...OPTS, maxRatio: 3 }, quiet),
    /already holds a different dataset \(option maxRatio: 2\.5 there, 3 now\).*--force/,
  );
  const forced = await prepareDataset(inputs, out, { ...OPTS, maxRatio: 3 }, { ...quiet, force: true });
  assert.equal(forced.reused, false);
  assert.equal(forced.manifest.options.maxRatio, 3);
  assert.ok(!fs.existsSync(path.join(out, '.tmp-prepare')));
});

test('line counts that differ name both files and both counts', { skip: MULTI30K_SKIP }, async () => {
  const short = path.join(dir, 'short.de');
  fs.writeFileSync(short, rawTgt.slice(0, 1999).join('\n') + '\n');
  await assert.rejects(
    prepareDataset({ train: { src: inputs.train.src, tgt: short } }, path.join(dir, 'o1'), OPTS, quiet),
    (e: Error) =>
      /line counts differ/.test(e.message) && e.message.includes('train.en has 2006 lines') && e.message.includes('short.de has 1999'),
  );
});

test('a missing file is named', { skip: MULTI30K_SKIP }, async () => {
  await assert.rejects(
    prepareDataset({ train: { src: path.join(dir, 'nope.en'), tgt: inputs.train.tgt } }, path.join(dir, 'o2'), OPTS, quiet),
    /train source file .*nope\.en does not exist/,
  );
  await assert.rejects(
    prepareDataset({ ...inputs, valid: { src: inputs.valid!.src, tgt: path.join(dir, 'nope.de') } }, path.join(dir, 'o2'), OPTS, quiet),
    /valid target file .*nope\.de does not exist/,
  );
});

test('invalid UTF-8 names the file, the line and the byte offset', { skip: MULTI30K_SKIP }, async () => {
  const bad = path.join(dir, 'bad.de');
  const lines = rawTgt.slice(0, 2006).map((l) => Buffer.from(l + '\n'));
  const offset = lines.slice(0, 5).reduce((a, b) => a + b.length, 0);
  lines[5] = Buffer.concat([Buffer.from('Ein '), Buffer.from([0xc3, 0x28]), Buffer.from(' Hund\n')]);
  fs.writeFileSync(bad, Buffer.concat(lines));
  await assert.rejects(prepareDataset({ train: { src: inputs.train.src, tgt: bad } }, path.join(dir, 'o3'), OPTS, quiet), (e: Error) =>
    e.message.includes('bad.de is not valid UTF-8: line 6, byte offset ' + (offset + 4)),
  );
  assert.ok(!fs.existsSync(path.join(dir, 'o3', 'manifest.json')));
  assert.ok(!fs.existsSync(path.join(dir, 'o3', '.tmp-prepare')));
});

test('an output folder holding other files is refused, even with --force', { skip: MULTI30K_SKIP }, async () => {
  const out = path.join(dir, 'busy');
  fs.mkdirSync(out);
  fs.writeFileSync(path.join(out, 'notes.txt'), 'mine');
  await assert.rejects(prepareDataset(inputs, out, OPTS, quiet), /not empty and holds no dataset manifest \(notes\.txt\)/);
  await assert.rejects(prepareDataset(inputs, out, OPTS, { ...quiet, force: true }), /not empty and holds no dataset manifest/);
  assert.equal(fs.readFileSync(path.join(out, 'notes.txt'), 'utf8'), 'mine');
});

test('spm_train missing: the error says how to install it', { skip: MULTI30K_SKIP }, async () => {
  await assert.rejects(
    prepareDataset(inputs, path.join(dir, 'o4'), OPTS, { ...quiet, spmBin: 'no_such_spm_train' }),
    /apt-get install sentencepiece/,
  );
});

test('options are validated by name', () => {
  assert.throws(
    () => resolvePrepareOptions({ vocabSzie: 10 } as never),
    /prepare options: unknown config key 'vocabSzie'; known keys: vocabSize/,
  );
  assert.throws(() => resolvePrepareOptions({ maxRatio: 0.5 }), /maxRatio must be a number ≥ 1/);
  assert.throws(() => resolvePrepareOptions({ modelType: 'word' as never }), /modelType must be 'unigram' or 'bpe'/);
});
