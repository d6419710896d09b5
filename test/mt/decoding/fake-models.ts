// Fake translation models for the decoding tests, in the manner of fairseq's tests/utils.py
// (TestIncrementalDecoder / TestBaseDecoder with hand-written per-step probabilities).
//
// - PositionalFakeModel: fairseq's fake exactly — the distribution depends only on (step,
//   sentence, beam slot), so results test the search's row ordering as fairseq's tests do.
// - PrefixTableModel: hand-written distributions keyed by (source, prefix); anything not in the
//   table puts all mass on EOS. Independent of row order, so batching/dropping can be checked.
// - HashModel: pseudo-random distributions that are a function of (source, prefix), computed
//   either incrementally (cached rolling hash per row, reordered by beam) or from the full
//   prefix; `bugNoReorder` makes the incremental path ignore reorderings.

import type { ContinuousDecoderModel, FullDecoderModel, IncrementalDecoderModel } from '../../../src/mt/decoding/index.js';

/** fairseq's dummy dictionary: bos 0, pad 1, eos 2, unk 3, then w1 = 4, w2 = 5. */
export const BOS = 0;
export const PAD = 1;
export const EOS = 2;
export const UNK = 3;
export const W1 = 4;
export const W2 = 5;

/** What every fake shares: the dummy dictionary's special ids, and the rows handed to step() at every call. */
abstract class FakeDecoder {
  readonly padId = PAD;
  readonly bosId = BOS;
  readonly eosId = EOS;
  readonly unkId = UNK;
  /** Rows handed to step() at every call. */
  readonly rowsSeen: number[] = [];
}

/** Fill log-probs for ids eos.. from probabilities [eos, unk, w1, w2, ...]; others get log 0. */
function logRow(out: Float32Array, base: number, V: number, probsFromEos: readonly number[]): void {
  out.fill(-Infinity, base, base + V);
  probsFromEos.forEach((p, i) => (out[base + EOS + i] = Math.log(p)));
}

interface PositionalState {
  /** Original sentence of each row. */
  sent: Int32Array;
  steps: number;
}

/**
 * fairseq's TestBaseDecoder: `beamProbs[step][sentence * beam + slot]` are the probabilities of
 * [eos, unk, w1, w2]; past the table, EOS has probability 1. `slot` is the row's position among
 * its sentence's rows (at step 0 there is one row per sentence, slot 0 — fairseq's rows at step
 * 0 are identical copies and only the first is read).
 */
export class PositionalFakeModel extends FakeDecoder implements IncrementalDecoderModel<number, PositionalState> {
  readonly vocabSize = 6;
  readonly maxPositions = 100; // fairseq's TestBaseDecoder default
  liveStates = 0;
  liveEncs = 0;

  constructor(
    readonly beamProbs: number[][][],
    readonly beam: number,
  ) {
    super();
  }

  encode(src: readonly Int32Array[]): number {
    this.liveEncs++;
    return src.length;
  }
  initState(n: number): PositionalState {
    this.liveStates++;
    return { sent: Int32Array.from({ length: n }, (_, i) => i), steps: 0 };
  }
  step(prevTokens: Int32Array, st: PositionalState, t: number): Float32Array {
    const V = this.vocabSize;
    const rows = st.sent.length;
    if (prevTokens.length !== rows) throw new Error(`fake: ${prevTokens.length} tokens for ${rows} rows`);
    if (t !== st.steps) throw new Error(`fake: step ${t} after ${st.steps} steps`);
    st.steps++;
    this.rowsSeen.push(rows);
    const out = new Float32Array(rows * V);
    for (let r = 0; r < rows; r++) {
      let first = r;
      while (first > 0 && st.sent[first - 1] === st.sent[r]) first--;
      const slot = r - first;
      const table = this.beamProbs[t];
      logRow(out, r * V, V, table === undefined ? [1] : table[st.sent[r] * this.beam + slot]);
    }
    return out;
  }
  reorderState(st: PositionalState, order: Int32Array): PositionalState {
    return { sent: Int32Array.from(order, (o) => st.sent[o]), steps: st.steps };
  }
  disposeState(): void {
    this.liveStates--;
  }
  disposeEnc(): void {
    this.liveEncs--;
  }
}

