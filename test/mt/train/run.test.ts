// End-to-end test of a translation training run on a tiny prepared dataset (spm_train on a
// synthetic corpus): checkpoints last/best/numbered with the SentencePiece model copied beside
// them, metrics JSONL with validation loss/ppl/BLEU, PNG curves, automatic resume, loading the
// checkpoint back for translation, and the CLI's flag → config mapping.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useTestBackend } from '../../helpers/backend.js';
import { prepareDataset } from '../../../src/mt/data/prepare.js';
import { resolveMtTrainConfig } from '../../../src/mt/train/config.js';
import { runMtTraining } from '../../../src/mt/train/run.js';
import { translateTokens } from '../../../src/mt/train/validate.js';
import { loadTranslationCheckpoint } from '../../../src/mt/model/load.js';
import { readMetrics } from '../../../src/train/metrics-log.js';
import { configFromArgv } from '../../../src/cli/mt-train.js';

const WORDS_EN = ['a', 'dog', 'runs', 'cat', 'sleeps', 'the', 'man', 'eats', 'red', 'ball', 'big', 'house'];
const WORDS_DE = ['ein', 'hund', 'rennt', 'katze', 'schläft', 'der', 'mann', 'isst', 'roter', 'ball', 'großes', 'haus'];

let root = '';
let data = '';

before(async () => {
  await useTestBackend();
  root = mkdtempSync(join(tmpdir(), 'mt-run-'));
  const raw = join(root, 'raw');
  mkdirSync(raw);
  let s = 7;
  const rand = (n: number) => ((s = (s * 1103515245 + 12345) >>> 0) >>> 8) % n;
  const make = (n: number, long = 0) => {
    const en: string[] = [];
    const de: string[] = [];
    for (let i = 0; i < n; i++) {
      const len = i < long ? 40 : 2 + rand(5);
      const ids = Array.from({ length: len }, () => rand(WORDS_EN.length));
      en.push(ids.map((k) => WORDS_EN[k]).join(' '));
      de.push(ids.map((k) => WORDS_DE[k]).join(' '));
    }
    return { en: en.join('\n') + '\n', de: de.join('\n') + '\n' };
  };
  const tr = make(200, 3);
  const va = make(12);
  writeFileSync(join(raw, 'train.en'), tr.en);
  writeFileSync(join(raw, 'train.de'), tr.de);
  writeFileSync(join(raw, 'valid.en'), va.en);
  writeFileSync(join(raw, 'valid.de'), va.de);
  data = join(root, 'data');
  await prepareDataset(
    {
      train: { src: join(raw, 'train.en'), tgt: join(raw, 'train.de') },
      valid: { src: join(raw, 'valid.en'), tgt: join(raw, 'valid.de') },
    },
    data,
    { vocabSize: 48, maxRatio: 100 },
    { log: () => {} },
  );
});

function tinyConfig(out: string, over: Record<string, unknown> = {}) {
  return resolveMtTrainConfig({
    out,
    model: { dim: 16, mlpHidden: 32, encoderLayers: 1, decoderLayers: 1, heads: 2, maxLen: 24, dropout: 0.1 },
    data: { dir: data, maxTokens: 200 },
    trainer: {
      optimizer: 'adam',
      epochs: 50,
      maxUpdates: 4,
      validateEvery: 2,
      checkpointEvery: 2,
      keepLast: 1,
      schedule: { name: 'inverse-sqrt', lr: 3e-3, warmupSteps: 2 },
    },
    validation: { decodeBatch: 5 },
    ...over,
  });
}

