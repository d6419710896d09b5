// Partial selection of the k best (score, id) pairs with a bounded min-heap: O(n log k) worst
// case and ~1 comparison per element once the heap is full, instead of sorting beam × V
// (fairseq uses torch.topk). Ties go to the lower id, so results are deterministic.

export class TopK {
  readonly capacity: number;
  /** Heap storage; scores[0] is the worst kept score once full. */
  readonly scores: Float64Array;
  readonly ids: Int32Array;
  size = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`TopK: capacity must be an integer >= 1, got ${capacity}`);
    this.capacity = capacity;
    this.scores = new Float64Array(capacity);
    this.ids = new Int32Array(capacity);
  }

  reset(): void {
    this.size = 0;
  }

  get full(): boolean {
    return this.size === this.capacity;
  }

  /** Worst kept score (only meaningful when full). */
  get threshold(): number {
    return this.scores[0];
  }

  /** a is worse than b: lower score, or equal score and higher id. */
  private worse(sa: number, ia: number, sb: number, ib: number): boolean {
    return sa < sb || (sa === sb && ia > ib);
  }

  /** Offer a candidate; NaN counts as -Infinity. */
  push(score: number, id: number): void {
    if (Number.isNaN(score)) score = -Infinity;
    if (this.size < this.capacity) {
      let i = this.size++;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!this.worse(score, id, this.scores[p], this.ids[p])) break;
        this.scores[i] = this.scores[p];
        this.ids[i] = this.ids[p];
        i = p;
      }
      this.scores[i] = score;
      this.ids[i] = id;
    } else if (this.worse(this.scores[0], this.ids[0], score, id)) {
      this.replaceRoot(score, id);
    }
  }

  /** Replace the worst element (caller checked that the candidate is better). */
  replaceRoot(score: number, id: number): void {
    const n = this.size;
    const s = this.scores;
    const d = this.ids;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.worse(s[r], d[r], s[l], d[l]) ? r : l;
      if (!this.worse(s[c], d[c], score, id)) break;
      s[i] = s[c];
      d[i] = d[c];
      i = c;
    }
    s[i] = score;
    d[i] = id;
  }

  /**
   * Write the kept elements best first (score descending, id ascending on ties) into
   * outScores/outIds at `offset`; returns how many were written. The heap is left unchanged.
   */
  sortedInto(outScores: Float64Array, outIds: Int32Array, offset = 0): number {
    const n = this.size;
    for (let i = 0; i < n; i++) {
      const sc = this.scores[i];
      const id = this.ids[i];
      let j = offset + i;
      while (j > offset && (outScores[j - 1] < sc || (outScores[j - 1] === sc && outIds[j - 1] > id))) {
        outScores[j] = outScores[j - 1];
        outIds[j] = outIds[j - 1];
        j--;
      }
      outScores[j] = sc;
      outIds[j] = id;
    }
    return n;
  }
}
