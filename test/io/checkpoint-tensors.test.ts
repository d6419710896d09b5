// Tests of tensor-map checkpoints: round trip with config metadata, shape checks, loading into
// variables (strict and lenient), and the fixture checked against its expected shapes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { saveTensors, saveTensorsSync, loadTensors, checkShapes, loadIntoVariables } from '../../src/io/checkpoint-tensors.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { fixturePath } from '../fixtures/paths.js';

tf.setBackend('cpu');

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'ckt-test-'));
}

test('saveTensors/loadTensors round trip with config in metadata', async () => {
  const dir = tmpDir();
  const p = path.join(dir, 'm.safetensors');
  const w = tf.variable(
    tf.tensor2d([
      [1, 2, 3],
      [4, 5, 6],
    ]),
    true,
    'ckt_w',
  );
  const steps = tf.tensor1d([7, 8], 'int32');
  const flag = tf.tensor1d([true, false], 'bool');
  const config = { embedDim: 64, depth: 2, name: 'resmlp_tiny' };
  await saveTensors(
    p,
    new Map<string, tf.Tensor>([
      ['blocks.0.w', w],
      ['steps', steps],
      ['flag', flag],
    ]),
    { config, metadata: { format: 'resmlp-ts' } },
  );
  const raw = readSafetensors(p);
  assert.equal(raw.metadata.config, JSON.stringify(config));
  assert.equal(raw.metadata.format, 'resmlp-ts');
  const loaded = loadTensors<typeof config>(p);
  assert.deepEqual(loaded.config, config);
  assert.deepEqual([...loaded.tensors.keys()], ['blocks.0.w', 'steps', 'flag']);
  assert.deepEqual(await loaded.tensors.get('blocks.0.w')!.array(), [
    [1, 2, 3],
    [4, 5, 6],
  ]);
  assert.equal(loaded.tensors.get('steps')!.dtype, 'int32');
  assert.deepEqual(await loaded.tensors.get('flag')!.array(), [1, 0]);
  // sync variant writes the same bytes
  const p2 = path.join(dir, 'm2.safetensors');
  saveTensorsSync(
    p2,
    new Map<string, tf.Tensor>([
      ['blocks.0.w', w],
      ['steps', steps],
      ['flag', flag],
    ]),
    { config, metadata: { format: 'resmlp-ts' } },
  );
  assert.deepEqual(fs.readFileSync(p2), fs.readFileSync(p));
  await assert.rejects(saveTensors(p, new Map([['x', w]]), { metadata: { config: '{}' } }), /'config' is reserved/);
  for (const t of loaded.tensors.values()) t.dispose();
  w.dispose();
  steps.dispose();
  flag.dispose();
  fs.rmSync(dir, { recursive: true });
});

test('checkShapes lists mis-shaped, missing and unexpected keys with expected and found shapes', () => {
  const expected = new Map<string, number[]>([
    ['a', [2, 3]],
    ['b', [4]],
    ['c', [1]],
  ]);
  const found = new Map<string, number[]>([
    ['a', [3, 2]],
    ['b', [4]],
    ['d', [5]],
  ]);
  assert.throws(
    () => checkShapes(found, expected, { where: 'ckpt.safetensors' }),
    (err: Error) => {
      assert.match(err.message, /^ckpt\.safetensors: tensors do not match/);
      assert.match(err.message, /'a': expected shape \[2, 3\], found \[3, 2\]/);
      assert.match(err.message, /missing keys \(1\): 'c'/);
      assert.match(err.message, /unexpected keys \(1\): 'd'/);
      assert.doesNotMatch(err.message, /'b'/);
      return true;
    },
  );
  const ok = checkShapes(
    new Map([
      ['a', [2, 3]],
      ['d', [5]],
    ]),
    expected,
    { allowMissing: true, allowUnexpected: true },
  );
  assert.deepEqual(ok, { missing: ['b', 'c'], unexpected: ['d'] });
  // shape mismatch is never allowed
  assert.throws(() => checkShapes(new Map([['a', [2]]]), expected, { allowMissing: true }), /'a': expected shape \[2, 3\], found \[2\]/);
});

test('loadIntoVariables assigns by name after the check; strict by default', async () => {
  const dir = tmpDir();
  const p = path.join(dir, 'v.safetensors');
  const src = new Map<string, tf.Tensor>([
    ['x', tf.tensor1d([1, 2])],
    ['y', tf.tensor2d([[3]])],
  ]);
  await saveTensors(p, src, { config: { k: 1 } });
  const x = tf.variable(tf.zeros([2]), true, 'ckt_x');
  const y = tf.variable(tf.zeros([1, 1]), true, 'ckt_y');
  const z = tf.variable(tf.zeros([3]), true, 'ckt_z');
  const res = loadIntoVariables(
    p,
    new Map([
      ['x', x],
      ['y', y],
    ]),
  );
  assert.deepEqual(res.config, { k: 1 });
  assert.deepEqual(await x.array(), [1, 2]);
  assert.deepEqual(await y.array(), [[3]]);
  assert.throws(
    () =>
      loadIntoVariables(
        p,
        new Map([
          ['x', x],
          ['z', z],
        ]),
      ),
    /v\.safetensors: [\s\S]*missing keys \(1\): 'z'[\s\S]*unexpected keys \(1\): 'y'/,
  );
  const lenient = loadIntoVariables(
    p,
    new Map([
      ['x', x],
      ['z', z],
    ]),
    { allowMissing: true, allowUnexpected: true },
  );
  assert.deepEqual([lenient.missing, lenient.unexpected], [['z'], ['y']]);
  const wrong = tf.variable(tf.zeros([3]), true, 'ckt_wrong');
  assert.throws(
    () =>
      loadIntoVariables(
        p,
        new Map([
          ['x', wrong],
          ['y', y],
        ]),
      ),
    /'x': expected shape \[3\], found \[2\]/,
  );
  assert.deepEqual(await wrong.array(), [0, 0, 0]); // nothing assigned when the check fails
  for (const t of [...src.values(), x, y, z, wrong]) t.dispose();
  fs.rmSync(dir, { recursive: true });
});

test('the timm fixture loads as tf tensors with the expected shapes', () => {
  const p = fixturePath('resmlp', 'tiny-timm.safetensors');
  const before = tf.memory().numTensors;
  const { tensors } = loadTensors(p);
  checkShapes(
    tensors,
    new Map([
      ['stem.proj.weight', [16, 3, 4, 4]],
      ['blocks.0.linear_tokens.weight', [9, 9]],
    ]),
    { allowUnexpected: true, where: p },
  );
  assert.equal(tensors.get('stem.proj.weight')!.dtype, 'float32');
  for (const t of tensors.values()) t.dispose();
  assert.equal(tf.memory().numTensors, before);
});
