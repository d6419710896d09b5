// The shared training loop on a toy task (softmax regression on seeded random data, with a
// seeded "noise" RNG standing in for dropout): exact resume, accumulation, early stopping,
// interrupt, no tensor leaks, and the time-budget planner on a fake clock.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { train, resolveTrainerConfig, planUpdates, type TrainTask, LAST, BEST } from '../../src/train/loop.js';
import { Rng, type RngState } from '../../src/util/rng.js';
import { readSafetensors, writeSafetensors, type TensorToWrite } from '../../src/io/safetensors.js';
import { toyBatch, toyWeights } from './toy-softmax.js';

before(async () => {
  await tf.setBackend('cpu');
});

interface Batch {
  x: tf.Tensor2D;
  y: tf.Tensor1D;
}

/** 8 batches of 4 examples, 3 features, 2 classes; batch (e, i) is a pure function of (seed, e, i). */
function toyTask(seed = 1): TrainTask<Batch> & { dispose(): void; noise: Rng } {
  const { w, b, params } = toyWeights();
  const noise = new Rng(seed + 100); // stands in for a dropout generator: consumed every loss call
  let training = true;
  const task = {
    params,
    modelConfig: { kind: 'toy', features: 3 },
    noise,
    numBatches: () => 8,
    batch(epoch: number, i: number): Batch {
      return toyBatch(new Rng(`${seed}/${epoch}/${i}`));
    },
    loss(batch: Batch): tf.Scalar {
      const jitter = training ? noise.uniform() * 0.01 : 0;
      const logits = tf.add(tf.matMul(tf.add(batch.x, jitter), w), b);
      return tf.losses.softmaxCrossEntropy(tf.oneHot(batch.y, 2), logits) as tf.Scalar;
    },
    units: () => 4,
    disposeBatch(batch: Batch) {
      batch.x.dispose();
      batch.y.dispose();
    },
    setTraining(t: boolean) {
      training = t;
    },
    getRngState: () => noise.getState(),
    setRngState: (s: unknown) => noise.setState(s as RngState),
    async validate() {
      const bt = task.batch(999, 0);
      const l = tf.tidy(() => task.loss(bt));
      const loss = (await l.data())[0]!;
      l.dispose();
      task.disposeBatch(bt);
      return { loss };
    },
    dispose() {
      w.dispose();
      b.dispose();
    },
  };
  return task;
}

const base = {
  optimizer: 'adamw',
  schedule: { name: 'cosine' as const, lr: 0.05, warmupSteps: 2, warmupInit: 0, totalSteps: 16, minLr: 0 },
};

function weights(task: TrainTask<Batch>): number[] {
  return [...task.params.values()].flatMap((v) => Array.from(v.dataSync()));
}

test('resume continues exactly: 2 updates + save + resume + 2 updates equals 4 updates', async () => {
  const straight = toyTask();
  await train(straight, resolveTrainerConfig({ ...base, epochs: 2, maxUpdates: 4 }), { outDir: mkdtempSync(join(tmpdir(), 'loop-a-')) });

  const dir = mkdtempSync(join(tmpdir(), 'loop-b-'));
  const first = toyTask();
  const r1 = await train(first, resolveTrainerConfig({ ...base, epochs: 2, maxUpdates: 2 }), { outDir: dir });
  assert.equal(r1.stoppedBy, 'maxUpdates');
  first.dispose();
  const second = toyTask(); // fresh weights and RNG: everything must come from the checkpoint
  second.noise.next();
  const r2 = await train(second, resolveTrainerConfig({ ...base, epochs: 2, maxUpdates: 4 }), { outDir: dir });
  assert.equal(r2.updates, 4);
  assert.deepEqual(weights(second), weights(straight));
  straight.dispose();
  second.dispose();
});

test('updateFreq 2 takes half the updates per epoch', async () => {
  const task = toyTask();
  const r = await train(task, resolveTrainerConfig({ ...base, epochs: 1, updateFreq: 2 }), {
    outDir: mkdtempSync(join(tmpdir(), 'loop-c-')),
  });
  assert.equal(r.updates, 4);
  assert.equal(r.epochsDone, 1);
  task.dispose();
});

