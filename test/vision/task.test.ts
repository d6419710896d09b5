// The classification TrainTask through the one training loop, on tiny synthetic images: exact
// resume (2 updates + save + resume in a fresh model + 2 updates = 4 uninterrupted updates, with
// dropout and drop-path active so the RNG state matters), no tensor leak per step, evaluation.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { useTestBackend } from '../helpers/backend.js';
import { resolveTrainerConfig, train } from '../../src/train/loop.js';
import type { ImageSet } from '../../src/vision/data/image-set.js';
import { loadClassifierWithData } from '../../src/vision/checkpoint.js';
import { ResMlp, type ResMlpConfig } from '../../src/vision/model.js';
import { ClassificationTask, evaluate, testViews } from '../../src/vision/task.js';
import { syntheticSet } from './synthetic.js';

before(async () => {
  await useTestBackend();
});

const MODEL: Partial<ResMlpConfig> = {
  imgSize: 8,
  inChans: 1,
  patchSize: 2,
  embedDim: 8,
  depth: 2,
  numClasses: 3,
  layerScale: 0.1,
  drop: 0.1,
  dropPath: 0.2,
};
const TRAINER = resolveTrainerConfig({
  epochs: 2,
  optimizer: 'lamb',
  clipNorm: 1,
  schedule: { name: 'cosine', lr: 1e-2, warmupSteps: 2, warmupInit: 0, totalSteps: 16, minLr: 0 },
  bestMetric: 'accuracy',
  maximize: true,
});

function makeTask(train: ImageSet, val: ImageSet | null, augment = true) {
  const model = new ResMlp(augment ? MODEL : { ...MODEL, drop: 0, dropPath: 0 }, 4);
  const loader = { batchSize: 8, seed: 3, hflip: augment, cropPadding: augment ? 1 : 0, mean: [0.5], std: [0.25] };
  const task = new ClassificationTask(model, { train, val, loader, labelSmoothing: 0.1, dataset: 'synthetic' });
  return { model, task };
}

function snapshot(model: ResMlp): Map<string, number[]> {
  return new Map([...model.stateDict()].map(([k, v]) => [k, Array.from(v.dataSync())]));
}

/** The 8×8 grey images of `set` as the model sees them: (x/255 − 0.5)/0.25, (n, 8, 8, 1). */
function normalised(set: ImageSet): tf.Tensor4D {
  return tf.tidy(() => tf.div(tf.sub(tf.div(tf.tensor4d(set.images, [set.n, 8, 8, 1], 'float32'), 255), 0.5), 0.25)) as tf.Tensor4D;
}

/** Accuracy and mean negative log-likelihood of class probabilities `pv` (n, C) against the labels of `set`. */
function scoreByHand(pv: number[][], set: ImageSet): { accuracy: number; loss: number } {
  let hits = 0,
    loss = 0;
  for (let i = 0; i < set.n; i++) {
    const row = pv[i]!,
      y = set.labels[i]!;
    if (row.indexOf(Math.max(...row)) === y) hits++;
    loss -= Math.log(row[y]!);
  }
  return { accuracy: hits / set.n, loss: loss / set.n };
}

test('resume: 2 updates + save + resume (fresh model) + 2 updates equals 4 uninterrupted updates', async () => {
  const data = syntheticSet(64);
  const dirA = fs.mkdtempSync(path.join(os.tmpdir(), 'resmlp-vision-a-'));
  const dirB = fs.mkdtempSync(path.join(os.tmpdir(), 'resmlp-vision-b-'));

  const a = makeTask(data, null);
  await train(a.task, { ...TRAINER, maxUpdates: 4 }, { outDir: dirA, resume: false });
  const straight = snapshot(a.model);

  const b1 = makeTask(data, null);
  const r1 = await train(b1.task, { ...TRAINER, maxUpdates: 2 }, { outDir: dirB, resume: false });
  assert.equal(r1.updates, 2);
  b1.model.dispose();
  const b2 = makeTask(data, null); // a new process would start here
  const r2 = await train(b2.task, { ...TRAINER, maxUpdates: 4 }, { outDir: dirB, resume: true });
  assert.equal(r2.updates, 4);
  const resumed = snapshot(b2.model);

  for (const [k, v] of straight) assert.deepEqual(resumed.get(k), v, `parameter ${k} differs after resume`);
  // and the dropout masks matter: the same run with the masks of other batches ends elsewhere
  const b3 = makeTask(data, null);
  const reseed = b3.model.dropoutRng.reseed.bind(b3.model.dropoutRng);
  b3.model.dropoutRng.reseed = (key: string) => reseed(`other:${key}`);
  await train(
    b3.task,
    { ...TRAINER, maxUpdates: 4 },
    { outDir: fs.mkdtempSync(path.join(os.tmpdir(), 'resmlp-vision-c-')), resume: false },
  );
  const other = snapshot(b3.model);
  assert.ok(
    [...straight].some(([k, v]) => JSON.stringify(other.get(k)) !== JSON.stringify(v)),
    'dropout masks change the result',
  );

  // the checkpoint holds the config and the data description
  const { model: loaded, data: meta } = loadClassifierWithData(path.join(dirB, 'checkpoint_last.safetensors'));
  assert.deepEqual(meta, { dataset: 'synthetic', classes: ['top', 'middle', 'bottom'], mean: [0.5], std: [0.25] });
  assert.equal(loaded.config.embedDim, 8);
  for (const m of [a.model, b2.model, b3.model, loaded]) m.dispose();
  for (const d of [dirA, dirB]) fs.rmSync(d, { recursive: true });
});

