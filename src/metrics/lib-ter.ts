// Translation edit rate with shifts (Snover et al., 2006), a port of sacreBLEU's
// sacrebleu/metrics/lib_ter.py, itself a near-exact reimplementation of Tercom
// (github.com/jhclark/tercom) with caching from PyTer. Kept step for step, including its limits
// (shift size 10, shift distance 50, beam 25, 10000 cached rows, 1000 shift candidates) and its
// candidate ranking, because TER scores depend on all of them.
import { pyCompareStrList } from './pystr.js';

const COST_INS = 1;
const COST_DEL = 1;
const COST_SUB = 1;

// Tercom-inspired limits
const MAX_SHIFT_SIZE = 10;
const MAX_SHIFT_DIST = 50;
const BEAM_WIDTH = 25;

// sacreBLEU's own limits
const MAX_CACHE_SIZE = 10000;
const MAX_SHIFT_CANDIDATES = 1000;
const INT_INFINITY = 1e16;

// Edit operations, as char codes
const OP_INS = 105; // 'i'
const OP_DEL = 100; // 'd'
const OP_NOP = 32; // ' '
const OP_SUB = 115; // 's'
const OP_UNDEF = 120; // 'x'

/** One row of the edit distance matrix: costs and the operation that reached each cell. */
interface Row {
  cost: Float64Array;
  op: Uint8Array;
}

interface CacheNode {
  next: Map<string, CacheEntry>;
}
interface CacheEntry {
  node: CacheNode;
  row: Row;
}

/**
 * Calculates (number of edits, reference length) for one hypothesis/reference word pair,
 * shifting hypothesis phrases greedily while a shift lowers the edit distance.
 */
export function translationEditRate(wordsHyp: readonly string[], wordsRef: readonly string[]): [number, number] {
  const nRef = wordsRef.length;
  if (nRef === 0) return [wordsHyp.length, 0]; // special treatment of empty refs

  const cachedEd = new BeamEditDistance(wordsRef);
  let shifts = 0;
  let inputWords = wordsHyp;
  let checked = 0;
  for (;;) {
    // do shifts until they stop reducing the edit distance
    const [delta, newInput, newChecked] = shift(inputWords, wordsRef, cachedEd, checked);
    checked = newChecked;
    if (checked >= MAX_SHIFT_CANDIDATES) break;
    if (delta <= 0) break;
    shifts += 1;
    inputWords = newInput;
  }
  const [editDistance] = cachedEd.distance(inputWords);
  return [shifts + editDistance, nRef];
}

/** Shifts `length` words at `start` so they begin before index `target` (sacreBLEU's _perform_shift). */
export function performShift(words: readonly string[], start: number, length: number, target: number): string[] {
  if (target < start) {
    // shift before previous position
    return [
      ...words.slice(0, target),
      ...words.slice(start, start + length),
      ...words.slice(target, start),
      ...words.slice(start + length),
    ];
  } else if (target > start + length) {
    // shift after previous position
    return [
      ...words.slice(0, start),
      ...words.slice(start + length, target),
      ...words.slice(start, start + length),
      ...words.slice(target),
    ];
  }
  // shift within the shifted string
  return [
    ...words.slice(0, start),
    ...words.slice(start + length, length + target),
    ...words.slice(start, start + length),
    ...words.slice(length + target),
  ];
}

/** Flipped trace (rewrite b->a instead of a->b): insertions and deletions swap. */
function flipTrace(trace: Uint8Array): Uint8Array {
  const out = new Uint8Array(trace.length);
  for (let i = 0; i < trace.length; i++) {
    const op = trace[i];
    out[i] = op === OP_INS ? OP_DEL : op === OP_DEL ? OP_INS : op;
  }
  return out;
}

/** Alignment ref position -> hyp position, and error flags per ref and hyp position. */
function traceToAlignment(trace: Uint8Array): [Map<number, number>, number[], number[]] {
  let posHyp = -1;
  let posRef = -1;
  const hypErr: number[] = [];
  const refErr: number[] = [];
  const align = new Map<number, number>();
  for (const op of trace) {
    if (op === OP_NOP) {
      posHyp += 1;
      posRef += 1;
      align.set(posRef, posHyp);
      hypErr.push(0);
      refErr.push(0);
    } else if (op === OP_SUB) {
      posHyp += 1;
      posRef += 1;
      align.set(posRef, posHyp);
      hypErr.push(1);
      refErr.push(1);
    } else if (op === OP_INS) {
      posHyp += 1;
      hypErr.push(1);
    } else if (op === OP_DEL) {
      posRef += 1;
      align.set(posRef, posHyp);
      refErr.push(1);
    } else {
      throw new Error(`TER: unknown edit operation ${JSON.stringify(String.fromCharCode(op))}`);
    }
  }
  return [align, refErr, hypErr];
}

