// The int8 weight scheme of the quantised linear layers: per output channel (a row of the (out, in)
// weight), symmetric, scale = max|w| / 127 and q = round(w / scale) in [−127, 127] (−128 unused, so
// the range is symmetric), as CTranslate2's and PyTorch's per-channel qint8 weights. Activations
// are quantised per row on every call by the native kernel (native/src/int8.cc). Pure TypeScript:
// `resmlp mt quantize` works without the native addon, and a machine without int8 kernels
// dequantises an int8 checkpoint here to run it in fp32.

/** Weights of one layer in int8: q (rows·cols, row-major) ≈ w / scales[row]. */
export interface Int8Rows {
  q: Int8Array;
  /** One scale per row (output channel); a row of zeros gets scale 1. */
  scales: Float32Array;
  rows: number;
  cols: number;
}

/** Quantises w (rows, cols) row-major, one symmetric scale per row. */
export function quantizeRows(w: Float32Array, rows: number, cols: number): Int8Rows {
  if (w.length !== rows * cols) throw new Error(`quantizeRows: expected ${rows}×${cols} = ${rows * cols} values, found ${w.length}`);
  const q = new Int8Array(rows * cols);
  const scales = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let max = 0;
    for (let c = 0; c < cols; c++) {
      const a = Math.abs(w[o + c]!);
      if (!Number.isFinite(a)) throw new Error(`quantizeRows: row ${r} holds a non-finite weight (${w[o + c]}) at column ${c}`);
      if (a > max) max = a;
    }
    const s = max > 0 ? Math.fround(max / 127) : 1;
    scales[r] = s;
    for (let c = 0; c < cols; c++) q[o + c] = Math.max(-127, Math.min(127, Math.round(w[o + c]! / s)));
  }
  return { q, scales, rows, cols };
}

/** The float32 weights an int8 layer stands for: q · scale per row. */
export function dequantizeRows({ q, scales, rows, cols }: Int8Rows): Float32Array {
  const w = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const s = scales[r]!;
    const o = r * cols;
    for (let c = 0; c < cols; c++) w[o + c] = q[o + c]! * s;
  }
  return w;
}
