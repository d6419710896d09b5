// Broadcast plans: two shapes that broadcast (NumPy rules, as tf.broadcastTo) collapsed into the
// fewest dims in which each input is either contiguous or broadcast (stride 0). The binary kernel
// walks the plan (native/src/elementwise.cc), and batched matmul uses it for its batch dims.

/** A collapsed broadcast: the output shape, and per collapsed dim its size and each input's stride (0: broadcast). */
export interface BroadcastPlan {
  out: number[];
  dims: Int32Array;
  as: Int32Array;
  bs: Int32Array;
}

/**
 * Collapses a broadcast of aShape and bShape into the fewest dims where each input is either
 * contiguous or broadcast (stride 0). Returns null when the shapes do not broadcast.
 */
export function broadcastPlan(aShape: readonly number[], bShape: readonly number[]): BroadcastPlan | null {
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
    const pa = da !== 1,
      pb = db !== 1;
    const last = groups[groups.length - 1];
    if (last && last.pa === pa && last.pb === pb) last.d *= d;
    else groups.push({ d, pa, pb });
  }
  if (groups.length === 0) groups.push({ d: 1, pa: false, pb: false });
  const n = groups.length;
  const dims = new Int32Array(n),
    as = new Int32Array(n),
    bs = new Int32Array(n);
  let sa = 1,
    sb = 1;
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