function sumRange(xs: readonly number[], from: number, to: number): number {
  let s = 0;
  const end = Math.min(to, xs.length);
  for (let i = from; i < end; i++) s += xs[i];
  return s;
}

interface Candidate {
  score: number;
  length: number;
  negStartH: number;
  negIdx: number;
  words: string[];
}

/** Python tuple order of (score, length, -start_h, -idx, shifted_words). */
function candidateCompare(a: Candidate, b: Candidate): number {
  if (a.score !== b.score) return a.score - b.score;
  if (a.length !== b.length) return a.length - b.length;
  if (a.negStartH !== b.negStartH) return a.negStartH - b.negStartH;
  if (a.negIdx !== b.negIdx) return a.negIdx - b.negIdx;
  return pyCompareStrList(a.words, b.words);
}

/**
 * The shift that reduces the edit distance the most (sacreBLEU's _shift): returns
 * (gain, shifted words, number of candidates checked so far).
 */
function shift(
  wordsH: readonly string[],
  wordsR: readonly string[],
  cachedEd: BeamEditDistance,
  checkedIn: number,
): [number, readonly string[], number] {
  let checked = checkedIn;
  const [preScore, invTrace] = cachedEd.distance(wordsH);
  // to get the alignment we pretend to rewrite the reference into the hypothesis
  const [align, refErr, hypErr] = traceToAlignment(flipTrace(invTrace));
  let best: Candidate | null = null;
  const nH = wordsH.length;
  const nR = wordsR.length;

  // Consumer of one matching pair (start_h, start_r, length); true = stop all (candidate limit).
  const visit = (startH: number, startR: number, length: number): boolean => {
    // don't shift unless the hypothesis was wrong and the reference doesn't match at the target
    if (sumRange(hypErr, startH, startH + length) === 0) return false;
    if (sumRange(refErr, startR, startR + length) === 0) return false;
    // don't try to shift within the subsequence
    const a = align.get(startR)!;
    if (startH <= a && a < startH + length) return false;

    let prevIdx = -1;
    for (let offset = -1; offset < length; offset++) {
      let idx: number;
      if (startR + offset === -1) {
        idx = 0; // insert before the beginning
      } else if (align.has(startR + offset)) {
        // unlike Tercom, which inserts *after* the index, insert *before* it
        idx = align.get(startR + offset)! + 1;
      } else {
        break; // offset is out of bounds => aims past reference
      }
      if (idx === prevIdx) continue; // skip idx if already tried
      prevIdx = idx;
      const shifted = performShift(wordsH, startH, length, idx);
      const cand: Candidate = {
        score: preScore - cachedEd.distance(shifted)[0], // highest gain first
        length, // then longest match first
        negStartH: -startH, // then earliest match first
        negIdx: -idx, // then earliest target position first
        words: shifted,
      };
      checked += 1;
      if (best === null || candidateCompare(cand, best) > 0) best = cand;
    }
    return checked >= MAX_SHIFT_CANDIDATES;
  };

  // Matching word sub-sequences (sacreBLEU's _find_shifted_pairs), consumed as generated.
  let stop = false;
  for (let startH = 0; startH < nH && !stop; startH++) {
    for (let startR = 0; startR < nR && !stop; startR++) {
      // slightly different from Tercom, matters only in degenerate cases
      if (Math.abs(startR - startH) > MAX_SHIFT_DIST) continue;
      let length = 0;
      while (wordsH[startH + length] === wordsR[startR + length] && length < MAX_SHIFT_SIZE) {
        length += 1;
        if (visit(startH, startR, length)) {
          stop = true;
          break;
        }
        // if one sequence is consumed, stop processing
        if (nH === startH + length || nR === startR + length) break;
      }
    }
  }

  if (best === null) return [0, wordsH, checked];
  const b: Candidate = best;
  return [b.score, b.words, checked];
}

/**
 * Edit distance to a fixed reference with a prefix cache of matrix rows, a beam around the
 * (length-ratio) diagonal and a trace of the edit operations (sacreBLEU's BeamEditDistance).
 */
export class BeamEditDistance {
  private readonly nRef: number;
  private readonly initialRow: Row;
  private readonly cache: CacheNode = { next: new Map() };
  private cacheSize = 0;

  constructor(private readonly wordsRef: readonly string[]) {
    this.nRef = wordsRef.length;
    // first row: insertion of every reference word so far
    const cost = new Float64Array(this.nRef + 1);
    const op = new Uint8Array(this.nRef + 1).fill(OP_INS);
    for (let i = 0; i <= this.nRef; i++) cost[i] = i * COST_INS;
    this.initialRow = { cost, op };
  }

