// The `native` TensorFlow.js backend: the JS cpu backend's storage and kernels (MathBackendCPU from
// @tensorflow/tfjs-backend-cpu) with the hot kernels replaced by the N-API addon in native/
// (OpenBLAS sgemm + OpenMP loops), working zero-copy on the cpu backend's TypedArrays.
// Kernels not replaced here, and cases a native kernel does not cover (other dtypes, rare
// layouts), run the cpu backend's JS kernel. Reference: tfjs-backend-cpu kernels (semantics),
// tfjs-node (a backend that swaps kernels under the same tfjs-core API).
import * as tf from '@tensorflow/tfjs';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FUSED_KERNELS } from './fused.js';

type TensorInfo = tf.TensorInfo;
type KernelFunc = tf.KernelFunc;
type Backend = MathBackendCPU;

/** The addon's exports (native/src/addon.cc). */
export interface NativeAddon {
  unary(op: number, x: Float32Array, y: Float32Array, alpha?: number): void;
  binary(op: number, a: Float32Array, b: Float32Array, y: Float32Array, dims: Int32Array, aStrides: Int32Array, bStrides: Int32Array): void;
  sgemm(transA: boolean, transB: boolean, M: number, N: number, K: number, a: Float32Array, b: Float32Array, y: Float32Array,
    aOffsets?: Int32Array, bOffsets?: Int32Array): void;
  sgemm(transA: boolean, transB: boolean, M: number, N: number, K: number, a: Float32Array, b: Float32Array, y: Float32Array,
    batch: number, aStride: number, bStride: number): void;
  rawSgemmGflops(M: number, N: number, K: number, batch: number, reps: number): number;
  reduce(op: number, x: Float32Array, y: Float32Array, outer: number, R: number, inner: number): void;
  softmax(x: Float32Array, y: Float32Array, rows: number, cols: number, log: boolean): void;
  logSoftmaxGrad(dy: Float32Array, value: Float32Array, dx: Float32Array, rows: number, cols: number): void;
  transpose(x: Float32Array | Int32Array | Uint8Array, y: Float32Array | Int32Array | Uint8Array, dims: Int32Array, strides: Int32Array): void;
  gather(x: Float32Array | Int32Array, idx: Int32Array, y: Float32Array | Int32Array, outer: number, dimSize: number, slice: number): void;
  segmentSum(x: Float32Array, ids: Int32Array, y: Float32Array, numSegments: number, slice: number): void;
  select(cond: Uint8Array, a: Float32Array, b: Float32Array, y: Float32Array, inner: number): void;
  addN(y: Float32Array, xs: Float32Array[]): void;
  concat(y: Float32Array, xs: Float32Array[], inners: Int32Array, outer: number): void;
  dropout(x: Float32Array, y: Float32Array, rate: number, seedLo: number, seedHi: number, group: number): void;
  xentRows(x: Float32Array, targets: Int32Array, loss: Float32Array, lse: Float32Array, rows: number, V: number, c: number, s: number): void;
  xentRowsGrad(dy: Float32Array, x: Float32Array, targets: Int32Array, lse: Float32Array, dx: Float32Array, rows: number, V: number,
    c: number, s: number): void;
  biasAct(y: Float32Array, bias: Float32Array | null, cols: number, act: number, alpha: number): void;
  /** y = x·s + add per channel (last axis, length d): mode 1 add is a shift of length d, mode 2 a tensor of x's length. */
  channelScale(x: Float32Array, s: Float32Array, add: Float32Array, y: Float32Array, d: number, mode: 1 | 2): void;
  /** Gradients of channelScale: dx = dy·s, ds = Σ_rows dy·x, db = Σ_rows dy (db null: not computed). */
  channelScaleGrad(dy: Float32Array, x: Float32Array, s: Float32Array, dx: Float32Array, ds: Float32Array, db: Float32Array | null, d: number): void;
  setThreads(n: number): number;
  /** true (default): our threads split each matmul and OpenBLAS runs on one thread; false: OpenBLAS threads each product. Returns the setting. */
  setMatmulSplit(on: boolean): boolean;
  getThreads(): number;
  adagradStep(p: Float32Array, g: Float32Array, sum: Float32Array, pOut: Float32Array, sumOut: Float32Array, lr: number, eps: number, wd: number): void;
  adamStep(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, pOut: Float32Array, mOut: Float32Array, vOut: Float32Array,
    beta1: number, oneMinusBeta1: number, beta2: number, oneMinusBeta2: number, sqrtBc2: number, eps: number, stepSize: number, decay: number): void;
  /** The kernel set OpenBLAS picked when it loaded, and its build configuration. */
  blasCore(): { core: string; config: string; threading: 'openmp' | 'pthreads' | 'sequential' };
}

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const addonPath = join(repoRoot, 'native', 'build', 'Release', 'resmlp_native.node');
const failFile = join(repoRoot, 'native', 'build', 'BUILD_FAILED.txt');

let addon: NativeAddon | null = null;
let loadError: string | null = null;

function loadAddon(): NativeAddon | null {
  if (addon || loadError) return addon;
  if (!existsSync(addonPath)) {
    // the build's reason, first line only (the file has the details)
    const why = existsSync(failFile) ? `${readFileSync(failFile, 'utf8').split('\n')[0]!.trim()} (details: ${failFile})` : 'no build was attempted or it left nothing';
    loadError = `native addon not built (${addonPath} missing): ${why}. Build it with: node native/build.mjs`;
    return null;
  }
  coreTypeChoice = chooseOpenblasCoreType(process.env, readCpuFlags());
  if (coreTypeChoice.set) process.env.OPENBLAS_CORETYPE = coreTypeChoice.set;
  // OpenMP worker threads spin after each parallel region (libgomp's default: 300000 pause
  // iterations) before they sleep; a sleeping worker takes tens of microseconds to wake on these
  // VMs, so the spin bridges the JS between two kernels (a training step: 211 vs 249 ms with a
  // spin of 10000). When OpenBLAS threads every matmul itself (RESMLP_MATMUL_SPLIT=0) and is its
  // pthreads build, its workers would compete with spinning OpenMP workers, so the spin is kept
  // short then (OpenBLAS's OpenMP build, the one binding.gyp links, shares our pool and does not
  // need it). Read by libgomp when it loads; a value the user set is kept.
  const split = process.env.RESMLP_MATMUL_SPLIT || '1';  // 0: OpenBLAS threads each product itself
  if (split !== '0' && split !== '1') {
    loadError = `RESMLP_MATMUL_SPLIT must be 0 or 1, found ${JSON.stringify(split)}`;
    return null;
  }
  if (split === '0') process.env.GOMP_SPINCOUNT ??= '10000';
  try {
    addon = createRequire(import.meta.url)(addonPath) as NativeAddon;
  } catch (e) {
    loadError = `native addon failed to load from ${addonPath}: ${(e as Error).message}. Rebuild with: node native/build.mjs`;
    return null;
  }
  const env = process.env.RESMLP_THREADS;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 1) {
      addon = null;
      loadError = `RESMLP_THREADS must be a positive integer, found ${JSON.stringify(env)}`;
      return null;
    }
    addon.setThreads(n);
  } else {
    addon.setThreads(addon.getThreads());  // applies the default (all cores) to OpenBLAS too
  }
  if (split === '0') addon.setMatmulSplit(false);
  return addon;
}

