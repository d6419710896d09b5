// Token-based, length-bucketed batches for sequence-to-sequence training (fairseq's
// `batch_by_size` with `max_tokens`): sentences are ordered by length (target, then source;
// ties broken by a seeded random permutation), cut greedily into batches whose PADDED size
// n · max_i max(S_i, T_i) stays within `maxTokens`, and the batch order is shuffled with a seeded
// RNG. Everything is a pure function of (seed, epoch), so a run resumes exactly from a
// position {epoch, batch}.
//
// The index fits WMT-size corpora: two uint16 lengths per pair, and per epoch one Int32Array of
// the length-sorted sentence indices plus the batch order; batch boundaries are computed once,
// as they are the same in every epoch. No per-pair or per-batch objects are kept.
//
// Each batch (B sentences):
//   src     Int32Array (B, S)  x + EOS (appendSrcEos, default, as fairseq), right-padded with pad
//   tgtIn   Int32Array (B, T)  BOS + y   (decoder input, teacher forcing)
//   tgtOut  Int32Array (B, T)  y + EOS   (labels; pad where tgtIn is pad)
// A sentence of n tokens needs n + 1 positions, so pairs with a side longer than maxLen − 1
// tokens are skipped (and counted) — maxLen is the model's maximum length.
import { resolveConfig } from '../../util/config.js';
import { Rng } from '../../util/rng.js';
import { UserError } from '../../util/errors.js';

export class BatchingError extends UserError {
  constructor(message: string) {
    super(message, 'invalid_config');
  }
}

export interface BatchingConfig {
  /** Budget of padded tokens per batch: B · max(S, T) ≤ maxTokens. Default 4096. */
  maxTokens: number;
  /** The model's maximum sequence length (positions, EOS/BOS included). Default 256. */
  maxLen: number;
  /** At most this many sentences per batch; 0 = no limit. Default 0. */
  maxSentences: number;
  /** Seed of the tie-breaking permutation and the batch order. Default 1. */
  seed: number;
  /** Shuffle ties and batch order per epoch (training). false: sorted, epoch-independent (evaluation). Default true. */
  shuffle: boolean;
  /** Append EOS to the source (fairseq does). Default true. */
  appendSrcEos: boolean;
}

export const DEFAULT_BATCHING: BatchingConfig = {
  maxTokens: 4096,
  maxLen: 256,
  maxSentences: 0,
  seed: 1,
  shuffle: true,
  appendSrcEos: true,
};

/** Merges `overrides` into the defaults; rejects unknown keys and bad values, naming them. */
export function resolveBatchingConfig(overrides: Partial<BatchingConfig> = {}): BatchingConfig {
  const c = resolveConfig('batching config', DEFAULT_BATCHING, overrides, { error: (message) => new BatchingError(message) });
  if (!Number.isInteger(c.maxLen) || c.maxLen < 2) throw new BatchingError(`maxLen must be an integer ≥ 2, got ${c.maxLen}`);
  if (!Number.isInteger(c.maxTokens) || c.maxTokens < c.maxLen) {
    throw new BatchingError(
      `maxTokens must be an integer ≥ maxLen (${c.maxLen}) so that every kept sentence fits a batch, got ${c.maxTokens}`,
    );
  }
  if (!Number.isInteger(c.maxSentences) || c.maxSentences < 0)
    throw new BatchingError(`maxSentences must be an integer ≥ 0, got ${c.maxSentences}`);
  if (!Number.isFinite(c.seed)) throw new BatchingError(`seed must be a finite number, got ${c.seed}`);
  return c;
}

/** Parallel token sequences (a ParallelSplit satisfies it through `pairSource`). */
export interface PairSource {
  size: number;
  srcLength(i: number): number;
  tgtLength(i: number): number;
  src(i: number): Int32Array;
  tgt(i: number): Int32Array;
}

/** Adapts anything with `src`/`tgt` token files (e.g. ParallelSplit) to a PairSource. */
export function pairSource(split: {
  src: { size: number; length(i: number): number; get(i: number): Int32Array };
  tgt: { length(i: number): number; get(i: number): Int32Array };
}): PairSource {
  return {
    size: split.src.size,
    srcLength: (i) => split.src.length(i),
    tgtLength: (i) => split.tgt.length(i),
    src: (i) => split.src.get(i),
    tgt: (i) => split.tgt.get(i),
  };
}

/** In-memory PairSource from arrays of token arrays (tests, small data). */
export function arrayPairSource(src: ArrayLike<number>[], tgt: ArrayLike<number>[]): PairSource {
  if (src.length !== tgt.length) throw new BatchingError(`${src.length} source and ${tgt.length} target sentences`);
  return {
    size: src.length,
    srcLength: (i) => src[i]!.length,
    tgtLength: (i) => tgt[i]!.length,
    src: (i) => Int32Array.from(src[i]!),
    tgt: (i) => Int32Array.from(tgt[i]!),
  };
}

export interface SpecialIds {
  padId: number;
  bosId: number;
  eosId: number;
}

