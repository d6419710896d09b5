// The interface between a translation model and the generator: what the decoding side needs
// from a seq2seq model, and nothing else. Follows fairseq's FairseqIncrementalDecoder contract
// (forward one step with a cached incremental state, `reorder_incremental_state` by beam index)
// with the search kept in plain JS: log-probabilities come back as a Float32Array.
//
// Row layout. The generator always works on "rows": one row per live hypothesis, grouped by
// sentence, `rowsPerSentence` consecutive rows per sentence (1 at step 0, `beamSize` after).
// The state starts with one row per source sentence (initState); the generator grows, permutes
// and shrinks it with reorderState(order) — order[i] is the old row that new row i continues.
// Rows may repeat in `order` (beam expansion / two children of one parent) and may be missing
// (finished or cancelled sentences drop out, so compute shrinks).
//
// For a tfjs model: keep the encoder output and the per-layer caches as tensors inside State;
// in step(), run the decoder on the new position inside tf.tidy, keep the log-probs tensor,
// and read it outside the tidy (`await t.data()` or `dataSync()`) into the Float32Array
// returned (NOTES-tfjs: returning a TypedArray from tidy is slow). reorderState is
// `tf.gather(cache, tf.tensor1d(order, 'int32'), 0)` per cached tensor, disposing the old ones.

/** Ids and limits shared by both model kinds. */
export interface DecoderModelSpec {
  /** Output vocabulary size V: every step returns (rows, V) log-probs. */
  readonly vocabSize: number;
  /** Padding id: never generated. */
  readonly padId: number;
  /** Id fed at step 0 (fairseq feeds EOS here; we allow a separate BOS). */
  readonly bosId: number;
  /** End of sentence: finalizes a hypothesis. */
  readonly eosId: number;
  /** Unknown-word id, needed only if `unkPenalty` is used. */
  readonly unkId?: number;
  /**
   * Positions the decoder can handle, BOS included. Step t reads position t, so at most
   * maxPositions − 1 tokens precede the EOS, as fairseq's `max_len - 1`.
   */
  readonly maxPositions: number;
  /**
   * Optional: the k best of each row of a step's log-probs (native code), which BeamSearch then
   * ranks instead of every log-prob (search.ts RowTopK; false: it ranks them in JS).
   */
  rowTopK?(x: Float32Array, rows: number, V: number, k: number, values: Float32Array, ids: Int32Array): boolean;
}

/** The ids and limits of `m` (without rowTopK), for a model that wraps it and decodes its vocabulary. */
export function specOf(m: DecoderModelSpec): Omit<DecoderModelSpec, 'rowTopK'> {
  return { vocabSize: m.vocabSize, padId: m.padId, bosId: m.bosId, eosId: m.eosId, unkId: m.unkId, maxPositions: m.maxPositions };
}

/** Log-probs for one step: sync, or a promise (an async backend, a worker). */
export type StepResult = Float32Array | Promise<Float32Array>;

/**
 * A decoder with an incremental state (the real ResMLP decoder caches the inputs of its causal
 * cross-token layers). The encoder output, expanded per row, lives inside State.
 */
export interface IncrementalDecoderModel<EncOut = unknown, State = unknown> extends DecoderModelSpec {
  /** Encode a batch of source token arrays (as the model expects them, e.g. ending in EOS). */
  encode(src: readonly Int32Array[]): EncOut;
  /** A fresh decoder state with one row per source sentence, row i reading sentence i. */
  initState(enc: EncOut): State;
  /**
   * Advance every row by one token. `prevTokens` (rows) holds the token at position t (BOS at
   * t = 0); returns (rows, V) row-major log-probs of the token at position t + 1. The state is
   * updated in place. The generator may overwrite the returned array; the model may reuse it for
   * its next step on the same state, so read it before stepping again.
   */
  step(prevTokens: Int32Array, state: State, t: number): StepResult;
  /**
   * Keep rows in `order` (new row i = old row order[i]); repeats allowed. Returns the state to
   * use from now on; the old state is consumed (the model frees or reuses it).
   */
  reorderState(state: State, order: Int32Array): State;
  disposeState(state: State): void;
  disposeEnc(enc: EncOut): void;
}

/**
 * A decoder without incremental state: it recomputes every position from the whole prefix.
 * The real model provides this too, so tests can check incremental == full. Wrap it with
 * `fullAsIncremental` (full-adapter.ts) or pass it to `generate` directly.
 */
export interface FullDecoderModel<EncOut = unknown> extends DecoderModelSpec {
  encode(src: readonly Int32Array[]): EncOut;
  /**
   * Log-probs of the next token after each prefix. `prefixes` is (R, len) row-major, every row
   * starting with BOS; row r reads encoded sentence `encRows[r]`. Returns (R, V) row-major.
   */
  fullStep(enc: EncOut, encRows: Int32Array, prefixes: Int32Array, len: number): StepResult;
  disposeEnc(enc: EncOut): void;
}

/**
 * An incremental decoder whose rows may sit at different positions, for step-level batching
 * (continuous.ts): sentences join a running state between two steps. The state keeps each row's
 * position; `stepRows` advances every row by one token from its own position.
 */
export interface ContinuousDecoderModel<EncOut = unknown, State = unknown> extends IncrementalDecoderModel<EncOut, State> {
  /** The rows of `b` after the rows of `a`, each keeping its own position. Consumes both. */
  concatStates(a: State, b: State): State;
  /**
   * Like step, with `positions[r]` the position row r reads (its token `prevTokens[r]` sits
   * there; BOS at 0). Each row must be at the position its state holds.
   */
  stepRows(prevTokens: Int32Array, state: State, positions: Int32Array): StepResult;
}

export function isContinuous<E, S>(m: DecoderModel<E, S>): m is ContinuousDecoderModel<E, S> {
  const c = m as ContinuousDecoderModel<E, S>;
  return typeof c.concatStates === 'function' && typeof c.stepRows === 'function';
}

export type DecoderModel<EncOut = unknown, State = unknown> = IncrementalDecoderModel<EncOut, State> | FullDecoderModel<EncOut>;

export function isIncremental<E, S>(m: DecoderModel<E, S>): m is IncrementalDecoderModel<E, S> {
  return typeof (m as IncrementalDecoderModel<E, S>).step === 'function';
}