// ---- OpenBLAS kernel choice ----
// Debian's OpenBLAS is built with DYNAMIC_ARCH: at load it picks kernels from the CPU's
// family/model numbers. A CPU it does not know (seen here: a virtualised Sapphire Rapids that
// reports itself as "Intel Xeon Processor") gets "Prescott", the SSE3 fallback, and sgemm runs
// 6× slower (35 vs 220 GFLOP/s on 2 cores). Its own escape hatch is OPENBLAS_CORETYPE, read
// once when the library loads, so it is set here from the CPU's feature flags before the addon
// (which links OpenBLAS) is loaded. A value the user set is never touched.

/** Feature flags of the first CPU in /proc/cpuinfo (empty off Linux or when unreadable). */
export function readCpuFlags(cpuinfo = '/proc/cpuinfo'): Set<string> {
  try {
    const m = /^flags\s*:\s*(.*)$/m.exec(readFileSync(cpuinfo, 'utf8'));
    return new Set(m ? m[1]!.trim().split(/\s+/) : []);
  } catch {
    return new Set();
  }
}

export interface CoreTypeChoice {
  /** The OPENBLAS_CORETYPE to set before loading, or null to leave OpenBLAS's own detection (or the user's value) alone. */
  set: string | null;
  /** Why, for the backend's log line. */
  reason: string;
}

/** x86 kernel sets OpenBLAS knows, by the widest vector instructions they use (a name not here gets no hint). */
const CORE_RANK: Record<string, number> = {
  prescott: 0, core2: 0, penryn: 0, dunnington: 0, nehalem: 0, atom: 0, opteron: 0, barcelona: 0, bobcat: 0,
  sandybridge: 1, bulldozer: 1, piledriver: 1, steamroller: 1, excavator: 1,
  haswell: 2, zen: 2, skylakex: 3, cooperlake: 4, sapphirerapids: 5,
};

/**
 * OPENBLAS_CORETYPE from x86 feature flags: the widest kernel set the CPU runs (SkylakeX needs
 * AVX-512 F/CD/BW/DQ/VL, Haswell AVX2+FMA, Sandybridge AVX). RESMLP_OPENBLAS_AUTOCORE=0 turns this off.
 * A value in the environment is kept; the reason says when it is narrower than what the CPU runs.
 */
export function chooseOpenblasCoreType(env: NodeJS.ProcessEnv, flags: Set<string>): CoreTypeChoice {
  const has = (...f: string[]) => f.every((x) => flags.has(x));
  const core = has('avx512f', 'avx512cd', 'avx512bw', 'avx512dq', 'avx512vl') ? 'SkylakeX'
    : has('avx2', 'fma') ? 'Haswell'
    : has('avx') ? 'Sandybridge'
    : null;
  if (env.OPENBLAS_CORETYPE) {
    // the user's choice stands; say when it is narrower than what the CPU runs (seen: an
    // environment pinning Haswell on an AVX-512 EPYC ran sgemm 1.7× slower than SkylakeX)
    const user = env.OPENBLAS_CORETYPE;
    const rank = (name: string) => CORE_RANK[name.toLowerCase()];
    const narrower = core !== null && rank(user) !== undefined && rank(user)! < rank(core)!;
    const hint = narrower ? `; this CPU runs ${core}: unset it for ${core}'s kernels` : '';
    return { set: null, reason: `OPENBLAS_CORETYPE=${user} from the environment${hint}` };
  }
  if (env.RESMLP_OPENBLAS_AUTOCORE === '0') return { set: null, reason: 'OpenBLAS\'s own detection (RESMLP_OPENBLAS_AUTOCORE=0)' };
  return core ? { set: core, reason: `OPENBLAS_CORETYPE=${core} from the CPU flags` } : { set: null, reason: 'OpenBLAS\'s own detection' };
}

let coreTypeChoice: CoreTypeChoice | null = null;

/**
 * OpenBLAS's kernel set, how it was chosen and its threading build, e.g. "SkylakeX
 * (OPENBLAS_CORETYPE=SkylakeX from the CPU flags), OpenMP build". With the pthreads build (no
 * libopenblas-openmp-dev) large single products stay with our split (native/README.md).
 */
export function blasDescription(): string {
  const a = loadAddon();
  if (!a) return 'unavailable';
  const { core, threading } = a.blasCore();
  return `${core.trim()} (${coreTypeChoice?.reason ?? 'OpenBLAS\'s own detection'}), ${threading === 'openmp' ? 'OpenMP' : threading} build`;
}

/** Whether the addon loads; `reason` says why not (build failure text, load error). */
export function nativeAvailable(): { ok: boolean; reason: string } {
  const a = loadAddon();
  return a ? { ok: true, reason: '' } : { ok: false, reason: loadError ?? 'unknown' };
}

/** The loaded addon (throws with the reason when it is unavailable). For benches and tests. */
export function nativeAddon(): NativeAddon {
  const a = loadAddon();
  if (!a) throw new Error(loadError ?? 'native addon unavailable');
  return a;
}

/** Threads used by the native kernels and OpenBLAS. */
export function setNativeThreads(n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new Error(`setThreads: expected a positive integer, found ${n}`);
  return nativeAddon().setThreads(n);
}

export function getNativeThreads(): number {
  return nativeAddon().getThreads();
}

