// Step-level (continuous) batching of beam search, as TGI and vLLM schedule LLM decoding
// (iteration-level batching, Orca, OSDI '22): one loop of decoding steps runs over the live rows
// of every sentence; between two steps, sentences that arrived meanwhile are encoded and join
// (their encoder output, decoder caches and beams appended to the model state), and sentences that
// finished, or were cancelled, leave at once. Nobody waits for a batch to end, and a lone sentence
// starts at once.
//
// Per sentence, the search is exactly SequenceGenerator's (generator.ts, fairseq semantics): the
// same processors, search strategy, finalization and early stop, its own step counter t, max
// length, length penalty and n-best. Every sentence owns `beam` consecutive rows of the model
// state; at its step 0 they are identical copies and only the first is read (fairseq's layout), so
// every row group has the same size and the model attends per sentence. A sentence's result is
// the one SequenceGenerator gives for it alone, as long as the model's rows do not interact.
//
// Admission is in arrival order, bounded by `maxRows` live rows (a sentence takes `beam`):
// a sentence that does not fit waits until rows free up, and sentences behind it wait too, so
// a flood of later arrivals cannot starve it; a long sentence holds its rows for at most its max
// length. While sentences decode, arrivals wait up to `joinWaitSteps` steps (default 2) so that
// those spread over a few steps are encoded in one batch; an idle loop starts a sentence at once.
// The model must be a ContinuousDecoderModel (rows at different positions, states that
// concatenate).

import { type GenerationConfig, maxLength, resolveGenerationConfig } from './config.js';
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
import type { StepContext } from './processors.js';
import { SequenceGenerator } from './generator.js';
import type { ContinuousDecoderModel } from './types.js';

/** Settings a sentence may choose itself (the beam size is the decoder's). */
export interface SentenceSettings {
  /** Hypotheses returned (≤ beam). */
  nbest: number;
  /** Length penalty: score = Σ log-prob / len ** lenpen. */
  lenpen: number;
  /** Max tokens before EOS; default: the config's maxLenA · |src| + maxLenB, capped by the model. */
  maxLen?: number;
}

export interface SentenceOptions {
  /** Cancels this sentence: it leaves before the next step; its result has aborted: true. */
  signal?: AbortSignal;
  /** Every step of this sentence (`sentence` is 0). */
  onStep?: (e: StepEvent) => void;
}

export interface ContinuousOptions {
  /** Most live rows (sentences × beam) per step. Default 256. */
  maxRows: number;
  /** Called after every model step with the live sentences it decoded (metrics). */
  onStep?: (sentences: number) => void;
  /** Let the event loop run between steps (setImmediate), so arrivals can join. Default true. */
  yieldEveryStep: boolean;
  /**
   * While sentences decode, a waiting sentence joins once it has waited this many steps (or once
   * `joinBatch` sentences wait), so that arrivals spread over a few steps are encoded together:
   * the encoder of one short sentence costs ~5× its share of a batch of 16 on this CPU
   * (vLLM's scheduler delay serves the same purpose). When nothing decodes, sentences start at
   * once. 0 = join at the next step. Default 2.
   */
  joinWaitSteps: number;
  /** Waiting sentences that join at once, whatever joinWaitSteps says. Default 8. */
  joinBatch: number;
}

export const DEFAULT_CONTINUOUS: Readonly<ContinuousOptions> = Object.freeze({
  maxRows: 256,
  yieldEveryStep: true,
  joinWaitSteps: 2,
  joinBatch: 8,
});

/** A sentence waiting or decoding. */
interface Live {
  src: Int32Array;
  settings: Required<SentenceSettings>;
  opts: SentenceOptions;
  resolve: (r: SentenceResult) => void;
  reject: (e: unknown) => void;
  /** Its own step counter. */
  t: number;
  history: BeamHistory;
  finalized: Hypothesis[];
  /** stats.steps when it was added (for joinWaitSteps). */
  addedAtStep: number;
  /** Cumulative score of each of its rows (1 at step 0, then beam). */
  rowScores: Float64Array;
  /** Token each row feeds next (BOS at step 0). */
  prevTokens: Int32Array;
}

