// ResBlock: shapes, the three patch-communication variants and self-attention, LayerScale,
// gradients, determinism, causal blocks, layers passed in (an extra sublayer), incremental `step`
// against `forward`, and tensor hygiene of a forward pass and a training step.
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import {
  type BlockContext,
  makeChannelMlp,
  makeNorm,
  makeTokenMixer,
  type MixerCache,
  ResBlock,
  resolveResBlockConfig,
} from '../../src/core/block.js';
import { resetParameters } from '../../src/core/init.js';
import { Module } from '../../src/core/module.js';
import { Rng } from '../../src/util/rng.js';
import { useTestBackend } from '../helpers/backend.js';
import { checkGradients, maxAbsDiff, projectLoss, randn } from '../helpers/grad-check.js';

before(async () => {
  await useTestBackend();
});

const VARIANTS = ['linear', 'none', 'mlp'] as const; // the paper's patch-communication variants (Table 3)

test('each patch-communication variant keeps (B, L, d) and has the expected parameters', () => {
  const expect: Record<(typeof VARIANTS)[number], string[]> = {
    linear: ['ls1', 'ls2', 'norm1.alpha', 'norm1.beta', 'linear_tokens.weight', 'linear_tokens.bias'],
    none: ['ls2'],
    mlp: [
      'ls1',
      'ls2',
      'norm1.alpha',
      'norm1.beta',
      'mlp_tokens.fc1.weight',
      'mlp_tokens.fc1.bias',
      'mlp_tokens.fc2.weight',
      'mlp_tokens.fc2.bias',
    ],
  };
  const channel = [
    'norm2.alpha',
    'norm2.beta',
    'mlp_channels.fc1.weight',
    'mlp_channels.fc1.bias',
    'mlp_channels.fc2.weight',
    'mlp_channels.fc2.bias',
  ];
  for (const v of VARIANTS) {
    const b = ResBlock.fromConfig({ dim: 8, seqLen: 6, tokenMixing: v }, new Rng(1));
    assert.deepEqual([...b.namedParameters().keys()], [...expect[v], ...channel], v);
    const x = randn([2, 6, 8], 2) as tf.Tensor3D;
    const y = b.forward(x);
    assert.deepEqual(y.shape, [2, 6, 8]);
    tf.dispose([x, y]);
    b.dispose();
  }
  const m = ResBlock.fromConfig({ dim: 8, seqLen: 6, tokenMixing: 'mlp' }, new Rng(1));
  assert.deepEqual(m.namedParameters().get('mlp_tokens.fc1.weight')!.shape, [4, 6]); // hidden 0.5·d
  m.dispose();
});

test('the variants differ in token communication: only "none" leaves tokens independent', () => {
  for (const v of VARIANTS) {
    const b = ResBlock.fromConfig({ dim: 4, seqLen: 5, tokenMixing: v, layerScale: 0.5 }, new Rng(3));
    const x = randn([1, 5, 4], 4) as tf.Tensor3D;
    const g = tf.grad((xx: tf.Tensor) => tf.sum(tf.slice(b.forward(xx as tf.Tensor3D), [0, 0, 0], [1, 1, 4])))(x);
    const others = tf.tidy(() => tf.max(tf.abs(tf.slice(g, [0, 1, 0], [1, 4, 4]))).dataSync()[0]);
    if (v === 'none') assert.equal(others, 0, 'token 0 must not depend on other tokens');
    else assert.ok(others > 0, `${v}: token 0 should depend on other tokens`);
    tf.dispose([x, g]);
    b.dispose();
  }
});

test('LayerScale: ls1, ls2 of shape (d) start at the configured value; 0 makes the block the identity', () => {
  const b = ResBlock.fromConfig({ dim: 4, seqLen: 3, layerScale: 0.1 }, new Rng(5));
  assert.deepEqual(b.ls1!.shape, [4]);
  assert.ok(b.ls1!.dataSync().every((v) => Math.abs(v - 0.1) < 1e-7));
  assert.ok(b.ls2!.dataSync().every((v) => Math.abs(v - 0.1) < 1e-7));
  const zero = ResBlock.fromConfig({ dim: 4, seqLen: 3, layerScale: 0 }, new Rng(5));
  const x = randn([2, 3, 4], 6) as tf.Tensor3D;
  const y0 = zero.forward(x);
  assert.equal(maxAbsDiff(y0, x), 0);
  // Z = X + ls1 ⊙ tokens(Aff1(X)); Y = Z + ls2 ⊙ mlp(Aff2(Z)), built from the block's own parts
  const y = b.forward(x);
  const ref = tf.tidy(() => {
    const z = tf.add(x, tf.mul(b.ls1!, b.tokens!.forward(b.norm1!.forward(x))));
    return tf.add(z, tf.mul(b.ls2!, b.mlp.forward(b.norm2.forward(z as tf.Tensor3D))));
  });
  assert.ok(maxAbsDiff(y, ref) < 1e-6);
  // without LayerScale the branches enter with weight 1
  const none = ResBlock.fromConfig({ dim: 4, seqLen: 3, layerScale: null }, new Rng(5));
  assert.equal(none.ls1, null);
  const yn = none.forward(x);
  const refn = tf.tidy(() => {
    const z = tf.add(x, none.tokens!.forward(none.norm1!.forward(x)));
    return tf.add(z, none.mlp.forward(none.norm2.forward(z as tf.Tensor3D)));
  });
  assert.ok(maxAbsDiff(yn, refn) < 1e-6);
  tf.dispose([x, y0, y, ref, yn, refn]);
  [b, zero, none].forEach((m) => m.dispose());
});

