// Scheduling of every client's sentences (HTTP and WebSocket), two ways:
//
// `scheduler: "step"` (default), step-level batching: each sentence joins its engine's running
// decode loop between two decoding steps (TranslationEngine.decode, src/mt/decoding/continuous.ts)
// and leaves it when it is done: no batch to wait for, no wait at all when the model is idle.
// Admission is in arrival order, up to `maxLiveRows` rows (sentences × beam) per loop; sentences
// beyond that wait (and count against `maxQueueSentences`). Engines whose model cannot decode rows
// at different positions use the batch scheduler below (said once in the log).
//
// `scheduler: "batch"`, batch-level dynamic batching: one queue for every client. Sentences wait until their
// group (same engine + same decoding settings) holds `maxBatchTokens` source tokens or
// `maxBatchSentences` sentences, or its oldest sentence has waited `maxWaitMs` — Marian's REST
// server's queue timeout — counted from when the model became free (so the clients answered by
// the previous batch can rejoin the next one instead of splitting into cohorts that alternate),
// and are then decoded together in one generate call. Each sentence
// keeps its own promise, step stream and AbortSignal (per-sentence signals of the generator: a
// cancelled or timed-out sentence drops out of the running batch). One batch runs at a time:
// the model owns the CPU, and sentences that arrive meanwhile form the next batch.
import type { DecodeSettings, EngineStep, TranslationEngine, TranslationHypothesis } from './engine.js';
import { UserError } from '../util/errors.js';
import type { ServerMetrics } from './metrics.js';

export type SchedulerName = 'step' | 'batch';

export interface BatcherConfig {
  /** 'step': step-level (continuous) batching; 'batch': batch-level dynamic batching. Default 'step'. */
  scheduler: SchedulerName;
  /** Step scheduler: most live rows (sentences × beam) of a decode loop. Default 256. */
  maxLiveRows: number;
  /**
   * Step scheduler: steps a sentence arriving during a decode may wait so that arrivals spread over
   * a few steps are encoded together (an idle loop starts at once). Default 2 (0 = next step).
   */
  joinWaitSteps: number;
  /** Source tokens (EOS included) per generate call; a longer sentence is refused. Default 2048. */
  maxBatchTokens: number;
  /** Sentences per generate call. Default 64 (1 = batching off). */
  maxBatchSentences: number;
  /**
   * How long the oldest sentence of a group may wait for company, ms, counted from its arrival or
   * from the end of the previous batch, whichever is later. Default 10 (0 = never wait).
   */
  maxWaitMs: number;
  /** Sentences waiting (not yet decoding) before new work is refused with 429. Default 1024. */
  maxQueueSentences: number;
}

export const DEFAULT_BATCHER: Readonly<BatcherConfig> = Object.freeze({
  scheduler: 'step',
  maxLiveRows: 256,
  joinWaitSteps: 2,
  maxBatchTokens: 2048,
  maxBatchSentences: 64,
  maxWaitMs: 10,
  maxQueueSentences: 1024,
});

/** A sentence's own step stream: the step events of its sentence only. */
export type SentenceStepHandler = (e: Omit<EngineStep, 'sentence'>) => void;

export interface SubmitOptions {
  /** Fires on cancel or deadline: the sentences leave the queue / the batch, the promise rejects with its reason. */
  signal?: AbortSignal;
  /** Step events per sentence (index into srcs). */
  onStep?: (sentence: number, e: Omit<EngineStep, 'sentence'>) => void;
}

interface Item {
  engine: TranslationEngine;
  pair: string;
  key: string;
  settings: DecodeSettings;
  /** Source ids (tokens + EOS, engine.encode). */
  src: Int32Array;
  enqueuedAt: number;
  signal?: AbortSignal;
  onStep?: SentenceStepHandler;
  resolve: (h: TranslationHypothesis[]) => void;
  reject: (e: unknown) => void;
  onAbort?: () => void;
}

