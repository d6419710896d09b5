// Parity with the reference implementation: timm's ResBlock (and PyTorch's label-smoothed
// cross-entropy) outputs and gradients, recorded by test/fixtures/resmlp/make-timm-golden.py with PyTorch.
// Loading the timm state dict by name also checks that our parameter names and shapes match.
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, test } from 'node:test';
import { ResBlock } from '../../src/core/block.js';
import { labelSmoothedCrossEntropy } from '../../src/core/loss.js';
import { Rng } from '../../src/util/rng.js';
import { useTestBackend } from '../helpers/backend.js';
import { maxAbsDiff } from '../helpers/grad-check.js';
import { fixturePath } from '../fixtures/paths.js';

interface Flat {
  shape: number[];
  data: number[];
}
interface BlockCase {
  causal: boolean;
  dim: number;
  seqLen: number;
  params: Record<string, Flat>;
  grads: Record<string, Flat>;
  x: Flat;
  r: Flat;
  y: Flat;
  dx: Flat;
}
const golden = JSON.parse(readFileSync(fixturePath('resmlp', 'timm-golden.json'), 'utf8')) as {
  blocks: BlockCase[];
  loss: { logits: Flat; targets: number[]; epsilon: number; value: number; grad: Flat };
};
const T = (f: Flat) => tf.tensor(f.data, f.shape);

before(async () => {
  await useTestBackend();
});

for (const c of golden.blocks) {
  test(`ResBlock (causal=${c.causal}) loads timm's state dict and matches its output and gradients`, () => {
    const block = ResBlock.fromConfig({ dim: c.dim, seqLen: c.seqLen, causal: c.causal }, new Rng(0));
    const state = new Map(Object.entries(c.params).map(([k, v]) => [k, T(v)]));
    block.loadStateDict(state); // strict: same names, same shapes
    const x = T(c.x) as tf.Tensor3D;
    const r = T(c.r);
    const y = block.forward(x);
    assert.ok(maxAbsDiff(y, T(c.y)) < 1e-5, `output differs by ${maxAbsDiff(y, T(c.y))}`);
    const xv = tf.variable(x);
    const vars = [xv, ...block.parameters()];
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(block.forward(xv as tf.Tensor3D), r)) as tf.Scalar, vars);
    assert.ok(maxAbsDiff(grads[xv.name]!, T(c.dx)) < 1e-5, 'dx');
    for (const [name, p] of block.namedParameters()) {
      // (timm's causal weight is masked by tril in its forward, so masked entries get 0 there too)
      const ref = T(c.grads[name]!);
      const d = maxAbsDiff(grads[p.name]!, ref);
      assert.ok(d < 1e-4, `grad of ${name} differs by ${d}`);
      ref.dispose();
    }
    tf.dispose([value, ...Object.values(grads), ...state.values()]);
    block.dispose();
  });
}

test("labelSmoothedCrossEntropy equals PyTorch's cross_entropy(label_smoothing=ε), value and gradient", () => {
  const l = golden.loss;
  const logits = T(l.logits);
  const targets = tf.tensor1d(l.targets, 'int32');
  const v = labelSmoothedCrossEntropy(logits, targets, { epsilon: l.epsilon });
  assert.ok(Math.abs(v.dataSync()[0]! - l.value) < 1e-6, `${v.dataSync()[0]} vs ${l.value}`);
  const g = tf.grad((x: tf.Tensor) => labelSmoothedCrossEntropy(x, targets, { epsilon: l.epsilon }))(logits);
  assert.ok(maxAbsDiff(g, T(l.grad)) < 1e-6);
  tf.dispose([logits, targets, v, g]);
});
