// Checkpoint averaging (src/train/average.ts, as fairseq's average_checkpoints.py) on small
// checkpoints written by saveCheckpoint with optimizer state: the average of identical checkpoints
// is that checkpoint bit for bit, the average of two is their mean tensor by tensor, optimizer
// slots and trainer state are dropped, a different config or shape is refused naming the file,
// and `--last N` finds the numbered checkpoints a training run keeps (trainer.keepLast).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { useTestBackend } from '../helpers/backend.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { averageCheckpoints, lastCheckpoints } from '../../src/train/average.js';
import { saveCheckpoint, readCheckpointConfig } from '../../src/train/checkpoint.js';
import { createOptimizer } from '../../src/train/optim/index.js';
import { resolveTrainerConfig, train } from '../../src/train/loop.js';

let dir: string;
const CONFIG = { kind: 'toy', dim: 3 };

/** A checkpoint of two parameters filled from `seed`, with Adam slots and a trainer state. */
async function write(name: string, seed: number, config: unknown = CONFIG, shape: [number, number] = [2, 3]): Promise<string> {
  const params = new Map<string, tf.Variable>([
    ['layer.weight', tf.variable(tf.randomNormal(shape, 0, 1, 'float32', seed))],
    ['layer.bias', tf.variable(tf.randomNormal([shape[1]], 0, 1, 'float32', seed + 1))],
  ]);
  const optimizer = createOptimizer('adam', params, resolveTrainerConfig({}));
  const path = join(dir, name);
  const grads = new Map([...params].map(([k, v]) => [k, tf.onesLike(v)] as [string, tf.Tensor]));
  optimizer.step(grads, 1e-3); // the slots exist from the first step on
  tf.dispose([...grads.values()]);
  try {
    await saveCheckpoint(path, params, config, {
      optimizer,
      trainer: { epoch: 1, batchInEpoch: 0, updates: seed, best: null, badValidations: 0, rng: null, elapsedSec: 0 },
    });
  } finally {
    optimizer.dispose();
    for (const v of params.values()) v.dispose();
  }
  return path;
}

before(async () => {
  await useTestBackend();
  dir = mkdtempSync(join(tmpdir(), 'resmlp-average-'));
});

after(() => rmSync(dir, { recursive: true, force: true }));

describe('averageCheckpoints', () => {
  it('of identical checkpoints is that checkpoint, bit for bit, without optimizer or trainer state', async () => {
    const a = await write('a.safetensors', 11);
    const b = join(dir, 'a-copy.safetensors');
    const c = join(dir, 'a-copy2.safetensors');
    copyFileSync(a, b);
    copyFileSync(a, c);
    const out = join(dir, 'avg-same.safetensors');
    const r = averageCheckpoints([a, b, c], out);
    assert.equal(r.tensors, 2);
    assert.equal(r.parameters, 9);
    const src = readSafetensors(a);
    const avg = readSafetensors(out);
    assert.deepEqual([...avg.tensors.keys()].sort(), ['layer.bias', 'layer.weight']);
    assert.ok(
      [...src.tensors.keys()].some((k) => k.startsWith('__optimizer__.')),
      'the inputs do hold optimizer slots',
    );
    for (const [k, t] of avg.tensors) assert.deepEqual(t.data, src.tensors.get(k)!.data, k);
    assert.equal(avg.metadata.trainer, undefined);
    assert.equal(avg.metadata.optimizer, undefined);
    assert.deepEqual(readCheckpointConfig(out), CONFIG);
    assert.deepEqual(JSON.parse(avg.metadata.averaged!), { inputs: ['a.safetensors', 'a-copy.safetensors', 'a-copy2.safetensors'] });
  });

  it('of two is their mean, tensor by tensor', async () => {
    const a = await write('m1.safetensors', 21);
    const b = await write('m2.safetensors', 31);
    const out = join(dir, 'avg-two.safetensors');
    averageCheckpoints([a, b], out);
    const [ta, tb, tm] = [a, b, out].map((p) => readSafetensors(p).tensors);
    for (const k of ['layer.weight', 'layer.bias']) {
      const x = ta!.get(k)!.data;
      const y = tb!.get(k)!.data;
      const m = tm!.get(k)!.data;
      assert.notDeepEqual(x, y);
      assert.deepEqual(tm!.get(k)!.shape, ta!.get(k)!.shape);
      for (let i = 0; i < m.length; i++) assert.equal(m[i], Math.fround((x[i]! + y[i]!) / 2), `${k}[${i}]`);
    }
  });

  it('refuses a different config or a different shape, naming the file and what differs', async () => {
    const a = await write('c1.safetensors', 41);
    const b = await write('c2.safetensors', 42, { kind: 'toy', dim: 4 });
    const c = await write('c3.safetensors', 43, CONFIG, [2, 4]);
    const out = join(dir, 'never.safetensors');
    assert.throws(
      () => averageCheckpoints([a, b], out),
      (e: Error) => e.message.includes(`checkpoint ${b}: its model config differs from ${a}'s`) && e.message.includes('dim: 3 vs 4'),
    );
    assert.throws(
      () => averageCheckpoints([a, c], out),
      (e: Error) => e.message.includes(`checkpoint ${c}: its tensors do not match`) && e.message.includes("'layer.weight': shape [2, 4]"),
    );
    assert.throws(() => averageCheckpoints([a, join(dir, 'missing.safetensors')], out), /missing\.safetensors: file not found/);
    const junk = join(dir, 'junk.safetensors');
    writeFileSync(junk, 'not a checkpoint');
    assert.throws(() => averageCheckpoints([junk], out), /junk\.safetensors/);
  });
});

describe('lastCheckpoints', () => {
  it('finds the numbered checkpoints a run keeps (trainer.keepLast) and says when there are too few', async () => {
    const run = join(dir, 'run');
    const w = tf.variable(tf.scalar(1));
    const params = new Map([['w', w]]);
    const task = {
      params,
      modelConfig: CONFIG,
      numBatches: () => 1,
      batch: () => 0,
      loss: () => tf.mul(tf.square(tf.sub(w, 3)), 1) as tf.Scalar,
      units: () => 1,
      disposeBatch: () => {},
      setTraining: () => {},
      getRngState: () => null,
      setRngState: () => {},
    };
    try {
      await train(task, resolveTrainerConfig({ epochs: 6, checkpointEvery: 1, keepLast: 4, optimizer: 'adam' }), { outDir: run });
    } finally {
      w.dispose();
    }
    const last = lastCheckpoints(run, 3);
    assert.deepEqual(
      last.map((p) => p.slice(run.length + 1)),
      ['checkpoint_4.safetensors', 'checkpoint_5.safetensors', 'checkpoint_6.safetensors'],
    );
    assert.throws(
      () => lastCheckpoints(run, 5),
      /holds only 4 \(checkpoint_3\.safetensors, .*\), fewer than the 5 to average: .*keepLast ≥ 5/,
    );
    const out = join(run, 'avg.safetensors');
    averageCheckpoints(lastCheckpoints(run, 4), out);
    const vals = [3, 4, 5, 6].map((u) => readSafetensors(join(run, `checkpoint_${u}.safetensors`)).tensors.get('w')!.data[0]!);
    assert.equal(readSafetensors(out).tensors.get('w')!.data[0], Math.fround(vals.reduce((s, v) => s + v, 0) / 4));
    assert.throws(() => lastCheckpoints(join(dir, 'nowhere'), 2), /run folder .*nowhere not found/);
  });
});