describe('runMtTraining', () => {
  it('trains, validates (loss, ppl, BLEU), writes self-contained checkpoints, resumes, and loads back for translation', async () => {
    const out = join(root, 'run1');
    const logs: string[] = [];
    const quiet = { write: () => true, isTTY: false };
    const r = await runMtTraining(tinyConfig(out), { log: (l) => logs.push(l), progressStream: quiet });
    assert.equal(r.updates, 4);
    assert.equal(r.skippedTrain, 3, 'the three 40-word pairs exceed maxLen − 1 and are skipped');
    assert.ok(
      logs.some((l) => /skipped 3 of 200 training pairs/.test(l)),
      logs.join('\n'),
    );
    const files = readdirSync(out);
    for (const f of [
      'checkpoint_last.safetensors',
      'checkpoint_best.safetensors',
      'checkpoint_4.safetensors',
      'spm.model',
      'spm.vocab',
      'metrics.jsonl',
    ]) {
      assert.ok(files.includes(f), `${f} missing from ${files.join(', ')}`);
    }
    assert.ok(!files.includes('checkpoint_2.safetensors'), 'keepLast 1 prunes older numbered checkpoints');
    const valid = readMetrics(join(out, 'metrics.jsonl')).filter((m) => m.event === 'valid');
    assert.equal(valid.length, 2);
    for (const v of valid) {
      for (const k of ['loss', 'nll', 'ppl', 'bleu']) assert.equal(typeof v[k], 'number', `valid.${k}`);
      assert.ok(Math.abs((v.ppl as number) - Math.exp(v.nll as number)) < 1e-6 * (v.ppl as number));
    }
    assert.ok(existsSync(join(out, 'plots', 'loss.png')));

    // resume: the run continues from update 4
    const r2 = await runMtTraining(
      tinyConfig(out, {
        trainer: {
          optimizer: 'adam',
          epochs: 50,
          maxUpdates: 6,
          validateEvery: 2,
          checkpointEvery: 2,
          keepLast: 1,
          schedule: { name: 'inverse-sqrt', lr: 3e-3, warmupSteps: 2 },
        },
      }),
      {
        log: (l) => logs.push(l),
        progressStream: quiet,
      },
    );
    assert.equal(r2.updates, 6);
    assert.ok(
      logs.some((l) => /resumed from .*update 4/.test(l)),
      logs.join('\n'),
    );
    assert.equal(readMetrics(join(out, 'metrics.jsonl')).filter((m) => m.event === 'train').length, 6);

    // a different model config in the same folder is refused
    await assert.rejects(
      runMtTraining(tinyConfig(out, { model: { dim: 32, mlpHidden: 32, encoderLayers: 1, decoderLayers: 1, heads: 2, maxLen: 24 } }), {
        log: () => {},
        progressStream: quiet,
      }),
      /was trained with model/,
    );

    // the checkpoint alone is enough to translate
    const { model, spm, config } = await loadTranslationCheckpoint(join(out, 'checkpoint_last.safetensors'));
    assert.equal(config.model.dim, 16);
    assert.equal(config.generation.beamSize, 4);
    const { hyps, skipped } = await translateTokens(model, spm, [Int32Array.from(spm.encode('a dog runs')), new Int32Array(30).fill(5)], {
      beamSize: 2,
      maxLenA: 1.2,
      maxLenB: 5,
      decodeBatch: 4,
    });
    assert.equal(hyps.length, 2);
    assert.equal(skipped, 1, 'the 30-token source exceeds maxLen − 1 = 23');
    assert.equal(hyps[1], '');
    model.dispose();
  });

  it('an interrupt (Ctrl-C) stops at the next update and saves checkpoint_last', async () => {
    const out = join(root, 'run-int');
    const ac = new AbortController();
    ac.abort();
    const r = await runMtTraining(
      tinyConfig(out, { trainer: { optimizer: 'adam', maxUpdates: 100, validateEvery: 50, checkpointEvery: 50 } }),
      {
        signal: ac.signal,
        log: () => {},
        progressStream: { write: () => true, isTTY: false },
      },
    );
    assert.equal(r.stoppedBy, 'interrupt');
    assert.equal(r.updates, 1);
    assert.ok(existsSync(join(out, 'checkpoint_last.safetensors')));
  });

  it('the CLI maps flags and dotted overrides onto the config, and the resolver names unknown keys', () => {
    const { raw, flags } = configFromArgv([
      '--data',
      '/d',
      '--max-tokens',
      '2048',
      '--update-freq',
      '4',
      '--lr',
      '0.5',
      '--model.dim',
      '128',
      '--model.norm',
      'layernorm',
    ]);
    assert.equal(flags['max-tokens'], 2048);
    assert.deepEqual(raw, {});
    assert.deepEqual((flags.__extra as Record<string, string>)['model.dim'], '128');
    assert.throws(() => resolveMtTrainConfig({ model: { dims: 3 } }), /mt train config: model: unknown config key 'dims'/);
    assert.throws(() => resolveMtTrainConfig({ trainer: { bestMetric: 'bleu' }, validation: { bleu: false } }), /validation.bleu is false/);
  });
});

process.on('exit', () => {
  if (root) rmSync(root, { recursive: true, force: true });
});
