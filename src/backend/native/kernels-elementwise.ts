// Elementwise kernels: the unary and binary tfjs kernels (binary ones with broadcasting, through a
// broadcast plan), Select, AddN, Cast to float32, and the fused GELU, its gradient and dropout of
// src/backend/fused.ts. Semantics follow tfjs-backend-cpu's kernels of the same names.
import { broadcastPlan } from './broadcast.js';
import { f32, size, type Backend, type Impl, type KernelTable, type TensorInfo } from './kernel.js';
import type { LoadedAddon, NativeAddon, OpCodes } from './addon.js';
import { newF32 } from './pool.js';
import { FUSED_KERNELS } from '../fused.js';

/** a ∘ b with broadcasting, natively (op a binary op code); null when not float32 or not broadcastable. */
export function nativeBinary(addon: NativeAddon, backend: Backend, op: number, a: TensorInfo, b: TensorInfo): TensorInfo | null {
  const av = f32(backend, a),
    bv = f32(backend, b);
  if (!av || !bv) return null;
  const plan = broadcastPlan(a.shape, b.shape);
  if (!plan) return null;
  const y = newF32(backend, size(plan.out));
  if (y.length > 0) addon.binary(op, av, bv, y, plan.dims, plan.as, plan.bs);
  return backend.makeTensorInfo(plan.out, 'float32', y);
}

export function elementwiseKernels({ addon, ops }: LoadedAddon): KernelTable {
  const unary = (name: keyof OpCodes['unary'], alphaAttr?: string): Impl => {
    const op = ops.unary[name];
    return ({ inputs, backend, attrs }) => {
      const x = inputs.x as TensorInfo;
      const xv = f32(backend, x);
      if (!xv) return null;
      const y = newF32(backend, xv.length);
      const alpha = alphaAttr ? Number(attrs[alphaAttr] ?? 0) : 0;
      if (y.length > 0) addon.unary(op, xv, y, alpha);
      return backend.makeTensorInfo(x.shape, 'float32', y);
    };
  };
  const binary = (name: keyof OpCodes['binary'], aName = 'a', bName = 'b'): Impl => {
    const op = ops.binary[name];
    return ({ inputs, backend }) => nativeBinary(addon, backend, op, inputs[aName] as TensorInfo, inputs[bName] as TensorInfo);
  };

  return {
    Add: binary('Add'),
    Sub: binary('Sub'),
    Multiply: binary('Mul'),
    RealDiv: binary('Div'),
    Maximum: binary('Max'),
    Minimum: binary('Min'),
    Pow: binary('Pow'),
    SquaredDifference: binary('SqDiff'),
    Prelu: binary('Prelu', 'x', 'alpha'),

    Exp: unary('Exp'),
    Log: unary('Log'),
    Tanh: unary('Tanh'),
    Erf: unary('Erf'),
    Sqrt: unary('Sqrt'),
    Rsqrt: unary('Rsqrt'),
    Square: unary('Square'),
    Neg: unary('Neg'),
    Relu: unary('Relu'),
    Sigmoid: unary('Sigmoid'),
    Abs: unary('Abs'),
    Reciprocal: unary('Reciprocal'),
    Step: unary('Step', 'alpha'),
    LeakyRelu: unary('LeakyRelu', 'alpha'),
    Elu: unary('Elu'),
    Relu6: unary('Relu6'),
    Softplus: unary('Softplus'),
    Log1p: unary('Log1p'),
    Expm1: unary('Expm1'),
    Sin: unary('Sin'),
    Cos: unary('Cos'),
    Sign: unary('Sign'),
    Floor: unary('Floor'),
    Ceil: unary('Ceil'),
    Round: unary('Round'),

    Cast: ({ inputs, backend, attrs }) => {
      // The cpu kernel casts bool → float32 by sharing the bool tensor's Uint8Array under the new
      // dtype, and every native kernel then fell back to JS for anything computed from it (masks:
      // the embedding gradient's padding multiply ran at JS speed, native/README.md). To float32
      // we always write a real Float32Array; other casts stay the cpu kernel's.
      const x = inputs.x as TensorInfo;
      if (attrs.dtype !== 'float32' || (x.dtype !== 'bool' && x.dtype !== 'int32' && x.dtype !== 'float32')) return null;
      const v = backend.data.get(x.dataId).values;
      if (v instanceof Float32Array) return null; // already float32 storage: the cpu kernel's identity/share is right
      if (!(v instanceof Uint8Array || v instanceof Int32Array)) return null;
      const y = newF32(backend, v.length);
      y.set(v);
      return backend.makeTensorInfo(x.shape, 'float32', y);
    },

    Select: ({ inputs, backend }) => {
      const c = inputs.condition as TensorInfo,
        t = inputs.t as TensorInfo,
        e = inputs.e as TensorInfo;
      const tv = f32(backend, t),
        ev = f32(backend, e);
      const cv = backend.data.get(c.dataId).values;
      if (!tv || !ev || !(cv instanceof Uint8Array) || cv.length !== tv.length || ev.length !== tv.length) return null;
      const y = newF32(backend, tv.length);
      if (y.length > 0) addon.select(cv, tv, ev, y, 1);
      return backend.makeTensorInfo(t.shape, 'float32', y);
    },

    AddN: ({ inputs, backend }) => {
      const ts = (Array.isArray(inputs) ? inputs : Object.values(inputs)) as TensorInfo[];
      const vs = ts.map((t) => f32(backend, t));
      if (vs.length === 0 || vs.some((v) => !v || v.length !== vs[0]!.length)) return null;
      const y = newF32(backend, vs[0]!.length);
      if (y.length > 0) addon.addN(y, vs as Float32Array[]);
      return backend.makeTensorInfo(ts[0]!.shape, 'float32', y);
    },

    [FUSED_KERNELS.gelu]: unary('Gelu'),
    [FUSED_KERNELS.geluGrad]: binary('GeluGrad', 'dy', 'x'),
    [FUSED_KERNELS.dropout]: ({ inputs, backend, attrs }) => {
      const x = inputs.x as TensorInfo;
      const xv = f32(backend, x);
      if (!xv) throw new Error(`${FUSED_KERNELS.dropout}: expected float32 x, found ${x.dtype}`);
      const y = newF32(backend, xv.length);
      if (y.length > 0) addon.dropout(xv, y, Number(attrs.rate), Number(attrs.seedLo), Number(attrs.seedHi), Number(attrs.group));
      return backend.makeTensorInfo(x.shape, 'float32', y);
    },
  };
}
