// The generation loop, batched over sentences: fairseq's SequenceGenerator._generate with the
// search strategy (search.ts) and log-prob edits (processors.ts) pluggable, hypotheses rebuilt
// from back-pointers (hypotheses.ts), and a step callback for streaming.
//
// Per step t, for every sentence still in the batch (fairseq semantics):
//   1. the model gives (rows, V) log-probs for the token at position t + 1;
//   2. processors ban pad, apply the unk penalty, block repeated n-grams, ban EOS before
//      minLen, force EOS at maxLen;
//   3. the search proposes ranked candidates (beam: top 2·beam over rows × V);
//   4. EOS candidates (finite score) among the top `beam` finalize a hypothesis, score =
//      Σ log-prob / (t + 1) ** lenpen, unless the sentence already has `beam` of them;
//   5. a sentence is done when it has `beam` finalized hypotheses (fairseq's early stop) or
//      t reached its max length; otherwise the best `beam` non-EOS candidates continue, in rank
//      order (EOS candidates ranked below `beam` are dropped, as fairseq does);
//   6. the state is reordered to the continuing rows: done sentences drop out of the batch.
// Differences from fairseq, on purpose: the max length is per sentence (fairseq uses the
// padded batch width); the state starts with one row per sentence and is expanded to `beam`
// rows after step 0 (fairseq computes `beam` identical rows at step 0 and reads only the
// first); a forced EOS at max length wins over minLen; ties between equal scores go to the
// lower (row, token) index.
//
// Cancellation: `signal` cancels the whole call — generate() rejects with signal.reason (an
// AbortError DOMException by default) after freeing the state. `signals[i]` cancels sentence i
// only — it drops out of the batch before the next step and its result has `aborted: true`
// with the hypotheses finalized so far (possibly none). Signals are polled once per step; the
// loop yields to the event loop between steps (unless `yieldEveryStep: false`) so that aborts
// and I/O from other requests get a chance to run.

import { type GenerationConfig, maxLength, resolveGenerationConfig } from './config.js';
import { fullAsIncremental } from './full-adapter.js';
import {
  BeamHistory,
  type BeamView,
  finalizeHypothesis,
  type Hypothesis,
  nanToNegInf,
  type SentenceResult,
  sortHypotheses,
  type StepEvent,
} from './hypotheses.js';
import {
  BanTokensProcessor,
  ForceEosAtMaxLenProcessor,
  type LogitsProcessor,
  MinLengthProcessor,
  NoRepeatNgramProcessor,
  type StepContext,
  UnkPenaltyProcessor,
} from './processors.js';
import { BeamSearch, GreedySearch, type Search } from './search.js';
import { type DecoderModel, type IncrementalDecoderModel, isIncremental } from './types.js';

export interface GenerateOptions {
  /** Called once per step for every sentence in the batch (see StepEvent). Errors reject. */
  onStep?: (e: StepEvent) => void;
  /** Cancels the whole generation: generate() rejects with signal.reason. */
  signal?: AbortSignal;
  /** Per-sentence cancellation (same indexing as src): the sentence stops, result aborted. */
  signals?: readonly (AbortSignal | undefined)[];
  /** Let the event loop run between steps (setImmediate). Default true. */
  yieldEveryStep?: boolean;
}

export interface GenerationStats {
  /** Steps run (model calls). */
  steps: number;
  /** Rows given to the model at each step: shrinks as sentences finish. */
  rowsPerStep: number[];
}

export interface GenerationOutput {
  /** One result per source sentence, in input order. */
  results: SentenceResult[];
  stats: GenerationStats;
}

export class SequenceGenerator {
  readonly config: GenerationConfig;
  readonly model: IncrementalDecoderModel<unknown, unknown>;
  readonly search: Search;
  /** Applied in order each step: pad ban, unk penalty, n-gram block, extras, min length, forced EOS. */
  readonly processors: LogitsProcessor[];