test('gradients through every block variant (affine and layernorm, causal) match finite differences', () => {
  const configs = [
    { tokenMixing: 'linear' as const },
    { tokenMixing: 'linear' as const, causal: true, norm: 'layernorm' as const },
    { tokenMixing: 'none' as const },
    { tokenMixing: 'mlp' as const, norm: 'layernorm' as const },
  ];
  for (const c of configs) {
    const b = ResBlock.fromConfig({ dim: 3, seqLen: 5, mlpHidden: 6, layerScale: 0.5, ...c }, new Rng(7));
    // move Affine away from the identity so its gradients are generic
    tf.tidy(() => {
      for (const [name, p] of b.namedParameters())
        if (name.endsWith('alpha') || name.endsWith('beta')) p.assign(tf.add(p, randn(p.shape, name.length, 0.3)));
    });
    const x = tf.variable(randn([2, 4, 3], 8));
    checkGradients(() => projectLoss(b.forward(x as tf.Tensor3D)), [x, ...b.parameters()], { coords: 3 });
    x.dispose();
    b.dispose();
  }
});

test('construction is deterministic in the seed, and resetParameters redraws the same values', () => {
  const a = ResBlock.fromConfig({ dim: 6, seqLen: 4, tokenMixing: 'mlp' }, new Rng(42));
  const b = ResBlock.fromConfig({ dim: 6, seqLen: 4, tokenMixing: 'mlp' }, new Rng(42));
  const c = ResBlock.fromConfig({ dim: 6, seqLen: 4, tokenMixing: 'mlp' }, new Rng(43));
  const pb = b.namedParameters();
  const pc = c.namedParameters();
  let differs = false;
  for (const [k, v] of a.namedParameters()) {
    assert.equal(maxAbsDiff(v, pb.get(k)!), 0, k);
    if (k.endsWith('weight') && maxAbsDiff(v, pc.get(k)!) > 0) differs = true;
  }
  assert.ok(differs, 'another seed must give other weights');
  tf.tidy(() => {
    for (const p of a.parameters()) p.assign(tf.zerosLike(p));
  });
  resetParameters(a, new Rng(42));
  for (const [k, v] of a.namedParameters()) assert.equal(maxAbsDiff(v, pb.get(k)!), 0, `reset ${k}`);
  [a, b, c].forEach((m) => m.dispose());
});

test('a causal block keeps position i independent of later tokens', () => {
  const b = ResBlock.fromConfig({ dim: 4, seqLen: 6, causal: true, layerScale: 1 }, new Rng(9));
  const x = randn([2, 6, 4], 10) as tf.Tensor3D;
  const g = tf.grad((xx: tf.Tensor) => tf.sum(tf.slice(b.forward(xx as tf.Tensor3D), [0, 2, 0], [2, 1, 4])))(x);
  const later = tf.tidy(() => tf.max(tf.abs(tf.slice(g, [0, 3, 0], [2, 3, 4]))).dataSync()[0]);
  assert.equal(later, 0);
  tf.dispose([x, g]);
  b.dispose();
});