test('validation writes best; numbered checkpoints are pruned to keepLast', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'loop-d-'));
  const task = toyTask();
  const r = await train(task, resolveTrainerConfig({ ...base, epochs: 1, validateEvery: 2, checkpointEvery: 2, keepLast: 2 }), {
    outDir: dir,
  });
  assert.ok(existsSync(join(dir, LAST)) && existsSync(join(dir, BEST)));
  assert.deepEqual(
    readdirSync(dir)
      .filter((f) => /^checkpoint_\d+/.test(f))
      .sort(),
    ['checkpoint_6.safetensors', 'checkpoint_8.safetensors'],
  );
  assert.ok(r.best !== null && r.lastValidation !== null);
  task.dispose();
});

test('early stopping after `patience` validations without improvement', async () => {
  const task = toyTask();
  // lr so small nothing improves measurably? No: maximize the loss instead, so improving training makes it "worse".
  const r = await train(task, resolveTrainerConfig({ ...base, epochs: 5, validateEvery: 1, patience: 2, maximize: true }), {
    outDir: mkdtempSync(join(tmpdir(), 'loop-e-')),
  });
  assert.equal(r.stoppedBy, 'patience');
  assert.ok(r.updates < 40);
  task.dispose();
});

test('an aborted signal stops at the next update and saves last', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'loop-f-'));
  const task = toyTask();
  const ac = new AbortController();
  const r = await train(task, resolveTrainerConfig({ ...base, epochs: 3 }), {
    outDir: dir,
    signal: ac.signal,
    hooks: { onUpdate: (u) => u.update === 3 && ac.abort() },
  });
  assert.equal(r.stoppedBy, 'interrupt');
  assert.equal(r.updates, 3);
  assert.ok(existsSync(join(dir, LAST)));
  task.dispose();
});

test('a training update leaks no tensors', async () => {
  const task = toyTask();
  const dir = mkdtempSync(join(tmpdir(), 'loop-g-'));
  await train(task, resolveTrainerConfig({ ...base, epochs: 1, maxUpdates: 1 }), { outDir: dir, resume: false });
  const before = tf.memory().numTensors;
  await train(task, resolveTrainerConfig({ ...base, epochs: 1, maxUpdates: 3 }), {
    outDir: mkdtempSync(join(tmpdir(), 'loop-h-')),
    resume: false,
  });
  assert.equal(tf.memory().numTensors, before);
  task.dispose();
});

test('config errors name the key', () => {
  assert.throws(() => resolveTrainerConfig({ epochz: 3 } as never), /trainer: unknown config key 'epochz'/);
  assert.throws(() => resolveTrainerConfig({ updateFreq: 0 }), /'updateFreq' must be an integer ≥ 1/);
  assert.throws(() => resolveTrainerConfig({ optimizer: 'sgdx' }), /unknown optimizer 'sgdx'/);
});

test('a run that stops before its first scheduled validation is still validated and writes best', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'loop-i-'));
  const task = toyTask();
  const r = await train(task, resolveTrainerConfig({ ...base, epochs: 1, validateEvery: 100, maxUpdates: 3 }), { outDir: dir });
  assert.equal(r.stoppedBy, 'maxUpdates');
  assert.ok(r.lastValidation !== null && existsSync(join(dir, BEST)));
  assert.equal(r.best?.update, 3);
  task.dispose();
});