export interface ContinuousStats {
  /** Model steps run. */
  steps: number;
  /** Live sentences at each step (first 10,000 steps). */
  sentencesPerStep: number[];
}

export class ContinuousGenerator<S = unknown> {
  readonly config: GenerationConfig;
  readonly options: ContinuousOptions;
  readonly stats: ContinuousStats = { steps: 0, sentencesPerStep: [] };
  private readonly base: SequenceGenerator;
  private readonly pending: Live[] = [];
  private live: Live[] = [];
  private state: S | null = null;
  private running: Promise<void> | null = null;

  /**
   * @param model a model whose rows may sit at different positions (ContinuousDecoderModel)
   * @param config generation settings shared by every sentence (beam size, min length, n-gram
   *   blocking, unk penalty, default max length); nbest, lenpen and maxLen are per sentence
   */
  constructor(
    readonly model: ContinuousDecoderModel<any, S>,
    config: Partial<GenerationConfig> = {},
    options: Partial<ContinuousOptions> = {},
  ) {
    this.config = resolveGenerationConfig(config);
    this.base = new SequenceGenerator(model, this.config);
    this.options = { ...DEFAULT_CONTINUOUS, ...options };
    for (const k of ['joinWaitSteps', 'joinBatch'] as const) {
      const v = this.options[k];
      if (!(Number.isInteger(v) && v >= (k === 'joinBatch' ? 1 : 0)))
        throw new Error(`ContinuousGenerator: ${k} must be an integer ≥ ${k === 'joinBatch' ? 1 : 0}, got ${v}`);
    }
    if (!Number.isInteger(this.options.maxRows) || this.options.maxRows < this.config.beamSize) {
      throw new Error(
        `ContinuousGenerator: maxRows must be an integer ≥ the beam size ${this.config.beamSize}, got ${this.options.maxRows}`,
      );
    }
  }

  /** Sentences decoding now. */
  get liveSentences(): number {
    return this.live.length;
  }

  /** Sentences waiting for rows. */
  get waiting(): number {
    return this.pending.length;
  }

  /** Resolves once nothing is waiting or decoding. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /**
   * Decodes `src` (token ids ending in EOS, as the model's encoder expects) with the others;
   * resolves with its n-best. Rejects only on a model error (which fails every live sentence).
   */
  add(src: Int32Array, settings: SentenceSettings, opts: SentenceOptions = {}): Promise<SentenceResult> {
    if (!(src instanceof Int32Array) || src.length === 0)
      throw new Error('ContinuousGenerator.add: src must be a non-empty Int32Array (tokens + EOS)');
    const beam = this.config.beamSize;
    if (!(Number.isInteger(settings.nbest) && settings.nbest >= 1 && settings.nbest <= beam))
      throw new Error(`ContinuousGenerator.add: nbest must be in [1, ${beam}], got ${settings.nbest}`);
    if (!Number.isFinite(settings.lenpen)) throw new Error(`ContinuousGenerator.add: lenpen must be finite, got ${settings.lenpen}`);
    const cap = this.model.maxPositions - 1;
    const maxLen = Math.min(settings.maxLen ?? maxLength(this.config, src.length, this.model.maxPositions), cap);
    if (!(Number.isInteger(maxLen) && maxLen >= 0))
      throw new Error(`ContinuousGenerator.add: maxLen must be an integer ≥ 0, got ${settings.maxLen}`);
    return new Promise<SentenceResult>((resolve, reject) => {
      if (opts.signal?.aborted) {
        resolve({ hypos: [], aborted: true });
        return;
      }
      this.pending.push({
        src,
        settings: { nbest: settings.nbest, lenpen: settings.lenpen, maxLen },
        opts,
        resolve,
        reject,
        t: 0,
        history: new BeamHistory(),
        finalized: [],
        addedAtStep: this.stats.steps,
        rowScores: new Float64Array(1),
        prevTokens: Int32Array.of(this.model.bosId),
      });
      this.start();
    });
  }

