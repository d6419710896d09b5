// A classifier checkpoint written by older code still loads and computes the same thing: the tiny
// checkpoint of test/fixtures/checkpoints (written by its make.ts, in the training loop's format,
// before the block took its layers passed in) loads with its config and data description and
// gives the logits recorded when it was written, to 1e-5.
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, test } from 'node:test';
import { loadClassifierWithData } from '../../src/vision/checkpoint.js';
import { fixturePath } from '../fixtures/paths.js';
import { useTestBackend } from '../helpers/backend.js';

const fixture = (name: string) => fixturePath('checkpoints', name);
const expected = JSON.parse(readFileSync(fixture('expected.json'), 'utf8')) as {
  vision: { file: string; inputShape: number[]; input: number[]; logitsShape: number[]; logits: number[] };
};

before(async () => {
  await useTestBackend();
});

test('a classifier checkpoint written before the shared block loads and gives the recorded logits to 1e-5', () => {
  const rec = expected.vision;
  const { model, data } = loadClassifierWithData(fixture(rec.file));
  assert.deepEqual(data.classes, ['a', 'b', 'c']);
  assert.equal(model.config.depth, 1);
  const x = tf.tensor4d(rec.input, rec.inputShape as [number, number, number, number]);
  const logits = model.predict(x); // (B, classes)
  assert.deepEqual(logits.shape, rec.logitsShape);
  const a = logits.dataSync();
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - rec.logits[i]!));
  assert.ok(d <= 1e-5, `logits differ by ${d}`);
  tf.dispose([x, logits]);
  model.dispose();
});
