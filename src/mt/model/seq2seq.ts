// The sequence-to-sequence translation model (arXiv 2105.03404 §2 "Sequence-to-sequence ResMLP",
// §3.6; Transformer baseline of Table 5): a shared SentencePiece vocabulary with ONE embedding
// matrix used by the encoder, the decoder and the output projection (tied, Press & Wolf 2017),
// embeddings × √d (fairseq's embed_scale, see config.ts), no positional embeddings for ResMLP (the
// cross-token layers carry position; the Transformer adds sinusoids), encoder and decoder stacks
// of layers.ts, a final pre-norm-style normalisation of each stack (fairseq's normalize_before
// models end with a LayerNorm; Aff here unless `norm: "layernorm"`).
//
// It implements the decoding side's `IncrementalDecoderModel` (src/mt/decoding/types.ts): the
// state holds, per decoder layer, the cache of past positions (ResMLP: normalised inputs of the
// causal cross-token layer, so step t costs O(t·d); Transformer: self-attention keys/values) and
// the encoder's cross-attention keys/values computed once and kept per sentence (the hypotheses of
// a sentence attend as a group of queries, so beams never copy them); `reorderState` gathers the
// per-row caches by beam index on dim 0 (freeing the old ones) and compacts the per-sentence
// tensors when sentences finish; a step's log-probs come back in an array the state keeps and
// reuses, and the beam search may rank them with the native per-row top-k (rowTopK). It is also a
// `ContinuousDecoderModel` for step-level batching: every row keeps its own position (`pos`),
// `concatStates` appends the rows of sentences that join
// a running state (caches right-aligned and left-padded, encoder keys/values padded to the longest
// source), and `stepRows` advances rows at different positions in one call (each causal layer
// mixes a row's own past only). `asFull()` gives the non-incremental path
// (recompute the whole prefix) for the incremental == full check. Fairseq layout: parameters
// `embed_tokens.weight`, `encoder.layers.<i>.…`, `decoder.layers.<i>.…`.
import * as tf from '@tensorflow/tfjs';
import { Dropout } from '../../core/dropout.js';
import { Embedding } from '../../core/embedding.js';
import { Module, ModuleList } from '../../core/module.js';
import type { RandomSource } from '../../core/rng.js';
import { specOf, type ContinuousDecoderModel, type FullDecoderModel } from '../decoding/types.js';
import { nativeRowTopK } from '../../backend/native/row-topk.js';
import { readInto } from '../../backend/read-into.js';
import { type KeysValues, MASKED, sinusoidalPositions } from '../../core/attention.js';
import type { Norm } from '../../core/block.js';
import { resolveSeq2SeqConfig, type Seq2SeqConfig } from './config.js';
import { crossAttention, type DecoderLayer, decoderLayer, type EncoderLayer, encoderLayer, type LayerCache, mtNorm } from './layers.js';
import { SeedTree } from '../../util/seed-tree.js';
import { UserError } from '../../util/errors.js';

/** Thrown for inputs longer than the model's maximum length N. */
export class SequenceTooLongError extends UserError {
  constructor(message: string) {
    super(message, 'over_limit');
  }
}

/** Encoder output of a batch (tensors owned by the holder: dispose with disposeEnc). */
export interface EncoderOutput {
  /** (B, S, d) */
  out: tf.Tensor3D;
  /** (B, 1, 1, S): 0 for tokens, MASKED for padding. */
  bias: tf.Tensor4D;
}

/**
 * Incremental decoder state: `rows` live hypotheses, next step `t`. The encoder keys/values are
 * kept once per live SENTENCE (not per hypothesis): `sent[r]` is the entry row r reads. Beam
 * reorders only touch `sent` and the per-row caches; the cross tensors are compacted only when
 * sentences leave the batch.
 */
export interface DecoderState {
  rows: number;
  /** Next step of every row (step()); -1 once rows sit at different positions (stepRows only). */
  t: number;
  /** (rows) position each row reads next. */
  pos: Int32Array;
  /** (rows) entry of `cross`/`srcBias` each row reads. */
  sent: Int32Array;
  /** Per layer: encoder keys/values (entries, H, S, dh). */
  cross: KeysValues[];
  /** (entries, 1, 1, S) */
  srcBias: tf.Tensor4D;
  /** Per layer: cache of positions < t, (rows, …); right-aligned when rows sit at different positions. */
  caches: LayerCache[];
  /** The array step() returns its (rows, V) log-probs in, reused from step to step. */
  out?: Float32Array;
}