/** Where a run is: the next batch to train on. */
export interface BatchPosition {
  epoch: number;
  batch: number;
}

export interface Batch {
  epoch: number;
  /** Index of this batch within its epoch. */
  index: number;
  /** Batches in this epoch. */
  numBatches: number;
  /** Sentence indices in the split, in batch row order. */
  indices: Int32Array;
  /** B, S, T. */
  size: number;
  srcLen: number;
  tgtLen: number;
  /** (B, S) row-major. */
  src: Int32Array;
  /** (B, T) BOS + y. */
  tgtIn: Int32Array;
  /** (B, T) y + EOS. */
  tgtOut: Int32Array;
  /** (B) source positions used (EOS included when appended). */
  srcLengths: Int32Array;
  /** (B) target positions used (= len(y) + 1). */
  tgtLengths: Int32Array;
  /** Non-pad target tokens (sum of tgtLengths): the loss normaliser. */
  tgtTokens: number;
  /** The position after this batch (save it to resume). */
  next: BatchPosition;
}

export class TokenBatcher {
  readonly config: BatchingConfig;
  /** Indices of the sentences that fit maxLen, in split order. */
  readonly kept: Int32Array;
  /** Pairs skipped because a side is longer than maxLen − 1 tokens. */
  readonly skipped: number;
  private readonly srcNeed: Uint16Array | Int32Array; // positions needed, per kept sentence
  private readonly tgtNeed: Uint16Array | Int32Array;
  /**
   * Batch b is sorted[bounds[b] .. bounds[b+1]) of an epoch's length-sorted order. The same for
   * every epoch (ties, the only thing the seed reorders, have equal lengths); set by the first plan.
   */
  private bounds: Int32Array | null = null;
  /** One epoch's plan: split indices sorted by length, and the order of the batches. */
  private cache: { epoch: number; sorted: Int32Array; order: Int32Array } | null = null;

  constructor(
    readonly data: PairSource,
    readonly ids: SpecialIds,
    overrides: Partial<BatchingConfig> = {},
  ) {
    this.config = resolveBatchingConfig(overrides);
    const { maxLen, appendSrcEos } = this.config;
    const extra = appendSrcEos ? 1 : 0;
    const n = data.size;
    const need = (len: number) => (maxLen < 65536 ? new Uint16Array(len) : new Int32Array(len));
    const kept = new Int32Array(n);
    const srcNeed = need(n);
    const tgtNeed = need(n);
    let m = 0;
    for (let i = 0; i < n; i++) {
      const s = data.srcLength(i);
      const t = data.tgtLength(i);
      if (s + 1 > maxLen || t + 1 > maxLen) continue;
      kept[m] = i;
      srcNeed[m] = s + extra;
      tgtNeed[m] = t + 1;
      m++;
    }
    this.kept = m === n ? kept : kept.slice(0, m);
    this.srcNeed = m === n ? srcNeed : srcNeed.slice(0, m);
    this.tgtNeed = m === n ? tgtNeed : tgtNeed.slice(0, m);
    this.skipped = n - m;
  }

  /** The epoch's plan (cached for the last epoch asked). Pure in (seed, epoch). */
  private epochPlan(epoch: number): { sorted: Int32Array; order: Int32Array; bounds: Int32Array } {
    if (!Number.isInteger(epoch) || epoch < 0) throw new BatchingError(`epoch must be an integer ≥ 0, got ${epoch}`);
    const key = this.config.shuffle ? epoch : 0;
    if (this.cache && this.cache.epoch === key) return { ...this.cache, bounds: this.bounds! };
    this.cache = null; // let the previous epoch's arrays go before allocating this one's
    const n = this.kept.length;
    const { maxLen, shuffle } = this.config;
    const rng = shuffle ? new Rng(this.config.seed).fork(`batching-epoch-${epoch}`) : null;
    // order: a permutation (ties), then stable counting sorts by source then target length
    // (the last sort is the primary key: target length, then source length, as fairseq)
    let sorted: Int32Array = rng ? rng.permutation(n) : Int32Array.from({ length: n }, (_, i) => i);
    sorted = countingSort(sorted, this.srcNeed, maxLen);
    sorted = countingSort(sorted, this.tgtNeed, maxLen);
    const bounds = (this.bounds ??= this.layout(sorted));
    for (let j = 0; j < n; j++) sorted[j] = this.kept[sorted[j]!]!; // kept position → split index
    const order = new Int32Array(bounds.length - 1);
    for (let b = 0; b < order.length; b++) order[b] = b;
    if (rng) rng.shuffle(order);
    this.cache = { epoch: key, sorted, order };
    return { sorted, order, bounds };
  }

