// Search strategies, kept apart from the generation loop as fairseq's search.py: given the
// step's log-probs and each row's cumulative score, propose ranked candidates per sentence.
// The loop (generator.ts) decides which candidates finalize (EOS) and which continue.
//
// BeamSearch follows fairseq's search.BeamSearch.step: candidate score = cumulative score of
// the row + log-prob of the token, top 2·beam over (rows of the sentence) × V, best first.
// (At step 0 fairseq looks at beam 0 only; our state has one row per sentence at step 0, so
// that falls out of the row layout.) GreedySearch is the beam-1 fast path: one argmax per row.
// A model may hand BeamSearch a per-row top-k (RowTopK, native code): a sentence's 2·beam best
// are among its rows' 2·beam best each (a row's score is a constant plus the log-prob), so the
// search then ranks rows × 2·beam values instead of rows × V, with the same result.

import { TopK } from './topk.js';

/** Ranked candidates, (nSent, k) row-major; slots past `count[s]` are unused. */
export interface SearchCandidates {
  k: number;
  /** Cumulative score (row score + token log-prob), best first within each sentence. */
  scores: Float64Array;
  /** Token id. */
  tokens: Int32Array;
  /** Row within the sentence (0 ≤ beam < rowsPerSentence) the candidate extends. */
  beams: Int32Array;
  /** Number of valid candidates per sentence. */
  count: Int32Array;
}

export interface Search {
  readonly name: string;
  /**
   * Propose candidates. `lprobs` is (nSent · rowsPerSentence, V), `rowScores` the cumulative
   * score of each row. Ties are broken by lower row, then lower token id.
   */
  step(lprobs: Float32Array, vocabSize: number, rowScores: Float64Array, nSent: number, rowsPerSentence: number): SearchCandidates;
}

function allocCandidates(nSent: number, k: number): SearchCandidates {
  return {
    k,
    scores: new Float64Array(nSent * k),
    tokens: new Int32Array(nSent * k),
    beams: new Int32Array(nSent * k),
    count: new Int32Array(nSent),
  };
}

/**
 * The k best of each of `rows` rows of x (rows, V) into values/ids (rows, k), best first: larger
 * value, then lower id, NaN as −∞. Returns false when it cannot run (the search ranks in JS).
 */
export type RowTopK = (x: Float32Array, rows: number, V: number, k: number, values: Float32Array, ids: Int32Array) => boolean;

/** fairseq BeamSearch: the 2·beam best (row, token) pairs of each sentence. */
export class BeamSearch implements Search {
  readonly name = 'beam';
  readonly beamSize: number;
  private heap: TopK;
  private flat = new Int32Array(0);
  private flatScores = new Float64Array(0);
  private rowValues = new Float32Array(0);
  private rowIds = new Int32Array(0);

  constructor(
    beamSize: number,
    private readonly rowTopK?: RowTopK,
  ) {
    if (!Number.isInteger(beamSize) || beamSize < 1) throw new Error(`BeamSearch: beamSize must be an integer >= 1, got ${beamSize}`);
    this.beamSize = beamSize;
    this.heap = new TopK(2 * beamSize);
  }

  step(lprobs: Float32Array, V: number, rowScores: Float64Array, nSent: number, rps: number): SearchCandidates {
    const k = Math.min(2 * this.beamSize, rps * V);
    if (this.heap.capacity !== k) this.heap = new TopK(k);
    if (this.flat.length < k) {
      this.flat = new Int32Array(k);
      this.flatScores = new Float64Array(k);
    }
    const heap = this.heap;
    const out = allocCandidates(nSent, k);
    const kr = Math.min(k, V);
    const rows = nSent * rps;
    if (this.rowValues.length < rows * kr) {
      this.rowValues = new Float32Array(rows * kr);
      this.rowIds = new Int32Array(rows * kr);
    }
    const perRow = this.rowTopK?.(lprobs, rows, V, kr, this.rowValues, this.rowIds) === true;
    for (let s = 0; s < nSent; s++) {
      if (perRow) {
        heap.reset();
        for (let b = 0; b < rps; b++) {
          const row = s * rps + b;
          const bs = rowScores[row];
          for (let j = row * kr; j < (row + 1) * kr; j++) {
            const sc = this.rowValues[j]! + bs;
            // the row's list is best first: once one loses, the rest of the row does too
            if (heap.full && !(sc > heap.threshold)) break;
            heap.push(sc, b * V + this.rowIds[j]!);
          }
        }
        this.emit(s, k, V, out);
        continue;
      }
      heap.reset();
      for (let b = 0; b < rps; b++) {
        const row = s * rps + b;
        const base = row * V;
        const bs = rowScores[row];
        const idBase = b * V;
        let v = 0;
        // Fill the heap, then compare each element to the current threshold only.
        for (; v < V && !heap.full; v++) heap.push(lprobs[base + v] + bs, idBase + v);
        let thr = heap.threshold;
        // Most log-probs lose: compare each with the threshold moved to this row's scale (a
        // margin keeps every winner of the exact test `lp + bs > thr` in), then test exactly.
        let lim = thr - bs - 1e-9 * (1 + Math.abs(thr));
        for (; v < V; v++) {
          const lp = lprobs[base + v]!;
          if (!(lp > lim)) continue;
          const sc = lp + bs;
          // Equal scores arrive with higher ids than anything kept, so they lose: strict >.
          if (sc > thr) {
            heap.replaceRoot(sc, idBase + v);
            thr = heap.threshold;
            lim = thr - bs - 1e-9 * (1 + Math.abs(thr));
          }
        }
      }
      this.emit(s, k, V, out);
    }
    return out;
  }

  /** The heap's candidates of sentence s, best first, into `out`. */
  private emit(s: number, k: number, V: number, out: SearchCandidates): void {
    const n = this.heap.sortedInto(this.flatScores, this.flat, 0);
    for (let i = 0; i < n; i++) {
      out.scores[s * k + i] = this.flatScores[i]!;
      out.beams[s * k + i] = Math.floor(this.flat[i]! / V);
      out.tokens[s * k + i] = this.flat[i]! % V;
    }
    out.count[s] = n;
  }
}

/** Argmax per row (ties → lowest id); equals BeamSearch with beam 1. */
export class GreedySearch implements Search {
  readonly name = 'greedy';

  step(lprobs: Float32Array, V: number, rowScores: Float64Array, nSent: number, rps: number): SearchCandidates {
    if (rps !== 1) throw new Error(`GreedySearch: expected 1 row per sentence, got ${rps} (greedy needs beamSize 1)`);
    const out = allocCandidates(nSent, 1);
    for (let s = 0; s < nSent; s++) {
      const base = s * V;
      const bs = rowScores[s];
      // Compare the sums, as BeamSearch does, so float ties resolve identically.
      let best = lprobs[base] + bs;
      if (Number.isNaN(best)) best = -Infinity;
      let arg = 0;
      for (let v = 1; v < V; v++) {
        const x = lprobs[base + v] + bs;
        if (x > best) {
          best = x;
          arg = v;
        }
      }
      out.scores[s] = best;
      out.tokens[s] = arg;
      out.beams[s] = 0;
      out.count[s] = 1;
    }
    return out;
  }
}
