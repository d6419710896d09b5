// The `native` TensorFlow.js backend: the JS cpu backend's storage and kernels (MathBackendCPU from
// @tensorflow/tfjs-backend-cpu) with the hot kernels replaced by the N-API addon in native/
// (OpenBLAS sgemm + OpenMP loops), working zero-copy on the cpu backend's TypedArrays. Kernels not
// replaced here, and cases a native kernel does not cover (other dtypes, rare layouts), run the cpu
// backend's JS kernel. This file registers the backend; its parts live in native/: load.ts (the
// addon, its threads and environment), addon.ts (the addon's functions and op table, checked by
// name at load), pool.ts (the backend object and its recycled outputs), broadcast.ts, kernel.ts,
// and kernels-*.ts by concern (kernels-int8.ts: int8 linear layers for decoding, on oneDNN). Reference: tfjs-backend-cpu kernels (semantics), tfjs-node (a
// backend that swaps kernels under the same tfjs-core API).
import * as tf from '@tensorflow/tfjs';
import type { LoadedAddon } from './native/addon.js';
import type { Impl, KernelTable } from './native/kernel.js';
import { affineKernels } from './native/kernels-affine.js';
import { elementwiseKernels } from './native/kernels-elementwise.js';
import { gatherKernels } from './native/kernels-gather.js';
import { int8Kernels } from './native/kernels-int8.js';
import { layoutKernels } from './native/kernels-layout.js';
import { matmulKernels } from './native/kernels-matmul.js';
import { optimKernels } from './native/kernels-optim.js';
import { reduceKernels } from './native/kernels-reduce.js';
import { softmaxKernels } from './native/kernels-softmax.js';
import { requireAddon } from './native/load.js';
import { NativeBackend } from './native/pool.js';

export type { NativeAddon } from './native/addon.js';
export { blasDescription, getNativeThreads, nativeAddon, nativeAvailable, setNativeThreads } from './native/load.js';
export { chooseOpenblasCoreType, readCpuFlags, type CoreTypeChoice } from './native/openblas-core.js';
export {
  int8Linear,
  int8Support,
  packInt8Weight,
  type Int8Support,
  type LinearEpilogue,
  type PackedInt8Weight,
} from './native/kernels-int8.js';
export { nativeRowTopK } from './native/row-topk.js';
export { NativeBackend } from './native/pool.js';

const KERNEL_FAMILIES: readonly ((a: LoadedAddon) => KernelTable)[] = [
  matmulKernels,
  elementwiseKernels,
  reduceKernels,
  softmaxKernels,
  layoutKernels,
  gatherKernels,
  affineKernels,
  optimKernels,
  int8Kernels,
];

/** Every native kernel by tfjs kernel name, made from the loaded addon; a name in two families is a bug. */
function kernelTable(a: LoadedAddon): KernelTable {
  const table: KernelTable = {};
  for (const family of KERNEL_FAMILIES) {
    for (const [name, impl] of Object.entries(family(a))) {
      if (Object.hasOwn(table, name)) throw new Error(`native backend: kernel ${name} is defined by two kernel families`);
      table[name] = impl;
    }
  }
  return table;
}

/** Kernel names that have a native implementation (a case it does not cover runs the cpu kernel). Loads the addon. */
export function nativeKernelNames(): string[] {
  return Object.keys(kernelTable(requireAddon()));
}

let registered = false;
const fallbackCounts = new Map<string, number>();

/**
 * How often each natively implemented kernel ran the cpu backend's JS kernel instead, because
 * the native path does not cover its inputs (dtype, storage, layout), since the last reset. For
 * benches and profiling: a hot kernel that shows up here is running at JS speed.
 */
export function nativeFallbacks(reset = false): Map<string, number> {
  const out = new Map(fallbackCounts);
  if (reset) fallbackCounts.clear();
  return out;
}

/**
 * Registers the backend 'native' (once). Throws with the reason when the addon is unavailable
 * or does not match this TypeScript (a missing function or op, named in the message).
 * Selecting it is the chooser's job (src/backend/choose.ts).
 */
export function registerNativeBackend(): void {
  if (registered) return;
  const impls = kernelTable(requireAddon());
  const cpuKernels = tf.getKernelsForBackend('cpu');
  if (cpuKernels.length === 0) throw new Error('native backend: no cpu kernels registered (is @tensorflow/tfjs loaded?)');
  const cpuFunc = new Map<string, tf.KernelFunc>();
  for (const k of cpuKernels) {
    cpuFunc.set(k.kernelName, k.kernelFunc);
    if (Object.hasOwn(impls, k.kernelName)) continue;
    tf.registerKernel({ ...k, backendName: 'native' });
  }
  for (const [name, impl] of Object.entries(impls)) {
    const fallback = cpuFunc.get(name);
    const kernelFunc: tf.KernelFunc = (args) => {
      const out = impl(args as unknown as Parameters<Impl>[0]);
      if (out) return out;
      if (!fallback) throw new Error(`native backend: kernel ${name} has no native path for these inputs and no cpu kernel`);
      fallbackCounts.set(name, (fallbackCounts.get(name) ?? 0) + 1);
      return fallback(args);
    };
    tf.registerKernel({ kernelName: name, backendName: 'native', kernelFunc });
  }
  tf.registerBackend('native', () => new NativeBackend(), 0);
  registered = true;
}
