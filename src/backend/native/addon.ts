// What the N-API addon (native/src/addon.cc) exports, by name: its functions (NativeAddon) and
// its op table, read once at load. TypeScript never numbers an op itself: OP_NAMES lists the ops
// each family of kernels needs, and checkAddon looks each one up in the addon's `ops` table
// (made in C++ from the lists in native/src/ops.h). An addon built from other sources, missing a
// function or an op, fails at load with an error that names them, never a wrong kernel later.
// Reference: Node-API's exports object (a module's functions and constants by name).

/** What every form of sgemm takes first: y (M, N) from a and b, each transposed or not. */
type SgemmOperands = [transA: boolean, transB: boolean, M: number, N: number, K: number, a: Float32Array, b: Float32Array, y: Float32Array];

/** The addon's functions (native/src/addon.cc kKernels, kControls) and its op table. */
export interface NativeAddon {
  unary(op: number, x: Float32Array, y: Float32Array, alpha?: number): void;
  binary(op: number, a: Float32Array, b: Float32Array, y: Float32Array, dims: Int32Array, aStrides: Int32Array, bStrides: Int32Array): void;
  sgemm(...args: [...SgemmOperands, aOffsets?: Int32Array, bOffsets?: Int32Array]): void;
  sgemm(...args: [...SgemmOperands, batch: number, aStride: number, bStride: number]): void;
  rawSgemmGflops(M: number, N: number, K: number, batch: number, reps: number): number;
  reduce(op: number, x: Float32Array, y: Float32Array, outer: number, R: number, inner: number): void;
  softmax(x: Float32Array, y: Float32Array, rows: number, cols: number, log: boolean): void;
  logSoftmaxGrad(dy: Float32Array, value: Float32Array, dx: Float32Array, rows: number, cols: number): void;
  transpose(
    x: Float32Array | Int32Array | Uint8Array,
    y: Float32Array | Int32Array | Uint8Array,
    dims: Int32Array,
    strides: Int32Array,
  ): void;
  gather(x: Float32Array | Int32Array, idx: Int32Array, y: Float32Array | Int32Array, outer: number, dimSize: number, slice: number): void;
  segmentSum(x: Float32Array, ids: Int32Array, y: Float32Array, numSegments: number, slice: number): void;
  select(cond: Uint8Array, a: Float32Array, b: Float32Array, y: Float32Array, inner: number): void;
  addN(y: Float32Array, xs: Float32Array[]): void;
  concat(y: Float32Array, xs: Float32Array[], inners: Int32Array, outer: number): void;
  dropout(x: Float32Array, y: Float32Array, rate: number, seedLo: number, seedHi: number, group: number): void;
  xentRows(
    x: Float32Array,
    targets: Int32Array,
    loss: Float32Array,
    lse: Float32Array,
    rows: number,
    V: number,
    c: number,
    s: number,
  ): void;
  xentRowsGrad(
    dy: Float32Array,
    x: Float32Array,
    targets: Int32Array,
    lse: Float32Array,
    dx: Float32Array,
    rows: number,
    V: number,
    c: number,
    s: number,
  ): void;
  /** y = act(y + bias) in place, row by row (cols per row); act an `activation` code, alpha leakyrelu's slope. */
  biasAct(y: Float32Array, bias: Float32Array | null, cols: number, act: number, alpha: number): void;
  /** y = x·s + add per channel (last axis, length d): mode Shift adds a shift of length d, Residual a tensor of x's length. */
  channelScale(x: Float32Array, s: Float32Array, add: Float32Array, y: Float32Array, d: number, mode: number): void;
  /** Gradients of channelScale: dx = dy·s, ds = Σ_rows dy·x, db = Σ_rows dy (db null: not computed). */
  channelScaleGrad(
    dy: Float32Array,
    x: Float32Array,
    s: Float32Array,
    dx: Float32Array,
    ds: Float32Array,
    db: Float32Array | null,
    d: number,
  ): void;
  setThreads(n: number): number;
  /** true (default): our threads split each matmul and OpenBLAS runs on one thread; false: OpenBLAS threads each product. Returns the setting. */
  setMatmulSplit(on: boolean): boolean;
  getThreads(): number;
  adagradStep(
    p: Float32Array,
    g: Float32Array,
    sum: Float32Array,
    pOut: Float32Array,
    sumOut: Float32Array,
    lr: number,
    eps: number,
    wd: number,
  ): void;
  adamStep(
    p: Float32Array,
    g: Float32Array,
    m: Float32Array,
    v: Float32Array,
    pOut: Float32Array,
    mOut: Float32Array,
    vOut: Float32Array,
    beta1: number,
    oneMinusBeta1: number,
    beta2: number,
    oneMinusBeta2: number,
    sqrtBc2: number,
    eps: number,
    stepSize: number,
    decay: number,
  ): void;
  /** The k best of each row of x (rows, V), best first (larger value, then lower id; NaN as −∞), into values/ids (rows, k). */
  rowTopK(x: Float32Array, rows: number, V: number, k: number, values: Float32Array, ids: Int32Array): void;
  /** Whether int8 linear layers run here (a build with oneDNN, a CPU with VNNI), and if not why (native/src/int8.cc). */
  int8Support(): { available: boolean; reason: string; isa: string; kernel: string; library: string };
  /** Packs an int8 weight q (N·K) with per-row scales (N); an opaque handle (freed by int8Release or the GC). */
  int8Pack(q: Int8Array, scales: Float32Array, N: number, K: number): unknown;
  int8Release(weight: unknown): void;
  /** y (M, N) = epilogue(dequant(quant(x) · Wq) + bias) for x (M, K); epilogue a `linearEpilogue` code. */
  int8Linear(weight: unknown, x: Float32Array, M: number, bias: Float32Array | null, y: Float32Array, epilogue: number): void;
  /** The kernel set OpenBLAS picked when it loaded, and its build configuration. */
  blasCore(): { core: string; config: string; threading: 'openmp' | 'pthreads' | 'sequential' };
  /** The op codes by family and name (native/src/ops.h); read through checkAddon, never by position. */
  ops: Record<string, Record<string, number>>;
}