  /**
   * Cuts the length-sorted kept positions greedily into batches: a batch ends before the
   * sentence that would make B · max(S, T) exceed maxTokens (or B exceed maxSentences).
   */
  private layout(sorted: Int32Array): Int32Array {
    const { maxTokens, maxSentences } = this.config;
    const starts: number[] = [];
    let size = 0;
    let curMax = 0;
    for (let j = 0; j < sorted.length; j++) {
      const k = sorted[j]!;
      const need = Math.max(this.srcNeed[k]!, this.tgtNeed[k]!);
      const m = Math.max(curMax, need);
      if (size > 0 && ((size + 1) * m > maxTokens || (maxSentences > 0 && size >= maxSentences))) {
        starts.push(j - size);
        size = 0;
        curMax = 0;
      }
      size++;
      curMax = Math.max(curMax, need);
    }
    if (size > 0) starts.push(sorted.length - size);
    starts.push(sorted.length);
    return Int32Array.from(starts);
  }

  /** Sentence indices (in the split) of batch `index` of `epoch`. */
  rows(epoch: number, index: number): Int32Array {
    const { sorted, order, bounds } = this.epochPlan(epoch);
    const b = order[index];
    if (b === undefined || !Number.isInteger(index))
      throw new BatchingError(`batch ${index} does not exist in epoch ${epoch} (it has ${order.length})`);
    return sorted.slice(bounds[b]!, bounds[b + 1]!);
  }

  /** The batches of an epoch as arrays of sentence indices (one array per batch: for small data and tests). */
  plan(epoch: number): Int32Array[] {
    return Array.from({ length: this.numBatches(epoch) }, (_, i) => this.rows(epoch, i));
  }

  /** Number of batches in an epoch (the same in every epoch). */
  numBatches(epoch: number): number {
    if (this.bounds === null || !Number.isInteger(epoch) || epoch < 0) this.epochPlan(epoch);
    return this.bounds!.length - 1;
  }

  /** Batch `index` of `epoch`, padded and shifted. */
  batch(epoch: number, index: number): Batch {
    const rows = this.rows(epoch, index);
    const numBatches = this.numBatches(epoch);
    const { padId, bosId, eosId } = this.ids;
    const extra = this.config.appendSrcEos ? 1 : 0;
    const B = rows.length;
    const srcs: Int32Array[] = [];
    const tgts: Int32Array[] = [];
    let S = 0;
    let T = 0;
    for (let b = 0; b < B; b++) {
      const s = this.data.src(rows[b]!);
      const t = this.data.tgt(rows[b]!);
      srcs.push(s);
      tgts.push(t);
      S = Math.max(S, s.length + extra);
      T = Math.max(T, t.length + 1);
    }
    const src = new Int32Array(B * S).fill(padId); // (B, S)
    const tgtIn = new Int32Array(B * T).fill(padId); // (B, T)
    const tgtOut = new Int32Array(B * T).fill(padId); // (B, T)
    const srcLengths = new Int32Array(B);
    const tgtLengths = new Int32Array(B);
    let tgtTokens = 0;
    for (let b = 0; b < B; b++) {
      const s = srcs[b]!;
      const t = tgts[b]!;
      src.set(s, b * S);
      if (extra) src[b * S + s.length] = eosId;
      srcLengths[b] = s.length + extra;
      tgtIn[b * T] = bosId;
      tgtIn.set(t, b * T + 1);
      tgtOut.set(t, b * T);
      tgtOut[b * T + t.length] = eosId;
      tgtLengths[b] = t.length + 1;
      tgtTokens += t.length + 1;
    }
    const next = index + 1 < numBatches ? { epoch, batch: index + 1 } : { epoch: epoch + 1, batch: 0 };
    return {
      epoch,
      index,
      numBatches,
      indices: rows,
      size: B,
      srcLen: S,
      tgtLen: T,
      src,
      tgtIn,
      tgtOut,
      srcLengths,
      tgtLengths,
      tgtTokens,
      next,
    };
  }

  /** The batches of one epoch from `startBatch` on. */
  *epoch(epoch: number, startBatch = 0): Generator<Batch> {
    const n = this.numBatches(epoch);
    if (!Number.isInteger(startBatch) || startBatch < 0 || startBatch > n)
      throw new BatchingError(`start batch ${startBatch} outside [0, ${n}] for epoch ${epoch}`);
    for (let i = startBatch; i < n; i++) yield this.batch(epoch, i);
  }

  /** Endless batches from a position (across epochs); resume with a saved `batch.next`. */
  *stream(from: BatchPosition = { epoch: 0, batch: 0 }): Generator<Batch> {
    let { epoch, batch } = from;
    for (;;) {
      yield* this.epoch(epoch, batch);
      epoch++;
      batch = 0;
    }
  }
}

/** Stable counting sort of `order` by key[order[j]] ∈ [0, maxKey]. */
function countingSort(order: Int32Array, key: Uint16Array | Int32Array, maxKey: number): Int32Array {
  const count = new Int32Array(maxKey + 2);
  for (let j = 0; j < order.length; j++) count[key[order[j]]! + 1]++;
  for (let v = 1; v < count.length; v++) count[v] += count[v - 1]!;
  const out = new Int32Array(order.length);
  for (let j = 0; j < order.length; j++) {
    const k = order[j]!;
    out[count[key[k]]++] = k;
  }
  return out;
}