  /**
   * @param model incremental, or full (wrapped with fullAsIncremental)
   * @param config overrides of DEFAULT_GENERATION (unknown keys throw)
   * @param extraProcessors run after the pad ban, unk penalty and n-gram block, before the length rules
   */
  constructor(model: DecoderModel<any, any>, config: Partial<GenerationConfig> = {}, extraProcessors: LogitsProcessor[] = []) {
    this.config = resolveGenerationConfig(config);
    this.model = (isIncremental(model) ? model : fullAsIncremental(model)) as IncrementalDecoderModel<unknown, unknown>;
    const m = this.model;
    const V = m.vocabSize;
    for (const [name, id] of [
      ['padId', m.padId],
      ['bosId', m.bosId],
      ['eosId', m.eosId],
    ] as const) {
      if (!Number.isInteger(id) || id < 0 || id >= V)
        throw new Error(`SequenceGenerator: model.${name} must be an id in [0, ${V}), got ${id}`);
    }
    if (!Number.isInteger(m.maxPositions) || m.maxPositions < 1)
      throw new Error(`SequenceGenerator: model.maxPositions must be an integer >= 1, got ${m.maxPositions}`);
    const cfg = this.config;
    this.search =
      cfg.search === 'greedy' || (cfg.search === 'auto' && cfg.beamSize === 1)
        ? new GreedySearch()
        : new BeamSearch(cfg.beamSize, m.rowTopK?.bind(m));
    this.processors = [new BanTokensProcessor([m.padId])];
    if (cfg.unkPenalty !== 0) {
      if (m.unkId === undefined)
        throw new Error(`SequenceGenerator: unkPenalty ${cfg.unkPenalty} needs model.unkId, which the model does not define`);
      this.processors.push(new UnkPenaltyProcessor(m.unkId, cfg.unkPenalty));
    }
    if (cfg.noRepeatNgramSize > 0) this.processors.push(new NoRepeatNgramProcessor(cfg.noRepeatNgramSize));
    this.processors.push(...extraProcessors);
    if (cfg.minLen > 0) this.processors.push(new MinLengthProcessor(cfg.minLen));
    this.processors.push(new ForceEosAtMaxLenProcessor());
  }

  /** Max tokens before EOS for a source of this length (EOS is forced at that step). */
  maxLen(srcLen: number): number {
    return maxLength(this.config, srcLen, this.model.maxPositions);
  }

