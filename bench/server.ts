// Server benchmark: requests/s and p50/p99 latency of POST /translate for 1, 4 and 16 concurrent
// clients on loopback under three schedulers — step-level batching (the default: sentences join
// the running decode loop between steps), batch-level dynamic batching (the previous default,
// maxWaitMs 20), and no batching (one sentence per generate call) — and their ratios; then 16
// clients sending 5-sentence paragraphs (each cut into its sentences by the server), and the same
// paragraphs repeated with the translation cache on (its hit rate and throughput); the bench
// process's peak RSS (the server runs in it). Single-sentence and paragraph runs ask for
// `cache: false`, so they measure decoding.
// The model is a real Seq2Seq (the small Multi30k ResMLP config: d 256, hidden 1024, 3+3 layers)
// with a trained checkpoint if --checkpoint is given, else randomly initialised with a
// SentencePiece model trained here on Multi30k (random weights decode to max_length every time,
// so the work per request is fixed), in fp32 or with --precision int8 (src/quant). Inputs: Multi30k
// test_2016 English sentences.
// Bounded: every run stops sending after --seconds and after --max-requests.
//
//   node --import tsx bench/server.ts [--json] [--seconds 6] [--checkpoint runs/x/checkpoint_best.safetensors]
// With --json the last stdout line is {batchingSpeedup1, batchingSpeedup16 (step ÷ off),
// p99VsBatchLevel16 (p99 step ÷ batch-level), p99Ms16, rps16, paragraphRps16, cacheHitRate,
// cachedParagraphRps16, peakRssMb, p99VsBatchLevelOpen, ...}.
// Closed-loop clients (each sends its next request when the previous returns) are what the
// 1/4/16-client runs measure; by Little's law their latency follows throughput. Independent users
// arrive whatever the server is doing: the open-loop runs send Poisson arrivals (fixed seed) at a
// share (--open-load, default 0.6) of the batch-level scheduler's 16-client req/s, step-level and
// batch-level in turn, and compare their p99 (p99VsBatchLevelOpen).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/choose.js';
import { formatHelp, parseArgs, type FlagSpec } from '../src/cli/args.js';
import { DEFAULT_SPM_TRAIN, SentencePiece, trainSentencePiece } from '../src/mt/data/spm.js';
import { Seq2Seq } from '../src/mt/model/seq2seq.js';
import { buildApp } from '../src/server/app.js';
import { DecodingDefaultsSchema, type ServerSettings } from '../src/server/config.js';
import { Translator } from '../src/mt/translator.js';
import { TranslatorEngine, UNBOUNDED_TRANSLATOR_TOKENS } from '../src/server/engine.js';
import { ModelRegistry } from '../src/server/models.js';
import { Rng } from '../src/util/rng.js';
import type { Module } from '../src/core/module.js';
import { applyPrecision, parsePrecision, type Precision, precisionLine } from '../src/quant/index.js';

const SPEC: Record<string, FlagSpec> = {
  json: { type: 'boolean', help: 'print one JSON object with the results as the last line' },
  seconds: { type: 'number', default: 12, help: 'seconds of sending per (clients, scheduler) run' },
  'max-requests': { type: 'int', default: 400, help: 'requests per run at most' },
  clients: { type: 'string', default: '1,4,16', help: 'concurrent client counts' },
  'open-load': {
    type: 'number',
    default: 0.6,
    help: 'open-loop runs: offered rate as a share of the batch-level req/s at 16 clients (0 = no open-loop runs)',
  },
  'join-wait-steps': { type: 'int', help: "step scheduler: joinWaitSteps (default: the server's)" },
  'open-rate': { type: 'number', help: 'open-loop runs: offered rate in req/s (instead of --open-load)' },
  beam: { type: 'int', default: 4, help: 'beam_size of the requests' },
  'max-length': { type: 'int', default: 20, help: 'max_length of the requests (output tokens)' },
  'paragraph-sentences': { type: 'int', default: 5, help: 'sentences per paragraph of the paragraph runs' },
  'cache-paragraphs': { type: 'int', default: 20, help: 'distinct paragraphs the cached run cycles through' },
  checkpoint: { type: 'string', help: 'trained translation checkpoint (default: random init of the small config)' },
  precision: { type: 'string', default: 'fp32', help: "fp32 | int8: the model's decoding precision (int8: oneDNN int8 linear layers)" },
  backend: { type: 'string', help: 'tensor backend (default: RESMLP_BACKEND or auto)' },
};