test('a training step leaks no tensors; training learns the synthetic task', async () => {
  const data = syntheticSet(96, 1);
  const val = syntheticSet(30, 2);
  const { model, task } = makeTask(data, val, false);
  const vars = [...task.params.values()];
  const step = () => {
    const b = task.batch(0, 0);
    const { value, grads } = tf.variableGrads(() => task.loss(b), vars);
    task.disposeBatch(b);
    tf.dispose([value, ...Object.values(grads)]);
  };
  step();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) step();
  assert.equal(tf.memory().numTensors, before, 'tensors leaked by loss/backward');

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resmlp-vision-learn-'));
  const beforeTrain = tf.memory().numTensors;
  const r = await train(
    task,
    { ...TRAINER, epochs: 8, optimizer: 'adamw', schedule: { ...TRAINER.schedule, lr: 1e-2, totalSteps: 0 } },
    { outDir: dir, resume: false },
  );
  assert.equal(tf.memory().numTensors, beforeTrain, 'tensors leaked by the training loop');
  const ev = await evaluate(model, val, task.loader.config);
  assert.equal(ev.count, 30);
  assert.ok(ev.accuracy >= 0.9, `accuracy ${ev.accuracy} on an easy synthetic task`);
  assert.equal(ev.top5, 1); // 3 classes: top-5 is everything
  assert.ok(r.best !== null && r.best.score >= 0.9);
  model.dispose();
  fs.rmSync(dir, { recursive: true });
});

test('cleanEpochs: the trainer tells the task the run length, so its last epoch is uncropped', async () => {
  const data = syntheticSet(16);
  const model = new ResMlp(MODEL, 4);
  const task = new ClassificationTask(model, {
    train: data,
    val: null,
    loader: { batchSize: 8, cropPadding: 1, cleanEpochs: 1 },
    dataset: 'synthetic',
  });
  assert.ok(!task.loader.isCleanEpoch(1), 'before training the run length is unknown');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resmlp-vision-c-'));
  await train(task, { ...TRAINER, epochs: 3, schedule: { ...TRAINER.schedule, totalSteps: 0 } }, { outDir: dir, resume: false });
  assert.deepEqual(
    [0, 1, 2].map((e) => task.loader.isCleanEpoch(e)),
    [false, false, true],
  );
  assert.ok(task.loader.augmentDraws(2, 0, 8)!.every((d) => d.dy === 1 && d.dx === 1));
  model.dispose();
  fs.rmSync(dir, { recursive: true });
});

test('task checks the data against the model', () => {
  const data = syntheticSet(16);
  const model = new ResMlp({ ...MODEL, numClasses: 4 }, 0);
  assert.throws(
    () => new ClassificationTask(model, { train: data, val: null, loader: {} }),
    /the data has 3 classes but the model head has 4/,
  );
  const model2 = new ResMlp({ ...MODEL, imgSize: 16 }, 0);
  assert.throws(
    () => new ClassificationTask(model2, { train: data, val: null, loader: {} }),
    /images are 8×8×1 but the model expects 16×16×1/,
  );
  model.dispose();
  model2.dispose();
});