  /**
   * Starts the decoding loop unless it runs. A sentence added after the loop's last check but
   * before it marked itself idle (a caller adding from the previous result's callback) starts the
   * next loop here, so it is never left waiting.
   */
  private start(): void {
    if (this.running) return;
    this.running = this.loop().finally(() => {
      this.running = null;
      if (this.pending.length > 0) this.start();
    });
  }

  /** The decoding loop: runs while sentences are live or waiting. */
  private async loop(): Promise<void> {
    const m = this.model;
    try {
      while (this.live.length > 0 || this.pending.length > 0) {
        if (this.options.yieldEveryStep) await new Promise<void>((r) => setImmediate(r));
        this.dropCancelled();
        this.admit();
        if (this.live.length === 0) continue;
        await this.step();
      }
    } catch (e) {
      for (const s of [...this.live, ...this.pending]) s.reject(e);
      this.live = [];
      this.pending.length = 0;
    } finally {
      if (this.state !== null) m.disposeState(this.state);
      this.state = null;
    }
  }

  /** Sentences whose signal fired leave (their rows are dropped from the state). */
  private dropCancelled(): void {
    for (let i = this.pending.length - 1; i >= 0; i--) {
      const p = this.pending[i]!;
      if (p.opts.signal?.aborted) {
        this.pending.splice(i, 1);
        p.resolve({ hypos: [], aborted: true });
      }
    }
    if (!this.live.some((s) => s.opts.signal?.aborted)) return;
    const beam = this.config.beamSize;
    const order: number[] = [];
    const keep: Live[] = [];
    this.live.forEach((s, i) => {
      if (s.opts.signal?.aborted) s.resolve({ hypos: sortHypotheses(s.finalized).slice(0, s.settings.nbest), aborted: true });
      else {
        keep.push(s);
        for (let b = 0; b < beam; b++) order.push(i * beam + b);
      }
    });
    this.live = keep;
    this.reorder(Int32Array.from(order));
  }

  /** Waiting sentences join, in arrival order, while their rows fit. */
  private admit(): void {
    const beam = this.config.beamSize;
    const room = Math.floor(this.options.maxRows / beam) - this.live.length;
    if (room <= 0 || this.pending.length === 0) return;
    if (this.live.length > 0) {
      const { joinWaitSteps, joinBatch } = this.options;
      const waited = this.stats.steps - this.pending[0]!.addedAtStep;
      if (waited < joinWaitSteps && this.pending.length < Math.min(joinBatch, room)) return;
    }
    const joining = this.pending.splice(0, room);
    const m = this.model;
    const enc = m.encode(joining.map((s) => s.src));
    let fresh: S;
    try {
      fresh = m.initState(enc);
    } finally {
      m.disposeEnc(enc);
    }
    // beam identical rows per joining sentence (fairseq's step-0 layout; only the first is read)
    const expand = new Int32Array(joining.length * beam);
    for (let i = 0; i < expand.length; i++) expand[i] = Math.floor(i / beam);
    fresh = m.reorderState(fresh, expand);
    this.state = this.state === null ? fresh : m.concatStates(this.state, fresh);
    this.live.push(...joining);
  }

  private reorder(order: Int32Array): void {
    if (this.state === null) return;
    if (order.length === 0) {
      this.model.disposeState(this.state);
      this.state = null;
      return;
    }
    this.state = this.model.reorderState(this.state, order);
  }

