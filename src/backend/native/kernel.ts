// What a native kernel is and how it reads its inputs. A kernel (Impl) takes tfjs's kernel
// arguments and returns its outputs, or null when the native path does not cover these inputs
// (dtype, storage, layout): native.ts then runs the cpu backend's kernel. Each kernels-*.ts file
// makes its kernels from the loaded addon and its op codes (LoadedAddon), by tfjs kernel name.
// Reference: tfjs-core's KernelConfig / KernelFunc.
import type * as tf from '@tensorflow/tfjs';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';

export type TensorInfo = tf.TensorInfo;
export type Backend = MathBackendCPU;

/** A native kernel: its outputs, or null to run the cpu backend's kernel instead. */
export type Impl = (args: { inputs: tf.NamedTensorInfoMap; backend: Backend; attrs: tf.NamedAttrMap }) => TensorInfo | TensorInfo[] | null;

/** Native kernels by tfjs kernel name. */
export type KernelTable = Record<string, Impl>;

/** The float32 storage of t, or null when t is another dtype or not stored as a Float32Array. */
export function f32(backend: Backend, t: TensorInfo): Float32Array | null {
  if (t.dtype !== 'float32') return null;
  const v = backend.data.get(t.dataId).values;
  return v instanceof Float32Array ? v : null;
}

/** float32 values of t as a Float32Array (a copy when the storage is another array type); throws for other dtypes. */
export function f32Values(backend: Backend, t: TensorInfo, kernel: string): Float32Array {
  if (t.dtype !== 'float32') throw new Error(`${kernel}: expected float32 inputs, found ${t.dtype} [${t.shape}]`);
  return f32(backend, t) ?? Float32Array.from(backend.data.get(t.dataId).values as ArrayLike<number>);
}

/** Throws unless every tensor has as many elements as the first. */
export function checkSameLength(kernel: string, ts: TensorInfo[]): void {
  const n = size(ts[0]!.shape);
  for (const t of ts) {
    if (size(t.shape) !== n) throw new Error(`${kernel}: inputs must have one shape, found [${ts.map((x) => `[${x.shape}]`).join(', ')}]`);
  }
}

/** The int32 storage of t, or null. */
export function i32(backend: Backend, t: TensorInfo): Int32Array | null {
  if (t.dtype !== 'int32') return null;
  const v = backend.data.get(t.dataId).values;
  return v instanceof Int32Array ? v : null;
}

/** Number of elements of a shape. */
export function size(shape: readonly number[]): number {
  let s = 1;
  for (const d of shape) s *= d;
  return s;
}
