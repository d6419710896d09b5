// Kernels that move data: Transpose (a permutation collapsed into the fewest dims, then one
// strided copy, native/src/layout.cc), Slice (a strided copy when not contiguous), PadV2 (the
// gradient of slice) and Concat. Reference: tfjs-backend-cpu's kernels of the same names.
import * as tf from '@tensorflow/tfjs';
import { f32, i32, size, type Backend, type KernelTable, type TensorInfo } from './kernel.js';
import type { LoadedAddon, NativeAddon } from './addon.js';
import { newF32 } from './pool.js';

/** Collapses a permutation: returns output dims and the input stride of each. */
function transposePlan(shape: readonly number[], perm: readonly number[]): { dims: Int32Array; strides: Int32Array } {
  const strides: number[] = new Array(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  const groups: { d: number; axis: number }[] = [];
  for (const ax of perm) {
    if (shape[ax] === 1) continue;
    const last = groups[groups.length - 1];
    // merge when this input axis follows the group's last axis directly in memory
    if (last && strides[last.axis] === strides[ax] * shape[ax]) {
      last.d *= shape[ax];
      last.axis = ax;
    } else groups.push({ d: shape[ax], axis: ax });
  }
  if (groups.length === 0) groups.push({ d: 1, axis: -1 });
  return {
    dims: Int32Array.from(groups.map((g) => g.d)),
    strides: Int32Array.from(groups.map((g) => (g.axis < 0 ? 1 : strides[g.axis]))),
  };
}

/** x permuted by perm (float32, int32 or bool storage); null for storage it does not cover. */
export function nativeTranspose(addon: NativeAddon, backend: Backend, x: TensorInfo, perm: readonly number[]): TensorInfo | null {
  if (x.dtype !== 'float32' && x.dtype !== 'int32' && x.dtype !== 'bool') return null;
  const v = backend.data.get(x.dataId).values;
  if (!(v instanceof Float32Array || v instanceof Int32Array || v instanceof Uint8Array)) return null;
  const outShape = perm.map((p) => x.shape[p]);
  const n = size(outShape);
  const y = v instanceof Float32Array ? newF32(backend, n) : v instanceof Int32Array ? new Int32Array(n) : new Uint8Array(n);
  if (n > 0) {
    const plan = transposePlan(x.shape, perm);
    addon.transpose(v, y, plan.dims, plan.strides);
  }
  return backend.makeTensorInfo(outShape, x.dtype, y);
}

export function layoutKernels({ addon }: LoadedAddon): KernelTable {
  return {
    Transpose: ({ inputs, backend, attrs }) => nativeTranspose(addon, backend, inputs.x as TensorInfo, attrs.perm as number[]),

    Slice: ({ inputs, backend, attrs }) => {
      // A contiguous slice stays the cpu kernel's zero-copy view; others are a strided copy (the
      // transpose kernel with the input's strides and the slice's start offset).
      const x = inputs.x as TensorInfo;
      const v = backend.data.get(x.dataId).values;
      if (!(v instanceof Float32Array || v instanceof Int32Array) || (x.dtype !== 'float32' && x.dtype !== 'int32')) return null;
      const [begin, sz] = tf.slice_util.parseSliceParams(x, attrs.begin as number[], attrs.size as number[]);
      tf.slice_util.assertParamsValid(x, begin, sz);
      if (tf.slice_util.isSliceContinous(x.shape, begin, sz)) return null;
      const n = size(sz);
      const strides: number[] = new Array(x.shape.length);
      let st = 1;
      for (let i = x.shape.length - 1; i >= 0; i--) {
        strides[i] = st;
        st *= x.shape[i];
      }
      const offset = begin.reduce((acc, b, i) => acc + b * strides[i]!, 0);
      const dims: number[] = [],
        sts: number[] = [];
      for (let i = 0; i < sz.length; i++) {
        if (sz[i] === 1) continue;
        const k = dims.length - 1;
        if (k >= 0 && sts[k] === strides[i]! * sz[i]!) {
          dims[k] *= sz[i]!;
          sts[k] = strides[i]!;
        } else {
          dims.push(sz[i]!);
          sts.push(strides[i]!);
        }
      }
      if (dims.length === 0) {
        dims.push(1);
        sts.push(1);
      }
      const y = v instanceof Float32Array ? newF32(backend, n) : new Int32Array(n);
      if (n > 0) addon.transpose(v.subarray(offset), y, Int32Array.from(dims), Int32Array.from(sts));
      return backend.makeTensorInfo(sz, x.dtype, y);
    },

    PadV2: ({ inputs, backend, attrs }) => {
      // The gradient of slice. The cpu kernel maps every element through index arrays (~100 ns
      // each); here: fill, then one TypedArray.set (a memcpy) per row of x.
      const x = inputs.x as TensorInfo;
      const xv = f32(backend, x) ?? i32(backend, x);
      const r = x.shape.length;
      if (!xv || r === 0) return null;
      const pads = attrs.paddings as [number, number][];
      const outShape = x.shape.map((d, i) => pads[i]![0] + d + pads[i]![1]);
      const n = size(outShape);
      const y = xv instanceof Float32Array ? newF32(backend, n) : new Int32Array(n);
      y.fill(Number(attrs.constantValue ?? 0));
      const L = x.shape[r - 1]!;
      if (xv.length > 0 && L > 0) {
        const ost: number[] = new Array(r);
        let st = 1;
        for (let i = r - 1; i >= 0; i--) {
          ost[i] = st;
          st *= outShape[i]!;
        }
        const idx = new Array<number>(r - 1).fill(0);
        const rows = xv.length / L;
        for (let row = 0; row < rows; row++) {
          let off = pads[r - 1]![0];
          for (let i = 0; i < r - 1; i++) off += (idx[i]! + pads[i]![0]) * ost[i]!;
          y.set(xv.subarray(row * L, row * L + L), off);
          for (let i = r - 2; i >= 0; i--) {
            if (++idx[i]! < x.shape[i]!) break;
            idx[i] = 0;
          }
        }
      }
      return backend.makeTensorInfo(outShape, x.dtype, y);
    },

    Concat: ({ inputs, backend, attrs }) => {
      const ts = (Array.isArray(inputs) ? inputs : Object.values(inputs)) as TensorInfo[];
      if (ts.length === 0) return null;
      const axis = tf.util.parseAxisParam(attrs.axis as number, ts[0]!.shape)[0]!;
      const outShape = tf.backend_util.computeOutShape(
        ts.map((t) => t.shape),
        axis,
      );
      const nonEmpty = ts.filter((t) => size(t.shape) > 0);
      if (nonEmpty.length < 2) return null; // the cpu kernel returns the one input itself
      const vs = nonEmpty.map((t) => f32(backend, t));
      if (vs.some((v) => !v)) return null;
      tf.backend_util.assertParamsConsistent(
        ts.map((t) => t.shape),
        axis,
      );
      const outer = size(outShape.slice(0, axis));
      const inners = Int32Array.from(nonEmpty.map((t) => size(t.shape.slice(axis))));
      const y = newF32(backend, size(outShape));
      addon.concat(y, vs as Float32Array[], inners, outer);
      return backend.makeTensorInfo(outShape, 'float32', y);
    },
  };
}
