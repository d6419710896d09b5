// int8 checkpoints (`resmlp mt quantize`): a translation checkpoint whose int8 layers (layers.ts)
// hold their weights as I8 (`<layer>.weight`, per-output-channel symmetric, quantize.ts) with an F32
// `<layer>.weight_scale` beside each; every other parameter of the model stays F32, the optimizer
// and trainer state are dropped (a quantised model decodes only), and the config metadata gains
// `quantization` (what the scheme is and which tensors follow it). About 4× smaller than fp32.
// Loading one (loadInt8Checkpoint, called by src/mt/model/load.ts) sets the model's fp32
// parameters to the dequantised weights — so it runs anywhere, in fp32 where int8 cannot — and
// keeps the int8 weights for applyPrecision (apply.ts), which packs exactly those.
import * as tf from '@tensorflow/tfjs';
import { copyFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { checkShapes } from '../io/checkpoint-tensors.js';
import { readSafetensors, writeSafetensors, type StoredTensor, type TensorToWrite } from '../io/safetensors.js';
import type { Module } from '../core/module.js';
import type { MtCheckpointConfig } from '../mt/model/load.js';
import { Seq2Seq } from '../mt/model/seq2seq.js';
import { UserError } from '../util/errors.js';
import { int8Layers } from './layers.js';
import { dequantizeRows, type Int8Rows, quantizeRows } from './quantize.js';

/** Suffix of the scale tensor beside each int8 weight. */
export const SCALE_SUFFIX = '_scale';

/** The `quantization` entry of an int8 checkpoint's config. */
export interface QuantizationInfo {
  scheme: 'int8';
  weights: string;
  activations: string;
  /** The I8 tensors (each with `<name>_scale`). */
  tensors: string[];
}

export type Int8CheckpointConfig = MtCheckpointConfig & { quantization?: QuantizationInfo };

/** Whether a checkpoint config is of an int8 checkpoint. */
export function isInt8Checkpoint(config: MtCheckpointConfig): boolean {
  return (config as Int8CheckpointConfig).quantization?.scheme === 'int8';
}

/** Sizes of what `writeInt8Checkpoint` quantised. */
export interface QuantizeSummary {
  layers: number;
  /** Bytes of the quantised weights in fp32 and in int8 (+ their scales). */
  fp32Bytes: number;
  int8Bytes: number;
}

/**
 * Writes the int8 checkpoint of fp32 translation checkpoint `src` to `out` (atomically), with the
 * SentencePiece files copied beside it when `out` is in another folder.
 */
export function writeInt8Checkpoint(src: string, config: MtCheckpointConfig, out: string): QuantizeSummary {
  if (isInt8Checkpoint(config)) throw new UserError(`${src} is already an int8 checkpoint`, 'invalid_input');
  if (resolve(src) === resolve(out)) throw new UserError(`the int8 checkpoint must not overwrite its source ${src}`, 'invalid_input');
  const { tensors, metadata } = readSafetensors(src);
  const probe = new Seq2Seq(config.model); // only for its parameter and layer names and shapes
  const layers = int8Layers(probe);
  const names = [...probe.namedParameters().keys()];
  probe.dispose();
  const f32 = new Map<string, TensorToWrite>();
  const i8 = new Map<string, TensorToWrite>();
  const quantised = new Set(layers.map((l) => l.weightName));
  let fp32Bytes = 0;
  let int8Bytes = 0;
  for (const l of layers) {
    const t = tensors.get(l.weightName);
    if (!t || !(t.data instanceof Float32Array) || t.shape.join() !== `${l.rows},${l.cols}`) {
      throw new UserError(
        `${src}: expected an F32 tensor '${l.weightName}' of shape [${l.rows}, ${l.cols}], found ${t ? `${t.dtype} [${t.shape}]` : 'none'}`,
        'invalid_data',
      );
    }
    const q = quantizeRows(t.data, l.rows, l.cols);
    i8.set(l.weightName, { dtype: 'I8', shape: t.shape, data: q.q });
    f32.set(l.weightName + SCALE_SUFFIX, { dtype: 'F32', shape: [l.rows], data: q.scales });
    fp32Bytes += 4 * q.q.length;
    int8Bytes += q.q.length + 4 * q.scales.length;
  }
  for (const name of names) {
    const t = tensors.get(name);
    if (!t) throw new UserError(`${src}: the model's parameter '${name}' is missing`, 'invalid_data');
    if (!quantised.has(name)) f32.set(name, { shape: t.shape, data: t.data });
  }
  const quantization: QuantizationInfo = {
    scheme: 'int8',
    weights: 'int8, one symmetric scale per output channel (max|w|/127)',
    activations: 'u8, one asymmetric scale per row, computed on every call',
    tensors: [...quantised],
  };
  const meta: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata)) if (k !== 'optimizer' && k !== 'trainer' && k !== 'config') meta[k] = v;
  meta.config = JSON.stringify({ ...config, quantization });
  copySentencePiece(src, config, out);
  // F32 first, then I8: every F32 tensor stays 4-byte aligned in the data section
  writeSafetensors(out, new Map([...f32, ...i8]), meta);
  return { layers: layers.length, fp32Bytes, int8Bytes };
}