export class Batcher {
  readonly config: BatcherConfig;
  private queue: Item[] = [];
  private running = false;
  private timer: NodeJS.Timeout | null = null;
  private accepting = true;
  private idleWaiters: (() => void)[] = [];
  /** When the last batch finished (performance.now()). */
  private freeSince = -Infinity;
  /** Sentences per generate call so far (batch scheduler; for tests and the bench). */
  readonly batchSizes: number[] = [];
  /** Step scheduler: sentences handed to engines and not finished yet. */
  private stepInFlight = 0;
  private readonly engines = new Set<TranslationEngine>();
  /** Engines already reported as unable to step-batch. */
  private readonly warned = new Set<TranslationEngine>();

  constructor(
    config: Partial<BatcherConfig> = {},
    private readonly metrics?: ServerMetrics,
    private readonly log: (line: string) => void = () => {},
  ) {
    this.config = { ...DEFAULT_BATCHER, ...config };
  }

  /** Sentences waiting to be decoded (not yet in a batch or a decode loop). */
  get queued(): number {
    let n = this.queue.length;
    for (const e of this.engines) n += e.waiting ?? 0;
    return n;
  }

  get busy(): boolean {
    return this.running || this.queue.length > 0 || this.stepInFlight > 0;
  }

  /**
   * Queues `srcs` (engine.encode of each sentence, already cut to fit the model and the batch)
   * and resolves with the n-best of each, in order. Rejects with 429 if the queue is full, 503
   * after stop(), or the signal's reason if it fires first.
   */
  submit(
    engine: TranslationEngine,
    pair: string,
    srcs: readonly Int32Array[],
    settings: DecodeSettings,
    opts: SubmitOptions = {},
  ): Promise<TranslationHypothesis[][]> {
    if (!this.accepting) return Promise.reject(new UserError('the server is shutting down', 'unavailable'));
    const { signal, onStep } = opts;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const cap = this.config.maxQueueSentences;
    const queued = this.queued;
    if (queued + srcs.length > cap) {
      return Promise.reject(
        new UserError(`the translation queue is full (${queued} of ${cap} sentences waiting); retry later`, 'queue_full', {
          'Retry-After': '1',
        }),
      );
    }
    if (this.config.scheduler === 'step') {
      if (engine.continuous && engine.decode) return this.submitSteps(engine, pair, srcs, settings, opts);
      if (!this.warned.has(engine)) {
        this.warned.add(engine);
        this.log(`[serve] ${pair}: the model cannot decode rows at different positions; its sentences use the batch scheduler`);
      }
    }
    const key = `${pair}|${settings.beamSize}|${settings.nbest}|${settings.lenpen}|${settings.maxLength}`;
    const now = performance.now();
    const promises = srcs.map(
      (src, i) =>
        new Promise<TranslationHypothesis[]>((resolve, reject) => {
          const item: Item = { engine, pair, key, settings, src, enqueuedAt: now, signal, resolve, reject };
          if (onStep) item.onStep = (e) => onStep(i, e);
          if (signal) {
            item.onAbort = () => {
              const at = this.queue.indexOf(item);
              if (at >= 0) {
                this.queue.splice(at, 1);
                this.metrics?.queueSentences.set(this.queue.length);
                reject(signal.reason);
              }
              // Decoding: the generator drops it at the next step; runBatch rejects.
            };
            signal.addEventListener('abort', item.onAbort, { once: true });
          }
          this.queue.push(item);
        }),
    );
    this.metrics?.queueSentences.set(this.queue.length);
    this.schedule();
    return Promise.all(promises);
  }

  /** Step scheduler: every sentence joins the engine's decode loop on its own. */
  private submitSteps(
    engine: TranslationEngine,
    pair: string,
    srcs: readonly Int32Array[],
    settings: DecodeSettings,
    opts: SubmitOptions,
  ): Promise<TranslationHypothesis[][]> {
    this.engines.add(engine);
    const { signal, onStep } = opts;
    const started = performance.now();
    return Promise.all(
      srcs.map(async (src, i) => {
        this.stepInFlight++;
        this.metrics?.queueSentences.set(this.queued + 1);
        try {
          const hyps = await engine.decode!(src, settings, {
            signal,
            onStep: onStep && ((e) => onStep(i, e)),
            maxRows: this.config.maxLiveRows,
            joinWaitSteps: this.config.joinWaitSteps,
            observeStep: (n) => this.metrics?.batchSentences.observe(n),
          });
          if (signal?.aborted) throw signal.reason;
          const secs = (performance.now() - started) / 1000;
          const generated = hyps[0]?.tokens.length ?? 0; // EOS included
          this.metrics?.generatedTokens.inc({ pair }, generated);
          this.metrics?.decodeSeconds.observe({ pair }, secs);
          if (secs > 0) this.metrics?.tokensPerSecond.set({ pair }, generated / secs);
          return hyps;
        } finally {
          this.stepInFlight--;
          this.metrics?.queueSentences.set(this.queued);
          if (!this.busy) this.wakeIdle();
        }
      }),
    );
  }