/** fairseq tests/utils.py sequence_generator_setup(): two sentences, beam 2. */
export function fairseqBeamProbs(): number[][][] {
  const unk = 0;
  return [
    // step 0:      eos   unk  w1   w2
    [
      [0.0, unk, 0.9, 0.1], // sentence 1, beam 1
      [0.0, unk, 0.9, 0.1], // sentence 1, beam 2
      [0.0, unk, 0.7, 0.3], // sentence 2
      [0.0, unk, 0.7, 0.3],
    ],
    // step 1
    [
      [1.0, unk, 0.0, 0.0], // w1: 0.9  (emit: w1 <eos>: 0.9*1.0)
      [0.0, unk, 0.9, 0.1], // w2: 0.1
      [0.25, unk, 0.35, 0.4], // w1: 0.7  (don't emit: w1 <eos>: 0.7*0.25)
      [0.0, unk, 0.1, 0.9], // w2: 0.3
    ],
    // step 2
    [
      [0.0, unk, 0.1, 0.9], // w2 w1: 0.1*0.9
      [0.6, unk, 0.2, 0.2], // w2 w2: 0.1*0.1  (emit: w2 w2 <eos>: 0.1*0.1*0.6)
      [0.6, unk, 0.4, 0.0], // w1 w2: 0.7*0.4  (emit: w1 w2 <eos>: 0.7*0.4*0.6)
      [0.01, unk, 0.0, 0.99], // w2 w2: 0.3*0.9
    ],
    // step 3
    [
      [1.0, unk, 0.0, 0.0], // w2 w1 w2: 0.1*0.9*0.9  (emit: w2 w1 w2 <eos>: 0.1*0.9*0.9*1.0)
      [1.0, unk, 0.0, 0.0], // w2 w1 w1: 0.1*0.9*0.1  (emit: w2 w1 w1 <eos>: 0.1*0.9*0.1*1.0)
      [0.1, unk, 0.5, 0.4], // w2 w2 w2: 0.3*0.9*0.99  (emit: w2 w2 w2 <eos>: 0.3*0.9*0.99*0.1)
      [1.0, unk, 0.0, 0.0], // w1 w2 w1: 0.7*0.4*0.4  (emit: w1 w2 w1 <eos>: 0.7*0.4*0.4*1.0)
    ],
  ];
}

/** Per source: prefix ("" or space-joined ids after BOS) → probabilities [eos, unk, w1, w2, w3]. */
export type PrefixTable = Record<string, number[]>;

interface PrefixState {
  table: Int32Array; // which table each row reads
  prefix: string[];
}

/**
 * Source i reads `tables[src[i][0]]`; a prefix missing from its table gives EOS probability 1.
 * V = 7: bos, pad, eos, unk, w1, w2, w3.
 */
export class PrefixTableModel extends FakeDecoder implements IncrementalDecoderModel<Int32Array, PrefixState> {
  readonly vocabSize = 7;
  maxPositions = 100;
  constructor(readonly tables: PrefixTable[]) {
    super();
  }
  encode(src: readonly Int32Array[]): Int32Array {
    return Int32Array.from(src, (s) => s[0]);
  }
  initState(enc: Int32Array): PrefixState {
    return { table: enc.slice(), prefix: Array.from(enc, () => '') };
  }
  step(prevTokens: Int32Array, st: PrefixState, t: number): Float32Array {
    const V = this.vocabSize;
    const rows = st.table.length;
    this.rowsSeen.push(rows);
    const out = new Float32Array(rows * V);
    for (let r = 0; r < rows; r++) {
      if (t > 0) st.prefix[r] = st.prefix[r] === '' ? String(prevTokens[r]) : `${st.prefix[r]} ${prevTokens[r]}`;
      const p = this.tables[st.table[r]][st.prefix[r]];
      logRow(out, r * V, V, p ?? [1]);
    }
    return out;
  }
  reorderState(st: PrefixState, order: Int32Array): PrefixState {
    return { table: Int32Array.from(order, (o) => st.table[o]), prefix: Array.from(order, (o) => st.prefix[o]) };
  }
  disposeState(): void {}
  disposeEnc(): void {}
}

