// Fused optimizer updates of src/backend/fused.ts (adagradStep, adamStep): one pass over each
// parameter and its state (native/src/optim.cc) instead of 7–9 elementwise kernels, with the same
// float32 operations as the composed version.
import { checkSameLength, f32Values, type KernelTable, type TensorInfo } from './kernel.js';
import type { LoadedAddon } from './addon.js';
import { newF32 } from './pool.js';
import { FUSED_KERNELS } from '../fused.js';

export function optimKernels({ addon }: LoadedAddon): KernelTable {
  return {
    [FUSED_KERNELS.adagradStep]: ({ inputs, backend, attrs }) => {
      const [p, g, sum] = (['p', 'g', 'sum'] as const).map((k) => inputs[k] as TensorInfo);
      const [pv, gv, sv] = [p, g, sum].map((t) => f32Values(backend, t, FUSED_KERNELS.adagradStep));
      checkSameLength(FUSED_KERNELS.adagradStep, [p, g, sum]);
      const po = newF32(backend, pv.length),
        so = newF32(backend, pv.length);
      if (po.length > 0) addon.adagradStep(pv, gv, sv, po, so, Number(attrs.lr), Number(attrs.eps), Number(attrs.wd));
      return [backend.makeTensorInfo(p.shape, 'float32', po), backend.makeTensorInfo(p.shape, 'float32', so)];
    },
    [FUSED_KERNELS.adamStep]: ({ inputs, backend, attrs }) => {
      const ts = (['p', 'g', 'm', 'v'] as const).map((k) => inputs[k] as TensorInfo);
      const [pv, gv, mv, vv] = ts.map((t) => f32Values(backend, t, FUSED_KERNELS.adamStep));
      checkSameLength(FUSED_KERNELS.adamStep, ts);
      const n = pv.length;
      const po = newF32(backend, n),
        mo = newF32(backend, n),
        vo = newF32(backend, n);
      const a = (k: string) => Number(attrs[k]);
      // the scalars the composed version (fused.ts adamStep) builds, computed in double as there
      if (n > 0) {
        addon.adamStep(
          pv,
          gv,
          mv,
          vv,
          po,
          mo,
          vo,
          a('beta1'),
          1 - a('beta1'),
          a('beta2'),
          1 - a('beta2'),
          Math.sqrt(a('bc2')),
          a('eps'),
          a('lr') / a('bc1'),
          a('wd') > 0 ? a('lr') * a('wd') : 0,
        );
      }
      const shape = ts[0]!.shape;
      return [
        backend.makeTensorInfo(shape, 'float32', po),
        backend.makeTensorInfo(shape, 'float32', mo),
        backend.makeTensorInfo(shape, 'float32', vo),
      ];
    },
  };
}
