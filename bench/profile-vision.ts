// Where one training step of the Fashion-MNIST classifier (configs/vision/fashion-mnist.json's
// model: patch 4, d 96, depth 6, MLP ratio 3) spends its time, kernel by kernel: forward,
// label-smoothed loss and backward on random 28×28×1 images, batch 128 by default. Kernel times
// are wall-clock per call from tf.profile (a cpu-style backend runs kernels synchronously).
// Usage: node --import tsx bench/profile-vision.ts [backend] [batch]
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/choose.js';
import { createModel } from '../src/vision/registry.js';

const backend = process.argv[2] ?? 'native';
const B = Number(process.argv[3] ?? 128);
if (!Number.isInteger(B) || B < 1) throw new Error(`batch must be a positive integer, got '${process.argv[3]}'`);
await initBackend(backend);

const model = createModel('resmlp_fmnist_small', { patchSize: 4, embedDim: 96, depth: 6, mlpRatio: 3, layerScale: 1 }, 0);
model.train(true);
const x = tf.randomNormal([B, 28, 28, 1]) as tf.Tensor4D;
const labels = tf.oneHot(tf.randomUniform([B], 0, 10, 'int32'), 10);

const step = () =>
  tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(labels, model.forward(x), undefined, 0.1) as tf.Scalar);
    value.dataSync();
    for (const g of Object.values(grads)) g.dataSync();
  });

for (let i = 0; i < 3; i++) step(); // warm-up
const times: number[] = [];
for (let i = 0; i < 7; i++) {
  const t0 = performance.now();
  step();
  times.push(performance.now() - t0);
}
times.sort((a, b) => a - b);
const stepMs = times[3]!;
console.log(`${backend}: step ${stepMs.toFixed(1)} ms (median of 7), ${((B / stepMs) * 1000).toFixed(0)} images/s`);

const prof = await tf.profile(step);
const byShape = new Map<string, { ms: number; calls: number }>();
const byKernel = new Map<string, number>();
let total = 0;
for (const k of prof.kernels) {
  // tf.profile also lists op and customGrad scopes (their kernels are listed too): keep kernels only
  if (tf.getKernel(k.name, tf.getBackend()) === undefined) continue;
  const ms = Number(await k.kernelTimeMs);
  total += ms;
  const key = `${k.name} ${k.inputShapes.map((s) => `[${s}]`).join('')}`;
  const row = byShape.get(key) ?? { ms: 0, calls: 0 };
  row.ms += ms;
  row.calls++;
  byShape.set(key, row);
  byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + ms);
}
console.log(`kernel time in the profiled step: ${total.toFixed(1)} ms`);
for (const [k, ms] of [...byKernel].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(`${ms.toFixed(1).padStart(8)} ms  ${k}`);
console.log('by input shapes (top 20):');
for (const [k, r] of [...byShape].sort((a, b) => b[1].ms - a[1].ms).slice(0, 20))
  console.log(`${r.ms.toFixed(1).padStart(8)} ms ${String(r.calls).padStart(3)}×  ${k}`);
tf.dispose([x, labels]);
