// Gather and scatter-add, the embedding's forward and backward: GatherV2, UnsortedSegmentSum and
// ScatterNd (rows summed at their indices) on native/src/gather.cc. The cpu backend's
// UnsortedSegmentSum loops over every segment, far too slow for a vocabulary-sized embedding
// gradient (../shared/NOTES-tfjs.md). Reference: tfjs-backend-cpu's kernels of the same names.
import * as tf from '@tensorflow/tfjs';
import { f32, i32, size, type KernelTable, type TensorInfo } from './kernel.js';
import type { LoadedAddon } from './addon.js';
import { newF32 } from './pool.js';

export function gatherKernels({ addon }: LoadedAddon): KernelTable {
  return {
    GatherV2: ({ inputs, backend, attrs }) => {
      const x = inputs.x as TensorInfo,
        indices = inputs.indices as TensorInfo;
      if (((attrs.batchDims as number | undefined) ?? 0) !== 0) return null;
      const iv = i32(backend, indices);
      const xv = f32(backend, x) ?? i32(backend, x);
      if (!iv || !xv) return null;
      const axis = tf.util.parseAxisParam(attrs.axis as number, x.shape)[0];
      const outer = size(x.shape.slice(0, axis)),
        dimSize = x.shape[axis],
        slice = size(x.shape.slice(axis + 1));
      const outShape = [...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)];
      const n = size(outShape);
      const y = xv instanceof Float32Array ? newF32(backend, n) : new Int32Array(n);
      addon.gather(xv, iv, y, outer, dimSize, slice);
      return backend.makeTensorInfo(outShape, x.dtype, y);
    },

    UnsortedSegmentSum: ({ inputs, backend, attrs }) => {
      const x = inputs.x as TensorInfo,
        ids = inputs.segmentIds as TensorInfo;
      const xv = f32(backend, x),
        iv = i32(backend, ids);
      if (!xv || !iv) return null;
      const numSegments = Number(attrs.numSegments);
      const inner = x.shape.slice(ids.shape.length);
      const slice = size(inner);
      const outShape = [numSegments, ...inner];
      const y = newF32(backend, numSegments * slice);
      if (iv.length > 0 && slice > 0) addon.segmentSum(xv, iv, y, numSegments, slice);
      return backend.makeTensorInfo(outShape, 'float32', y);
    },

    ScatterNd: ({ inputs, backend, attrs }) => {
      // Embedding backward: rows of `updates` summed into a zero (shape) tensor at `indices`.
      const indices = inputs.indices as TensorInfo,
        updates = inputs.updates as TensorInfo;
      const shape = attrs.shape as number[];
      const uv = f32(backend, updates),
        iv = i32(backend, indices);
      if (!uv || !iv || updates.shape.length === 0) return null;
      const sliceRank = indices.shape.length > 1 ? indices.shape[indices.shape.length - 1] : 1;
      if (sliceRank < 1) return null;
      const numUpdates = iv.length / sliceRank;
      const rows = size(shape.slice(0, sliceRank));
      const sliceSize = size(shape.slice(sliceRank));
      if (uv.length !== numUpdates * sliceSize) return null;
      const strides = tf.util.computeStrides(shape.slice(0, sliceRank));
      strides.push(1);
      const flat = new Int32Array(numUpdates);
      for (let i = 0; i < numUpdates; i++) {
        let f = 0;
        for (let j = 0; j < sliceRank; j++) f += iv[i * sliceRank + j]! * strides[j]!;
        if (f < 0 || f >= rows) {
          throw new Error(`Invalid indices: ${Array.from(iv.subarray(i * sliceRank, (i + 1) * sliceRank))} does not index into ${shape}`);
        }
        flat[i] = f;
      }
      const y = newF32(backend, rows * sliceSize);
      if (numUpdates > 0 && sliceSize > 0) addon.segmentSum(uv, flat, y, rows, sliceSize);
      return backend.makeTensorInfo(shape, 'float32', y);
    },
  };
}
