// Matrix products: BatchMatMul and _FusedMatMul (bias and activation applied in place after the
// product) on the addon's sgemm (OpenBLAS, native/src/gemm.cc). Batch dims broadcast as in
// tf.matMul; a batch that shares one right operand becomes one tall product. Reference:
// tfjs-backend-cpu's BatchMatMul and _FusedMatMul kernels.
import { broadcastPlan } from './broadcast.js';
import { f32, size, type Backend, type KernelTable, type TensorInfo } from './kernel.js';
import type { LoadedAddon, NativeAddon } from './addon.js';
import { nativeBinary } from './kernels-elementwise.js';
import { newF32 } from './pool.js';

/** [B..., M, N] = op(A) op(B) with batch dims broadcast; null when not float32. */
export function nativeMatMul(
  addon: NativeAddon,
  backend: Backend,
  a: TensorInfo,
  b: TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
): TensorInfo | null {
  const av = f32(backend, a),
    bv = f32(backend, b);
  if (!av || !bv) return null;
  const ar = a.shape.length,
    br = b.shape.length;
  const M = transposeA ? a.shape[ar - 1] : a.shape[ar - 2];
  const Ka = transposeA ? a.shape[ar - 2] : a.shape[ar - 1];
  const Kb = transposeB ? b.shape[br - 1] : b.shape[br - 2];
  const N = transposeB ? b.shape[br - 2] : b.shape[br - 1];
  if (Ka !== Kb) {
    throw new Error(
      `Error in matMul: inner shapes (${Ka}) and (${Kb}) of Tensors with shapes ${a.shape} and ` +
        `${b.shape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`,
    );
  }
  const batchA = a.shape.slice(0, -2),
    batchB = b.shape.slice(0, -2);
  if (ar === 3 && br === 3 && a.shape[0] === b.shape[0]) {
    // fast path for the common (B, M, K) × (B, K, N)
    const batch = a.shape[0];
    const y = newF32(backend, batch * M * N);
    if (y.length > 0) addon.sgemm(transposeA, transposeB, M, N, Ka, av, bv, y, batch, M * Ka, Ka * N);
    return backend.makeTensorInfo([batch, M, N], 'float32', y);
  }
  const plan = broadcastPlan(batchA, batchB);
  if (!plan) throw new Error(`Error in matMul: batch dims ${batchA} and ${batchB} do not broadcast`);
  const batch = size(plan.out);
  const outShape = [...plan.out, M, N];
  const y = newF32(backend, batch * M * N);
  if (y.length === 0) return backend.makeTensorInfo(outShape, 'float32', y);
  const K = Ka;
  if (batch === 1) {
    addon.sgemm(transposeA, transposeB, M, N, K, av, bv, y);
  } else if (plan.dims.length === 1) {
    // one collapsed batch dim: each side strided or broadcast (stride 0)
    const sa = M * K,
      sb = K * N;
    if (!transposeA && plan.bs[0] === 0) {
      // every batch of a times the same b: one (batch·M, K) × (K, N) product
      addon.sgemm(false, transposeB, batch * M, N, K, av, bv, y);
    } else {
      addon.sgemm(transposeA, transposeB, M, N, K, av, bv, y, batch, plan.as[0]! * sa, plan.bs[0]! * sb);
    }
  } else {
    // offsets of each output batch in a and b, from the collapsed broadcast plan
    const aOff = new Int32Array(batch),
      bOff = new Int32Array(batch);
    const { dims, as, bs } = plan;
    const sa = M * K,
      sb = K * N;
    for (let i = 0; i < batch; i++) {
      let r = i,
        oa = 0,
        ob = 0;
      for (let d = dims.length - 1; d >= 0; d--) {
        const idx = r % dims[d];
        r = (r - idx) / dims[d];
        oa += idx * as[d];
        ob += idx * bs[d];
      }
      aOff[i] = oa * sa;
      bOff[i] = ob * sb;
    }
    addon.sgemm(transposeA, transposeB, M, N, K, av, bv, y, aOff, bOff);
  }
  return backend.makeTensorInfo(outShape, 'float32', y);
}

export function matmulKernels({ addon, ops }: LoadedAddon): KernelTable {
  const act = ops.activation as Readonly<Record<string, number>>;
  return {
    BatchMatMul: ({ inputs, backend, attrs }) =>
      nativeMatMul(addon, backend, inputs.a as TensorInfo, inputs.b as TensorInfo, Boolean(attrs.transposeA), Boolean(attrs.transposeB)),

    _FusedMatMul: ({ inputs, backend, attrs }) => {
      const { a, b, bias, preluActivationWeights } = inputs as Record<string, TensorInfo | undefined>;
      const activation = (attrs.activation as string | undefined) ?? 'linear';
      if (!Object.hasOwn(act, activation) && activation !== 'prelu') return null;
      const y = nativeMatMul(addon, backend, a!, b!, Boolean(attrs.transposeA), Boolean(attrs.transposeB));
      if (!y) return null;
      let cur = y;
      const N = y.shape[y.shape.length - 1];
      const yv = () => backend.data.get(cur.dataId).values as Float32Array;
      const biasV = bias ? f32(backend, bias) : null;
      if (bias && !biasV) {
        backend.disposeIntermediateTensorInfo(y);
        return null;
      }
      const rowBias = biasV && biasV.length === N && (bias!.shape.length === 1 || size(bias!.shape.slice(0, -1)) === 1);
      if (biasV && !rowBias) {
        const s = nativeBinary(addon, backend, ops.binary.Add, cur, bias!);
        backend.disposeIntermediateTensorInfo(cur);
        if (!s) return null;
        cur = s;
      }
      if (activation === 'prelu') {
        if (rowBias) addon.biasAct(yv(), biasV, N, ops.activation.linear, 0);
        const w = preluActivationWeights!;
        const p = nativeBinary(addon, backend, ops.binary.Prelu, cur, w);
        backend.disposeIntermediateTensorInfo(cur);
        return p;
      }
      const code = act[activation]!;
      if (rowBias || code !== ops.activation.linear) {
        addon.biasAct(yv(), rowBias ? biasV : null, N, code, Number(attrs.leakyreluAlpha ?? 0.2));
      }
      return cur;
    },
  };
}
