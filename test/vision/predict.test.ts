// vision predict's work (src/vision/predict.ts): the input normalisation (the checkpoint's, else
// ImageNet's for RGB, 0.5/0.5 for one channel) and the top-k classes of a PNG, most probable first.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { PNG } from 'pngjs';
import { useTestBackend } from '../helpers/backend.js';
import { NORMALIZATION } from '../../src/vision/data/dataset.js';
import { ResMlp } from '../../src/vision/model.js';
import { inputNormalization, predictImage } from '../../src/vision/predict.js';

before(async () => {
  await useTestBackend();
});

test("normalisation: the checkpoint's statistics, else ImageNet's (timm) for RGB and 0.5 for one channel", () => {
  assert.deepEqual(inputNormalization(3, {}), { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
  assert.deepEqual(inputNormalization(3, {}), { mean: [...NORMALIZATION.imagenet.mean], std: [...NORMALIZATION.imagenet.std] });
  assert.deepEqual(inputNormalization(1, {}), { mean: [0.5], std: [0.5] });
  assert.deepEqual(inputNormalization(1, { mean: [0.286], std: [0.353] }), { mean: [0.286], std: [0.353] });
});

test('top-k: most probable first, class names or `class k`, never more than the classes', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resmlp-predict-'));
  const model = new ResMlp({ imgSize: 8, inChans: 1, patchSize: 4, embedDim: 8, depth: 1, numClasses: 3 }, 1);
  model.eval();
  // a head that ignores the image: logits (0, 2, 1) whatever the input
  const w = tf.zeros([3, 8]);
  const b = tf.tensor1d([0, 2, 1]);
  model.head.weight.assign(w);
  model.head.bias!.assign(b);
  tf.dispose([w, b]);
  const png = new PNG({ width: 5, height: 7 });
  png.data.fill(255);
  const file = path.join(dir, 'x.png');
  fs.writeFileSync(file, PNG.sync.write(png));
  const z = Math.exp(0) + Math.exp(2) + Math.exp(1);
  const two = await predictImage(model, { classes: ['cat', 'dog', 'emu'] }, file, { top: 2 });
  assert.deepEqual(
    two.map((c) => [c.index, c.name]),
    [
      [1, 'dog'],
      [2, 'emu'],
    ],
  );
  assert.ok(Math.abs(two[0]!.prob - Math.exp(2) / z) < 1e-5);
  const all = await predictImage(model, {}, file, { top: 10 });
  assert.deepEqual(
    all.map((c) => c.name),
    ['class 1', 'class 2', 'class 0'],
  );
  assert.ok(Math.abs(all.reduce((s, c) => s + c.prob, 0) - 1) < 1e-5);
  model.dispose();
  fs.rmSync(dir, { recursive: true });
});