/** g if rows are g consecutive copies per entry in entry order (row r reads entry ⌊r/g⌋), else 0. */
function groupSize(sent: Int32Array, entries: number): number {
  const R = sent.length;
  if (entries === 0 || R % entries !== 0) return 0;
  const g = R / entries;
  for (let r = 0; r < R; r++) if (sent[r] !== Math.floor(r / g)) return 0;
  return g;
}

class Stack<L extends Module> extends Module {
  readonly layers: ModuleList<L>;
  readonly norm: Norm;
  constructor(layers: L[], norm: Norm) {
    super();
    this.layers = this.registerModule('layers', new ModuleList(layers));
    this.norm = this.registerModule('norm', norm);
  }
}

/** Entries a layer cache holds (0 when empty). */
function cacheLength(c: LayerCache): number {
  if (c === null) return 0;
  return c instanceof tf.Tensor ? c.shape[1] : c.k.shape[2];
}

/** x (R, l, d) or null (l = 0) left-padded with zeros to (R, L, d). */
function leftPad3(x: tf.Tensor3D | null, R: number, L: number, d: number): tf.Tensor3D {
  const l = x?.shape[1] ?? 0;
  if (x !== null && l === L) return x;
  const pad = tf.zeros([R, L - l, d]) as tf.Tensor3D;
  return x === null ? pad : (tf.concat([pad, x], 1) as tf.Tensor3D);
}

/** Keys/values (R, H, l, dh) left-padded with zeros to length L on dim 2. */
function leftPad4(x: tf.Tensor4D, L: number): tf.Tensor4D {
  const l = x.shape[2];
  return l === L
    ? x
    : (tf.pad(x, [
        [0, 0],
        [0, 0],
        [L - l, 0],
        [0, 0],
      ]) as tf.Tensor4D);
}

/** Encoder keys/values (E, H, s, dh) right-padded with zeros to S source positions (masked by srcBias). */
function padSource(x: tf.Tensor4D, S: number): tf.Tensor4D {
  const s = x.shape[2];
  return s === S
    ? x
    : (tf.pad(x, [
        [0, 0],
        [0, 0],
        [0, S - s],
        [0, 0],
      ]) as tf.Tensor4D);
}

/** (E, a, b, S) right-padded to S on the last dim with `value`. */
function rightPad4(x: tf.Tensor4D, S: number, value: number): tf.Tensor4D {
  const s = x.shape[3];
  return s === S
    ? x
    : (tf.pad(
        x,
        [
          [0, 0],
          [0, 0],
          [0, 0],
          [0, S - s],
        ],
        value,
      ) as tf.Tensor4D);
}

function disposeCache(c: LayerCache): void {
  if (c === null) return;
  if (c instanceof tf.Tensor) c.dispose();
  else tf.dispose([c.k, c.v]);
}

export class Seq2Seq extends Module implements ContinuousDecoderModel<EncoderOutput, DecoderState> {
  readonly config: Seq2SeqConfig;
  readonly vocabSize: number;
  readonly padId: number;
  readonly bosId: number;
  readonly eosId: number;
  readonly unkId: number;
  readonly maxPositions: number;
  readonly embed_tokens: Embedding;
  readonly encoder: Stack<EncoderLayer>;
  readonly decoder: Stack<DecoderLayer>;
  /** The generator tree of init and dropout (reseed it per batch for resumable dropout). */
  readonly rng: SeedTree;
  private readonly embedDrop: Dropout;
  private readonly positions: tf.Tensor2D | null;
  private readonly embedScale: number;