// ---- op codes (must match the enums in native/src/addon.cc) ----
const U = {
  Exp: 0, Log: 1, Tanh: 2, Erf: 3, Sqrt: 4, Rsqrt: 5, Square: 6, Neg: 7, Relu: 8, Sigmoid: 9, Abs: 10,
  Reciprocal: 11, Gelu: 12, Step: 13, LeakyRelu: 14, Elu: 15, Relu6: 16, Softplus: 17, Log1p: 18, Expm1: 19,
  Sin: 20, Cos: 21, Sign: 22, Floor: 23, Ceil: 24, Round: 25,
} as const;
const B = { Add: 0, Sub: 1, Mul: 2, Div: 3, Max: 4, Min: 5, Pow: 6, SqDiff: 7, GeluGrad: 8, Prelu: 9 } as const;
const R = { Sum: 0, Mean: 1, Max: 2, Min: 3, Prod: 4 } as const;

// ---- output buffers ----
// A fresh TypedArray per kernel output costs more than many kernels (V8 zero-fills it, the pages
// fault in on first touch, and GC churns: ~150 µs for 1 MB here). The backend recycles the float32
// outputs of native kernels once their tensor is disposed, but only arrays it can prove nobody
// else sees: an array read out (dataSync, data, bufferSync) or shared by a second tensor (a view
// from slice, an aliasing cpu kernel) is marked escaped and left to the GC.
const POOL_MIN = 4096; // elements: smaller arrays are cheap to allocate
/**
 * Cap of the recycled-output pool: RESMLP_POOL_MB, default a quarter of the machine's memory, at
 * most 8 GiB (6 GiB on our 24 GiB machines). A training step's outputs all come back to the pool
 * when its tensors are disposed, so the pool settles at about one step's working set; with the
 * old 1 GiB default the small Multi30k config's 1.8 GB did not fit and 261 of 574 large outputs
 * per update were fresh (page-faulting) allocations. A server that sees many shapes may want less.
 */
const POOL_MAX_BYTES = poolCapBytes(process.env.RESMLP_POOL_MB);

function poolCapBytes(env: string | undefined): number {
  if (env === undefined || env === '') return Math.min(8 * 2 ** 30, Math.floor(os.totalmem() / 4));
  const mb = Number(env);
  if (!Number.isFinite(mb) || mb < 0) throw new Error(`RESMLP_POOL_MB must be a number of MiB ≥ 0, got '${env}'`);
  return Math.floor(mb * 1024 * 1024);
}

interface Owned {
  refs: number; // live dataIds whose values are (a view of) this buffer
  escaped: boolean;
}

export class NativeBackend extends MathBackendCPU {
  private readonly pool = new Map<number, Float32Array[]>();
  /** Bytes held by recycled outputs waiting for reuse (at most RESMLP_POOL_MB, see POOL_MAX_BYTES); read by bench/soak.ts. */
  pooledBytes = 0;
  private readonly owned = new WeakMap<ArrayBufferLike, Owned>();
  /** Counters for tests and benches: pooled-size outputs handed out from the pool (reused) or freshly allocated, and arrays recycled into it. */
  readonly poolStats = { reused: 0, allocated: 0, recycled: 0 };

  constructor() {
    super();
    (this as unknown as { firstUse: boolean }).firstUse = false; // no "install tfjs-node" banner
  }

  /** A float32 output array of length n, not zeroed (every native kernel writes all of it). */
  newF32(n: number): Float32Array {
    if (n < POOL_MIN) return new Float32Array(n);
    const list = this.pool.get(n);
    let a = list?.pop();
    if (a) {
      this.pooledBytes -= a.byteLength;
      this.poolStats.reused++;
    } else {
      a = new Float32Array(n);
      this.poolStats.allocated++;
    }
    this.owned.set(a.buffer, { refs: 0, escaped: false });
    return a;
  }

  private note(values: unknown): void {
    if (!ArrayBuffer.isView(values)) return;
    const o = this.owned.get(values.buffer);
    if (!o) return;
    o.refs++;
    if (o.refs > 1 || values.byteLength !== values.buffer.byteLength) o.escaped = true;
  }

  private escape(dataId: tf.DataId): void {
    const d = this.data.get(dataId);
    if (d && ArrayBuffer.isView(d.values)) {
      const o = this.owned.get(d.values.buffer);
      if (o) o.escaped = true;
    }
  }

  override write(values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType): tf.DataId {
    const id = super.write(values, shape, dtype);
    this.note(values);
    return id;
  }

  override move(dataId: tf.DataId, values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType, refCount: number): void {
    super.move(dataId, values, shape, dtype, refCount);
    this.note(values);
  }

  override readSync(dataId: tf.DataId): tf.backend_util.BackendValues {
    this.escape(dataId);
    return super.readSync(dataId);
  }

  override async read(dataId: tf.DataId): Promise<tf.backend_util.BackendValues> {
    this.escape(dataId);
    return super.read(dataId);
  }

  override disposeData(dataId: tf.DataId, force = false): boolean {
    const d = this.data.get(dataId);
    const values = d?.values;
    const done = super.disposeData(dataId, force);
    if (d && done && !this.data.has(dataId) && ArrayBuffer.isView(values)) {
      const o = this.owned.get(values.buffer);
      if (o) {
        o.refs--;
        if (o.refs === 0 && !o.escaped && values instanceof Float32Array && this.pooledBytes + values.byteLength <= POOL_MAX_BYTES) {
          this.owned.delete(values.buffer);
          let list = this.pool.get(values.length);
          if (!list) this.pool.set(values.length, (list = []));
          list.push(values);
          this.pooledBytes += values.byteLength;
          this.poolStats.recycled++;
        }
      }
    }
    return done;
  }

  /** Drops the recycled outputs (the GC frees them); the pool refills as kernels run. */
  releasePool(): void {
    this.pool.clear();
    this.pooledBytes = 0;
  }

  override dispose(): void {
    this.releasePool();
    super.dispose();
  }
}

/** Output array for a kernel running on `backend`. */
function newF32(backend: Backend, n: number): Float32Array {
  return backend instanceof NativeBackend ? backend.newF32(n) : new Float32Array(n);
}

// ---- helpers ----
function f32(backend: Backend, t: TensorInfo): Float32Array | null {
  if (t.dtype !== 'float32') return null;
  const v = backend.data.get(t.dataId).values;
  return v instanceof Float32Array ? v : null;
}