  /** (edit distance, trace of operations) between the reference and `wordsHyp`. */
  distance(wordsHyp: readonly string[]): [number, Uint8Array] {
    // skip initial words whose rows are cached
    const [startPosition, dist] = this.findCache(wordsHyp);
    const [ed, newRows, trace] = this.editDistance(wordsHyp, startPosition, dist);
    this.addCache(wordsHyp, newRows);
    return [ed, trace];
  }

  private emptyRow(): Row {
    return { cost: new Float64Array(this.nRef + 1).fill(INT_INFINITY), op: new Uint8Array(this.nRef + 1).fill(OP_UNDEF) };
  }

  private editDistance(wordsH: readonly string[], startH: number, cache: Row[]): [number, Row[], Uint8Array] {
    const nH = wordsH.length;
    const dist: Row[] = cache.slice();
    for (let k = 0; k < nH - startH; k++) dist.push(this.emptyRow());

    const lengthRatio = nH > 0 ? this.nRef / nH : 1;
    // in some crazy sentences the length difference is so large that the beam would not overlap
    const beamWidth = BEAM_WIDTH < lengthRatio / 2 ? Math.ceil(lengthRatio / 2 + BEAM_WIDTH) : BEAM_WIDTH;
    const ref = this.wordsRef;

    for (let i = startH + 1; i <= nH; i++) {
      const pseudoDiag = Math.floor(i * lengthRatio);
      const minJ = Math.max(0, pseudoDiag - beamWidth);
      let maxJ = Math.min(this.nRef + 1, pseudoDiag + beamWidth);
      if (i === nH) maxJ = this.nRef + 1;
      const prev = dist[i - 1];
      const cur = dist[i];
      const word = wordsH[i - 1];
      for (let j = minJ; j < maxJ; j++) {
        if (j === 0) {
          cur.cost[0] = prev.cost[0] + COST_DEL;
          cur.op[0] = OP_DEL;
        } else {
          let costSub: number;
          let opSub: number;
          if (word === ref[j - 1]) {
            costSub = 0;
            opSub = OP_NOP;
          } else {
            costSub = COST_SUB;
            opSub = OP_SUB;
          }
          // Tercom prefers no-op/sub, then insertion, then deletion; the trace is flipped later,
          // so deletion is tried before insertion here.
          const c1 = prev.cost[j - 1] + costSub;
          if (cur.cost[j] > c1) {
            cur.cost[j] = c1;
            cur.op[j] = opSub;
          }
          const c2 = prev.cost[j] + COST_DEL;
          if (cur.cost[j] > c2) {
            cur.cost[j] = c2;
            cur.op[j] = OP_DEL;
          }
          const c3 = cur.cost[j - 1] + COST_INS;
          if (cur.cost[j] > c3) {
            cur.cost[j] = c3;
            cur.op[j] = OP_INS;
          }
        }
      }
    }

    // the trace
    const ops: number[] = [];
    let i = nH;
    let j = this.nRef;
    while (i > 0 || j > 0) {
      const op = dist[i].op[j];
      ops.push(op);
      if (op === OP_SUB || op === OP_NOP) {
        i -= 1;
        j -= 1;
      } else if (op === OP_INS) {
        j -= 1;
      } else if (op === OP_DEL) {
        i -= 1;
      } else {
        throw new Error(`TER: unknown edit operation ${JSON.stringify(String.fromCharCode(op))} in the trace`);
      }
    }
    ops.reverse();
    return [dist[nH].cost[this.nRef], dist.slice(cache.length), Uint8Array.from(ops)];
  }

  private addCache(wordsHyp: readonly string[], mat: Row[]): void {
    if (this.cacheSize >= MAX_CACHE_SIZE) return;
    let node = this.cache;
    const skip = wordsHyp.length - mat.length;
    // jump through the cache to the current position
    for (let i = 0; i < skip; i++) node = node.next.get(wordsHyp[i])!.node;
    // update the cache with the newly computed rows
    for (let k = 0; k < mat.length; k++) {
      const word = wordsHyp[skip + k];
      let entry = node.next.get(word);
      if (entry === undefined) {
        entry = { node: { next: new Map() }, row: mat[k] };
        node.next.set(word, entry);
        this.cacheSize += 1;
      }
      node = entry.node;
    }
  }

  private findCache(wordsHyp: readonly string[]): [number, Row[]] {
    let node = this.cache;
    let start = 0;
    const dist: Row[] = [this.initialRow];
    for (const word of wordsHyp) {
      const entry = node.next.get(word);
      if (entry === undefined) break;
      start += 1;
      node = entry.node;
      dist.push(entry.row);
    }
    return [start, dist];
  }
}