  constructor(config: Partial<Seq2SeqConfig>, rng?: SeedTree) {
    super();
    const c = (this.config = resolveSeq2SeqConfig(config));
    this.rng = rng ?? new SeedTree(c.seed);
    const r: RandomSource = this.rng;
    this.vocabSize = c.vocabSize;
    this.padId = c.padId;
    this.bosId = c.bosId;
    this.eosId = c.eosId;
    this.unkId = c.unkId;
    this.maxPositions = c.maxLen;
    this.embedScale = c.scaleEmbedding ? Math.sqrt(c.dim) : 1;
    this.embed_tokens = this.registerModule(
      'embed_tokens',
      new Embedding({ numEmbeddings: c.vocabSize, dim: c.dim, paddingIdx: c.padId }, r),
    );
    const enc: EncoderLayer[] = [];
    for (let i = 0; i < c.encoderLayers; i++) enc.push(encoderLayer(c, r));
    this.encoder = this.registerModule('encoder', new Stack(enc, mtNorm(c)));
    const dec: DecoderLayer[] = [];
    for (let i = 0; i < c.decoderLayers; i++) dec.push(decoderLayer(c, r));
    this.decoder = this.registerModule('decoder', new Stack(dec, mtNorm(c)));
    this.embedDrop = this.registerModule('embed_drop', new Dropout(c.dropout, r.fork('embed_drop')));
    this.positions = c.arch === 'transformer' ? this.registerBuffer('positions', sinusoidalPositions(c.maxLen, c.dim)) : null;
  }

  /** Throws SequenceTooLongError unless `len` positions fit (len ≤ N). */
  private checkLength(what: string, len: number): void {
    const N = this.config.maxLen;
    if (len > N) {
      throw new SequenceTooLongError(
        `${what} needs ${len} positions (${len - 1} tokens + EOS/BOS) but this model handles at most ${N} (maxLen ${N}: at most ${N - 1} tokens); split or shorten the sentence`,
      );
    }
  }

  /** Embeddings of ids (B, L) int32 starting at position `offset` (or, for L = 1, each row's own) → (B, L, d). */
  private embed(ids: tf.Tensor2D, offset: number | Int32Array = 0): tf.Tensor3D {
    return tf.tidy(() => {
      let x = this.embed_tokens.forward(ids) as tf.Tensor3D; // (B, L, d)
      if (this.embedScale !== 1) x = tf.mul(x, this.embedScale);
      if (this.positions) {
        const [B, L] = ids.shape;
        const pe =
          typeof offset === 'number'
            ? tf.slice(this.positions, [offset, 0], [L, this.config.dim]) // (L, d)
            : tf.reshape(tf.gather(this.positions, tf.tensor1d(offset, 'int32')), [B, 1, this.config.dim]); // (B, 1, d)
        x = tf.add(x, pe);
      }
      return this.embedDrop.forward(x);
    });
  }

  /** Encoder on padded source ids (B, S) int32 (tokens + EOS, right-padded). */
  encodeTensor(src: tf.Tensor2D): EncoderOutput {
    const [B, S] = src.shape;
    this.checkLength('source batch', S);
    return tf.tidy(() => {
      const mask = tf.cast(tf.notEqual(src, this.padId), 'float32'); // (B, S)
      const bias = tf.reshape(tf.mul(tf.sub(1, mask), MASKED), [B, 1, 1, S]) as tf.Tensor4D; // (B, 1, 1, S)
      // (B, S, d) by an outer product with ones: a full-shape mask multiplies in the fast kernel
      const mask3 = tf.reshape(tf.matMul(tf.reshape(mask, [B * S, 1]), tf.ones([1, this.config.dim])), [
        B,
        S,
        this.config.dim,
      ]) as tf.Tensor3D;
      let x = this.embed(src);
      for (const layer of this.encoder.layers) x = layer.forward(x, { mask: mask3, bias });
      return { out: this.encoder.norm.forward(x), bias };
    });
  }

  /** Decoder hidden states (after the final norm) for target inputs (B, T) int32 (BOS + y). → (B, T, d). */
  decodeTensor(tgtIn: tf.Tensor2D, enc: EncoderOutput): tf.Tensor3D {
    const [B, T] = tgtIn.shape;
    this.checkLength('target batch', T);
    if (enc.out.shape[0] !== B) throw new Error(`decode: ${B} target rows but the encoder output has ${enc.out.shape[0]}`);
    return tf.tidy(() => {
      // no target mask: targets are right-padded and the mixing is causal (layers.ts)
      let y = this.embed(tgtIn);
      for (const layer of this.decoder.layers)
        y = layer.forward(y, { cross: crossAttention(layer).keysValues(enc.out), srcBias: enc.bias });
      return this.decoder.norm.forward(y);
    });
  }

