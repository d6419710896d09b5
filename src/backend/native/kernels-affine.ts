// Per-channel scale kernels of src/backend/fused.ts: scaleShift (ResMLP's Affine, α ⊙ x + β),
// addScaled (a LayerScale residual, h + s ⊙ t) and their common gradient, one pass each way
// (native/src/affine.cc). Reference: ResMLP (Touvron et al. 2021), sec. 2.
import * as tf from '@tensorflow/tfjs';
import { f32Values, type Backend, type KernelTable, type TensorInfo } from './kernel.js';
import type { LoadedAddon } from './addon.js';
import { newF32 } from './pool.js';
import { FUSED_KERNELS } from '../fused.js';

export function affineKernels({ addon, ops }: LoadedAddon): KernelTable {
  /** y = x·scale + add, the scale along x's last axis; add is a shift of d values (Shift) or a tensor of x's shape (Residual). */
  const channelScale = (
    backend: Backend,
    kernel: string,
    x: TensorInfo,
    scale: TensorInfo,
    add: TensorInfo,
    mode: 'Shift' | 'Residual',
  ): TensorInfo => {
    const [xv, sv, av] = [x, scale, add].map((t) => f32Values(backend, t, kernel));
    const d = sv!.length;
    const addOk = mode === 'Shift' ? av!.length === d : tf.util.arraysEqual(add.shape, x.shape);
    if (x.shape.length === 0 || x.shape[x.shape.length - 1] !== d || !addOk) {
      throw new Error(
        `${kernel}: expected x (..., d), a scale of d values and ${mode === 'Shift' ? 'a shift of d values' : "a residual of x's shape"}, found [${x.shape}], [${scale.shape}], [${add.shape}]`,
      );
    }
    const y = newF32(backend, xv!.length);
    if (y.length > 0) addon.channelScale(xv!, sv!, av!, y, d, ops.channelScaleMode[mode]);
    return backend.makeTensorInfo(x.shape, 'float32', y);
  };
  return {
    [FUSED_KERNELS.scaleShift]: ({ inputs, backend }) =>
      channelScale(
        backend,
        FUSED_KERNELS.scaleShift,
        inputs.x as TensorInfo,
        inputs.scale as TensorInfo,
        inputs.shift as TensorInfo,
        'Shift',
      ),
    [FUSED_KERNELS.addScaled]: ({ inputs, backend }) =>
      channelScale(
        backend,
        FUSED_KERNELS.addScaled,
        inputs.t as TensorInfo,
        inputs.scale as TensorInfo,
        inputs.h as TensorInfo,
        'Residual',
      ),
    [FUSED_KERNELS.channelScaleGrad]: ({ inputs, backend, attrs }) => {
      const dy = inputs.dy as TensorInfo,
        x = inputs.x as TensorInfo,
        sc = inputs.scale as TensorInfo;
      const [dv, xv, sv] = [dy, x, sc].map((t) => f32Values(backend, t, FUSED_KERNELS.channelScaleGrad));
      const d = sv!.length;
      if (dv!.length !== xv!.length || x.shape[x.shape.length - 1] !== d) {
        throw new Error(
          `${FUSED_KERNELS.channelScaleGrad}: expected dy and x of one shape (..., ${d}), found [${dy.shape}] and [${x.shape}]`,
        );
      }
      const dx = newF32(backend, xv!.length),
        ds = new Float32Array(d);
      const db = attrs.withShift ? new Float32Array(d) : null;
      if (dx.length > 0) addon.channelScaleGrad(dv!, xv!, sv!, dx, ds, db, d);
      const outs = [backend.makeTensorInfo(x.shape, 'float32', dx), backend.makeTensorInfo([d], 'float32', ds)];
      if (db) outs.push(backend.makeTensorInfo([d], 'float32', db));
      return outs;
    },
  };
}
