// One rank of the fault tests' mpirun jobs (mpirun.test.ts): the one training loop on a toy task
// (softmax regression on seeded data, batch (e, i) a pure function of them) with a fault injected
// by RESMLP_TEST_FAULT=<batch>:<throw|hang|exit> — the rank that trains that batch of the first
// epoch raises, blocks for a minute, or exits with code 3. Usage: rank-worker.ts <outDir>.
import * as tf from '@tensorflow/tfjs';
import { joinWorld } from '../../../src/train/distributed/mpi.js';
import { resolveTrainerConfig, train, type TrainTask } from '../../../src/train/loop.js';
import { Rng } from '../../../src/util/rng.js';
import { toyBatch, toyWeights } from '../toy-softmax.js';

interface Batch {
  x: tf.Tensor2D;
  y: tf.Tensor1D;
  index: number;
}

const world = joinWorld();
await tf.setBackend('cpu');
const [atBatch, kind] = (process.env.RESMLP_TEST_FAULT ?? '-1:none').split(':') as [string, string];

const { w, b, params } = toyWeights();
const task: TrainTask<Batch> = {
  params,
  modelConfig: { kind: 'toy', features: 3 },
  numBatches: () => 40,
  batch(epoch, i) {
    return { ...toyBatch(new Rng(`1/${epoch}/${i}`)), index: i };
  },
  loss(batch) {
    if (batch.index === Number(atBatch)) {
      if (kind === 'throw') throw new Error(`injected fault at batch ${batch.index}`);
      if (kind === 'exit') process.exit(3);
      if (kind === 'hang') Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
    }
    const logits = tf.add(tf.matMul(batch.x, w), b);
    return tf.losses.softmaxCrossEntropy(tf.oneHot(batch.y, 2), logits) as tf.Scalar;
  },
  units: () => 4,
  disposeBatch(batch) {
    batch.x.dispose();
    batch.y.dispose();
  },
  setTraining() {},
  getRngState: () => null,
  setRngState() {},
};

const cfg = resolveTrainerConfig({
  epochs: 1,
  optimizer: 'adam',
  checkpointEvery: 2,
  schedule: { name: 'constant', lr: 0.01, warmupSteps: 0, warmupInit: 0, totalSteps: 1, minLr: 0 },
});
const r = await train(task, cfg, { outDir: process.argv[2]!, resume: true });
process.stdout.write(`${world.label} done: ${r.updates} updates\n`);