  async generate(src: readonly Int32Array[], opts: GenerateOptions = {}): Promise<GenerationOutput> {
    const m = this.model;
    const cfg = this.config;
    const beam = cfg.beamSize;
    const V = m.vocabSize;
    const eos = m.eosId;
    const N = src.length;
    const { signal, signals, onStep } = opts;
    const yieldEveryStep = opts.yieldEveryStep ?? true;
    if (signals !== undefined && signals.length !== N)
      throw new Error(`generate: signals has ${signals.length} entries for ${N} sentences`);
    src.forEach((s, i) => {
      if (!(s instanceof Int32Array))
        throw new Error(`generate: src[${i}] must be an Int32Array, got ${Object.prototype.toString.call(s)}`);
    });
    signal?.throwIfAborted();

    const maxLen = new Int32Array(N);
    for (let i = 0; i < N; i++) maxLen[i] = this.maxLen(src[i].length);
    const finalized: Hypothesis[][] = Array.from({ length: N }, () => []);
    const aborted: boolean[] = new Array(N).fill(false);
    const stats: GenerationStats = { steps: 0, rowsPerStep: [] };
    const finish = (): GenerationOutput => ({
      results: finalized.map((h, i) => ({ hypos: sortHypotheses(h).slice(0, cfg.nbest), aborted: aborted[i] })),
      stats,
    });
    if (N === 0) return finish();

    const enc = m.encode(src);
    let state: unknown;
    try {
      state = m.initState(enc);
      // Current batch: original sentence ids, each owning `rps` consecutive rows.
      let batch = Int32Array.from({ length: N }, (_, i) => i);
      let rps = 1;
      let prevTokens = new Int32Array(N).fill(m.bosId);
      let rowScores = new Float64Array(N);
      let rowSent = batch.slice();
      // Row index of each current row in the last history layer (identity unless rows were
      // dropped by cancellation between steps).
      let histRow = batch.slice();
      const history = new BeamHistory();

      for (let t = 0; ; t++) {
        if (yieldEveryStep) await new Promise<void>((r) => setImmediate(r));
        signal?.throwIfAborted();

        // Per-sentence cancellation: drop aborted sentences before computing this step.
        if (signals !== undefined) {
          const keep: number[] = [];
          batch.forEach((s, bi) => {
            if (signals[s]?.aborted) aborted[s] = true;
            else keep.push(bi);
          });
          if (keep.length === 0) break;
          if (keep.length < batch.length) {
            const order = new Int32Array(keep.length * rps);
            keep.forEach((bi, j) => {
              for (let b = 0; b < rps; b++) order[j * rps + b] = bi * rps + b;
            });
            state = m.reorderState(state, order);
            prevTokens = gather(prevTokens, order);
            rowScores = gather(rowScores, order);
            rowSent = gather(rowSent, order);
            histRow = gather(histRow, order);
            batch = Int32Array.from(keep, (bi) => batch[bi]);
          }
        }

        const nb = batch.length;
        const rows = nb * rps;
        const lprobs = await m.step(prevTokens, state, t);
        signal?.throwIfAborted();
        if (!(lprobs instanceof Float32Array) || lprobs.length !== rows * V) {
          throw new Error(
            `generate: model.step at step ${t} must return a Float32Array of ${rows}×${V} = ${rows * V} log-probs, got ${lprobs instanceof Float32Array ? lprobs.length + ' values' : Object.prototype.toString.call(lprobs)}`,
          );
        }
        stats.steps++;
        stats.rowsPerStep.push(rows);

        const hr = histRow;
        const ctx: StepContext = {
          step: t,
          rows,
          vocabSize: V,
          rowSentence: rowSent,
          maxLen,
          eosId: eos,
          prefix: (row) => {
            const p = new Int32Array(t + 1);
            p[0] = m.bosId;
            if (t > 0) p.set(history.trace(hr[row], t - 1).tokens, 1);
            return p;
          },
        };
        for (const p of this.processors) p.process(lprobs, ctx);
        const cand = this.search.step(lprobs, V, rowScores, nb, rps);

        // Finalize EOS candidates and pick the continuing rows.
        const nextBatch: number[] = [];
        const order: number[] = [];
        const newTok: number[] = [];
        const newLp: number[] = [];
        const newScore: number[] = [];
        const doneAt: boolean[] = new Array(nb).fill(false);
        for (let bi = 0; bi < nb; bi++) {
          const s = batch[bi];
          const off = bi * cand.k;
          const cnt = cand.count[bi];
          const fin = finalized[s];
          for (let c = 0; c < Math.min(beam, cnt); c++) {
            const sc = cand.scores[off + c];
            if (cand.tokens[off + c] !== eos || sc === -Infinity) continue;
            if (fin.length >= beam) continue;
            const row = bi * rps + cand.beams[off + c];
            fin.push(this.makeHypothesis(history, t, histRow[row], lprobs[row * V + eos], sc));
          }
          if (fin.length >= beam || t >= maxLen[s]) {
            doneAt[bi] = true;
            continue;
          }
          let taken = 0;
          for (let c = 0; c < cnt && taken < beam; c++) {
            const tok = cand.tokens[off + c];
            const sc = cand.scores[off + c];
            if (tok === eos && sc > -Infinity) continue; // finalized above, or ranked below beam
            const row = bi * rps + cand.beams[off + c];
            order.push(row);
            newTok.push(tok);
            newLp.push(nanToNegInf(lprobs[row * V + tok]));
            newScore.push(Number.isNaN(sc) ? -Infinity : sc);
            taken++;
          }
          // Fewer live candidates than beams (tiny vocabularies): pad with dead rows.
          for (; taken < beam; taken++) {
            order.push(bi * rps);
            newTok.push(m.padId);
            newLp.push(-Infinity);
            newScore.push(-Infinity);
          }
          nextBatch.push(s);
        }

        const orderArr = Int32Array.from(order);
        const parents = Int32Array.from(order, (row) => histRow[row]);
        history.push(Int32Array.from(newTok), Float32Array.from(newLp), parents);

        if (onStep !== undefined) {
          let j = 0; // index of the sentence among continuing ones
          for (let bi = 0; bi < nb; bi++) {
            const s = batch[bi];
            const beams: BeamView[] = [];
            if (!doneAt[bi]) {
              for (let b = 0; b < beam; b++) {
                const r = j * beam + b;
                beams.push({ tokens: history.trace(r, t).tokens, score: newScore[r] });
              }
              j++;
            }
            onStep({ step: t, sentence: s, beams, finalized: sortHypotheses(finalized[s]), done: doneAt[bi] });
          }
        }

        if (nextBatch.length === 0) break;
        const identity = orderArr.length === rows && orderArr.every((o, i) => o === i);
        if (!identity) state = m.reorderState(state, orderArr);
        batch = Int32Array.from(nextBatch);
        rps = beam;
        prevTokens = Int32Array.from(newTok);
        rowScores = Float64Array.from(newScore);
        rowSent = Int32Array.from(orderArr, (row) => rowSent[row]);
        histRow = Int32Array.from({ length: orderArr.length }, (_, i) => i);
      }
    } finally {
      if (state !== undefined) m.disposeState(state);
      m.disposeEnc(enc);
    }
    return finish();
  }

  /** A finished hypothesis: the row's tokens so far (history up to step t − 1) plus EOS. */
  private makeHypothesis(history: BeamHistory, t: number, histRow: number, eosLp: number, cumScore: number): Hypothesis {
    return finalizeHypothesis(history, t, histRow, this.model.eosId, eosLp, cumScore, this.config.normalizeScores, this.config.lenpen);
  }
}

function gather<T extends Int32Array | Float64Array>(a: T, order: Int32Array): T {
  const out = new (a.constructor as new (n: number) => T)(order.length);
  for (let i = 0; i < order.length; i++) out[i] = a[order[i]];
  return out;
}

/** One-shot helper: build a generator and run it. */
export function generate(
  model: DecoderModel<any, any>,
  src: readonly Int32Array[],
  config: Partial<GenerationConfig> = {},
  opts: GenerateOptions = {},
): Promise<GenerationOutput> {
  return new SequenceGenerator(model, config).generate(src, opts);
}
