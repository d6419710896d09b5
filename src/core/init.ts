// Parameter initialisers (seeded, drawn in JS so results are identical on every backend) and
// timm's Mixer/ResMLP init rule (timm/models/mlp_mixer.py `_init_weights`, non-flax branch):
//   nn.Linear named 'head*'  → weight 0, bias `head_bias` (0)
//   other nn.Linear          → weight xavier_uniform; bias N(0, 1e-6) if 'mlp' in its name, else 0
//   LayerNorm                → weight 1, bias 0;  Affine → alpha 1, beta 0 (its constructor)
// So `linear_tokens` (ResMLP cross-token layer) is xavier-uniform with zero bias, and the biases of
// `mlp_channels.fc*` and of Mixer's `mlp_tokens.fc*` are N(0, 1e-6). ResMLP LayerScale (ls1, ls2)
// is set to `init_values` by the block. The modules here pick their init spec at construction by
// that rule; `resetParameters` re-draws every parameter in module order from a new generator.
import * as tf from '@tensorflow/tfjs';
import type { Module } from './module.js';
import type { RandomSource } from './rng.js';

/** How to fill one parameter. Fans follow PyTorch: for a (out, in, ...) weight, fan_in = in·∏rest. */
export type Init =
  | { kind: 'zeros' }
  | { kind: 'ones' }
  | { kind: 'constant'; value: number }
  | { kind: 'normal'; std: number; mean?: number }
  /** N(0, std) redrawn outside [-2·std, 2·std] (timm's trunc_normal_tf_: bounds in units of std). */
  | { kind: 'trunc_normal'; std: number }
  | { kind: 'uniform'; bound: number }
  /** U(-b, b), b = gain·√(6 / (fan_in + fan_out)) (torch.nn.init.xavier_uniform_). */
  | { kind: 'xavier_uniform'; gain?: number }
  /** Truncated normal with std √(1/fan_in) / .87962566 (timm's lecun_normal_, used for conv stems). */
  | { kind: 'lecun_normal' };

/** timm: bias of a Linear whose module name contains 'mlp'. */
export const MLP_BIAS_INIT: Init = { kind: 'normal', std: 1e-6 };

/** PyTorch fans of a weight shape: 1-D → (n, n); (out, in, k...) → (in·k, out·k). */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2) return { fanIn: shape[0] ?? 1, fanOut: shape[0] ?? 1 };
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[1] * receptive, fanOut: shape[0] * receptive };
}

/** Draws a float32 array of `size` values for `init`. */
export function drawValues(shape: readonly number[], init: Init, rng: RandomSource): Float32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(size);
  switch (init.kind) {
    case 'zeros':
      break;
    case 'ones':
      out.fill(1);
      break;
    case 'constant':
      out.fill(init.value);
      break;
    case 'normal': {
      const mean = init.mean ?? 0;
      for (let i = 0; i < size; i++) out[i] = rng.normal(mean, init.std);
      break;
    }
    case 'trunc_normal':
      fillTruncNormal(out, init.std, rng);
      break;
    case 'uniform':
      for (let i = 0; i < size; i++) out[i] = (2 * rng.uniform() - 1) * init.bound;
      break;
    case 'xavier_uniform': {
      const { fanIn, fanOut } = fans(shape);
      const bound = (init.gain ?? 1) * Math.sqrt(6 / (fanIn + fanOut));
      for (let i = 0; i < size; i++) out[i] = (2 * rng.uniform() - 1) * bound;
      break;
    }
    case 'lecun_normal': {
      const { fanIn } = fans(shape);
      fillTruncNormal(out, Math.sqrt(1 / fanIn) / 0.87962566103423978, rng);
      break;
    }
    default: {
      const never: never = init;
      throw new Error(`unknown init ${JSON.stringify(never)}`);
    }
  }
  return out;
}

function fillTruncNormal(out: Float32Array, std: number, rng: RandomSource): void {
  for (let i = 0; i < out.length; i++) {
    let z = rng.normal();
    while (z < -2 || z > 2) z = rng.normal();
    out[i] = z * std;
  }
}

/** A new float32 tensor of `shape` filled by `init`. */
export function initTensor(shape: readonly number[], init: Init, rng: RandomSource): tf.Tensor {
  return tf.tensor(drawValues(shape, init, rng), [...shape], 'float32');
}

/** Implemented by modules whose parameters can be re-drawn by their own init specs. */
export interface Resettable {
  resetParameters(rng: RandomSource): void;
}

function isResettable(m: unknown): m is Resettable {
  return typeof (m as Partial<Resettable>).resetParameters === 'function';
}

/**
 * Re-initialises every parameter of `root`, visiting modules depth-first in registration order
 * (as timm's named_apply), each with the init its constructor chose. Deterministic in `rng`.
 */
export function resetParameters(root: Module, rng: RandomSource): void {
  for (const m of root.namedModules().values()) if (isResettable(m)) m.resetParameters(rng);
}
