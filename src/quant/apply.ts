// Sets the precision a loaded model decodes in. int8 is a request: where it cannot run (another
// backend than native, an addon built without oneDNN, a CPU without VNNI) the model decodes in fp32
// and the report says why, for a log line. int8: every int8 layer (layers.ts) gets an
// Int8LinearKernel packed from its int8 weights — those of the int8 checkpoint it was loaded from,
// or its fp32 weights quantised now (quantize.ts) — and the embedding lookup reads the dequantised
// matrix, so a model quantised at load and the same model's int8 checkpoint decode identically.
// fp32: the kernels are removed (and the embedding's fp32 values restored). The model's graph and
// parameters are unchanged otherwise; a model with int8 kernels decodes only (no gradients).
import * as tf from '@tensorflow/tfjs';
import { int8Support } from '../backend/native/kernels-int8.js';
import { Embedding } from '../core/embedding.js';
import type { Module } from '../core/module.js';
import { int8WeightsOf } from './int8-checkpoint.js';
import { Int8LinearKernel } from './int8-linear.js';
import { int8Layers } from './layers.js';
import type { Precision } from './precision.js';
import { dequantizeRows, type Int8Rows, quantizeRows } from './quantize.js';

/** The precision a request resolved to, and why it differs when it does. */
export interface PrecisionChoice {
  requested: Precision;
  precision: Precision;
  /** Why int8 was requested but fp32 runs ('' otherwise). */
  fallback: string;
  /** What runs int8 (library and kernel), '' for fp32. */
  detail: string;
}

/** What `requested` resolves to on the active tfjs backend and this machine. */
export function choosePrecision(requested: Precision): PrecisionChoice {
  if (requested === 'fp32') return { requested, precision: 'fp32', fallback: '', detail: '' };
  const backend = tf.getBackend();
  if (backend !== 'native')
    return { requested, precision: 'fp32', fallback: `int8 runs on the native backend only (the backend is ${backend})`, detail: '' };
  const s = int8Support();
  if (!s.available) return { requested, precision: 'fp32', fallback: s.reason, detail: '' };
  return { requested, precision: 'int8', fallback: '', detail: `${s.library}, ${s.kernel}` };
}

export interface PrecisionReport extends PrecisionChoice {
  /** Layers that run int8 (0 in fp32). */
  layers: number;
  /** Bytes of those layers' weights in fp32, and in int8 with their scales. */
  fp32Bytes: number;
  int8Bytes: number;
}

/** fp32 embedding matrices replaced by their dequantised values, to restore for fp32 (plain arrays: nothing to dispose). */
const fp32Embeddings = new WeakMap<Embedding, Float32Array>();

function setEmbeddingWeight(e: Embedding, rows: Int8Rows | null): void {
  const saved = fp32Embeddings.get(e);
  const [V, d] = e.weight.shape as [number, number];
  if (rows === null) {
    if (saved) {
      tf.tidy(() => e.weight.assign(tf.tensor2d(saved, [V, d])));
      fp32Embeddings.delete(e);
    }
    return;
  }
  if (!saved) fp32Embeddings.set(e, Float32Array.from(e.weight.dataSync() as Float32Array));
  tf.tidy(() => e.weight.assign(tf.tensor2d(dequantizeRows(rows), [rows.rows, rows.cols])));
}

/** Makes `model` decode in `requested` precision where it can (else fp32: see the report's fallback). */
export function applyPrecision(model: Module, requested: Precision): PrecisionReport {
  const choice = choosePrecision(requested);
  const layers = int8Layers(model);
  const stored = int8WeightsOf(model);
  let fp32Bytes = 0;
  let int8Bytes = 0;
  for (const l of layers) {
    const m = l.module;
    if (choice.precision === 'fp32') {
      if (m instanceof Embedding) {
        m.setProjectionKernel(null);
        setEmbeddingWeight(m, null);
      } else {
        m.setKernel(null);
      }
      continue;
    }
    const rows = stored?.get(l.weightName) ?? quantizeRows(m.weight.dataSync() as Float32Array, l.rows, l.cols);
    if (m instanceof Embedding) {
      m.setProjectionKernel(new Int8LinearKernel(rows, null));
      if (!stored) setEmbeddingWeight(m, rows);
    } else {
      m.setKernel(new Int8LinearKernel(rows, m.bias));
    }
    fp32Bytes += 4 * rows.q.length;
    int8Bytes += rows.q.length + 4 * rows.scales.length;
  }
  return { ...choice, layers: choice.precision === 'int8' ? layers.length : 0, fp32Bytes, int8Bytes };
}

/** The log line of a report, e.g. `precision: int8 (oneDNN 2.6.3, brg:avx512_core_vnni): 32 layers, weights 23.6 → 6.0 MB`. */
export function precisionLine(r: PrecisionReport): string {
  const mb = (b: number) => (b / 2 ** 20).toFixed(1);
  if (r.precision === 'int8')
    return `precision: int8 (${r.detail}): ${r.layers} layers, weights ${mb(r.fp32Bytes)} → ${mb(r.int8Bytes)} MB`;
  return r.requested === 'int8' ? `precision: fp32 (int8 requested, but ${r.fallback})` : 'precision: fp32';
}
