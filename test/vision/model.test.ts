// The ResMLP classifier: exact timm parameter counts for every registered model (from the config,
// and from real allocations), forward shape/finite on the small presets, the matmul stem equals a
// strided conv, and the token-major block forward equals core's ResBlock.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useTestBackend } from '../helpers/backend.js';
import { countParameters, patchify, ResMlp } from '../../src/vision/model.js';
import { createModel, listModels, modelConfig } from '../../src/vision/registry.js';

before(async () => {
  await useTestBackend();
});

const TIMM_COUNTS: Record<string, number> = {
  resmlp_12_224: 15_350_872,
  resmlp_24_224: 30_020_680,
  resmlp_36_224: 44_690_488,
  resmlp_big_24_224: 129_138_280,
};

test('timm variants: exact parameter counts from the config (no allocation)', () => {
  for (const [name, n] of Object.entries(TIMM_COUNTS)) assert.equal(countParameters(modelConfig(name)), n, name);
});

test('timm LayerScale inits by depth (timm mlp_mixer.py: 12 → 1e-4, 24 → 1e-5, 36/big → 1e-6)', () => {
  assert.equal(modelConfig('resmlp_12_224').layerScale, 1e-4);
  assert.equal(modelConfig('resmlp_24_224').layerScale, 1e-5);
  assert.equal(modelConfig('resmlp_36_224').layerScale, 1e-6);
  assert.equal(modelConfig('resmlp_big_24_224').layerScale, 1e-6);
});

test('resmlp_12_224 allocated: parameter count and timm names/shapes', () => {
  const m = createModel('resmlp_12_224');
  assert.equal(m.numParameters(), TIMM_COUNTS.resmlp_12_224);
  const p = m.stateDict();
  assert.deepEqual(p.get('stem.proj.weight')!.shape, [384, 3, 16, 16]);
  assert.deepEqual(p.get('blocks.11.linear_tokens.weight')!.shape, [196, 196]);
  assert.deepEqual(p.get('blocks.0.norm1.alpha')!.shape, [1, 1, 384]);
  assert.deepEqual(p.get('blocks.0.mlp_channels.fc1.weight')!.shape, [1536, 384]);
  assert.deepEqual(p.get('blocks.0.ls1')!.shape, [384]);
  assert.deepEqual(p.get('norm.alpha')!.shape, [1, 1, 384]);
  assert.deepEqual(p.get('head.weight')!.shape, [1000, 384]);
  assert.equal(p.get('blocks.3.ls2')!.dataSync()[0], Math.fround(1e-4));
  m.dispose();
});

test('every registered model: config count = allocated count for the small ones; class-MLP pooling counted too', () => {
  for (const name of listModels()) {
    const cfg = modelConfig(name);
    if (countParameters(cfg) > 5e6) continue; // the ImageNet ones are checked above
    for (const pooling of ['avg', 'class-mlp'] as const) {
      const m = new ResMlp({ ...cfg, pooling });
      assert.equal(m.numParameters(), countParameters({ ...cfg, pooling }), `${name} ${pooling}`);
      m.dispose();
    }
  }
});

test('forward on the small presets: logits shape, finite, features/head split; no tensor leak', () => {
  for (const name of ['resmlp_fmnist_tiny', 'resmlp_cifar_tiny']) {
    for (const pooling of ['avg', 'class-mlp'] as const) {
      const m = createModel(name, { pooling, dropPath: 0.1, drop: 0.1 }, 1);
      const c = m.config;
      // non-zero head so the logits are informative
      tf.tidy(() => m.head.weight.assign(tf.randomNormal(m.head.weight.shape, 0, 0.1, 'float32', 7)));
      const x = tf.randomNormal([3, c.imgSize, c.imgSize, c.inChans], 0, 1, 'float32', 5) as tf.Tensor4D;
      const before = tf.memory().numTensors;
      for (const training of [true, false]) {
        m.train(training);
        const y = m.forward(x);
        assert.deepEqual(y.shape, [3, c.numClasses]);
        assert.ok(y.dataSync().every(Number.isFinite), `${name} ${pooling}: non-finite logits`);
        const f = m.forwardFeatures(x);
        assert.deepEqual(f.shape, [3, c.embedDim]);
        const h = m.forwardHead(f);
        if (!training) assert.deepEqual(Array.from(h.dataSync()), Array.from(y.dataSync()));
        tf.dispose([y, f, h]);
      }
      assert.equal(tf.memory().numTensors, before, `${name} ${pooling}: leaked tensors`);
      assert.throws(
        () => m.forward(tf.zeros([1, c.imgSize + 4, c.imgSize + 4, c.inChans]) as tf.Tensor4D),
        /expected input \(B, \d+, \d+, \d\) NHWC/,
      );
      x.dispose();
      m.dispose();
    }
  }
});