// ---- HashModel -------------------------------------------------------------------------------

function mix(h: number, x: number): number {
  h = Math.imul(h ^ x, 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca77);
  return (h ^ (h >>> 13)) >>> 0;
}

interface HashEnc {
  seeds: Uint32Array;
  /** Preferred output length per sentence: EOS becomes likely around it. */
  target: Int32Array;
}
interface HashState {
  h: Uint32Array;
  target: Int32Array;
  len: number;
}

/**
 * Distribution for a row = log-softmax of pseudo-random logits derived from a hash of (source,
 * prefix), with the EOS logit raised as the prefix approaches the source's target length. The
 * incremental path keeps the rolling hash per row; the full path rehashes the whole prefix.
 */
export class HashModel extends FakeDecoder implements IncrementalDecoderModel<HashEnc, HashState>, FullDecoderModel<HashEnc> {
  /** Incremental path ignores reorderState (a typical cache bug) when true. */
  bugNoReorder = false;
  constructor(
    readonly vocabSize: number,
    readonly maxPositions = 64,
    readonly temperature = 1.5,
  ) {
    super();
  }

  encode(src: readonly Int32Array[]): HashEnc {
    const seeds = new Uint32Array(src.length);
    const target = new Int32Array(src.length);
    src.forEach((s, i) => {
      let h = 0x1234567;
      for (const x of s) h = mix(h, x);
      seeds[i] = h;
      target[i] = 2 + (s.length % 7);
    });
    return { seeds, target };
  }
  initState(enc: HashEnc): HashState {
    return { h: enc.seeds.slice(), target: enc.target.slice(), len: 0 };
  }
  protected fill(out: Float32Array, r: number, h: number, len: number, target: number): void {
    const V = this.vocabSize;
    const base = r * V;
    const logits = new Float64Array(V);
    let mx = -Infinity;
    for (let v = 0; v < V; v++) {
      let z = ((mix(h, v + 1) / 4294967296) * 2 - 1) * this.temperature * 3;
      if (v === EOS) z += 2 * (len - target);
      if (v === BOS || v === PAD) z = -Infinity;
      logits[v] = z;
      if (z > mx) mx = z;
    }
    let sum = 0;
    for (let v = 0; v < V; v++) sum += Math.exp(logits[v] - mx);
    const lse = mx + Math.log(sum);
    for (let v = 0; v < V; v++) out[base + v] = logits[v] - lse;
  }
  step(prevTokens: Int32Array, st: HashState, t: number): Float32Array {
    const rows = st.h.length;
    this.rowsSeen.push(rows);
    if (t !== st.len) throw new Error(`HashModel: step ${t} after ${st.len}`);
    const out = new Float32Array(rows * this.vocabSize);
    for (let r = 0; r < rows; r++) {
      st.h[r] = mix(st.h[r], prevTokens[r]);
      this.fill(out, r, st.h[r], t, st.target[r]);
    }
    st.len++;
    return out;
  }
  reorderState(st: HashState, order: Int32Array): HashState {
    if (this.bugNoReorder) {
      // Keeps the first rows' caches in place, whatever the order says.
      const h = new Uint32Array(order.length);
      for (let i = 0; i < order.length; i++) h[i] = st.h[Math.min(i, st.h.length - 1)];
      return { h, target: Int32Array.from(order, (o) => st.target[o]), len: st.len };
    }
    return { h: Uint32Array.from(order, (o) => st.h[o]), target: Int32Array.from(order, (o) => st.target[o]), len: st.len };
  }
  fullStep(enc: HashEnc, encRows: Int32Array, prefixes: Int32Array, len: number): Float32Array {
    const R = encRows.length;
    const out = new Float32Array(R * this.vocabSize);
    for (let r = 0; r < R; r++) {
      let h = enc.seeds[encRows[r]];
      for (let j = 0; j < len; j++) h = mix(h, prefixes[r * len + j]);
      this.fill(out, r, h, len - 1, enc.target[encRows[r]]);
    }
    return out;
  }
  disposeState(): void {}
  disposeEnc(): void {}
}

