// Row-wise kernels along the last axis: Softmax, and the fused log-softmax (value and gradient)
// and label-smoothed cross-entropy (value and gradient) of src/backend/fused.ts, each one pass
// over the rows (native/src/softmax.cc). Reference: tfjs-backend-cpu's Softmax; src/core/loss.ts.
import { f32, i32, type KernelTable, type TensorInfo } from './kernel.js';
import type { LoadedAddon } from './addon.js';
import { newF32 } from './pool.js';
import { FUSED_KERNELS } from '../fused.js';

export function softmaxKernels({ addon }: LoadedAddon): KernelTable {
  return {
    Softmax: ({ inputs, backend, attrs }) => {
      const x = inputs.logits as TensorInfo;
      const xv = f32(backend, x);
      const rank = x.shape.length;
      const dim = Number(attrs.dim ?? -1);
      if (!xv || rank === 0 || (dim !== -1 && dim !== rank - 1)) return null;
      const C = x.shape[rank - 1];
      const y = newF32(backend, xv.length);
      if (y.length > 0) addon.softmax(xv, y, xv.length / C, C, false);
      return backend.makeTensorInfo(x.shape, 'float32', y);
    },

    [FUSED_KERNELS.logSoftmax]: ({ inputs, backend }) => {
      const x = inputs.logits as TensorInfo;
      const xv = f32(backend, x);
      if (!xv) throw new Error(`${FUSED_KERNELS.logSoftmax}: expected float32 logits, found ${x.dtype}`);
      const C = x.shape[x.shape.length - 1];
      const y = newF32(backend, xv.length);
      if (y.length > 0) addon.softmax(xv, y, xv.length / C, C, true);
      return backend.makeTensorInfo(x.shape, 'float32', y);
    },
    [FUSED_KERNELS.logSoftmaxGrad]: ({ inputs, backend }) => {
      const dy = inputs.dy as TensorInfo,
        value = inputs.value as TensorInfo;
      const dv = f32(backend, dy),
        vv = f32(backend, value);
      if (!dv || !vv || dv.length !== vv.length)
        throw new Error(`${FUSED_KERNELS.logSoftmaxGrad}: expected float32 dy and value of one shape`);
      const C = value.shape[value.shape.length - 1];
      const y = newF32(backend, vv.length);
      if (y.length > 0) addon.logSoftmaxGrad(dv, vv, y, vv.length / C, C);
      return backend.makeTensorInfo(value.shape, 'float32', y);
    },
    [FUSED_KERNELS.smoothedXent]: ({ inputs, backend, attrs }) => {
      const x = inputs.logits as TensorInfo,
        t = inputs.targets as TensorInfo;
      const xv = f32(backend, x),
        tv = i32(backend, t);
      if (!xv || !tv || x.shape.length !== 2 || tv.length !== x.shape[0]) {
        throw new Error(
          `${FUSED_KERNELS.smoothedXent}: expected float32 logits (M, V) and int32 targets (M), found ${x.dtype} [${x.shape}] and ${t.dtype} [${t.shape}]`,
        );
      }
      const [M, V] = x.shape as [number, number];
      const loss = newF32(backend, M),
        lse = newF32(backend, M);
      if (M > 0) addon.xentRows(xv, tv, loss, lse, M, V, Number(attrs.c), Number(attrs.s));
      return [backend.makeTensorInfo([M], 'float32', loss), backend.makeTensorInfo([M], 'float32', lse)] as unknown as TensorInfo;
    },
    [FUSED_KERNELS.smoothedXentGrad]: ({ inputs, backend, attrs }) => {
      const dy = inputs.dy as TensorInfo,
        x = inputs.logits as TensorInfo,
        t = inputs.targets as TensorInfo,
        lse = inputs.lse as TensorInfo;
      const dv = f32(backend, dy),
        xv = f32(backend, x),
        tv = i32(backend, t),
        lv = f32(backend, lse);
      if (!dv || !xv || !tv || !lv)
        throw new Error(`${FUSED_KERNELS.smoothedXentGrad}: expected float32 dy, logits, lse and int32 targets`);
      const [M, V] = x.shape as [number, number];
      const dx = newF32(backend, M * V);
      if (M > 0) addon.xentRowsGrad(dv, xv, tv, lv, dx, M, V, Number(attrs.c), Number(attrs.s));
      return backend.makeTensorInfo([M, V], 'float32', dx);
    },
  };
}
