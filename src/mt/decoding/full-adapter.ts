// Non-incremental decoding and the "incremental == full" check. `fullAsIncremental` turns a
// model that recomputes every position from the whole prefix (FullDecoderModel.fullStep) into
// the incremental interface the generator drives: its state is just the prefixes, reordered by
// row. `checkIncrementalAgainstFull` runs both paths side by side during a real beam search
// (with its reorderings and dropped sentences) and reports the largest log-prob difference —
// the property a decoder with a cached incremental state must have.

import { specOf, type FullDecoderModel, type IncrementalDecoderModel } from './types.js';

/** Encoder output of the adapter: the model's own plus the batch size. */
export interface FullEnc<E> {
  inner: E;
  n: number;
}

/** Adapter state: per row, the encoded sentence it reads and its prefix so far (BOS first). */
export interface FullState<E> {
  enc: E;
  encRows: Int32Array;
  /** (rows, len) row-major. */
  prefixes: Int32Array;
  len: number;
}

/** Grow every row of (rows, t) prefixes by its previous token: (rows, t + 1). */
function appendColumn(prefixes: Int32Array, rows: number, t: number, prevTokens: Int32Array): Int32Array {
  const len = t + 1;
  const next = new Int32Array(rows * len); // (rows, t + 1)
  for (let r = 0; r < rows; r++) {
    next.set(prefixes.subarray(r * t, r * t + t), r * len);
    next[r * len + t] = prevTokens[r];
  }
  return next;
}

export function fullAsIncremental<E>(m: FullDecoderModel<E>): IncrementalDecoderModel<FullEnc<E>, FullState<E>> {
  return {
    ...specOf(m),
    encode(src) {
      return { inner: m.encode(src), n: src.length };
    },
    initState(enc) {
      const encRows = new Int32Array(enc.n);
      for (let i = 0; i < enc.n; i++) encRows[i] = i;
      return { enc: enc.inner, encRows, prefixes: new Int32Array(0), len: 0 };
    },
    step(prevTokens, st, t) {
      const rows = st.encRows.length;
      if (prevTokens.length !== rows) throw new Error(`fullAsIncremental.step: expected ${rows} previous tokens, got ${prevTokens.length}`);
      if (t !== st.len) throw new Error(`fullAsIncremental.step: expected step ${st.len}, got ${t}`);
      st.prefixes = appendColumn(st.prefixes, rows, t, prevTokens);
      st.len = t + 1;
      return m.fullStep(st.enc, st.encRows, st.prefixes, st.len);
    },
    reorderState(st, order) {
      const L = st.len;
      const prefixes = new Int32Array(order.length * L); // (order.length, L)
      const encRows = new Int32Array(order.length);
      for (let i = 0; i < order.length; i++) {
        const o = order[i];
        encRows[i] = st.encRows[o];
        prefixes.set(st.prefixes.subarray(o * L, o * L + L), i * L);
      }
      return { enc: st.enc, encRows, prefixes, len: L };
    },
    disposeState() {},
    disposeEnc(enc) {
      m.disposeEnc(enc.inner);
    },
  };
}

/** Largest |incremental − full| log-prob difference seen, and how many values were compared. */
export interface IncrementalCheckReport {
  maxAbsDiff: number;
  /** Where it occurred: step, row, token. */
  worst: { step: number; row: number; token: number } | null;
  steps: number;
  compared: number;
}

interface CheckState<SI, EF> {
  inner: SI;
  full: FullState<EF>;
}

/**
 * Wrap an incremental model and a full model of the same network: every step runs both on the
 * same rows and records the largest difference in `report` (entries where both are -Infinity
 * count as equal; one infinite and the other not counts as Infinity). Returns the incremental
 * log-probs, so the generator's search follows the incremental path.
 */
export function incrementalFullCheck<EI, SI, EF>(
  inc: IncrementalDecoderModel<EI, SI>,
  full: FullDecoderModel<EF>,
): { model: IncrementalDecoderModel<{ inc: EI; full: FullEnc<EF> }, CheckState<SI, EF>>; report: IncrementalCheckReport } {
  if (inc.vocabSize !== full.vocabSize)
    throw new Error(`incrementalFullCheck: vocab sizes differ (incremental ${inc.vocabSize}, full ${full.vocabSize})`);
  const f = fullAsIncremental(full);
  const report: IncrementalCheckReport = { maxAbsDiff: 0, worst: null, steps: 0, compared: 0 };
  const V = inc.vocabSize;
  return {
    report,
    model: {
      ...specOf(inc),
      encode(src) {
        return { inc: inc.encode(src), full: f.encode(src) };
      },
      initState(enc) {
        return { inner: inc.initState(enc.inc), full: f.initState(enc.full) };
      },
      async step(prevTokens, st, t) {
        const a = await inc.step(prevTokens, st.inner, t);
        const b = await f.step(prevTokens, st.full, t);
        if (a.length !== b.length)
          throw new Error(`incrementalFullCheck: step ${t}: incremental gave ${a.length} values, full ${b.length}`);
        for (let i = 0; i < a.length; i++) {
          const x = a[i];
          const y = b[i];
          if (x === y) continue; // includes -inf == -inf
          const d = Number.isNaN(x) || Number.isNaN(y) ? Infinity : Math.abs(x - y);
          if (d > report.maxAbsDiff) {
            report.maxAbsDiff = d;
            report.worst = { step: t, row: Math.floor(i / V), token: i % V };
          }
        }
        report.steps++;
        report.compared += a.length;
        // The full path's array is a copy; hand the generator the incremental one.
        return a;
      },
      reorderState(st, order) {
        return { inner: inc.reorderState(st.inner, order), full: f.reorderState(st.full, order) };
      },
      disposeState(st) {
        inc.disposeState(st.inner);
        f.disposeState(st.full);
      },
      disposeEnc(enc) {
        inc.disposeEnc(enc.inc);
        f.disposeEnc(enc.full);
      },
    },
  };
}
