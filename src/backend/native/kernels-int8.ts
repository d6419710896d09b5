// int8 linear layers for decoding on the addon's int8 kernels (native/src/int8.cc, oneDNN's
// matmul): the tfjs kernel ResmlpInt8Linear, y = epilogue(x·Wᵀ + b) with W packed int8 and x
// quantised per row on every call, and what the quantised layers (src/quant) need to use it:
// whether int8 runs here (int8Support) and packing a weight (packInt8Weight). Inference only: the
// kernel has no gradient. Reference: the per-row dynamic quantisation of CTranslate2 and FBGEMM.
import * as tf from '@tensorflow/tfjs';
import type { LoadedAddon } from './addon.js';
import { f32, f32Values, size, type KernelTable, type TensorInfo } from './kernel.js';
import { loadAddon, loadFailure } from './load.js';
import { newF32 } from './pool.js';

/** The tfjs kernel: inputs {x (..., K), bias (N) optional}, attrs {weight: PackedInt8Weight, epilogue}. */
export const INT8_LINEAR_KERNEL = 'ResmlpInt8Linear';

/** What the kernel applies after the bias, by the names of native/src/ops.h (linearEpilogue). */
export type LinearEpilogue = 'None' | 'Gelu' | 'LogSoftmax';

/** Whether int8 runs here, and if not, why (no native addon, a build without oneDNN, no VNNI). */
export interface Int8Support {
  available: boolean;
  reason: string;
  /** The instruction set oneDNN dispatches on, e.g. avx512_core_vnni. */
  isa: string;
  /** oneDNN's int8 matmul kernel, e.g. brg:avx512_core_vnni. */
  kernel: string;
  /** e.g. oneDNN 2.6.3. */
  library: string;
}

/** A weight (N, K) packed for the kernel; `release()` frees it now (else the GC's finalizer does). */
export interface PackedInt8Weight {
  readonly N: number;
  readonly K: number;
  release(): void;
}

interface Packed extends PackedInt8Weight {
  handle: unknown;
}

export function int8Kernels({ addon, ops }: LoadedAddon): KernelTable {
  return {
    [INT8_LINEAR_KERNEL]: ({ inputs, backend, attrs }) => {
      const { x, bias } = inputs as { x: TensorInfo; bias?: TensorInfo };
      const w = attrs.weight as unknown as Packed;
      const epilogue = ops.linearEpilogue[attrs.epilogue as LinearEpilogue];
      if (epilogue === undefined) throw new Error(`${INT8_LINEAR_KERNEL}: unknown epilogue ${JSON.stringify(attrs.epilogue)}`);
      const K = x.shape[x.shape.length - 1];
      if (K !== w.K)
        throw new Error(`${INT8_LINEAR_KERNEL}: input last dim ${K} does not match the weight (${w.N}, ${w.K}); input shape [${x.shape}]`);
      const M = size(x.shape) / K;
      const b = bias ? f32(backend, bias) : null;
      if (bias && (!b || b.length !== w.N))
        throw new Error(`${INT8_LINEAR_KERNEL}: bias must be float32 of ${w.N} values, found ${bias.dtype} [${bias.shape}]`);
      const y = newF32(backend, M * w.N);
      addon.int8Linear(w.handle, f32Values(backend, x, INT8_LINEAR_KERNEL), M, b, y, epilogue);
      return backend.makeTensorInfo([...x.shape.slice(0, -1), w.N], 'float32', y);
    },
  };
}

/** Whether int8 linear layers run here: the native addon loads, was built with oneDNN, and the CPU has VNNI. */
export function int8Support(): Int8Support {
  const a = loadAddon();
  if (!a) return { available: false, reason: `the native addon is unavailable: ${loadFailure()}`, isa: '', kernel: '', library: '' };
  return a.addon.int8Support();
}

/**
 * Packs an int8 weight q (N·K, row n = output channel n) with its per-channel scales (N) for the
 * kernel. Throws with int8Support()'s reason where int8 does not run.
 */
export function packInt8Weight(q: Int8Array, scales: Float32Array, N: number, K: number): PackedInt8Weight {
  const a = loadAddon();
  if (!a) throw new Error(`packInt8Weight: the native addon is unavailable: ${loadFailure()}`);
  const handle = a.addon.int8Pack(q, scales, N, K);
  let live = true;
  return {
    N,
    K,
    handle,
    release() {
      if (live) a.addon.int8Release(handle);
      live = false;
    },
  } as Packed;
}

/** y = epilogue(x·Wᵀ + bias) for x (..., K) float32 on the active backend (it must be `native`). */
export function int8Linear(x: tf.Tensor, weight: PackedInt8Weight, bias: tf.Tensor | null, epilogue: LinearEpilogue = 'None'): tf.Tensor {
  const inputs: tf.NamedTensorMap = bias ? { x, bias } : { x };
  return tf.engine().runKernel(INT8_LINEAR_KERNEL, inputs, { weight: weight as unknown as tf.NamedAttrMap[string], epilogue }) as tf.Tensor;
}
