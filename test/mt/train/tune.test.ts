// Length-penalty tuning (src/mt/train/tune.ts): the argmax of a fake scorer over a fake decoder
// (the first of equal scores wins), the --lenpen list's errors, and the stored default read back:
// storeTunedGeneration writes lenpen and beam into the checkpoint's generation defaults (in place,
// or to a new file in another folder with its SentencePiece files), weights unchanged, and
// Translator.load decodes with them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensors } from '../../../src/io/safetensors.js';
import { readMtCheckpointConfig } from '../../../src/mt/model/load.js';
import { parseLenpens, storeTunedGeneration, tuneLenpen, type CorpusScorer, type GenerationTuning } from '../../../src/mt/train/tune.js';
import { Translator } from '../../../src/mt/translator.js';
import { useTranslatorFixture } from '../translator-fixture.js';

const env = useTranslatorFixture('resmlp-tune-');

/** Fake decoder: every hypothesis names the lenpen it was decoded with. */
const decoder = (calls: number[]) => async (lenpen: number) => {
  calls.push(lenpen);
  return ['a', 'b', 'c'].map(() => `lenpen=${lenpen}`);
};

/** Fake scorer: a table from the lenpen named in the hypotheses to a score. */
const scorer =
  (table: Record<string, number>): CorpusScorer =>
  (hyps, refs) => {
    assert.equal(hyps.length, refs.length);
    const lp = hyps[0]!.slice('lenpen='.length);
    return { score: table[lp]!, bp: Math.min(1, Number(lp) / 1.5), ratio: Number(lp), signature: 'fake' };
  };

describe('tuneLenpen', () => {
  it('decodes once per value, in order, and picks the argmax of the scorer', async () => {
    const calls: number[] = [];
    const seen: number[] = [];
    const r = await tuneLenpen([0.6, 1, 1.5, 2], decoder(calls), ['x', 'y', 'z'], {
      scorer: scorer({ '0.6': 20.5, '1': 27, '1.5': 27.9, '2': 27.4 }),
      onTrial: (t) => seen.push(t.lenpen),
    });
    assert.deepEqual(calls, [0.6, 1, 1.5, 2]);
    assert.deepEqual(seen, [0.6, 1, 1.5, 2]);
    assert.deepEqual(r.best, { lenpen: 1.5, bleu: 27.9, bp: 1, ratio: 1.5 });
    assert.deepEqual(
      r.trials.map((t) => t.bleu),
      [20.5, 27, 27.9, 27.4],
    );
    assert.equal(r.signature, 'fake');
  });

  it('keeps the first of equal scores', async () => {
    const r = await tuneLenpen([1.2, 0.8, 1], decoder([]), ['x', 'y', 'z'], { scorer: scorer({ '1.2': 30, '0.8': 31, '1': 31 }) });
    assert.equal(r.best.lenpen, 0.8);
  });

  it('refuses a decoder that loses sentences', async () => {
    await assert.rejects(
      tuneLenpen([1], async () => ['only one'], ['x', 'y']),
      /gave 1 hypotheses for 2 references \(lenpen 1\)/,
    );
  });

  it('parses the --lenpen list and names what is wrong', () => {
    assert.deepEqual(parseLenpens('0.6,0.8,1,1.2,1.5,2'), [0.6, 0.8, 1, 1.2, 1.5, 2]);
    assert.deepEqual(parseLenpens(' 1 , 2 '), [1, 2]);
    assert.throws(() => parseLenpens('1,,2'), /comma-separated numbers.*got '1,,2'/);
    assert.throws(() => parseLenpens('1,high'), /got '1,high'/);
    assert.throws(() => parseLenpens('1,1'), /a value twice/);
  });
});

describe('storeTunedGeneration', () => {
  const tuning: GenerationTuning = {
    src: 'val.en',
    ref: 'val.de',
    sentences: 3,
    beamSize: 3,
    trials: [{ lenpen: 1.5, bleu: 27.9, bp: 1, ratio: 1.01 }],
    signature: 'fake',
    date: '2026-12-07T00:00:00.000Z',
  };

  it('stores lenpen and beam in place (weights unchanged) and Translator.load uses them', async () => {
    const run = join(env.tmp, 'inplace');
    mkdirSync(run);
    for (const f of ['checkpoint_best.safetensors', 'spm.model', 'spm.vocab']) copyFileSync(join(env.fx.checkpoint, '..', f), join(run, f));
    const ckpt = join(run, 'checkpoint_best.safetensors');
    const before = readSafetensors(ckpt).tensors;
    const cfg = storeTunedGeneration(ckpt, { lenpen: 1.5, beamSize: 3 }, tuning);
    assert.equal(cfg.generation.lenpen, 1.5);
    assert.deepEqual(readMtCheckpointConfig(ckpt).generation, { beamSize: 3, maxLenA: 0, maxLenB: 6, lenpen: 1.5 });
    assert.deepEqual(readMtCheckpointConfig(ckpt).tuning, tuning);
    const afterT = readSafetensors(ckpt).tensors;
    assert.deepEqual([...afterT.keys()], [...before.keys()]);
    for (const [k, t] of before) assert.deepEqual(afterT.get(k)!.data, t.data, k);
    const t = await Translator.load(ckpt);
    try {
      assert.equal(t.generation.lenpen, 1.5);
      assert.equal(t.generation.beamSize, 3);
      // the flags of mt translate / mt eval still override it
      const o = await Translator.load(ckpt, { generation: { lenpen: 0.7 } });
      assert.equal(o.generation.lenpen, 0.7);
      o.dispose();
    } finally {
      t.dispose();
    }
  });

  it('writes a new checkpoint in another folder with its SentencePiece files, leaving the original as it was', async () => {
    const dest = join(env.tmp, 'elsewhere');
    mkdirSync(dest);
    const out = join(dest, 'tuned.safetensors');
    storeTunedGeneration(env.fx.checkpoint, { lenpen: 0.8, beamSize: 2 }, tuning, out);
    assert.ok(existsSync(join(dest, 'spm.model')) && existsSync(join(dest, 'spm.vocab')));
    assert.equal(readMtCheckpointConfig(env.fx.checkpoint).generation.lenpen, undefined);
    const t = await Translator.load(out);
    try {
      assert.equal(t.generation.lenpen, 0.8);
    } finally {
      t.dispose();
    }
  });
});
