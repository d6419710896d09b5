import { test } from 'node:test';
import assert from 'node:assert/strict';
import { learningRate, DEFAULT_SCHEDULE } from '../../src/train/schedule.js';

test('cosine: linear warmup to the peak, then cosine to minLr', () => {
  const cfg = { ...DEFAULT_SCHEDULE, name: 'cosine' as const, lr: 1, warmupSteps: 4, totalSteps: 14, minLr: 0.1 };
  assert.deepEqual(
    [0, 1, 2, 3].map((s) => learningRate(cfg, s)),
    [0.25, 0.5, 0.75, 1],
  );
  assert.equal(learningRate(cfg, 4), 1);
  assert.ok(Math.abs(learningRate(cfg, 9) - (0.1 + 0.45)) < 1e-12); // halfway: midpoint
  assert.ok(Math.abs(learningRate(cfg, 14) - 0.1) < 1e-12);
  assert.ok(Math.abs(learningRate(cfg, 100) - 0.1) < 1e-12); // clamped past the end
});

test('inverse-sqrt: fairseq form lr·sqrt(warmup/step) after warmup', () => {
  const cfg = { ...DEFAULT_SCHEDULE, name: 'inverse-sqrt' as const, lr: 0.2, warmupSteps: 100 };
  assert.ok(Math.abs(learningRate(cfg, 99) - 0.2) < 1e-12);
  assert.ok(Math.abs(learningRate(cfg, 399) - 0.1) < 1e-12);
});

test('rejects a negative or fractional step', () => {
  assert.throws(() => learningRate(DEFAULT_SCHEDULE, -1), /non-negative integer/);
  assert.throws(() => learningRate(DEFAULT_SCHEDULE, 1.5), /non-negative integer/);
});