/** float32 values of t as a Float32Array (a copy when the storage is another array type); throws for other dtypes. */
function f32Values(backend: Backend, t: TensorInfo, kernel: string): Float32Array {
  if (t.dtype !== 'float32') throw new Error(`${kernel}: expected float32 inputs, found ${t.dtype} [${t.shape}]`);
  return f32(backend, t) ?? Float32Array.from(backend.data.get(t.dataId).values as ArrayLike<number>);
}

function checkSameLength(kernel: string, ts: TensorInfo[]): void {
  const n = size(ts[0]!.shape);
  for (const t of ts) {
    if (size(t.shape) !== n) throw new Error(`${kernel}: inputs must have one shape, found [${ts.map((x) => `[${x.shape}]`).join(', ')}]`);
  }
}

function i32(backend: Backend, t: TensorInfo): Int32Array | null {
  if (t.dtype !== 'int32') return null;
  const v = backend.data.get(t.dataId).values;
  return v instanceof Int32Array ? v : null;
}

function size(shape: readonly number[]): number {
  let s = 1;
  for (const d of shape) s *= d;
  return s;
}

/**
 * Collapses a broadcast of aShape and bShape into the fewest dims where each input is either
 * contiguous or broadcast (stride 0). Returns null when the shapes do not broadcast.
 */
function broadcastPlan(aShape: readonly number[], bShape: readonly number[]):
  { out: number[]; dims: Int32Array; as: Int32Array; bs: Int32Array } | null {
  const r = Math.max(aShape.length, bShape.length);
  const out: number[] = [];
  const groups: { d: number; pa: boolean; pb: boolean }[] = [];
  for (let i = 0; i < r; i++) {
    const da = aShape[i - (r - aShape.length)] ?? 1;
    const db = bShape[i - (r - bShape.length)] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return null;
    const d = Math.max(da, db);
    out.push(da === 0 || db === 0 ? 0 : d);
    if (d === 1) continue;
    const pa = da !== 1, pb = db !== 1;
    const last = groups[groups.length - 1];
    if (last && last.pa === pa && last.pb === pb) last.d *= d;
    else groups.push({ d, pa, pb });
  }
  if (groups.length === 0) groups.push({ d: 1, pa: false, pb: false });
  const n = groups.length;
  const dims = new Int32Array(n), as = new Int32Array(n), bs = new Int32Array(n);
  let sa = 1, sb = 1;
  for (let i = n - 1; i >= 0; i--) {
    const g = groups[i];
    dims[i] = g.d;
    as[i] = g.pa ? sa : 0;
    bs[i] = g.pb ? sb : 0;
    if (g.pa) sa *= g.d;
    if (g.pb) sb *= g.d;
  }
  return { out, dims, as, bs };
}

/** a ∘ b with broadcasting, natively; null when not float32 or not broadcastable. */
function nativeBinary(backend: Backend, op: number, a: TensorInfo, b: TensorInfo): TensorInfo | null {
  const av = f32(backend, a), bv = f32(backend, b);
  if (!av || !bv) return null;
  const plan = broadcastPlan(a.shape, b.shape);
  if (!plan) return null;
  const y = newF32(backend, size(plan.out));
  if (y.length > 0) addon!.binary(op, av, bv, y, plan.dims, plan.as, plan.bs);
  return backend.makeTensorInfo(plan.out, 'float32', y);
}

/** Collapses a permutation: returns output dims and the input stride of each. */
function transposePlan(shape: readonly number[], perm: readonly number[]): { dims: Int32Array; strides: Int32Array } {
  const strides: number[] = new Array(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) { strides[i] = s; s *= shape[i]; }
  const groups: { d: number; axis: number }[] = [];
  for (const ax of perm) {
    if (shape[ax] === 1) continue;
    const last = groups[groups.length - 1];
    // merge when this input axis follows the group's last axis directly in memory
    if (last && strides[last.axis] === strides[ax] * shape[ax]) { last.d *= shape[ax]; last.axis = ax; }
    else groups.push({ d: shape[ax], axis: ax });
  }
  if (groups.length === 0) groups.push({ d: 1, axis: -1 });
  return {
    dims: Int32Array.from(groups.map((g) => g.d)),
    strides: Int32Array.from(groups.map((g) => (g.axis < 0 ? 1 : strides[g.axis]))),
  };
}

function nativeTranspose(backend: Backend, x: TensorInfo, perm: readonly number[]): TensorInfo | null {
  if (x.dtype !== 'float32' && x.dtype !== 'int32' && x.dtype !== 'bool') return null;
  const v = backend.data.get(x.dataId).values;
  if (!(v instanceof Float32Array || v instanceof Int32Array || v instanceof Uint8Array)) return null;
  const outShape = perm.map((p) => x.shape[p]);
  const n = size(outShape);
  const y = v instanceof Float32Array ? newF32(backend, n) : v instanceof Int32Array ? new Int32Array(n) : new Uint8Array(n);
  if (n > 0) {
    const plan = transposePlan(x.shape, perm);
    addon!.transpose(v, y, plan.dims, plan.strides);
  }
  return backend.makeTensorInfo(outShape, x.dtype, y);
}

function nativeReduce(backend: Backend, op: number, x: TensorInfo, axis: number | number[] | undefined, keepDims: boolean): TensorInfo | null {
  const xv = f32(backend, x);
  if (!xv || xv.length === 0) return null;
  const rank = x.shape.length;
  const axes = tf.util.parseAxisParam(axis ?? (null as unknown as number[]), x.shape).slice().sort((p, q) => p - q);
  if (axes.length === 0) return null;
  const [outShape] = tf.backend_util.computeOutAndReduceShapes(x.shape, axes);
  const finalShape = keepDims ? tf.backend_util.expandShapeToKeepDim(outShape, axes) : outShape;
  const contiguous = axes.every((a, i) => i === 0 || a === axes[i - 1] + 1);
  let src = xv, outer: number, Rn: number, inner: number;
  let tmp: TensorInfo | null = null;
  if (contiguous) {
    outer = size(x.shape.slice(0, axes[0]));
    Rn = size(axes.map((a) => x.shape[a]));
    inner = size(x.shape.slice(axes[axes.length - 1] + 1));
  } else {
    const perm = tf.backend_util.getAxesPermutation(axes, rank)!;
    tmp = nativeTranspose(backend, x, perm)!;
    src = backend.data.get(tmp.dataId).values as Float32Array;
    Rn = size(axes.map((a) => x.shape[a]));
    outer = xv.length / Rn;
    inner = 1;
  }
  const y = newF32(backend, outer * inner);
  addon!.reduce(op, src, y, outer, Rn, inner);
  if (tmp) backend.disposeIntermediateTensorInfo(tmp);
  return backend.makeTensorInfo(finalShape, 'float32', y);
}