test('drop-path: eval mode is deterministic; training drops whole samples of a branch', () => {
  const b = ResBlock.fromConfig({ dim: 4, seqLen: 3, layerScale: 1, dropPath: 0.5, tokenMixing: 'none' }, new Rng(11));
  const x = randn([32, 3, 4], 12) as tf.Tensor3D;
  b.eval();
  const e = b.forward(x);
  const branch = tf.sub(e, x); // the full branch, unscaled
  b.train();
  const t = b.forward(x);
  const tb = tf.sub(t, x);
  const rows = tf.tidy(() => {
    const dropped = tf.max(tf.abs(tb), [1, 2]).arraySync() as number[];
    const doubled = tf.max(tf.abs(tf.sub(tb, tf.mul(branch, 2))), [1, 2]).arraySync() as number[];
    return dropped.map((dz, i) => (dz === 0 ? 'dropped' : doubled[i] < 1e-5 ? 'kept' : 'other'));
  });
  assert.ok(!rows.includes('other'), 'each sample is either dropped or kept and scaled by 1/(1-p)');
  assert.ok(rows.includes('dropped') && rows.includes('kept'));
  tf.dispose([x, e, branch, t, tb]);
  b.dispose();
});

test('forward and a training step (variableGrads + update) leave tf.memory().numTensors unchanged', () => {
  for (const v of VARIANTS) {
    const b = ResBlock.fromConfig({ dim: 8, seqLen: 6, tokenMixing: v, causal: v === 'linear', drop: 0.1, dropPath: 0.1 }, new Rng(13));
    const x = randn([2, 5, 8], 14) as tf.Tensor3D;
    const before = tf.memory().numTensors;
    const y = b.forward(x);
    y.dispose();
    assert.equal(tf.memory().numTensors, before, `${v}: forward leaked`);
    for (let step = 0; step < 2; step++) {
      const { value, grads } = tf.variableGrads(() => projectLoss(b.forward(x)));
      tf.tidy(() => {
        for (const p of b.parameters()) p.assign(tf.sub(p, tf.mul(grads[p.name], 0.01)));
      });
      tf.dispose([value, ...Object.values(grads)]);
      assert.equal(tf.memory().numTensors, before, `${v}: training step ${step} leaked`);
    }
    x.dispose();
    b.dispose();
  }
});

test('config errors name the key and the value', () => {
  const rng = new Rng(0);
  assert.throws(
    () => ResBlock.fromConfig({ dim: 4, seqLen: 3, tokenMixing: 'attn' as any }, rng),
    /'tokenMixing' must be 'linear', 'none', 'mlp' or 'attention', got "attn"/,
  );
  assert.throws(
    () => ResBlock.fromConfig({ dim: 4, seqLen: 3, tokenMixing: 'mlp', causal: true }, rng),
    /'causal' is only supported with tokenMixing 'linear'/,
  );
  assert.throws(() => ResBlock.fromConfig({ dim: 0, seqLen: 3 }, rng), /'dim' must be an integer ≥ 1, got 0/);
  assert.throws(() => ResBlock.fromConfig({ dim: 4, seqLen: 3, dropPath: 1 }, rng), /'dropPath' must be a number in \[0, 1\), got 1/);
  assert.throws(() => ResBlock.fromConfig({ dim: 4 } as any, rng), /missing required config key 'seqLen'/);
});

test("tokenMixing 'attention': self-attention under fairseq's names, causal when asked", () => {
  const b = ResBlock.fromConfig({ dim: 8, seqLen: 6, tokenMixing: 'attention', heads: 2, causal: true, layerScale: 1 }, new Rng(15));
  const names = [...b.namedParameters().keys()];
  assert.deepEqual(names.slice(0, 4), ['ls1', 'ls2', 'norm1.alpha', 'norm1.beta']);
  for (const p of ['q', 'k', 'v', 'out']) assert.ok(names.includes(`self_attn.${p}_proj.weight`), p);
  const x = randn([2, 6, 8], 16) as tf.Tensor3D;
  const g = tf.grad((xx: tf.Tensor) => tf.sum(tf.slice(b.forward(xx as tf.Tensor3D), [0, 2, 0], [2, 1, 8])))(x);
  const later = tf.tidy(() => tf.max(tf.abs(tf.slice(g, [0, 3, 0], [2, 3, 8]))).dataSync()[0]);
  const earlier = tf.tidy(() => tf.max(tf.abs(tf.slice(g, [0, 0, 0], [2, 2, 8]))).dataSync()[0]!);
  assert.equal(later, 0);
  assert.ok(earlier > 0);
  tf.dispose([x, g]);
  b.dispose();
  assert.throws(
    () => ResBlock.fromConfig({ dim: 6, seqLen: 3, tokenMixing: 'attention', heads: 4 }, new Rng(0)),
    /'dim' 6 must be divisible by 'heads' 4/,
  );
});

/** A test sublayer: x ⊙ w ⊙ ctx.factor (so the test sees the context reach it). */
class Scale extends Module {
  readonly w: tf.Variable;
  constructor(dim: number) {
    super();
    this.w = this.registerParameter('w', tf.linspace(0.5, 1.5, dim));
  }
  forward(x: tf.Tensor3D, ctx: { factor: number }): tf.Tensor3D {
    return tf.tidy(() => tf.mul(tf.mul(x, this.w), ctx.factor));
  }
}

