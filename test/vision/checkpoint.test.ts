// Checkpoint parity and loading: timm's logits on the tiny-timm fixture (test/fixtures/resmlp: timm
// names, and the same weights under the official deit names), our round trip, and one clear error
// per bad file.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { readSafetensors, writeSafetensors } from '../../src/io/safetensors.js';
import { useTestBackend } from '../helpers/backend.js';
import { fixturePath } from '../fixtures/paths.js';
import { deitToTimm, fromTimmConfig, loadClassifier, saveClassifier, timmToDeit } from '../../src/vision/checkpoint.js';
import { ResMlp } from '../../src/vision/model.js';
import { maxAbsDiff } from '../helpers/arrays.js';

interface Fixture {
  config: Record<string, unknown>;
  input_shape: [number, number, number, number];
  input: number[];
  logits_shape: [number, number];
  logits: number[];
}

const fixtureFile = () => fixturePath('resmlp', 'tiny-timm.safetensors');
const fixture = (): Fixture => JSON.parse(fs.readFileSync(fixturePath('resmlp', 'tiny-timm.json'), 'utf8')) as Fixture;

before(async () => {
  await useTestBackend();
});

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'resmlp-vision-ckpt-'));
}

/** The fixture's NCHW input as NHWC. */
function nhwcInput(f: Fixture): tf.Tensor4D {
  return tf.tidy(() => tf.transpose(tf.tensor4d(f.input, f.input_shape), [0, 2, 3, 1]) as tf.Tensor4D);
}

function checkParity(model: ResMlp, f: Fixture): number {
  const x = nhwcInput(f);
  const logits = model.predict(x);
  assert.deepEqual(logits.shape, f.logits_shape);
  const d = maxAbsDiff(logits.dataSync(), f.logits);
  x.dispose();
  logits.dispose();
  return d;
}

test('tiny-timm: timm-named weights reproduce timm logits within 1e-4 (config inferred from shapes)', () => {
  const f = fixture();
  const model = loadClassifier(fixtureFile());
  assert.deepEqual(
    {
      imgSize: model.config.imgSize,
      patchSize: model.config.patchSize,
      embedDim: model.config.embedDim,
      depth: model.config.depth,
      numClasses: model.config.numClasses,
      inChans: model.config.inChans,
    },
    { imgSize: 12, patchSize: 4, embedDim: 16, depth: 2, numClasses: 5, inChans: 3 },
  );
  const d = checkParity(model, f);
  assert.ok(d <= 1e-4, `max |logit diff| ${d}`);
  model.dispose();
});

test('tiny-timm: an explicit timm config gives the same logits', () => {
  const f = fixture();
  const model = loadClassifier(fixtureFile(), fromTimmConfig(f.config));
  assert.ok(checkParity(model, f) <= 1e-4);
  model.dispose();
});

test('tiny-timm under the official deit names (patch_embed, attn, mlp, gamma_1/2, 1-D alpha/beta) loads through the rename table', () => {
  const f = fixture();
  const dir = tmpDir();
  const { tensors } = readSafetensors(fixtureFile());
  const deit = timmToDeit(tensors);
  assert.ok(deit.has('patch_embed.proj.weight'));
  assert.ok(deit.has('blocks.0.gamma_1') && deit.has('blocks.0.gamma_2'));
  assert.ok(deit.has('blocks.1.attn.weight') && deit.has('blocks.1.mlp.fc1.weight'));
  assert.deepEqual(deit.get('blocks.0.norm1.alpha')!.shape, [16]);
  assert.deepEqual(deit.get('norm.beta')!.shape, [16]);
  // the rename table maps them back exactly
  assert.deepEqual([...deitToTimm(deit).keys()].sort(), [...tensors.keys()].sort());
  const file = path.join(dir, 'deit.safetensors');
  writeSafetensors(file, new Map([...deit].map(([k, t]) => [k, { shape: t.shape, data: t.data }])), {});
  const model = loadClassifier(file);
  const d = checkParity(model, f);
  assert.ok(d <= 1e-4, `max |logit diff| ${d}`);
  model.dispose();
  fs.rmSync(dir, { recursive: true });
});