/** [B..., M, N] = op(A) op(B) with batch dims broadcast; null when not float32. */
function nativeMatMul(backend: Backend, a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean): TensorInfo | null {
  const av = f32(backend, a), bv = f32(backend, b);
  if (!av || !bv) return null;
  const ar = a.shape.length, br = b.shape.length;
  const M = transposeA ? a.shape[ar - 1] : a.shape[ar - 2];
  const Ka = transposeA ? a.shape[ar - 2] : a.shape[ar - 1];
  const Kb = transposeB ? b.shape[br - 1] : b.shape[br - 2];
  const N = transposeB ? b.shape[br - 2] : b.shape[br - 1];
  if (Ka !== Kb) {
    throw new Error(`Error in matMul: inner shapes (${Ka}) and (${Kb}) of Tensors with shapes ${a.shape} and ` +
      `${b.shape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`);
  }
  const batchA = a.shape.slice(0, -2), batchB = b.shape.slice(0, -2);
  if (ar === 3 && br === 3 && a.shape[0] === b.shape[0]) {
    // fast path for the common (B, M, K) × (B, K, N)
    const batch = a.shape[0];
    const y = newF32(backend, batch * M * N);
    if (y.length > 0) addon!.sgemm(transposeA, transposeB, M, N, Ka, av, bv, y, batch, M * Ka, Ka * N);
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
    addon!.sgemm(transposeA, transposeB, M, N, K, av, bv, y);
  } else if (plan.dims.length === 1) {
    // one collapsed batch dim: each side strided or broadcast (stride 0)
    const sa = M * K, sb = K * N;
    if (!transposeA && plan.bs[0] === 0) {
      // every batch of a times the same b: one (batch·M, K) × (K, N) product
      addon!.sgemm(false, transposeB, batch * M, N, K, av, bv, y);
    } else {
      addon!.sgemm(transposeA, transposeB, M, N, K, av, bv, y, batch, plan.as[0]! * sa, plan.bs[0]! * sb);
    }
  } else {
    // offsets of each output batch in a and b, from the collapsed broadcast plan
    const aOff = new Int32Array(batch), bOff = new Int32Array(batch);
    const { dims, as, bs } = plan;
    const sa = M * K, sb = K * N;
    for (let i = 0; i < batch; i++) {
      let r = i, oa = 0, ob = 0;
      for (let d = dims.length - 1; d >= 0; d--) {
        const idx = r % dims[d];
        r = (r - idx) / dims[d];
        oa += idx * as[d];
        ob += idx * bs[d];
      }
      aOff[i] = oa * sa;
      bOff[i] = ob * sb;
    }
    addon!.sgemm(transposeA, transposeB, M, N, K, av, bv, y, aOff, bOff);
  }
  return backend.makeTensorInfo(outShape, 'float32', y);
}

// ---- kernels ----
type Impl = (args: { inputs: tf.NamedTensorInfoMap; backend: Backend; attrs: tf.NamedAttrMap }) => TensorInfo | TensorInfo[] | null;

function unaryKernel(op: number, alphaAttr?: string): Impl {
  return ({ inputs, backend, attrs }) => {
    const x = inputs.x as TensorInfo;
    const xv = f32(backend, x);
    if (!xv) return null;
    const y = newF32(backend, xv.length);
    const alpha = alphaAttr ? Number(attrs[alphaAttr] ?? 0) : 0;
    if (y.length > 0) addon!.unary(op, xv, y, alpha);
    return backend.makeTensorInfo(x.shape, 'float32', y);
  };
}

function binaryKernel(op: number, aName = 'a', bName = 'b'): Impl {
  return ({ inputs, backend }) => nativeBinary(backend, op, inputs[aName] as TensorInfo, inputs[bName] as TensorInfo);
}

function reduceKernel(op: number, axisAttr = 'axis'): Impl {
  return ({ inputs, backend, attrs }) =>
    nativeReduce(backend, op, inputs.x as TensorInfo, attrs[axisAttr] as number | number[], Boolean(attrs.keepDims));
}

const ACT: Record<string, number> = { linear: 0, relu: 1, relu6: 2, elu: 3, sigmoid: 4, leakyrelu: 5 };