test('layers passed in: an extra sublayer gets its own norm_<tag> and ls_<tag>, in timm/PyTorch order, and reads the context', () => {
  const rng = new Rng(17);
  const c = resolveResBlockConfig({ dim: 4, seqLen: 3, layerScale: 0.3 });
  const b = new ResBlock<BlockContext & { factor: number }, Scale>({
    dim: 4,
    layerScale: 0.3,
    norm: () => makeNorm(c),
    tokens: makeTokenMixer(c, rng),
    extras: [{ tag: 'x', name: 'scale', layer: new Scale(4) }],
    mlp: makeChannelMlp(c, rng),
  });
  const names = [...b.namedParameters().keys()];
  assert.deepEqual(names.slice(0, 9), [
    'ls1',
    'ls_x',
    'ls2',
    'norm1.alpha',
    'norm1.beta',
    'linear_tokens.weight',
    'linear_tokens.bias',
    'norm_x.alpha',
    'norm_x.beta',
  ]);
  assert.deepEqual(names.slice(9, 12), ['scale.w', 'norm2.alpha', 'norm2.beta']);
  tf.tidy(() => {
    for (const [name, p] of b.namedParameters()) if (/alpha|beta|ls/.test(name)) p.assign(tf.add(p, randn(p.shape, name.length, 0.2)));
  });
  const x = randn([2, 3, 4], 18) as tf.Tensor3D;
  const y = b.forward(x, { factor: 2 });
  const e = b.extras[0]!;
  const ref = tf.tidy(() => {
    const z = tf.add(x, tf.mul(b.ls1!, b.tokens!.forward(b.norm1!.forward(x))));
    const u = tf.add(z, tf.mul(e.ls!, tf.mul(tf.mul(e.norm.forward(z), e.layer.w), 2)));
    return tf.add(u, tf.mul(b.ls2!, b.mlp.forward(b.norm2.forward(u as tf.Tensor3D))));
  });
  assert.ok(maxAbsDiff(y, ref) < 1e-6);
  resetParameters(b, new Rng(0));
  for (const ls of [b.ls1!, e.ls!, b.ls2!])
    assert.ok(
      ls.dataSync().every((v) => Math.abs(v - 0.3) < 1e-7),
      'resetParameters restores every LayerScale',
    );
  tf.dispose([x, y, ref]);
  b.dispose();
});

test('step (one position at a time with a cache) equals forward for causal linear and attention mixers, without leaks', () => {
  for (const tokenMixing of ['linear', 'attention'] as const) {
    const b = ResBlock.fromConfig({ dim: 8, seqLen: 6, tokenMixing, heads: 2, causal: true, layerScale: 0.7 }, new Rng(19)).eval();
    tf.tidy(() => {
      for (const [name, p] of b.namedParameters()) if (/alpha|beta|bias/.test(name)) p.assign(tf.add(p, randn(p.shape, name.length, 0.2)));
    });
    const x = randn([3, 5, 8], 20) as tf.Tensor3D;
    const full = b.forward(x);
    const before = tf.memory().numTensors;
    let cache: MixerCache | null = null;
    for (let t = 0; t < 5; t++) {
      const xt = tf.slice(x, [0, t, 0], [3, 1, 8]) as tf.Tensor3D;
      const r = b.step(xt, cache, t, {});
      const want = tf.slice(full, [0, t, 0], [3, 1, 8]);
      assert.ok(maxAbsDiff(r.y, want) < 1e-5, `${tokenMixing}: position ${t}`);
      if (cache) tf.dispose(cache instanceof tf.Tensor ? cache : [cache.k, cache.v]);
      cache = r.cache;
      tf.dispose([xt, r.y, want]);
    }
    tf.dispose(cache instanceof tf.Tensor ? cache : [cache!.k, cache!.v]);
    assert.equal(tf.memory().numTensors, before, `${tokenMixing}: step leaked`);
    tf.dispose([x, full]);
    b.dispose();
  }
  const open = ResBlock.fromConfig({ dim: 4, seqLen: 3 }, new Rng(0));
  const x = randn([1, 1, 4], 21) as tf.Tensor3D;
  assert.throws(() => open.step(x, null, 0, {}), /only a causal layer decodes incrementally/);
  const none = ResBlock.fromConfig({ dim: 4, seqLen: 3, tokenMixing: 'none' }, new Rng(0));
  assert.throws(() => none.step(x, null, 0, {}), /no causal token mixer/);
  x.dispose();
  [open, none].forEach((m) => m.dispose());
});
