// Tests of the translation TrainTask in the one training loop, on tiny models: a 20-pair corpus
// is overfitted to near-zero loss, a run interrupted and resumed gives bit-identical weights to
// an uninterrupted one (with dropout on), no tensors leak per update, validation loss/BLEU run.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { useTestBackend } from '../../helpers/backend.js';
import { Seq2Seq, type Seq2SeqConfig } from '../../../src/mt/model/index.js';
import { arrayPairSource, TokenBatcher } from '../../../src/mt/data/batching.js';
import { MtTrainTask } from '../../../src/mt/train/task.js';
import { validationLoss } from '../../../src/mt/train/validate.js';
import { resolveTrainerConfig, train, type TrainerConfig } from '../../../src/train/loop.js';

const V = 24;
const IDS = { padId: 0, bosId: 2, eosId: 3 };

/** 20 pairs: target = source reversed, shifted by one id (a deterministic "translation"). */
function corpus(): { src: number[][]; tgt: number[][] } {
  const src: number[][] = [];
  const tgt: number[][] = [];
  let s = 12345;
  const rand = () => ((s = (s * 1103515245 + 12345) >>> 0) >>> 8) / 2 ** 24;
  for (let i = 0; i < 20; i++) {
    const n = 2 + Math.floor(rand() * 5);
    const x = Array.from({ length: n }, () => 4 + Math.floor(rand() * (V - 5)));
    src.push(x);
    tgt.push([...x].reverse().map((v) => v + 1));
  }
  return { src, tgt };
}

function tinyModel(over: Partial<Seq2SeqConfig> = {}): Seq2Seq {
  return new Seq2Seq({
    vocabSize: V,
    maxLen: 10,
    dim: 32,
    mlpHidden: 64,
    encoderLayers: 1,
    decoderLayers: 1,
    heads: 2,
    dropout: 0,
    layerScale: 0.5,
    seed: 3,
    ...over,
  });
}

function trainerCfg(over: Partial<TrainerConfig>): TrainerConfig {
  return resolveTrainerConfig({
    optimizer: 'adam',
    epochs: 1000,
    keepLast: 1,
    unit: 'tok',
    schedule: { name: 'constant', lr: 3e-3, warmupSteps: 0, warmupInit: 0, totalSteps: 1, minLr: 0 },
    ...over,
  });
}

const tmp = () => mkdtempSync(join(tmpdir(), 'mt-task-'));

before(async () => {
  await useTestBackend();
});

describe('MtTrainTask', () => {
  it('overfits a 20-pair corpus to near-zero loss', async () => {
    const { src, tgt } = corpus();
    const model = tinyModel();
    const batcher = new TokenBatcher(arrayPairSource(src, tgt), IDS, { maxTokens: 60, maxLen: 10, seed: 1 });
    const task = new MtTrainTask(model, batcher, { seed: 1, labelSmoothing: 0, modelConfig: model.config });
    const dir = tmp();
    try {
      const losses: number[] = [];
      await train(
        task,
        trainerCfg({
          maxUpdates: 300,
          schedule: { name: 'constant', lr: 1e-2, warmupSteps: 0, warmupInit: 0, totalSteps: 1, minLr: 0 },
          checkpointEvery: 100000,
        }),
        {
          outDir: dir,
          hooks: { onUpdate: (u) => losses.push(u.loss) },
        },
      );
      model.eval();
      const evalBatcher = new TokenBatcher(arrayPairSource(src, tgt), IDS, { maxTokens: 60, maxLen: 10, shuffle: false });
      const r = await validationLoss(model, evalBatcher, 0);
      assert.ok(losses[0]! > 2.5, `initial loss ${losses[0]} should be near ln V`);
      assert.ok(
        r.nll < 0.05,
        `final NLL ${r.nll} (first losses ${losses.slice(0, 3).map((x) => x.toFixed(2))}, last ${losses.at(-1)?.toFixed(4)})`,
      );
      // greedy decoding reproduces the training targets
      const { SequenceGenerator } = await import('../../../src/mt/decoding/index.js');
      const out = await new SequenceGenerator(model, { beamSize: 1, maxLenB: 9 }).generate(src.slice(0, 5).map((x) => model.sourceIds(x)));
      out.results.forEach((res, i) => assert.deepEqual([...res.hypos[0]!.tokens], [...tgt[i]!, IDS.eosId]));
    } finally {
      model.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('resumes exactly: 3 updates + save + resume + 3 updates == 6 updates (dropout on, update-freq 2)', async () => {
    const { src, tgt } = corpus();
    const run = async (dir: string, maxUpdates: number): Promise<Map<string, Float32Array>> => {
      const model = tinyModel({ dropout: 0.2 });
      const batcher = new TokenBatcher(arrayPairSource(src, tgt), IDS, { maxTokens: 40, maxLen: 10, seed: 5 });
      const task = new MtTrainTask(model, batcher, { seed: 9, labelSmoothing: 0.1, modelConfig: model.config });
      await train(task, trainerCfg({ maxUpdates, updateFreq: 2, clipNorm: 1 }), { outDir: dir });
      const out = new Map([...model.namedParameters()].map(([k, v]) => [k, v.dataSync().slice() as Float32Array]));
      model.dispose();
      return out;
    };
    const a = tmp();
    const b = tmp();
    try {
      const straight = await run(a, 6);
      await run(b, 3);
      const resumed = await run(b, 6);
      let maxDiff = 0;
      for (const [k, v] of straight) {
        const w = resumed.get(k)!;
        for (let i = 0; i < v.length; i++) maxDiff = Math.max(maxDiff, Math.abs(v[i]! - w[i]!));
      }
      assert.equal(maxDiff, 0);
      // and the run did move the weights
      const init = tinyModel({ dropout: 0.2 });
      const w0 = init.embed_tokens.weight.dataSync();
      assert.ok(straight.get('embed_tokens.weight')!.some((x, i) => x !== w0[i]));
      init.dispose();
    } finally {
      rmSync(a, { recursive: true, force: true });
      rmSync(b, { recursive: true, force: true });
    }
  });

  it('leaks no tensors per training step', async () => {
    const { src, tgt } = corpus();
    const model = tinyModel({ dropout: 0.1 });
    const batcher = new TokenBatcher(arrayPairSource(src, tgt), IDS, { maxTokens: 40, maxLen: 10, seed: 5 });
    const task = new MtTrainTask(model, batcher, { seed: 1, labelSmoothing: 0.1, modelConfig: model.config });
    const counts: number[] = [];
    const dir = tmp();
    try {
      await train(task, trainerCfg({ maxUpdates: 6, updateFreq: 2, checkpointEvery: 100000 }), {
        outDir: dir,
        hooks: { onUpdate: () => counts.push(tf.memory().numTensors) },
      });
      // the optimizer creates its slots at update 1; after that the count must not grow
      assert.equal(new Set(counts.slice(1)).size, 1, `tensor counts per update: ${counts.join(', ')}`);
    } finally {
      model.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
