// Module system: dotted names and order, parameter counts, train/eval, state-dict loading, dispose.
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { ResBlock } from '../../src/core/block.js';
import { Linear } from '../../src/core/linear.js';
import { Module, ModuleList } from '../../src/core/module.js';
import { Rng } from '../../src/util/rng.js';
import { useTestBackend } from '../helpers/backend.js';

before(async () => {
  await useTestBackend();
});

class Two extends Module {
  readonly a: Linear;
  readonly blocks: ModuleList<ResBlock>;
  constructor() {
    super();
    const rng = new Rng(3);
    this.a = this.registerModule('a', new Linear({ inFeatures: 3, outFeatures: 2 }, rng));
    this.blocks = this.registerModule('blocks', new ModuleList<ResBlock>());
    for (let i = 0; i < 2; i++) this.blocks.append(ResBlock.fromConfig({ dim: 4, seqLen: 3, dropPath: 0.1 }, rng));
  }
}

test('namedParameters: timm dotted names in PyTorch order (own params first, then children)', () => {
  const m = new Two();
  const names = [...m.namedParameters().keys()];
  assert.deepEqual(names.slice(0, 2), ['a.weight', 'a.bias']);
  assert.deepEqual(names.slice(2, 16), [
    'blocks.0.ls1',
    'blocks.0.ls2',
    'blocks.0.norm1.alpha',
    'blocks.0.norm1.beta',
    'blocks.0.linear_tokens.weight',
    'blocks.0.linear_tokens.bias',
    'blocks.0.norm2.alpha',
    'blocks.0.norm2.beta',
    'blocks.0.mlp_channels.fc1.weight',
    'blocks.0.mlp_channels.fc1.bias',
    'blocks.0.mlp_channels.fc2.weight',
    'blocks.0.mlp_channels.fc2.bias',
    'blocks.1.ls1',
    'blocks.1.ls2',
  ]);
  // 2·3+2 + 2·(4+4 + 4+4 + 9+3 + 4+4 + 16·4+16 + 4·16+4)
  assert.equal(m.numParameters(), 8 + 2 * (8 + 8 + 12 + 8 + 80 + 68));
  assert.equal(m.parameters().length, names.length);
  m.dispose();
});

test('train()/eval() propagate to every descendant', () => {
  const m = new Two();
  m.eval();
  for (const sub of m.namedModules().values()) assert.equal(sub.training, false);
  m.train();
  for (const sub of m.namedModules().values()) assert.equal(sub.training, true);
  m.dispose();
});

test('two models with the same dotted names coexist (variables are not globally named)', () => {
  const a = new Two();
  const b = new Two();
  assert.deepEqual([...a.namedParameters().keys()], [...b.namedParameters().keys()]);
  a.dispose();
  b.dispose();
});

test('loadStateDict copies by name, checks keys and shapes, and names the offenders', () => {
  const a = new Two();
  const b = new Two();
  tf.tidy(() => {
    const w = tf.fill([2, 3], 0.5);
    b.a.weight.assign(w);
  });
  a.loadStateDict(b.stateDict());
  assert.deepEqual(Array.from(a.a.weight.dataSync()), new Array(6).fill(0.5));
  const bad = new Map<string, tf.Tensor>([['a.weight', tf.zeros([3, 2])]]);
  assert.throws(() => a.loadStateDict(bad), /missing keys \[a\.bias/);
  assert.throws(() => a.loadStateDict(bad, { strict: false }), /a\.weight: expected \[2,3\], got \[3,2\]/);
  const extra = new Map(b.stateDict() as Map<string, tf.Tensor>);
  extra.set('head.weight', tf.zeros([1]));
  assert.throws(() => a.loadStateDict(extra), /unexpected keys \[head\.weight\]/);
  const r = a.loadStateDict(extra, { strict: false });
  assert.deepEqual(r.unexpected, ['head.weight']);
  tf.dispose([...bad.values(), extra.get('head.weight')!]);
  a.dispose();
  b.dispose();
});

test('dispose frees every parameter and buffer', () => {
  const before = tf.memory().numTensors;
  const m = ResBlock.fromConfig({ dim: 4, seqLen: 5, causal: true }, new Rng(1));
  assert.ok(tf.memory().numTensors > before);
  m.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test('a block config rejects unknown keys by name (the resolver itself: test/util/config.test.ts)', () => {
  assert.throws(() => ResBlock.fromConfig({ dim: 4, seqLen: 3, mixing: 'linear' } as any, new Rng(0)), /unknown config key 'mixing'/);
});