  /** One model step over every live row, then the search of each sentence. */
  private async step(): Promise<void> {
    const m = this.model;
    const beam = this.config.beamSize;
    const V = m.vocabSize;
    const eos = m.eosId;
    const live = this.live;
    const rows = live.length * beam;
    const prev = new Int32Array(rows);
    const positions = new Int32Array(rows);
    live.forEach((s, i) => {
      for (let b = 0; b < beam; b++) {
        prev[i * beam + b] = s.prevTokens[Math.min(b, s.prevTokens.length - 1)]!;
        positions[i * beam + b] = s.t;
      }
    });
    const lprobs = await m.stepRows(prev, this.state!, positions);
    if (!(lprobs instanceof Float32Array) || lprobs.length !== rows * V) {
      throw new Error(
        `ContinuousGenerator: model.stepRows must return a Float32Array of ${rows}×${V} log-probs, got ${lprobs instanceof Float32Array ? lprobs.length + ' values' : Object.prototype.toString.call(lprobs)}`,
      );
    }
    this.stats.steps++;
    if (this.stats.sentencesPerStep.length < 10_000) this.stats.sentencesPerStep.push(live.length);
    this.options.onStep?.(live.length);

    const order: number[] = [];
    const next: Live[] = [];
    for (let i = 0; i < live.length; i++) {
      const s = live[i]!;
      const t = s.t;
      const rps = t === 0 ? 1 : beam; // at step 0 the copies are not read
      const view = lprobs.subarray(i * beam * V, (i * beam + rps) * V);
      const ctx: StepContext = {
        step: t,
        rows: rps,
        vocabSize: V,
        rowSentence: new Int32Array(rps),
        maxLen: Int32Array.of(s.settings.maxLen),
        eosId: eos,
        prefix: (row) => {
          const p = new Int32Array(t + 1);
          p[0] = m.bosId;
          if (t > 0) p.set(s.history.trace(row, t - 1).tokens, 1);
          return p;
        },
      };
      for (const p of this.base.processors) p.process(view, ctx);
      const cand = this.base.search.step(view, V, s.rowScores, 1, rps);

      // finalize EOS candidates among the top `beam`, as SequenceGenerator does
      const cnt = cand.count[0]!;
      for (let c = 0; c < Math.min(beam, cnt); c++) {
        const sc = cand.scores[c]!;
        if (cand.tokens[c] !== eos || sc === -Infinity) continue;
        if (s.finalized.length >= beam) continue;
        const row = cand.beams[c]!;
        s.finalized.push(this.hypothesis(s, row, view[row * V + eos]!, sc));
      }
      const done = s.finalized.length >= beam || t >= s.settings.maxLen;
      const newTok: number[] = [];
      const newLp: number[] = [];
      const newScore: number[] = [];
      const parents: number[] = [];
      if (!done) {
        let taken = 0;
        for (let c = 0; c < cnt && taken < beam; c++) {
          const tok = cand.tokens[c]!;
          const sc = cand.scores[c]!;
          if (tok === eos && sc > -Infinity) continue;
          const row = cand.beams[c]!;
          order.push(i * beam + row);
          parents.push(row);
          newTok.push(tok);
          newLp.push(nanToNegInf(view[row * V + tok]!));
          newScore.push(Number.isNaN(sc) ? -Infinity : sc);
          taken++;
        }
        for (; taken < beam; taken++) {
          order.push(i * beam);
          parents.push(0);
          newTok.push(m.padId);
          newLp.push(-Infinity);
          newScore.push(-Infinity);
        }
        s.history.push(Int32Array.from(newTok), Float32Array.from(newLp), Int32Array.from(parents));
        s.prevTokens = Int32Array.from(newTok);
        s.rowScores = Float64Array.from(newScore);
        s.t++;
        next.push(s);
      }
      if (s.opts.onStep) {
        const beams: BeamView[] = done ? [] : newTok.map((_, b) => ({ tokens: s.history.trace(b, t).tokens, score: newScore[b]! }));
        s.opts.onStep({ step: t, sentence: 0, beams, finalized: sortHypotheses(s.finalized), done });
      }
      if (done) s.resolve({ hypos: sortHypotheses(s.finalized).slice(0, s.settings.nbest), aborted: false });
    }
    this.live = next;
    this.reorder(Int32Array.from(order));
  }

  /** A finished hypothesis of sentence `s`: row's tokens so far plus EOS. */
  private hypothesis(s: Live, row: number, eosLp: number, cumScore: number): Hypothesis {
    return finalizeHypothesis(s.history, s.t, row, this.model.eosId, eosLp, cumScore, this.config.normalizeScores, s.settings.lenpen);
  }
}