  /** Training forward: src (B, S), tgtIn (B, T) int32 → logits (B, T, V). */
  forward(src: tf.Tensor2D, tgtIn: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => {
      const enc = this.encodeTensor(src);
      return this.embed_tokens.project(this.decodeTensor(tgtIn, enc)) as tf.Tensor3D; // (B, T, V)
    });
  }

  /** Pads token arrays into (B, L) with padId (left-aligned). */
  padBatch(seqs: readonly ArrayLike<number>[], what: string): tf.Tensor2D {
    if (seqs.length === 0) throw new Error(`${what}: empty batch`);
    let L = 0;
    seqs.forEach((s, i) => {
      if (s.length === 0) throw new Error(`${what}: sequence ${i} is empty (a source must at least hold EOS)`);
      this.checkLength(`${what} sequence ${i}`, s.length);
      L = Math.max(L, s.length);
    });
    const buf = new Int32Array(seqs.length * L).fill(this.padId); // (B, L)
    seqs.forEach((s, i) => buf.set(s, i * L));
    return tf.tensor2d(buf, [seqs.length, L], 'int32');
  }

  /**
   * Source ids of a sentence as the encoder expects them: `tokens` + EOS. Throws
   * SequenceTooLongError if the sentence has more than N − 1 tokens.
   */
  sourceIds(tokens: ArrayLike<number>): Int32Array {
    this.checkLength('source sentence', tokens.length + 1);
    const out = new Int32Array(tokens.length + 1);
    out.set(tokens);
    out[tokens.length] = this.eosId;
    return out;
  }

  // ---- IncrementalDecoderModel ----

  /** src: token arrays ending in EOS (see sourceIds); each at most N positions. */
  encode(src: readonly Int32Array[]): EncoderOutput {
    const ids = this.padBatch(src, 'encode');
    try {
      return this.encodeTensor(ids);
    } finally {
      ids.dispose();
    }
  }

  initState(enc: EncoderOutput): DecoderState {
    const cross = [...this.decoder.layers].map((l) => crossAttention(l).keysValues(enc.out));
    const B = enc.out.shape[0];
    return {
      rows: B,
      t: 0,
      pos: new Int32Array(B),
      sent: Int32Array.from({ length: B }, (_, i) => i),
      cross,
      srcBias: enc.bias.clone(),
      caches: cross.map(() => null),
    };
  }

  step(prevTokens: Int32Array, state: DecoderState, t: number): Float32Array {
    if (t !== state.t)
      throw new Error(
        `Seq2Seq.step: the state is at step ${state.t}, got step ${t}${state.t === -1 ? ' (its rows sit at different positions: use stepRows)' : ''}`,
      );
    return this.decodeStep(prevTokens, state, t);
  }

  stepRows(prevTokens: Int32Array, state: DecoderState, positions: Int32Array): Float32Array {
    if (positions.length !== state.rows) throw new Error(`Seq2Seq.stepRows: ${positions.length} positions for ${state.rows} rows`);
    for (let r = 0; r < state.rows; r++) {
      if (positions[r] !== state.pos[r])
        throw new Error(`Seq2Seq.stepRows: row ${r} is at position ${state.pos[r]}, asked to read ${positions[r]}`);
    }
    // all rows at one position with a cache of exactly that length: the plain step
    const t = positions[0] ?? 0;
    const uniform = positions.every((p) => p === t) && cacheLength(state.caches[0] ?? null) === t;
    return this.decodeStep(prevTokens, state, uniform ? t : positions);
  }

  /** The rows of `b` after those of `a`, each keeping its position; consumes both. */
  concatStates(a: DecoderState, b: DecoderState): DecoderState {
    const L = Math.max(cacheLength(a.caches[0] ?? null), cacheLength(b.caches[0] ?? null));
    const S = Math.max(a.srcBias.shape[3], b.srcBias.shape[3]);
    const out = tf.tidy(() => {
      const caches = a.caches.map((ca, i) => {
        const cb = b.caches[i]!;
        if (L === 0) return null;
        const some = (ca ?? cb)!;
        if (some instanceof tf.Tensor) {
          // ResMLP: the causal layer's past inputs (R, l, d)
          return tf.concat(
            [
              leftPad3(ca as tf.Tensor3D | null, a.rows, L, this.config.dim),
              leftPad3(cb as tf.Tensor3D | null, b.rows, L, this.config.dim),
            ],
            0,
          );
        }
        // self-attention keys/values (R, H, l, dh)
        const [, H, , dh] = some.k.shape;
        const kvOf = (c: LayerCache, R: number) =>
          c === null
            ? { k: tf.zeros([R, H, L, dh]) as tf.Tensor4D, v: tf.zeros([R, H, L, dh]) as tf.Tensor4D }
            : { k: leftPad4((c as KeysValues).k, L), v: leftPad4((c as KeysValues).v, L) };
        const x = kvOf(ca, a.rows);
        const y = kvOf(cb, b.rows);
        return { k: tf.concat([x.k, y.k], 0), v: tf.concat([x.v, y.v], 0) };
      });
      const cross = a.cross.map((kv, i) => {
        const kb = b.cross[i]!;
        return { k: tf.concat([padSource(kv.k, S), padSource(kb.k, S)], 0), v: tf.concat([padSource(kv.v, S), padSource(kb.v, S)], 0) };
      });
      const srcBias = tf.concat([rightPad4(a.srcBias, S, MASKED), rightPad4(b.srcBias, S, MASKED)], 0) as tf.Tensor4D;
      return { caches, cross, srcBias } as unknown as tf.TensorContainer;
    }) as unknown as { caches: LayerCache[]; cross: KeysValues[]; srcBias: tf.Tensor4D };
    const entries = a.srcBias.shape[0];
    const sent = new Int32Array(a.rows + b.rows);
    sent.set(a.sent);
    for (let r = 0; r < b.rows; r++) sent[a.rows + r] = b.sent[r]! + entries;
    const pos = new Int32Array(a.rows + b.rows);
    pos.set(a.pos);
    pos.set(b.pos, a.rows);
    this.disposeState(a);
    this.disposeState(b);
    const t = pos.every((p) => p === pos[0]) && L === (pos[0] ?? 0) ? (pos[0] ?? 0) : -1;
    return { rows: a.rows + b.rows, t, pos, sent, cross: out.cross, srcBias: out.srcBias, caches: out.caches, out: a.out ?? b.out };
  }

  /** One decoding step: every row at position t, or each at its own (`t` an Int32Array, right-aligned caches). */
  private decodeStep(prevTokens: Int32Array, state: DecoderState, t: number | Int32Array): Float32Array {
    const R = state.rows;
    if (prevTokens.length !== R) throw new Error(`Seq2Seq.step: ${prevTokens.length} previous tokens for ${R} rows`);
    const last = typeof t === 'number' ? t : Math.max(...t);
    if (last >= this.config.maxLen)
      throw new SequenceTooLongError(`Seq2Seq.step: step ${last} reads position ${last}, beyond the model's maxLen ${this.config.maxLen}`);
    const g = groupSize(state.sent, state.srcBias.shape[0]);
    const { logp, caches } = tf.tidy(() => {
      const ids = tf.tensor2d(prevTokens, [R, 1], 'int32');
      let x = this.embed(ids, t); // (R, 1, d)
      // rows grouped per sentence (the generator's layout): attend per sentence; otherwise gather per row
      let cross = state.cross;
      let srcBias = state.srcBias;
      if (g === 0) {
        const idx = tf.tensor1d(state.sent, 'int32');
        cross = cross.map((kv) => ({ k: tf.gather(kv.k, idx), v: tf.gather(kv.v, idx) }));
        srcBias = tf.gather(srcBias, idx);
      }
      const next: LayerCache[] = [];
      let i = 0;
      for (const layer of this.decoder.layers) {
        const r = layer.step(x, state.caches[i]!, t, { cross: cross[i]!, srcBias, group: g === 0 ? 1 : g });
        x = r.y;
        next.push(r.cache);
        i++;
      }
      const h = tf.reshape(this.decoder.norm.forward(x), [R, this.config.dim]); // (R, d)
      return { logp: this.embed_tokens.logProbs(h), caches: next as unknown as tf.Tensor[] }; // (R, V)
    });
    for (const c of state.caches) disposeCache(c);
    state.caches = caches as unknown as LayerCache[];
    for (let r = 0; r < R; r++) state.pos[r]!++;
    state.t = typeof t === 'number' ? t + 1 : -1;
    if (!state.out || state.out.length < logp.size) state.out = new Float32Array(logp.size);
    const out = readInto(logp, state.out); // (R, V), valid until the next step on this state
    logp.dispose();
    return out;
  }

  reorderState(state: DecoderState, order: Int32Array): DecoderState {
    let identity = order.length === state.rows;
    for (let i = 0; identity && i < order.length; i++) identity = order[i] === i;
    if (identity) return state;
    const gatherBy = (index: Int32Array) => {
      const idx = tf.tensor1d(index, 'int32');
      return {
        g: <T extends tf.Tensor>(x: T): T => {
          const y = tf.gather(x, idx) as T;
          x.dispose();
          return y;
        },
        done: () => idx.dispose(),
      };
    };
    // per-row caches follow the order
    const rowsG = gatherBy(order);
    const caches = state.caches.map((c) =>
      c === null ? null : c instanceof tf.Tensor ? rowsG.g(c) : { k: rowsG.g(c.k), v: rowsG.g(c.v) },
    );
    rowsG.done();
    // rows → sentence entries; drop entries no row reads any more (finished sentences)
    const entries = state.srcBias.shape[0];
    const newId = new Int32Array(entries).fill(-1);
    const keep: number[] = [];
    const sent = new Int32Array(order.length);
    for (let i = 0; i < order.length; i++) {
      const e = state.sent[order[i]!]!;
      if (newId[e] === -1) {
        newId[e] = keep.length;
        keep.push(e);
      }
      sent[i] = newId[e]!;
    }
    let cross = state.cross;
    let srcBias = state.srcBias;
    let same = keep.length === entries;
    for (let i = 0; same && i < keep.length; i++) same = keep[i] === i;
    if (!same) {
      const entG = gatherBy(Int32Array.from(keep));
      cross = cross.map((kv) => ({ k: entG.g(kv.k), v: entG.g(kv.v) }));
      srcBias = entG.g(srcBias);
      entG.done();
    }
    const pos = Int32Array.from(order, (o) => state.pos[o]!);
    return { rows: order.length, t: state.t, pos, sent, cross, srcBias, caches, out: state.out };
  }

  disposeState(state: DecoderState): void {
    for (const kv of state.cross) tf.dispose([kv.k, kv.v]);
    state.srcBias.dispose();
    for (const c of state.caches) disposeCache(c);
    state.cross = [];
    state.caches = [];
  }

  disposeEnc(enc: EncoderOutput): void {
    tf.dispose([enc.out, enc.bias]);
  }

  /** The beam search's per-row top-k, in native code on the native backend (false elsewhere). */
  rowTopK(x: Float32Array, rows: number, V: number, k: number, values: Float32Array, ids: Int32Array): boolean {
    return nativeRowTopK(x, rows, V, k, values, ids);
  }

  // ---- the non-incremental path ----

  /** Log-probs of the next token after each prefix (R, len), row r reading sentence encRows[r]. */
  fullStep(enc: EncoderOutput, encRows: Int32Array, prefixes: Int32Array, len: number): Float32Array {
    const R = encRows.length;
    const logp = tf.tidy(() => {
      const rows = tf.tensor1d(encRows, 'int32');
      const e: EncoderOutput = { out: tf.gather(enc.out, rows), bias: tf.gather(enc.bias, rows) };
      const h = this.decodeTensor(tf.tensor2d(prefixes, [R, len], 'int32'), e); // (R, len, d)
      const last = tf.reshape(tf.slice(h, [0, len - 1, 0], [R, 1, this.config.dim]), [R, this.config.dim]); // (R, d)
      return this.embed_tokens.logProbs(last); // (R, V)
    });
    const out = logp.dataSync() as Float32Array;
    logp.dispose();
    return out;
  }

  /** This model seen as a FullDecoderModel (no `step`), for the generator's full path. */
  asFull(): FullDecoderModel<EncoderOutput> {
    return {
      ...specOf(this),
      encode: (src) => this.encode(src),
      fullStep: (enc, encRows, prefixes, len) => this.fullStep(enc, encRows, prefixes, len),
      disposeEnc: (enc) => this.disposeEnc(enc),
    };
  }
}