test('save + load round trip keeps the config (metadata) and the logits', async () => {
  const dir = tmpDir();
  const model = new ResMlp(
    { imgSize: 28, inChans: 1, patchSize: 7, embedDim: 16, depth: 2, numClasses: 5, layerScale: 0.1, pooling: 'class-mlp', classBlocks: 1 },
    3,
  );
  // a non-zero head so the logits depend on every weight
  tf.tidy(() => model.head.weight.assign(tf.randomNormal(model.head.weight.shape, 0, 0.1, 'float32', 1)));
  const file = path.join(dir, 'm.safetensors');
  await saveClassifier(file, model);
  const loaded = loadClassifier(file);
  assert.deepEqual(loaded.config, model.config);
  const x = tf.randomNormal([2, 28, 28, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
  const a = model.predict(x);
  const b = loaded.predict(x);
  assert.deepEqual(Array.from(a.dataSync()), Array.from(b.dataSync()));
  tf.dispose([x, a, b]);
  model.dispose();
  loaded.dispose();
  fs.rmSync(dir, { recursive: true });
});

test('bad files: each case names what is wrong', () => {
  const dir = tmpDir();
  const { tensors } = readSafetensors(fixtureFile());
  const write = (name: string, m: Map<string, { shape: number[]; data: Float32Array | Int32Array }>) => {
    const file = path.join(dir, name);
    writeSafetensors(file, new Map([...m].map(([k, t]) => [k, { shape: t.shape, data: t.data }])), {});
    return file;
  };
  // wrong shape of one key, with the architecture given explicitly
  const wrong = new Map(tensors);
  const fc1 = wrong.get('blocks.1.mlp_channels.fc1.weight')!;
  wrong.set('blocks.1.mlp_channels.fc1.weight', { ...fc1, shape: [32, 32], data: fc1.data.slice(0, 32 * 32) as Float32Array });
  const cfg = fromTimmConfig(fixture().config);
  assert.throws(
    () => loadClassifier(write('wrong-shape.safetensors', wrong), cfg),
    /'blocks\.1\.mlp_channels\.fc1\.weight': expected shape \[64, 16\], found \[32, 32\]/,
  );
  // missing key
  const missing = new Map(tensors);
  missing.delete('blocks.0.ls2');
  assert.throws(() => loadClassifier(write('missing.safetensors', missing), cfg), /missing keys \(1\): 'blocks\.0\.ls2'/);
  // unexpected key
  const extra = new Map(tensors);
  extra.set('blocks.2.ls1', { dtype: 'F32', shape: [16], data: new Float32Array(16) });
  assert.throws(() => loadClassifier(write('extra.safetensors', extra), cfg), /unexpected keys \(1\): 'blocks\.2\.ls1'/);
  // config mismatch (file holds 5 classes)
  assert.throws(
    () => loadClassifier(fixtureFile(), { ...cfg, numClasses: 7 }),
    /'head\.weight': expected shape \[7, 16\], found \[5, 16\]/,
  );
  // truncated file
  const bytes = fs.readFileSync(fixtureFile());
  const trunc = path.join(dir, 'trunc.safetensors');
  fs.writeFileSync(trunc, bytes.subarray(0, bytes.length - 100));
  assert.throws(() => loadClassifier(trunc), /trunc\.safetensors/);
  // not a safetensors file at all
  const junk = path.join(dir, 'junk.safetensors');
  fs.writeFileSync(junk, 'hello');
  assert.throws(() => loadClassifier(junk), /junk\.safetensors/);
  // no such file
  assert.throws(() => loadClassifier(path.join(dir, 'nope.safetensors')), /no such file/);
  // no config and not a ResMLP state dict
  const foreign = write('foreign.safetensors', new Map([['w', { shape: [2], data: new Float32Array(2) }]]));
  assert.throws(() => loadClassifier(foreign), /cannot infer the model config: key 'stem\.proj\.weight' is missing/);
  fs.rmSync(dir, { recursive: true });
});
