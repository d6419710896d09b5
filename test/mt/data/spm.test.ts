// SentencePiece wrapper: the JS tokenizer gives spm_encode's ids and spm_decode's text on 1,000
// Multi30k lines (model trained here by spm_train: vocab 2000 on 5k lines); load errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { SentencePiece, trainSentencePiece, DEFAULT_SPM_TRAIN, SPECIAL_IDS } from '../../../src/mt/data/spm.js';
import { normalizeLine } from '../../../src/mt/data/clean.js';
import { tempDir, multi30k, MULTI30K_SKIP } from './helpers.js';

let dir = '';
let model = '';

before(() => {
  dir = tempDir('spm');
  if (MULTI30K_SKIP) return;
  const lines = [
    ...fs.readFileSync(multi30k('train.en'), 'utf8').split('\n').slice(0, 2500),
    ...fs.readFileSync(multi30k('train.de'), 'utf8').split('\n').slice(0, 2500),
  ].map(normalizeLine);
  fs.writeFileSync(path.join(dir, 'train.txt'), lines.join('\n') + '\n');
  model = trainSentencePiece([path.join(dir, 'train.txt')], path.join(dir, 'm'), { ...DEFAULT_SPM_TRAIN, vocabSize: 2000 }).model;
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('JS ids equal spm_encode ids and decoding equals spm_decode on 1,000 lines', { skip: MULTI30K_SKIP }, async () => {
  const sp = await SentencePiece.load(model);
  assert.equal(sp.vocabSize, 2000);
  assert.deepEqual([sp.padId, sp.unkId, sp.bosId, sp.eosId], [SPECIAL_IDS.pad, SPECIAL_IDS.unk, SPECIAL_IDS.bos, SPECIAL_IDS.eos]);
  const lines = [
    ...fs.readFileSync(multi30k('test_2016_flickr.en'), 'utf8').split('\n').slice(0, 500),
    ...fs.readFileSync(multi30k('test_2016_flickr.de'), 'utf8').split('\n').slice(0, 500),
  ];
  assert.equal(lines.length, 1000);
  const enc = spawnSync('spm_encode', [`--model=${model}`, '--output_format=id'], { input: lines.join('\n') + '\n', encoding: 'utf8' });
  assert.equal(enc.status, 0, enc.stderr);
  const ref = enc.stdout
    .split('\n')
    .slice(0, 1000)
    .map((l) => (l.length ? l.split(' ').map(Number) : []));
  const ours = lines.map((l) => sp.encode(l));
  let same = 0;
  for (let i = 0; i < 1000; i++) if (JSON.stringify(ours[i]) === JSON.stringify(ref[i])) same++;
  assert.equal(same, 1000, `ids differ on ${1000 - same} of 1000 lines`);
  const dec = spawnSync('spm_decode', [`--model=${model}`, '--input_format=id'], {
    input: ref.map((r) => r.join(' ')).join('\n') + '\n',
    encoding: 'utf8',
  });
  assert.equal(dec.status, 0, dec.stderr);
  const refText = dec.stdout.split('\n').slice(0, 1000);
  assert.deepEqual(
    ours.map((ids) => sp.decode(ids)),
    refText,
  );
});

test('special ids decode to nothing; pieces and ids agree', { skip: MULTI30K_SKIP }, async () => {
  const sp = await SentencePiece.load(model);
  const ids = sp.encode('A man rides a bike.');
  assert.equal(sp.decode([sp.bosId, ...ids, sp.eosId, sp.padId]), 'A man rides a bike.');
  assert.equal(sp.idToPiece(sp.eosId), '</s>');
  assert.equal(sp.pieceToId('</s>'), sp.eosId);
  assert.deepEqual(sp.encode(''), []);
  assert.equal(sp.decode([]), '');
});

test('load errors name the problem', { skip: MULTI30K_SKIP }, async () => {
  await assert.rejects(SentencePiece.load(path.join(dir, 'nope.model')), /does not exist/);
  const bad = path.join(dir, 'bad.model');
  fs.writeFileSync(bad, 'not a model');
  fs.copyFileSync(`${model.replace(/\.model$/, '')}.vocab`, path.join(dir, 'bad.vocab'));
  await assert.rejects(SentencePiece.load(bad), /cannot load SentencePiece model/);
  const novocab = path.join(dir, 'novocab.model');
  fs.copyFileSync(model, novocab);
  await assert.rejects(SentencePiece.load(novocab), /vocabulary file .*novocab\.vocab is missing/);
});

test('a missing spm_train says which package to install', () => {
  assert.throws(
    () =>
      trainSentencePiece([path.join(dir, 'train.txt')], path.join(dir, 'x'), { ...DEFAULT_SPM_TRAIN, bin: 'spm_train_not_installed_here' }),
    /apt-get install sentencepiece/,
  );
});