interface ContinuousHashState {
  h: Uint32Array;
  target: Int32Array;
  /** Position each row reads next. */
  pos: Int32Array;
}

/**
 * HashModel for step-level batching: every row keeps its own position, and states concatenate,
 * so sentences can join a running state. Same distributions as HashModel's incremental path.
 */
export class ContinuousHashModel extends HashModel implements ContinuousDecoderModel<any, any> {
  /** Rows of each stepRows call. */
  readonly rowsPerStep: number[] = [];
  liveStates = 0;
  override initState(enc: { seeds: Uint32Array; target: Int32Array }): any {
    this.liveStates++;
    return { h: enc.seeds.slice(), target: enc.target.slice(), pos: new Int32Array(enc.seeds.length) } satisfies ContinuousHashState;
  }
  override step(prevTokens: Int32Array, st: any, _t: number): Float32Array {
    return this.stepRows(prevTokens, st, Int32Array.from((st as ContinuousHashState).pos));
  }
  stepRows(prevTokens: Int32Array, st: ContinuousHashState, positions: Int32Array): Float32Array {
    const rows = st.h.length;
    if (prevTokens.length !== rows || positions.length !== rows)
      throw new Error(`ContinuousHashModel: ${prevTokens.length} tokens, ${positions.length} positions for ${rows} rows`);
    this.rowsPerStep.push(rows);
    const out = new Float32Array(rows * this.vocabSize);
    for (let r = 0; r < rows; r++) {
      if (positions[r] !== st.pos[r])
        throw new Error(`ContinuousHashModel: row ${r} is at position ${st.pos[r]}, asked to read ${positions[r]}`);
      st.h[r] = mix(st.h[r], prevTokens[r]);
      this.fill(out, r, st.h[r], positions[r], st.target[r]);
      st.pos[r]++;
    }
    return out;
  }
  override reorderState(st: any, order: Int32Array): any {
    const s = st as ContinuousHashState;
    return {
      h: Uint32Array.from(order, (o) => s.h[o]),
      target: Int32Array.from(order, (o) => s.target[o]),
      pos: Int32Array.from(order, (o) => s.pos[o]),
    };
  }
  concatStates(a: ContinuousHashState, b: ContinuousHashState): ContinuousHashState {
    this.liveStates--;
    const cat = <T extends Uint32Array | Int32Array>(x: T, y: T): T => {
      const out = new (x.constructor as new (n: number) => T)(x.length + y.length);
      out.set(x);
      out.set(y, x.length);
      return out;
    };
    return { h: cat(a.h, b.h), target: cat(a.target, b.target), pos: cat(a.pos, b.pos) };
  }
  override disposeState(): void {
    this.liveStates--;
  }
}

/** Deterministic source sentences of varied lengths over ids 4..V-1. */
export function makeSources(n: number, V: number, seed = 1): Int32Array[] {
  const out: Int32Array[] = [];
  let h = seed;
  for (let i = 0; i < n; i++) {
    h = mix(h, i);
    const len = 1 + (h % 9);
    const s = new Int32Array(len + 1);
    for (let j = 0; j < len; j++) {
      h = mix(h, j);
      s[j] = 4 + (h % (V - 4));
    }
    s[len] = EOS;
    out.push(s);
  }
  return out;
}
