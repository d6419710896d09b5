// Reductions: Sum, Mean, Max, Min, Prod over any axes. Contiguous axes are reduced in place as
// the middle axis of [outer, R, inner] (native/src/reduce.cc); other axes are moved together by a
// transpose first. Reference: tfjs-backend-cpu's kernels of the same names.
import * as tf from '@tensorflow/tfjs';
import { f32, size, type Backend, type Impl, type KernelTable, type TensorInfo } from './kernel.js';
import type { LoadedAddon, NativeAddon, OpCodes } from './addon.js';
import { nativeTranspose } from './kernels-layout.js';
import { newF32 } from './pool.js';

/** op (a reduce op code) over `axis` of x (all axes when undefined); null when x is not float32 storage or empty. */
function nativeReduce(
  addon: NativeAddon,
  backend: Backend,
  op: number,
  x: TensorInfo,
  axis: number | number[] | undefined,
  keepDims: boolean,
): TensorInfo | null {
  const xv = f32(backend, x);
  if (!xv || xv.length === 0) return null;
  const rank = x.shape.length;
  const axes = tf.util
    .parseAxisParam(axis ?? (null as unknown as number[]), x.shape)
    .slice()
    .sort((p, q) => p - q);
  if (axes.length === 0) return null;
  const [outShape] = tf.backend_util.computeOutAndReduceShapes(x.shape, axes);
  const finalShape = keepDims ? tf.backend_util.expandShapeToKeepDim(outShape, axes) : outShape;
  const contiguous = axes.every((a, i) => i === 0 || a === axes[i - 1] + 1);
  let src = xv,
    outer: number,
    Rn: number,
    inner: number;
  let tmp: TensorInfo | null = null;
  if (contiguous) {
    outer = size(x.shape.slice(0, axes[0]));
    Rn = size(axes.map((a) => x.shape[a]));
    inner = size(x.shape.slice(axes[axes.length - 1] + 1));
  } else {
    const perm = tf.backend_util.getAxesPermutation(axes, rank)!;
    tmp = nativeTranspose(addon, backend, x, perm)!;
    src = backend.data.get(tmp.dataId).values as Float32Array;
    Rn = size(axes.map((a) => x.shape[a]));
    outer = xv.length / Rn;
    inner = 1;
  }
  const y = newF32(backend, outer * inner);
  addon.reduce(op, src, y, outer, Rn, inner);
  if (tmp) backend.disposeIntermediateTensorInfo(tmp);
  return backend.makeTensorInfo(finalShape, 'float32', y);
}

export function reduceKernels({ addon, ops }: LoadedAddon): KernelTable {
  const reduce = (name: keyof OpCodes['reduce'], axisAttr = 'axis'): Impl => {
    const op = ops.reduce[name];
    return ({ inputs, backend, attrs }) =>
      nativeReduce(addon, backend, op, inputs.x as TensorInfo, attrs[axisAttr] as number | number[], Boolean(attrs.keepDims));
  };
  return {
    Sum: reduce('Sum'),
    Mean: reduce('Mean'),
    Max: reduce('Max', 'reductionIndices'),
    Min: reduce('Min'),
    Prod: reduce('Prod'),
  };
}