export const SHARED = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'shared');
const MULTI30K = path.join(SHARED, 'data', 'multi30k');

export interface BenchModel {
  engine: TranslatorEngine;
  description: string;
  cleanup(): void;
}

/** The bench's model: a checkpoint, or the small Multi30k ResMLP randomly initialised; in `precision`. */
export async function benchModel(checkpoint?: string, precision: Precision = 'fp32'): Promise<BenchModel> {
  if (checkpoint) {
    const t = await Translator.load(checkpoint, { maxTokens: UNBOUNDED_TRANSLATOR_TOKENS });
    const p = precisionLine(applyPrecision(t.model as unknown as Module, precision));
    return {
      engine: new TranslatorEngine(t),
      description: `trained checkpoint ${checkpoint} (${t.meta!.model.arch}, d ${t.meta!.model.dim}); ${p}`,
      cleanup: () => t.dispose(),
    };
  }
  let lines: string[];
  try {
    lines = readFileSync(path.join(MULTI30K, 'train.en'), 'utf8').split('\n').slice(0, 10000);
    lines.push(...readFileSync(path.join(MULTI30K, 'train.de'), 'utf8').split('\n').slice(0, 10000));
  } catch {
    throw new Error(
      `bench needs Multi30k at ${MULTI30K} (../shared beside the repo) to train its SentencePiece model; or pass --checkpoint`,
    );
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'resmlp-bench-spm-'));
  writeFileSync(path.join(dir, 'train.txt'), lines.join('\n'));
  const { model: spmPath } = trainSentencePiece([path.join(dir, 'train.txt')], path.join(dir, 'spm'), {
    ...DEFAULT_SPM_TRAIN,
    vocabSize: 2000,
  });
  const spm = await SentencePiece.load(spmPath);
  const cfg = {
    arch: 'resmlp' as const,
    vocabSize: spm.vocabSize,
    maxLen: 64,
    dim: 256,
    mlpHidden: 1024,
    encoderLayers: 3,
    decoderLayers: 3,
    heads: 4,
    dropout: 0,
    seed: 1,
  };
  const model = new Seq2Seq(cfg);
  model.eval();
  const p = precisionLine(applyPrecision(model, precision));
  return {
    engine: new TranslatorEngine(new Translator(model, spm, { maxTokens: UNBOUNDED_TRANSLATOR_TOKENS })),
    description: `random init ResMLP seq2seq (d ${cfg.dim}, hidden ${cfg.mlpHidden}, ${cfg.encoderLayers}+${cfg.decoderLayers} layers, vocab ${cfg.vocabSize}, maxLen ${cfg.maxLen}); ${p}`,
    cleanup: () => {
      model.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function testSentences(): string[] {
  return readFileSync(path.join(MULTI30K, 'test_2016_flickr.en'), 'utf8')
    .split('\n')
    .filter((l) => l.trim().length > 0);
}

/** App + loopback listener around one engine (en-de). */
export async function benchServer(engine: TranslatorEngine, settings: Partial<ServerSettings>) {
  const registry = new ModelRegistry();
  registry.add('en-de', engine, DecodingDefaultsSchema.parse({ beamSize: 4, maxLength: 63 }));
  registry.markReady();
  const app = buildApp({ registry, settings, log: (l) => process.stderr.write(l + '\n') });
  const server = createServer(app.app);
  app.attach(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    app,
    async close() {
      const closed = new Promise<void>((r) => server.close(() => r()));
      await app.shutdown();
      server.closeAllConnections();
      await closed;
    },
  };
}

interface RunResult {
  /** 'sentence', 'paragraph', or 'cached paragraph'. */
  workload: string;
  clients: number;
  /** 'step' (step-level batching), 'batch' (batch-level, maxWaitMs 20), 'off' (one sentence per call). */
  mode: Mode;
  requests: number;
  errors: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  meanBatch: number;
  /** Sentences per generate call, in order (first 64). */
  batchSizes: number[];
  /** Translation-cache hits ÷ lookups (NaN without lookups). */
  cacheHitRate: number;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

interface LoadOptions {
  seconds: number;
  maxRequests: number;
  beam: number;
  maxLength: number;
  workload: string;
  /** Ask for the translation cache (the bench's other runs switch it off to measure decoding). */
  cache: boolean;
  /**
   * Open loop: requests arrive at this mean rate (req/s, Poisson arrivals from a fixed seed)
   * whatever the server's answers, as independent users do; `clients` is then unused.
   * Default: closed loop (each client sends its next request when the previous one returns).
   */
  openRate?: number;
  /** Step scheduler's joinWaitSteps (default: the server's). */
  joinWaitSteps?: number;
}

/** Poisson arrival times (ms from 0) at `rate` req/s over `seconds`, from a fixed seed. */
function poissonArrivals(rate: number, seconds: number, max: number): number[] {
  const rng = new Rng('bench-server-arrivals');
  const gap = () => -Math.log(1 - rng.uniform()) / rate; // exponential; 1 − uniform is in (0, 1]
  const out: number[] = [];
  for (let t = gap(); t < seconds && out.length < max; t += gap()) out.push(t * 1000);
  return out;
}

type Mode = 'step' | 'batch' | 'off';
const MODES: Record<Mode, Partial<ServerSettings>> = {
  step: { scheduler: 'step' },
  batch: { scheduler: 'batch', maxWaitMs: 20, maxBatchSentences: 64 },
  off: { scheduler: 'batch', maxWaitMs: 0, maxBatchSentences: 1 },
};

async function runLoad(engine: TranslatorEngine, sentences: string[], clients: number, mode: Mode, o: LoadOptions): Promise<RunResult> {
  const settings = mode === 'step' && o.joinWaitSteps !== undefined ? { ...MODES.step, joinWaitSteps: o.joinWaitSteps } : MODES[mode];
  const s = await benchServer(engine, { ...settings, requestTimeoutMs: 600_000 });
  const body = (q: string) => JSON.stringify({ q, source: 'en', target: 'de', beam_size: o.beam, max_length: o.maxLength, cache: o.cache });
  const ask = async (q: string) => {
    const r = await fetch(`${s.url}/translate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(q) });
    await r.arrayBuffer();
    return r.status;
  };
  await ask(o.cache ? 'Warm-up.' : sentences[0]!); // warm-up (kernels, first allocation)
  s.app.context.batcher.batchSizes.length = 0;
  const stepsBefore = engine.stepSentences().length;
  const counter = async (name: string) =>
    ((await s.app.context.metrics.registry.getSingleMetric(name)?.get())?.values[0]?.value ?? 0) as number;
  const [hits0, misses0] = [await counter('resmlp_cache_hits_total'), await counter('resmlp_cache_misses_total')];
  const lat: number[] = [];
  let next = 0;
  let errors = 0;
  const t0 = performance.now();
  const deadline = t0 + o.seconds * 1000;
  const one = async (q: string, a: number) => {
    const status = await ask(q);
    if (status === 200) lat.push(performance.now() - a);
    else errors++;
  };
  if (o.openRate !== undefined) {
    // open loop: each request leaves at its arrival time; latency counts from that time
    const sent: Promise<void>[] = [];
    for (const at of poissonArrivals(o.openRate, o.seconds, o.maxRequests)) {
      const wait = t0 + at - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      sent.push(one(sentences[next++ % sentences.length]!, t0 + at));
    }
    await Promise.all(sent);
  } else {
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (performance.now() < deadline && next < o.maxRequests) await one(sentences[next++ % sentences.length]!, performance.now());
      }),
    );
  }
  const secs = (performance.now() - t0) / 1000;
  const sizes = mode === 'step' ? engine.stepSentences().slice(stepsBefore) : [...s.app.context.batcher.batchSizes];
  const hits = (await counter('resmlp_cache_hits_total')) - hits0;
  const lookups = hits + (await counter('resmlp_cache_misses_total')) - misses0;
  await s.close();
  lat.sort((a, b) => a - b);
  return {
    workload: o.workload,
    clients,
    mode,
    requests: lat.length,
    errors,
    rps: lat.length / secs,
    p50Ms: quantile(lat, 0.5),
    p99Ms: quantile(lat, 0.99),
    meanBatch: sizes.reduce((a, b) => a + b, 0) / Math.max(1, sizes.length),
    batchSizes: sizes.slice(0, 64),
    cacheHitRate: hits / lookups,
  };
}

/** Paragraphs of `n` consecutive test sentences, joined by a space. */
function paragraphs(sentences: string[], n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i + n <= sentences.length; i += n) out.push(sentences.slice(i, i + n).join(' '));
  return out;
}

async function main(): Promise<void> {
  const { flags, help } = parseArgs(process.argv.slice(2), SPEC);
  if (help) {
    process.stdout.write(formatHelp('usage: node --import tsx bench/server.ts [options]', SPEC));
    return;
  }
  const info = await initBackend(typeof flags.backend === 'string' ? flags.backend : undefined);
  const m = await benchModel(flags.checkpoint as string | undefined, parsePrecision(flags.precision, '--precision'));
  const sentences = testSentences();
  const o: LoadOptions = {
    seconds: flags.seconds as number,
    maxRequests: flags['max-requests'] as number,
    beam: flags.beam as number,
    maxLength: flags['max-length'] as number,
    workload: 'sentence',
    cache: false,
    joinWaitSteps: flags['join-wait-steps'] as number | undefined,
  };
  const clientCounts = String(flags.clients).split(',').map(Number);
  for (const k of ['open-load', 'open-rate', 'join-wait-steps'] as const)
    if (flags[k] !== undefined && (flags[k] as number) < 0) throw new Error(`--${k} must be ≥ 0, got ${flags[k]}`);
  console.log(
    `server bench: ${m.description}; backend ${info.name}; beam ${o.beam}, max_length ${o.maxLength}; ≤ ${o.seconds} s / ≤ ${o.maxRequests} requests per run; loopback`,
  );
  const row = (r: RunResult) =>
    console.log(
      `${r.workload.padEnd(16)} ${String(r.clients).padStart(7)}  ${r.mode.padStart(9)}  ${String(r.requests).padStart(8)}  ${r.rps.toFixed(2).padStart(6)}  ${r.p50Ms.toFixed(0).padStart(7)}  ${r.p99Ms.toFixed(0).padStart(7)}  ${r.meanBatch.toFixed(1).padStart(10)}  ${String(r.errors).padStart(6)}  ${Number.isNaN(r.cacheHitRate) ? '–' : r.cacheHitRate.toFixed(3)}`,
    );
  console.log('workload         clients  scheduler  requests  req/s   p50 ms   p99 ms  mean batch  errors  cache hits');
  console.log('(mean batch: sentences per generate call, or per decoding step with the step scheduler)');
  // one warm-up pass over the test sentences before any measured run, so that the first mode
  // measured does not pay for first-seen shapes (native output pool, kernels) that later ones reuse
  await runLoad(m.engine, sentences, 8, 'batch', { ...o, seconds: Math.min(o.seconds, 4), maxRequests: 120, workload: 'warm-up' });
  const results: RunResult[] = [];
  for (const c of clientCounts) {
    for (const mode of ['step', 'batch', 'off'] as const) {
      const r = await runLoad(m.engine, sentences, c, mode, o);
      results.push(r);
      row(r);
    }
  }
  // open loop at a share of the batch-level scheduler's closed-loop capacity at 16 clients
  const batch16run = results.find((r) => r.clients === 16 && r.mode === 'batch');
  const openShare = flags['open-load'] as number;
  const openRate = (flags['open-rate'] as number | undefined) ?? (batch16run ? openShare * batch16run.rps : undefined);
  const open: RunResult[] = [];
  if (openRate === undefined) console.log('open-loop runs: skipped (no 16-client batch-level run to size them; give --open-rate)');
  else if (openRate === 0) console.log('open-loop runs: skipped (--open-load 0 / --open-rate 0)');
  else {
    for (const mode of ['step', 'batch'] as const) {
      const r = await runLoad(m.engine, sentences, 0, mode, { ...o, workload: `open ${openRate.toFixed(1)}/s`, openRate });
      open.push(r);
      row(r);
    }
  }
  // paragraphs: every request is n sentences the server cuts apart; then a repeated set with the cache
  const n = flags['paragraph-sentences'] as number;
  const paras = paragraphs(sentences, n);
  const para = await runLoad(m.engine, paras, 16, 'step', { ...o, workload: 'paragraph', maxRequests: Math.ceil(o.maxRequests / n) });
  row(para);
  const repeated = paras.slice(0, flags['cache-paragraphs'] as number);
  const cached = await runLoad(m.engine, repeated, 16, 'step', { ...o, workload: 'cached paragraph', cache: true });
  row(cached);
  const speedups: Record<string, number> = {};
  for (const c of clientCounts) {
    const on = results.find((r) => r.clients === c && r.mode === 'step')!;
    const batch = results.find((r) => r.clients === c && r.mode === 'batch')!;
    const off = results.find((r) => r.clients === c && r.mode === 'off')!;
    speedups[c] = on.rps / off.rps;
    console.log(
      `at ${c} client${c === 1 ? '' : 's'}: step-level ÷ no batching ${speedups[c]!.toFixed(2)}× req/s (batch-level ÷ none ${(batch.rps / off.rps).toFixed(2)}×); p99 step-level ÷ batch-level ${(on.p99Ms / batch.p99Ms).toFixed(2)}`,
    );
  }
  const [openStep, openBatch] = open;
  if (openStep && openBatch)
    console.log(
      `open loop at ${openRate!.toFixed(1)} req/s (Poisson): p99 step-level ${openStep.p99Ms.toFixed(0)} ms ÷ batch-level ${openBatch.p99Ms.toFixed(0)} ms = ${(openStep.p99Ms / openBatch.p99Ms).toFixed(2)}; p50 ${openStep.p50Ms.toFixed(0)} ÷ ${openBatch.p50Ms.toFixed(0)} ms`,
    );
  const on16 = results.find((r) => r.clients === 16 && r.mode === 'step');
  const batch16 = results.find((r) => r.clients === 16 && r.mode === 'batch');
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  console.log(`peak RSS of the bench process (the server runs in it): ${peakRssMb.toFixed(0)} MB`);
  console.log(
    `16 clients, ${n}-sentence paragraphs: ${para.rps.toFixed(2)} paragraphs/s (${(para.rps * n).toFixed(1)} sentences/s; single sentences: ${on16?.rps.toFixed(1) ?? '–'}/s)`,
  );
  console.log(
    `the same ${repeated.length} paragraphs repeated, cache on: hit rate ${cached.cacheHitRate.toFixed(3)}, ${cached.rps.toFixed(1)} paragraphs/s`,
  );
  console.log(`tensors alive at the end: ${tf.memory().numTensors}`);
  m.cleanup();
  if (flags.json) {
    console.log(
      JSON.stringify({
        batchingSpeedup1: speedups[1] ?? null,
        batchingSpeedup16: speedups[16] ?? null,
        p99VsBatchLevel16: on16 && batch16 ? on16.p99Ms / batch16.p99Ms : null,
        p99VsBatchLevelOpen: openStep && openBatch ? openStep.p99Ms / openBatch.p99Ms : null,
        openRate: openRate ?? null,
        peakRssMb,
        p99Ms16: on16?.p99Ms ?? null,
        rps16: on16?.rps ?? null,
        paragraphRps16: para.rps,
        paragraphSentences: n,
        paragraphP99Ms16: para.p99Ms,
        cacheHitRate: cached.cacheHitRate,
        cachedParagraphRps16: cached.rps,
        model: m.description,
        backend: info.name,
        runs: [...results, ...open],
      }),
    );
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
}