test('planUpdates: the first epoch plans from its own time per update, later epochs from the mean since the first with 2% headroom, within [updates, maxUpdates]', () => {
  // epoch 1: 8 updates in 50 s = 6.25 s each; ⌊1700 / 6.25⌋ = 272
  assert.deepEqual(planUpdates(1700, { updates: 8, now: 50 }, undefined, 320), { perUpdate: 6.25, planned: 272 });
  // 16 updates since the first epoch took 100 s = 6.25 s each; 1550 s left / (1.02 · 6.25) = 243.1 → 24 + 243
  assert.deepEqual(planUpdates(1700, { updates: 24, now: 150 }, { updates: 8, sec: 50 }, 320), { perUpdate: 6.25, planned: 267 });
  assert.equal(planUpdates(1700, { updates: 24, now: 150 }, { updates: 8, sec: 50 }, 160).planned, 160, 'capped by trainer.epochs');
  assert.equal(planUpdates(1700, { updates: 40, now: 1800 }, { updates: 8, sec: 50 }, 320).planned, 40, 'over budget: ends now');
  assert.equal(planUpdates(1700, { updates: 8, now: 2000 }, undefined, 320).planned, 8, 'over budget after the first epoch: ends now');
  assert.equal(planUpdates(1700, { updates: 8, now: 50 }, undefined, 4).planned, 4, 'capped');
});