test('the matmul stem equals a stride-p conv with the (d, C, p, p) weight (timm PatchEmbed)', () => {
  const m = new ResMlp({ imgSize: 12, inChans: 3, patchSize: 4, embedDim: 5, depth: 1, numClasses: 2 }, 2);
  tf.tidy(() => m.stem.proj.bias.assign(tf.randomNormal([5], 0, 1, 'float32', 3)));
  const x = tf.randomNormal([2, 12, 12, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
  const ours = m.stem.forward(x); // (N, B, d)
  const ref = tf.tidy(() => {
    const w = tf.transpose(m.stem.proj.weight, [2, 3, 1, 0]) as tf.Tensor4D; // (p, p, C, d) HWIO
    const y = tf.add(tf.conv2d(x, w, 4, 'valid'), m.stem.proj.bias); // (B, 3, 3, d)
    return tf.transpose(tf.reshape(y, [2, 9, 5]), [1, 0, 2]); // (N, B, d)
  });
  const a = ours.dataSync();
  const b = ref.dataSync();
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) < 1e-4, `stem mismatch at ${i}: ${a[i]} vs ${b[i]}`);
  assert.deepEqual(patchify(x, 4).shape, [18, 48]);
  tf.dispose([x, ours, ref]);
  m.dispose();
});

test('token-major block forward equals core ResBlock.forward on (B, N, d) (eval mode)', () => {
  const m = new ResMlp({ imgSize: 16, inChans: 1, patchSize: 4, embedDim: 8, depth: 2, numClasses: 3, layerScale: 0.5 }, 9);
  m.eval();
  // perturb the token-mixing biases and Affines so every parameter matters
  tf.tidy(() => {
    for (const [k, v] of m.stateDict())
      if (/(linear_tokens\.bias|alpha|beta)$/.test(k)) v.assign(tf.add(v, tf.randomNormal(v.shape, 0, 0.3, 'float32', k.length)));
  });
  const x = tf.randomNormal([2, 16, 16, 1], 0, 1, 'float32', 11) as tf.Tensor4D;
  const ours = m.forwardFeatures(x);
  const ref = tf.tidy(() => {
    let h = tf.transpose(m.stem.forward(x), [1, 0, 2]) as tf.Tensor3D; // (B, N, d)
    for (const block of m.blocks) h = block.forward(h);
    return tf.mean(m.norm.forward(h), 1);
  });
  const a = ours.dataSync();
  const b = ref.dataSync();
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) < 1e-5, `features mismatch at ${i}: ${a[i]} vs ${b[i]}`);
  tf.dispose([x, ours, ref]);
  m.dispose();
});

test('gradients reach every parameter (avg and class-MLP pooling)', () => {
  for (const pooling of ['avg', 'class-mlp'] as const) {
    const m = new ResMlp(
      { imgSize: 8, inChans: 1, patchSize: 2, embedDim: 8, depth: 2, numClasses: 3, layerScale: 0.5, pooling, classBlocks: 1 },
      5,
    );
    tf.tidy(() => m.head.weight.assign(tf.randomNormal(m.head.weight.shape, 0, 0.5, 'float32', 6)));
    const x = tf.randomNormal([4, 8, 8, 1], 0, 1, 'float32', 8) as tf.Tensor4D;
    const vars = m.parameters();
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(m.forward(x))) as tf.Scalar, vars);
    for (const [name, v] of m.namedParameters()) {
      const g = grads[v.name];
      assert.ok(g, `${pooling}: no gradient for ${name}`);
      assert.ok(tf.tidy(() => tf.max(tf.abs(g)).dataSync()[0]!) > 0, `${pooling}: zero gradient for ${name}`);
    }
    tf.dispose([x, value, ...Object.values(grads)]);
    m.dispose();
  }
});

test('config errors name the key', () => {
  assert.throws(() => new ResMlp({ imgSize: 30, patchSize: 4 }), /imgSize 30 is not a multiple of patchSize 4/);
  assert.throws(() => new ResMlp({ widht: 3 } as never), /unknown config key 'widht'/);
  assert.throws(() => modelConfig('resmlp_13_224'), /unknown model 'resmlp_13_224'; registered models: resmlp_12_224/);
});
