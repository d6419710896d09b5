// Where one training step of the Fashion-MNIST classifier (configs/vision/fashion-mnist.json's
// model: patch 4, d 96, depth 6, MLP ratio 3) spends its time, kernel by kernel: forward,
// label-smoothed loss and backward on random 28×28×1 images, batch 128 by default. Kernel times
// are wall-clock per call from tf.profile (a cpu-style backend runs kernels synchronously).
// Usage: node --import tsx bench/profile-vision.ts [backend] [batch]
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/choose.js';
import { createModel } from '../src/vision/registry.js';
import { medianStepMs, profileKernels } from './profile-kernels.js';

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

const stepMs = medianStepMs(step, 3, 7);
console.log(`${backend}: step ${stepMs.toFixed(1)} ms (median of 7), ${((B / stepMs) * 1000).toFixed(0)} images/s`);

const { kernelMs: total, rows } = await profileKernels(step);
const byKernel = new Map<string, number>();
for (const r of rows) byKernel.set(r.name, (byKernel.get(r.name) ?? 0) + r.ms);
console.log(`kernel time in the profiled step: ${total.toFixed(1)} ms`);
for (const [k, ms] of [...byKernel].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(`${ms.toFixed(1).padStart(8)} ms  ${k}`);
console.log('by input shapes (top 20):');
for (const r of rows.slice(0, 20)) console.log(`${r.ms.toFixed(1).padStart(8)} ms ${String(r.calls).padStart(3)}×  ${r.kernel}`);
tf.dispose([x, labels]);