const IMPLS: Record<string, Impl> = {
  BatchMatMul: ({ inputs, backend, attrs }) =>
    nativeMatMul(backend, inputs.a as TensorInfo, inputs.b as TensorInfo, Boolean(attrs.transposeA), Boolean(attrs.transposeB)),

  _FusedMatMul: ({ inputs, backend, attrs }) => {
    const { a, b, bias, preluActivationWeights } = inputs as Record<string, TensorInfo | undefined>;
    const activation = (attrs.activation as string | undefined) ?? 'linear';
    if (!(activation in ACT) && activation !== 'prelu') return null;
    const y = nativeMatMul(backend, a!, b!, Boolean(attrs.transposeA), Boolean(attrs.transposeB));
    if (!y) return null;
    let cur = y;
    const N = y.shape[y.shape.length - 1];
    const yv = () => backend.data.get(cur.dataId).values as Float32Array;
    const biasV = bias ? f32(backend, bias) : null;
    if (bias && !biasV) { backend.disposeIntermediateTensorInfo(y); return null; }
    const rowBias = biasV && biasV.length === N && (bias!.shape.length === 1 || size(bias!.shape.slice(0, -1)) === 1);
    if (biasV && !rowBias) {
      const s = nativeBinary(backend, B.Add, cur, bias!);
      backend.disposeIntermediateTensorInfo(cur);
      if (!s) return null;
      cur = s;
    }
    if (activation === 'prelu') {
      if (rowBias) addon!.biasAct(yv(), biasV, N, 0, 0);
      const w = preluActivationWeights!;
      const p = nativeBinary(backend, B.Prelu, cur, w);
      backend.disposeIntermediateTensorInfo(cur);
      return p;
    }
    if (rowBias || ACT[activation] !== 0) {
      addon!.biasAct(yv(), rowBias ? biasV : null, N, ACT[activation], Number(attrs.leakyreluAlpha ?? 0.2));
    }
    return cur;
  },

  Add: binaryKernel(B.Add),
  Sub: binaryKernel(B.Sub),
  Multiply: binaryKernel(B.Mul),
  RealDiv: binaryKernel(B.Div),
  Maximum: binaryKernel(B.Max),
  Minimum: binaryKernel(B.Min),
  Pow: binaryKernel(B.Pow),
  SquaredDifference: binaryKernel(B.SqDiff),
  Prelu: binaryKernel(B.Prelu, 'x', 'alpha'),

  Exp: unaryKernel(U.Exp),
  Log: unaryKernel(U.Log),
  Tanh: unaryKernel(U.Tanh),
  Erf: unaryKernel(U.Erf),
  Sqrt: unaryKernel(U.Sqrt),
  Rsqrt: unaryKernel(U.Rsqrt),
  Square: unaryKernel(U.Square),
  Neg: unaryKernel(U.Neg),
  Relu: unaryKernel(U.Relu),
  Sigmoid: unaryKernel(U.Sigmoid),
  Abs: unaryKernel(U.Abs),
  Reciprocal: unaryKernel(U.Reciprocal),
  Step: unaryKernel(U.Step, 'alpha'),
  LeakyRelu: unaryKernel(U.LeakyRelu, 'alpha'),
  Elu: unaryKernel(U.Elu),
  Relu6: unaryKernel(U.Relu6),
  Softplus: unaryKernel(U.Softplus),
  Log1p: unaryKernel(U.Log1p),
  Expm1: unaryKernel(U.Expm1),
  Sin: unaryKernel(U.Sin),
  Cos: unaryKernel(U.Cos),
  Sign: unaryKernel(U.Sign),
  Floor: unaryKernel(U.Floor),
  Ceil: unaryKernel(U.Ceil),
  Round: unaryKernel(U.Round),

  Sum: reduceKernel(R.Sum),
  Mean: reduceKernel(R.Mean),
  Max: reduceKernel(R.Max, 'reductionIndices'),
  Min: reduceKernel(R.Min),
  Prod: reduceKernel(R.Prod),

  Softmax: ({ inputs, backend, attrs }) => {
    const x = inputs.logits as TensorInfo;
    const xv = f32(backend, x);
    const rank = x.shape.length;
    const dim = Number(attrs.dim ?? -1);
    if (!xv || rank === 0 || (dim !== -1 && dim !== rank - 1)) return null;
    const C = x.shape[rank - 1];
    const y = newF32(backend, xv.length);
    if (y.length > 0) addon!.softmax(xv, y, xv.length / C, C, false);
    return backend.makeTensorInfo(x.shape, 'float32', y);
  },

  Transpose: ({ inputs, backend, attrs }) => nativeTranspose(backend, inputs.x as TensorInfo, attrs.perm as number[]),

  GatherV2: ({ inputs, backend, attrs }) => {
    const x = inputs.x as TensorInfo, indices = inputs.indices as TensorInfo;
    if ((attrs.batchDims as number | undefined ?? 0) !== 0) return null;
    const iv = i32(backend, indices);
    const xv = f32(backend, x) ?? i32(backend, x);
    if (!iv || !xv) return null;
    const axis = tf.util.parseAxisParam(attrs.axis as number, x.shape)[0];
    const outer = size(x.shape.slice(0, axis)), dimSize = x.shape[axis], slice = size(x.shape.slice(axis + 1));
    const outShape = [...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)];
    const n = size(outShape);
    const y = xv instanceof Float32Array ? newF32(backend, n) : new Int32Array(n);
    addon!.gather(xv, iv, y, outer, dimSize, slice);
    return backend.makeTensorInfo(outShape, x.dtype, y);
  },

  UnsortedSegmentSum: ({ inputs, backend, attrs }) => {
    const x = inputs.x as TensorInfo, ids = inputs.segmentIds as TensorInfo;
    const xv = f32(backend, x), iv = i32(backend, ids);
    if (!xv || !iv) return null;
    const numSegments = Number(attrs.numSegments);
    const inner = x.shape.slice(ids.shape.length);
    const slice = size(inner);
    const outShape = [numSegments, ...inner];
    const y = newF32(backend, numSegments * slice);
    if (iv.length > 0 && slice > 0) addon!.segmentSum(xv, iv, y, numSegments, slice);
    return backend.makeTensorInfo(outShape, 'float32', y);
  },

  Cast: ({ inputs, backend, attrs }) => {
    // The cpu kernel casts bool → float32 by sharing the bool tensor's Uint8Array under the new
    // dtype, and every native kernel then fell back to JS for anything computed from it (masks:
    // the embedding gradient's padding multiply took 230 ms for (4096, 512) instead of 1 ms).
    // To float32 we always write a real Float32Array; other casts stay the cpu kernel's.
    const x = inputs.x as TensorInfo;
    if (attrs.dtype !== 'float32' || (x.dtype !== 'bool' && x.dtype !== 'int32' && x.dtype !== 'float32')) return null;
    const v = backend.data.get(x.dataId).values;
    if (v instanceof Float32Array) return null;  // already float32 storage: the cpu kernel's identity/share is right
    if (!(v instanceof Uint8Array || v instanceof Int32Array)) return null;
    const y = newF32(backend, v.length);
    y.set(v);
    return backend.makeTensorInfo(x.shape, 'float32', y);
  },

  Select: ({ inputs, backend }) => {
    const c = inputs.condition as TensorInfo, t = inputs.t as TensorInfo, e = inputs.e as TensorInfo;
    const tv = f32(backend, t), ev = f32(backend, e);
    const cv = backend.data.get(c.dataId).values;
    if (!tv || !ev || !(cv instanceof Uint8Array) || cv.length !== tv.length || ev.length !== tv.length) return null;
    const y = newF32(backend, tv.length);
    if (y.length > 0) addon!.select(cv, tv, ev, y, 1);
    return backend.makeTensorInfo(t.shape, 'float32', y);
  },

  ScatterNd: ({ inputs, backend, attrs }) => {
    // Embedding backward: rows of `updates` summed into a zero (shape) tensor at `indices`.
    const indices = inputs.indices as TensorInfo, updates = inputs.updates as TensorInfo;
    const shape = attrs.shape as number[];
    const uv = f32(backend, updates), iv = i32(backend, indices);
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
    if (numUpdates > 0 && sliceSize > 0) addon!.segmentSum(uv, flat, y, rows, sliceSize);
    return backend.makeTensorInfo(shape, 'float32', y);
  },

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
    for (let i = x.shape.length - 1; i >= 0; i--) { strides[i] = st; st *= x.shape[i]; }
    const offset = begin.reduce((acc, b, i) => acc + b * strides[i]!, 0);
    const dims: number[] = [], sts: number[] = [];
    for (let i = 0; i < sz.length; i++) {
      if (sz[i] === 1) continue;
      const k = dims.length - 1;
      if (k >= 0 && sts[k] === strides[i]! * sz[i]!) { dims[k] *= sz[i]!; sts[k] = strides[i]!; }
      else { dims.push(sz[i]!); sts.push(strides[i]!); }
    }
    if (dims.length === 0) { dims.push(1); sts.push(1); }
    const y = v instanceof Float32Array ? newF32(backend, n) : new Int32Array(n);
    if (n > 0) addon!.transpose(v.subarray(offset), y, Int32Array.from(dims), Int32Array.from(sts));
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
      for (let i = r - 1; i >= 0; i--) { ost[i] = st; st *= outShape[i]!; }
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
    const outShape = tf.backend_util.computeOutShape(ts.map((t) => t.shape), axis);
    const nonEmpty = ts.filter((t) => size(t.shape) > 0);
    if (nonEmpty.length < 2) return null; // the cpu kernel returns the one input itself
    const vs = nonEmpty.map((t) => f32(backend, t));
    if (vs.some((v) => !v)) return null;
    tf.backend_util.assertParamsConsistent(ts.map((t) => t.shape), axis);
    const outer = size(outShape.slice(0, axis));
    const inners = Int32Array.from(nonEmpty.map((t) => size(t.shape.slice(axis))));
    const y = newF32(backend, size(outShape));
    addon!.concat(y, vs as Float32Array[], inners, outer);
    return backend.makeTensorInfo(outShape, 'float32', y);
  },

  AddN: ({ inputs, backend }) => {
    const ts = (Array.isArray(inputs) ? inputs : Object.values(inputs)) as TensorInfo[];
    const vs = ts.map((t) => f32(backend, t));
    if (vs.length === 0 || vs.some((v) => !v || v.length !== vs[0]!.length)) return null;
    const y = newF32(backend, vs[0]!.length);
    if (y.length > 0) addon!.addN(y, vs as Float32Array[]);
    return backend.makeTensorInfo(ts[0].shape, 'float32', y);
  },

  // ---- fused kernels used by src/backend/fused.ts ----
  [FUSED_KERNELS.gelu]: unaryKernel(U.Gelu),
  [FUSED_KERNELS.geluGrad]: binaryKernel(B.GeluGrad, 'dy', 'x'),
  [FUSED_KERNELS.logSoftmax]: ({ inputs, backend }) => {
    const x = inputs.logits as TensorInfo;
    const xv = f32(backend, x);
    if (!xv) throw new Error(`${FUSED_KERNELS.logSoftmax}: expected float32 logits, found ${x.dtype}`);
    const C = x.shape[x.shape.length - 1];
    const y = newF32(backend, xv.length);
    if (y.length > 0) addon!.softmax(xv, y, xv.length / C, C, true);
    return backend.makeTensorInfo(x.shape, 'float32', y);
  },
  [FUSED_KERNELS.smoothedXent]: ({ inputs, backend, attrs }) => {
    const x = inputs.logits as TensorInfo, t = inputs.targets as TensorInfo;
    const xv = f32(backend, x), tv = i32(backend, t);
    if (!xv || !tv || x.shape.length !== 2 || tv.length !== x.shape[0]) {
      throw new Error(`${FUSED_KERNELS.smoothedXent}: expected float32 logits (M, V) and int32 targets (M), found ${x.dtype} [${x.shape}] and ${t.dtype} [${t.shape}]`);
    }
    const [M, V] = x.shape as [number, number];
    const loss = newF32(backend, M), lse = newF32(backend, M);
    if (M > 0) addon!.xentRows(xv, tv, loss, lse, M, V, Number(attrs.c), Number(attrs.s));
    return [backend.makeTensorInfo([M], 'float32', loss), backend.makeTensorInfo([M], 'float32', lse)] as unknown as TensorInfo;
  },
  [FUSED_KERNELS.smoothedXentGrad]: ({ inputs, backend, attrs }) => {
    const dy = inputs.dy as TensorInfo, x = inputs.logits as TensorInfo, t = inputs.targets as TensorInfo, lse = inputs.lse as TensorInfo;
    const dv = f32(backend, dy), xv = f32(backend, x), tv = i32(backend, t), lv = f32(backend, lse);
    if (!dv || !xv || !tv || !lv) throw new Error(`${FUSED_KERNELS.smoothedXentGrad}: expected float32 dy, logits, lse and int32 targets`);
    const [M, V] = x.shape as [number, number];
    const dx = newF32(backend, M * V);
    if (M > 0) addon!.xentRowsGrad(dv, xv, tv, lv, dx, M, V, Number(attrs.c), Number(attrs.s));
    return backend.makeTensorInfo([M, V], 'float32', dx);
  },
  [FUSED_KERNELS.dropout]: ({ inputs, backend, attrs }) => {
    const x = inputs.x as TensorInfo;
    const xv = f32(backend, x);
    if (!xv) throw new Error(`${FUSED_KERNELS.dropout}: expected float32 x, found ${x.dtype}`);
    const y = newF32(backend, xv.length);
    if (y.length > 0) addon!.dropout(xv, y, Number(attrs.rate), Number(attrs.seedLo), Number(attrs.seedHi), Number(attrs.group));
    return backend.makeTensorInfo(x.shape, 'float32', y);
  },
  [FUSED_KERNELS.adagradStep]: ({ inputs, backend, attrs }) => {
    const [p, g, sum] = (['p', 'g', 'sum'] as const).map((k) => inputs[k] as TensorInfo);
    const [pv, gv, sv] = [p, g, sum].map((t) => f32Values(backend, t, FUSED_KERNELS.adagradStep));
    checkSameLength(FUSED_KERNELS.adagradStep, [p, g, sum]);
    const po = newF32(backend, pv.length), so = newF32(backend, pv.length);
    if (po.length > 0) addon!.adagradStep(pv, gv, sv, po, so, Number(attrs.lr), Number(attrs.eps), Number(attrs.wd));
    return [backend.makeTensorInfo(p.shape, 'float32', po), backend.makeTensorInfo(p.shape, 'float32', so)];
  },
  [FUSED_KERNELS.adamStep]: ({ inputs, backend, attrs }) => {
    const ts = (['p', 'g', 'm', 'v'] as const).map((k) => inputs[k] as TensorInfo);
    const [pv, gv, mv, vv] = ts.map((t) => f32Values(backend, t, FUSED_KERNELS.adamStep));
    checkSameLength(FUSED_KERNELS.adamStep, ts);
    const n = pv.length;
    const po = newF32(backend, n), mo = newF32(backend, n), vo = newF32(backend, n);
    const a = (k: string) => Number(attrs[k]);
    // the scalars the composed version (fused.ts adamStep) builds, computed in double as there
    if (n > 0) {
      addon!.adamStep(pv, gv, mv, vv, po, mo, vo, a('beta1'), 1 - a('beta1'), a('beta2'), 1 - a('beta2'), Math.sqrt(a('bc2')), a('eps'),
        a('lr') / a('bc1'), a('wd') > 0 ? a('lr') * a('wd') : 0);
    }
    const shape = ts[0]!.shape;
    return [backend.makeTensorInfo(shape, 'float32', po), backend.makeTensorInfo(shape, 'float32', mo), backend.makeTensorInfo(shape, 'float32', vo)];
  },
  [FUSED_KERNELS.scaleShift]: ({ inputs, backend }) => channelScale(backend, FUSED_KERNELS.scaleShift, inputs.x as TensorInfo, inputs.scale as TensorInfo, inputs.shift as TensorInfo, 1),
  [FUSED_KERNELS.addScaled]: ({ inputs, backend }) => channelScale(backend, FUSED_KERNELS.addScaled, inputs.t as TensorInfo, inputs.scale as TensorInfo, inputs.h as TensorInfo, 2),
  [FUSED_KERNELS.channelScaleGrad]: ({ inputs, backend, attrs }) => {
    const dy = inputs.dy as TensorInfo, x = inputs.x as TensorInfo, sc = inputs.scale as TensorInfo;
    const [dv, xv, sv] = [dy, x, sc].map((t) => f32Values(backend, t, FUSED_KERNELS.channelScaleGrad));
    const d = sv!.length;
    if (dv!.length !== xv!.length || x.shape[x.shape.length - 1] !== d) {
      throw new Error(`${FUSED_KERNELS.channelScaleGrad}: expected dy and x of one shape (..., ${d}), found [${dy.shape}] and [${x.shape}]`);
    }
    const dx = newF32(backend, xv!.length), ds = new Float32Array(d);
    const db = attrs.withShift ? new Float32Array(d) : null;
    if (dx.length > 0) addon!.channelScaleGrad(dv!, xv!, sv!, dx, ds, db, d);
    const outs = [backend.makeTensorInfo(x.shape, 'float32', dx), backend.makeTensorInfo([d], 'float32', ds)];
    if (db) outs.push(backend.makeTensorInfo([d], 'float32', db));
    return outs;
  },
  [FUSED_KERNELS.logSoftmaxGrad]: ({ inputs, backend }) => {
    const dy = inputs.dy as TensorInfo, value = inputs.value as TensorInfo;
    const dv = f32(backend, dy), vv = f32(backend, value);
    if (!dv || !vv || dv.length !== vv.length) throw new Error(`${FUSED_KERNELS.logSoftmaxGrad}: expected float32 dy and value of one shape`);
    const C = value.shape[value.shape.length - 1];
    const y = newF32(backend, vv.length);
    if (y.length > 0) addon!.logSoftmaxGrad(dv, vv, y, vv.length / C, C);
    return backend.makeTensorInfo(value.shape, 'float32', y);
  },
};