test('timeBudgetSec fits the updates and the LR schedule to the budget after the first epoch and again after later ones until half-way, ending inside an epoch, and a resume keeps the plan', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'loop-t-'));
  const slow = toyTask();
  const validate = slow.validate!.bind(slow);
  // A fake clock that only the validations move (one per epoch and one at the end): the first
  // takes 350 ms, the later ones 100 ms, a first epoch slower than the rest as JIT warm-up makes
  // it. Real time (a loaded machine) cannot change the plan.
  let ms = 0;
  let calls = 0;
  slow.validate = async () => {
    ms += calls++ === 0 ? 350 : 100;
    return validate();
  };
  const cfg = resolveTrainerConfig({ ...base, schedule: { ...base.schedule, totalSteps: 0 }, epochs: 40, timeBudgetSec: 1.5 });
  const lrs: number[] = [];
  const plans: { epochs: number; totalUpdates: number }[] = [];
  const logs: string[] = [];
  const told: number[] = [];
  slow.setEpochs = (n) => told.push(n);
  const r = await train(slow, cfg, {
    outDir: dir,
    clock: () => ms,
    hooks: { onUpdate: (u) => lrs.push(u.lr), onPlan: (p) => plans.push(p), log: (m) => logs.push(m) },
  });
  // 8 updates an epoch. Epoch 1: 0.35 s / 8 updates, ⌊1.5 / 0.04375⌋ = 34 updates (5 epochs).
  // Epoch k ≥ 2: 0.1 s / 8 updates since epoch 1, 8k + ⌊(1.15 − 0.1k) / (1.02 · 0.0125)⌋ = 98
  // for k = 2..6 and 99 at k = 7, where 2 · 56 ≥ 99 fixes the plan: 12 epochs and 3 updates.
  assert.deepEqual(
    plans,
    [
      { epochs: 5, totalUpdates: 34 },
      { epochs: 13, totalUpdates: 98 },
      { epochs: 13, totalUpdates: 99 },
    ],
    logs.join('\n'),
  );
  const planned = 99;
  // the task heard the run's length before the first update and after each plan that changed it
  assert.deepEqual(told, [40, ...plans.map((p) => p.epochs)]);
  assert.equal(r.updates, planned);
  assert.equal(r.epochsDone, 12, 'the 13th epoch is cut after 3 of its 8 updates');
  assert.equal(r.stoppedBy, 'done');
  assert.ok(
    logs.some((m) => m.includes('epoch 1 took') && m.includes('planned again after each epoch until half-way')),
    logs.join('\n'),
  );
  const fixed = logs.filter((m) => m.includes('plan fixed'));
  assert.equal(fixed.length, 1, logs.join('\n'));
  assert.match(
    fixed[0]!,
    /epochs 2–7 took 0\.0125 s per update, so the run trains 99 updates \(13 of 40 epochs, the last in part\), LR schedule fitted to them; plan fixed/,
  );
  assert.equal(r.elapsedSec, (350 + 12 * 100) / 1000, "elapsed time is the clock's: 13 validations (12 epoch ends and the last update)");
  // the cosine schedule ran to its end: the last update's lr is near minLr (0), not mid-schedule
  assert.equal(lrs.length, planned);
  assert.ok(lrs.at(-1)! < 0.01 * base.schedule.lr, `last lr ${lrs.at(-1)}`);

  // A resumed run (faster now: no sleeping validation) keeps the saved plan instead of re-planning.
  const fast = toyTask();
  const toldFast: number[] = [];
  const fastLogs: string[] = [];
  fast.setEpochs = (n) => toldFast.push(n);
  const more = await train(
    fast,
    resolveTrainerConfig({ ...base, schedule: { ...base.schedule, totalSteps: 0 }, epochs: 40, timeBudgetSec: 3 }),
    {
      outDir: dir,
      clock: () => ms,
      hooks: { onPlan: () => assert.fail('a resumed run must not re-plan'), log: (m) => fastLogs.push(m) },
    },
  );
  assert.equal(more.epochsDone, 12);
  assert.equal(more.updates, planned, 'already done: nothing more to train');
  assert.deepEqual(toldFast, [13], 'a resumed run tells the task the saved plan');
  assert.ok(
    fastLogs.some((m) => m.includes('fitted to a time budget of 1.5 s and is kept: trainer.timeBudgetSec 3 does not change a saved plan')),
    fastLogs.join('\n'),
  );

  // A checkpoint whose plan does not fit trainer.epochs is refused with the numbers.
  const third = toyTask();
  await assert.rejects(
    train(third, resolveTrainerConfig({ ...base, epochs: 1, timeBudgetSec: 1.5 }), { outDir: dir }),
    /plans 13 epochs, but trainer.epochs is 1/,
  );

  // A checkpoint written before plans were in updates (whole epochs, no plannedUpdates) resumes
  // to the end of its planned epochs: rewrite the last one's trainer state to such a state.
  const { tensors, metadata } = readSafetensors(join(dir, LAST));
  const { plannedUpdates: _u, firstEpochUpdates: _f, ...older } = JSON.parse(metadata.trainer!);
  const write = new Map<string, TensorToWrite>(
    [...tensors].map(([k, t]) => [k, { dtype: t.dtype === 'F32' ? 'F32' : undefined, shape: t.shape, data: t.data }]),
  );
  writeSafetensors(join(dir, LAST), write, {
    ...metadata,
    trainer: JSON.stringify({ ...older, epoch: 5, batchInEpoch: 0, updates: 40, plannedEpochs: 6 }),
  });
  const older6 = toyTask();
  const resumed = await train(
    older6,
    resolveTrainerConfig({ ...base, schedule: { ...base.schedule, totalSteps: 0 }, epochs: 40, timeBudgetSec: 1.5 }),
    {
      outDir: dir,
      clock: () => ms,
    },
  );
  assert.equal(resumed.updates, 48, 'an epoch-planned checkpoint trains to the end of its 6 epochs');
  assert.equal(resumed.epochsDone, 6);
  older6.dispose();

  // A checkpoint whose planned updates do not fit trainer.epochs is refused with the numbers, and
  // the checkpoint is left as it was.
  const saved = readSafetensors(join(dir, LAST));
  writeSafetensors(join(dir, LAST), write, {
    ...saved.metadata,
    trainer: JSON.stringify({ ...JSON.parse(saved.metadata.trainer!), plannedUpdates: 10_000 }),
  });
  const before = readFileSync(join(dir, LAST));
  const fourth = toyTask();
  await assert.rejects(
    train(fourth, resolveTrainerConfig({ ...base, schedule: { ...base.schedule, totalSteps: 0 }, epochs: 40, timeBudgetSec: 1.5 }), {
      outDir: dir,
    }),
    /plans 10000 updates, but trainer\.epochs holds 320 \(expected an integer 1\.\.320\)/,
  );
  assert.deepEqual(readFileSync(join(dir, LAST)), before, 'the refused checkpoint is unchanged');
  fourth.dispose();
  assert.throws(() => resolveTrainerConfig({ timeBudgetSec: -1 }), /timeBudgetSec must be ≥ 0/);
  for (const t of [slow, fast, third]) t.dispose();
});