  private wakeIdle(): void {
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const r of w) r();
  }

  /** Refuse new work from now on (503); queued and running work finishes. */
  stop(): void {
    this.accepting = false;
  }

  /** Resolves once nothing is queued or decoding. */
  idle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private schedule(): void {
    if (this.running) return;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.queue.length === 0) {
      if (!this.busy) this.wakeIdle();
      return;
    }
    const head = this.queue[0]!;
    const { maxBatchTokens, maxBatchSentences, maxWaitMs } = this.config;
    let tokens = 0;
    let sentences = 0;
    for (const it of this.queue) {
      if (it.key !== head.key) continue;
      tokens += it.src.length;
      sentences++;
    }
    const wait = Math.max(head.enqueuedAt, this.freeSince) + maxWaitMs - performance.now();
    if (tokens >= maxBatchTokens || sentences >= maxBatchSentences || wait <= 0) {
      this.running = true;
      void this.runBatch().finally(() => {
        this.running = false;
        this.freeSince = performance.now();
        this.schedule();
      });
    } else {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.schedule();
      }, Math.ceil(wait));
    }
  }

  /** Takes the head's group, oldest first, within the batch limits, and decodes it. */
  private async runBatch(): Promise<void> {
    const head = this.queue[0]!;
    const { maxBatchTokens, maxBatchSentences } = this.config;
    const batch: Item[] = [];
    let tokens = 0;
    const rest: Item[] = [];
    for (const it of this.queue) {
      if (it.key === head.key && batch.length < maxBatchSentences && (batch.length === 0 || tokens + it.src.length <= maxBatchTokens)) {
        batch.push(it);
        tokens += it.src.length;
      } else rest.push(it);
    }
    this.queue = rest;
    this.metrics?.queueSentences.set(this.queue.length);
    this.metrics?.batchSentences.observe(batch.length);
    this.metrics?.batchTokens.observe(tokens);
    this.batchSizes.push(batch.length);

    const anySteps = batch.some((it) => it.onStep);
    const t0 = performance.now();
    let results: TranslationHypothesis[][];
    try {
      results = await head.engine.translate(
        batch.map((it) => it.src),
        {
          ...head.settings,
          signals: batch.map((it) => it.signal),
          onStep: anySteps
            ? (e) => {
                const it = batch[e.sentence];
                if (it?.onStep && !it.signal?.aborted) it.onStep({ step: e.step, beams: e.beams });
              }
            : undefined,
        },
      );
    } catch (e) {
      for (const it of batch) this.settle(it, () => it.reject(e));
      return;
    }
    const secs = (performance.now() - t0) / 1000;
    let generated = 0;
    batch.forEach((it, i) => {
      const hyps = results[i] ?? [];
      if (it.signal?.aborted) this.settle(it, () => it.reject(it.signal!.reason));
      else {
        generated += hyps[0]?.tokens.length ?? 0;
        this.settle(it, () => it.resolve(hyps));
      }
    });
    this.metrics?.generatedTokens.inc({ pair: head.pair }, generated);
    this.metrics?.decodeSeconds.observe({ pair: head.pair }, secs);
    if (secs > 0) this.metrics?.tokensPerSecond.set({ pair: head.pair }, generated / secs);
  }

  private settle(it: Item, f: () => void): void {
    if (it.onAbort) it.signal!.removeEventListener('abort', it.onAbort);
    f();
  }
}