/** y = x·scale + add, the scale (and a shift, mode 1) along x's last axis; mode 2 adds a tensor of x's shape. */
function channelScale(backend: Backend, kernel: string, x: TensorInfo, scale: TensorInfo, add: TensorInfo, mode: 1 | 2): TensorInfo {
  const [xv, sv, av] = [x, scale, add].map((t) => f32Values(backend, t, kernel));
  const d = sv!.length;
  const addOk = mode === 1 ? av!.length === d : tf.util.arraysEqual(add.shape, x.shape);
  if (x.shape.length === 0 || x.shape[x.shape.length - 1] !== d || !addOk) {
    throw new Error(`${kernel}: expected x (..., d), a scale of d values and ${mode === 1 ? 'a shift of d values' : 'a residual of x\'s shape'}, found [${x.shape}], [${scale.shape}], [${add.shape}]`);
  }
  const y = newF32(backend, xv!.length);
  if (y.length > 0) addon!.channelScale(xv!, sv!, av!, y, d, mode);
  return backend.makeTensorInfo(x.shape, 'float32', y);
}

/** Kernel names that have a native implementation (a case it does not cover runs the cpu kernel). */
export const NATIVE_KERNELS: readonly string[] = Object.keys(IMPLS);

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
 * Registers the backend 'native' (once). Throws with the reason when the addon is unavailable.
 * Selecting it is the chooser's job (src/backend/choose.ts).
 */
export function registerNativeBackend(): void {
  if (registered) return;
  const a = loadAddon();
  if (!a) throw new Error(loadError ?? 'native addon unavailable');
  const cpuKernels = tf.getKernelsForBackend('cpu');
  if (cpuKernels.length === 0) throw new Error('native backend: no cpu kernels registered (is @tensorflow/tfjs loaded?)');
  const cpuFunc = new Map<string, KernelFunc>();
  for (const k of cpuKernels) {
    cpuFunc.set(k.kernelName, k.kernelFunc);
    if (k.kernelName in IMPLS) continue;
    tf.registerKernel({ ...k, backendName: 'native' });
  }
  for (const [name, impl] of Object.entries(IMPLS)) {
    const fallback = cpuFunc.get(name);
    const kernelFunc: KernelFunc = (args) => {
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
