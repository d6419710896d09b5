// Linear layer, y = x Wᵀ + b over the last axis, as torch.nn.Linear.
// Layout: weight is stored (out, in) exactly as PyTorch, so timm/fairseq checkpoints load by name.
// The product reads it through matMul's transposeB flag (one BatchMatMul/_FusedMatMul kernel, no
// transpose op in forward or backward: tfjs's gradient of a transposeB matmul is dx = dy·W and
// dW = dyᵀ·x, both plain or transposeA products). Bias is added inside tf.fused.matMul so a backend
// with a fused kernel does it in the same pass. For inference a layer may hand its product to a
// `LinearKernel` (src/quant: int8 weights on the native backend), which may also apply the
// activation that follows it (GELU in the channel MLP) in the same pass.
import * as tf from '@tensorflow/tfjs';
import { gelu } from '../backend/fused.js';
import { type Init, initTensor, type Resettable } from './init.js';
import { Module } from './module.js';
import { checkInt, resolveConfig } from '../util/config.js';
import type { RandomSource } from './rng.js';

export interface LinearConfig {
  /** Input features (required). */
  inFeatures: number;
  /** Output features (required). */
  outFeatures: number;
  /** Learn an additive bias. Default true. */
  bias: boolean;
  /** Weight init. Default xavier_uniform (timm's Mixer/ResMLP rule). */
  weightInit: Init;
  /** Bias init. Default zeros (timm uses N(0, 1e-6) inside MLPs: pass MLP_BIAS_INIT). */
  biasInit: Init;
}

export const DEFAULT_LINEAR: Omit<LinearConfig, 'inFeatures' | 'outFeatures'> = {
  bias: true,
  weightInit: { kind: 'xavier_uniform' },
  biasInit: { kind: 'zeros' },
};

export function resolveLinearConfig(c: Partial<LinearConfig>): LinearConfig {
  const r = resolveConfig('LinearConfig', DEFAULT_LINEAR as LinearConfig, c, ['inFeatures', 'outFeatures']);
  checkInt('LinearConfig', 'inFeatures', r.inFeatures);
  checkInt('LinearConfig', 'outFeatures', r.outFeatures);
  return r;
}

/**
 * a bᵀ for 2-D a (M, K), b (N, K) → (M, N), through matMul's transposeB flag (no transpose op).
 * On wasm, b is transposed first: tfjs-backend-wasm 4.22 runs transposed operands on a naive path.
 */
export function matMulTransposeB(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  if (tf.getBackend() === 'wasm') return tf.tidy(() => tf.matMul(a, tf.transpose(b)));
  return tf.matMul(a, b, false, true);
}

/** y = x Wᵀ + b; weight (out, in), bias (out). */
export function linear(x: tf.Tensor, weight: tf.Tensor, bias?: tf.Tensor | null): tf.Tensor {
  const inF = weight.shape[1];
  const lead = x.shape.slice(0, -1);
  if (x.shape[x.rank - 1] !== inF) {
    throw new Error(
      `linear: input last dim ${x.shape[x.rank - 1]} does not match weight (out=${weight.shape[0]}, in=${inF}); input shape [${x.shape}]`,
    );
  }
  const x2 = (x.rank === 2 ? x : tf.reshape(x, [-1, inF])) as tf.Tensor2D; // (M, in)
  const y2 =
    tf.getBackend() === 'wasm'
      ? // tfjs-backend-wasm 4.22: _FusedMatMul with transposeB adds the bias at wrong offsets (row i
        // gets bias[i]-based values), and transposed operands take its naive ~1 GFLOP/s path; so
        // transpose W (out, in) → (in, out) first and call the plain fused kernel.
        tf.tidy(() => tf.fused.matMul({ a: x2, b: tf.transpose(weight) as tf.Tensor2D, bias: bias ?? undefined }))
      : tf.fused.matMul({ a: x2, b: weight as tf.Tensor2D, transposeB: true, bias: bias ?? undefined }); // (M, out)
  return x.rank === 2 ? y2 : tf.reshape(y2, [...lead, weight.shape[0]]); // (..., out)
}

/** What a linear product may apply to its output in the same pass. */
export type LinearAct = 'none' | 'gelu' | 'logSoftmax';

/**
 * An inference replacement of a layer's x Wᵀ (+ b), then `act` (src/quant's int8 layers). No
 * gradient: a model with kernels set decodes only.
 */
export interface LinearKernel {
  /** x (..., in) → act(x Wᵀ + b) (..., out). */
  forward(x: tf.Tensor, act: LinearAct): tf.Tensor;
  dispose(): void;
}

export class Linear extends Module implements Resettable {
  readonly config: LinearConfig;
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | null;
  /** The inference kernel that replaces the fp32 product (src/quant), or null. */
  kernel: LinearKernel | null = null;

  constructor(config: Partial<LinearConfig>, rng: RandomSource) {
    super();
    this.config = resolveLinearConfig(config);
    const { inFeatures, outFeatures } = this.config;
    this.weight = this.registerParameter('weight', initTensor([outFeatures, inFeatures], this.config.weightInit, rng));
    this.bias = this.config.bias ? this.registerParameter('bias', initTensor([outFeatures], this.config.biasInit, rng)) : null;
  }

  resetParameters(rng: RandomSource): void {
    const { inFeatures, outFeatures } = this.config;
    assignInit(this.weight, [outFeatures, inFeatures], this.config.weightInit, rng);
    if (this.bias) assignInit(this.bias, [outFeatures], this.config.biasInit, rng);
  }

  /** x (..., in) → (..., out); `act` 'gelu' returns GELU(x Wᵀ + b). */
  forward(x: tf.Tensor, act: 'none' | 'gelu' = 'none'): tf.Tensor {
    if (this.kernel) return this.kernel.forward(x, act);
    if (act === 'gelu') return tf.tidy(() => gelu(linear(x, this.weight, this.bias)));
    return linear(x, this.weight, this.bias);
  }

  /** Replaces the product by `kernel` (null: back to fp32), disposing the previous one. */
  setKernel(kernel: LinearKernel | null): void {
    this.kernel?.dispose();
    this.kernel = kernel;
  }

  override dispose(): void {
    this.setKernel(null);
    super.dispose();
  }
}

/** Overwrites variable `v` with fresh values from `init`. */
export function assignInit(v: tf.Variable, shape: readonly number[], init: Init, rng: RandomSource): void {
  const t = initTensor(shape, init, rng);
  v.assign(t);
  t.dispose();
}