test('test-time views: shifts by ±s pixels with a black border (per channel), then mirrors', () => {
  // one 3×4 image with 2 channels: value = 10·y + x + 100·c (normalised units); black is (−1, −2)
  const v = Array.from({ length: 3 * 4 * 2 }, (_, i) => {
    const c = i % 2,
      x = (i >> 1) % 4,
      y = Math.floor(i / 8);
    return 10 * y + x + 100 * c;
  });
  const img = tf.tensor4d(v, [1, 3, 4, 2]);
  const at = (t: tf.Tensor, y: number, x: number, c: number) => t.dataSync()[(y * 4 + x) * 2 + c]!;
  const views = testViews(img, [-1, -2], 1, true);
  assert.equal(views.length, 10);
  const [id, up, down, left, right] = views; // shifted by dy = −1, +1 and dx = −1, +1 (content moves the other way)
  for (let y = 0; y < 3; y++)
    for (let x = 0; x < 4; x++)
      for (let c = 0; c < 2; c++) {
        const src = (yy: number, xx: number) => (yy < 0 || yy > 2 || xx < 0 || xx > 3 ? [-1, -2][c]! : 10 * yy + xx + 100 * c);
        assert.equal(at(id!, y, x, c), src(y, x));
        assert.equal(at(up!, y, x, c), src(y - 1, x));
        assert.equal(at(down!, y, x, c), src(y + 1, x));
        assert.equal(at(left!, y, x, c), src(y, x - 1));
        assert.equal(at(right!, y, x, c), src(y, x + 1));
        assert.equal(at(views[5 + 3]!, y, x, c), src(y, 3 - x - 1), 'mirror of the left shift');
      }
  assert.equal(testViews(img, [0], 0, false).length, 1);
  assert.throws(() => testViews(img, [0], 3, false), /test-time shift must be an integer in \[0, 3\), got 3/);
  tf.dispose([img, ...views]);
});

test('shift evaluation scores the mean softmax over the 10 views; no tensors leak', async () => {
  const set = syntheticSet(30, 5);
  const model = new ResMlp({ ...MODEL, drop: 0, dropPath: 0 }, 11);
  const head = model.stateDict().get('head.weight')!;
  head.assign(tf.tidy(() => tf.randomNormal(head.shape, 0, 1, 'float32', 5)));
  const norm = { mean: [0.5], std: [0.25] };
  const before = tf.memory().numTensors;
  const flip = await evaluate(model, set, norm, 7, { flip: true });
  const tta = await evaluate(model, set, norm, 7, { flip: true, shift: 1 });
  assert.equal(tf.memory().numTensors, before, 'tensors leaked by evaluation');
  const x = normalised(set); // (n, 8, 8, 1)
  model.eval();
  const p = tf.tidy(() => tf.div(tf.addN(testViews(x, [-2], 1, true).map((v) => tf.softmax(model.forward(v)))), 10));
  const pv = (await p.array()) as number[][];
  tf.dispose([x, p]);
  const byHand = scoreByHand(pv, set);
  assert.ok(Math.abs(tta.accuracy - byHand.accuracy) < 1e-9, `tta accuracy ${tta.accuracy} vs ${byHand.accuracy} by hand`);
  assert.ok(Math.abs(tta.loss - byHand.loss) < 1e-4, `tta loss ${tta.loss} vs ${byHand.loss} by hand`);
  assert.notEqual(tta.loss, flip.loss);
  model.dispose();
});

test('flip evaluation scores the mean softmax of each image and its mirror', async () => {
  const set = syntheticSet(30, 5);
  const model = new ResMlp({ ...MODEL, drop: 0, dropPath: 0 }, 11);
  const head = model.stateDict().get('head.weight')!; // zero at init: make the logits differ
  head.assign(tf.tidy(() => tf.randomNormal(head.shape, 0, 1, 'float32', 5)));
  const norm = { mean: [0.5], std: [0.25] };
  const before = tf.memory().numTensors;
  const plain = await evaluate(model, set, norm, 7);
  const flip = await evaluate(model, set, norm, 7, { flip: true });
  assert.equal(tf.memory().numTensors, before, 'tensors leaked by evaluation');
  // the same by hand: images (N, 8, 8, 1) normalised, mirrored along W
  const x = normalised(set); // (n, 8, 8, 1)
  model.eval();
  const p = tf.tidy(() => tf.div(tf.add(tf.softmax(model.forward(x)), tf.softmax(model.forward(tf.reverse(x, 2) as tf.Tensor4D))), 2));
  const pv = (await p.array()) as number[][];
  tf.dispose([x, p]);
  const byHand = scoreByHand(pv, set);
  assert.equal(flip.count, 30);
  assert.ok(Math.abs(flip.accuracy - byHand.accuracy) < 1e-9, `flip accuracy ${flip.accuracy} vs ${byHand.accuracy} by hand`);
  assert.ok(Math.abs(flip.loss - byHand.loss) < 1e-4, `flip loss ${flip.loss} vs ${byHand.loss} by hand`);
  assert.notEqual(flip.loss, plain.loss); // the mirror changed something: the images are not symmetric
  model.dispose();
});