type AddonFunction = Exclude<keyof NativeAddon, 'ops'>;

/** Every function the TypeScript side calls; a Record, so the compiler checks that it lists all of NativeAddon's. */
const FUNCTIONS: Record<AddonFunction, true> = {
  unary: true,
  binary: true,
  sgemm: true,
  rawSgemmGflops: true,
  reduce: true,
  softmax: true,
  logSoftmaxGrad: true,
  transpose: true,
  gather: true,
  segmentSum: true,
  select: true,
  addN: true,
  concat: true,
  dropout: true,
  xentRows: true,
  xentRowsGrad: true,
  biasAct: true,
  channelScale: true,
  channelScaleGrad: true,
  setThreads: true,
  setMatmulSplit: true,
  getThreads: true,
  adagradStep: true,
  adamStep: true,
  blasCore: true,
  rowTopK: true,
  int8Support: true,
  int8Pack: true,
  int8Release: true,
  int8Linear: true,
};
export const ADDON_FUNCTIONS = Object.keys(FUNCTIONS) as readonly AddonFunction[];

/** The ops each family of kernels uses, by the names native/src/ops.h gives them. Order does not matter. */
export const OP_NAMES = {
  unary: [
    'Exp',
    'Log',
    'Tanh',
    'Erf',
    'Sqrt',
    'Rsqrt',
    'Square',
    'Neg',
    'Relu',
    'Sigmoid',
    'Abs',
    'Reciprocal',
    'Gelu',
    'Step',
    'LeakyRelu',
    'Elu',
    'Relu6',
    'Softplus',
    'Log1p',
    'Expm1',
    'Sin',
    'Cos',
    'Sign',
    'Floor',
    'Ceil',
    'Round',
  ],
  binary: ['Add', 'Sub', 'Mul', 'Div', 'Max', 'Min', 'Pow', 'SqDiff', 'GeluGrad', 'Prelu'],
  reduce: ['Sum', 'Mean', 'Max', 'Min', 'Prod'],
  /** tfjs's values of the `activation` attribute of _FusedMatMul (prelu is a binary op). */
  activation: ['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu'],
  channelScaleMode: ['Shift', 'Residual'],
  /** What int8Linear applies after its bias. */
  linearEpilogue: ['None', 'Gelu', 'LogSoftmax'],
} as const;

export type OpFamily = keyof typeof OP_NAMES;
/** The addon's code of every op in OP_NAMES, e.g. ops.binary.Add. */
export type OpCodes = { readonly [F in OpFamily]: Readonly<Record<(typeof OP_NAMES)[F][number], number>> };

/** The addon and its op codes: what every kernel factory (kernels-*.ts) is given. */
export interface LoadedAddon {
  addon: NativeAddon;
  ops: OpCodes;
}

/**
 * Checks a loaded module against what the TypeScript side calls and returns its op codes, or
 * throws an Error naming every function and op that is missing or malformed (`where` says which
 * file was loaded). Extra functions or ops in the addon are fine.
 */
export function checkAddon(mod: unknown, where: string): LoadedAddon {
  const m = (mod ?? {}) as Record<string, unknown>;
  const problems: string[] = [];
  const missingFns = ADDON_FUNCTIONS.filter((f) => typeof m[f] !== 'function');
  if (missingFns.length > 0) problems.push(`no function ${missingFns.join(', ')}`);
  const table = m.ops;
  if (typeof table !== 'object' || table === null) {
    problems.push('no op table (`ops`): it was built from sources older than this TypeScript');
  } else {
    for (const [family, names] of Object.entries(OP_NAMES)) {
      const codes = (table as Record<string, unknown>)[family];
      if (typeof codes !== 'object' || codes === null) {
        problems.push(`no ${family} ops in its op table`);
        continue;
      }
      const c = codes as Record<string, unknown>;
      const missing = names.filter((n) => !Number.isInteger(c[n]) || (c[n] as number) < 0);
      if (missing.length > 0) problems.push(`no ${family} op ${missing.join(', ')}`);
      const seen = new Map<number, string>();
      for (const [name, code] of Object.entries(c)) {
        const other = seen.get(code as number);
        if (other !== undefined) problems.push(`${family} ops ${other} and ${name} share the code ${code}`);
        seen.set(code as number, name);
      }
    }
  }
  if (problems.length > 0) {
    throw new Error(
      `native addon ${where} does not match src/backend/native: ${problems.join('; ')}. Rebuild it with: node native/build.mjs`,
    );
  }
  return { addon: mod as NativeAddon, ops: table as OpCodes };
}