/** Copies the checkpoint's SentencePiece files next to `out` when it is written to another folder. */
function copySentencePiece(src: string, config: MtCheckpointConfig, out: string): void {
  const from = dirname(resolve(src));
  const to = dirname(resolve(out));
  if (from === to) return;
  if (!existsSync(to)) throw new UserError(`cannot write ${out}: folder ${to} does not exist`, 'not_found');
  for (const f of [config.spm.model, config.spm.vocab]) if (!existsSync(join(to, f))) copyFileSync(join(from, f), join(to, f));
}

/** The int8 weights each model was loaded with (loadInt8Checkpoint), by weight name. */
const loadedInt8 = new WeakMap<Module, Map<string, Int8Rows>>();

/** The int8 weights of a model loaded from an int8 checkpoint, or undefined. */
export function int8WeightsOf(model: Module): Map<string, Int8Rows> | undefined {
  return loadedInt8.get(model);
}

/** Loads int8 checkpoint `path` into `model`: dequantised weights in its fp32 parameters, the int8 ones kept for applyPrecision. */
export function loadInt8Checkpoint(path: string, model: Module): void {
  const { tensors } = readSafetensors(path);
  const params = model.namedParameters();
  const int8 = new Map<string, Int8Rows>();
  for (const l of int8Layers(model)) {
    const q = tensors.get(l.weightName);
    const s = tensors.get(l.weightName + SCALE_SUFFIX);
    if (q?.dtype !== 'I8' || !s || s.shape.join() !== String(l.rows)) {
      throw new UserError(
        `${path}: expected an I8 tensor '${l.weightName}' and an F32 '${l.weightName}${SCALE_SUFFIX}' of ${l.rows} values (an int8 checkpoint of \`resmlp mt quantize\`), found ${describe(q)} and ${describe(s)}`,
        'invalid_data',
      );
    }
    int8.set(l.weightName, { q: Int8Array.from(q.data), scales: Float32Array.from(s.data), rows: l.rows, cols: l.cols });
    tensors.delete(l.weightName + SCALE_SUFFIX);
  }
  checkShapes(tensors, params, { where: path });
  tf.tidy(() => {
    for (const [name, v] of params) {
      const rows = int8.get(name);
      const t = tensors.get(name)!;
      v.assign(tf.tensor(rows ? dequantizeRows(rows) : Float32Array.from(t.data), t.shape, 'float32'));
    }
  });
  loadedInt8.set(model, int8);
}

function describe(t: StoredTensor | undefined): string {
  return t ? `${t.dtype} [${t.shape}]` : 'none';
}
