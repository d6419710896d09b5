// Decoding benchmark: beam search (beam 4) over the 1,000 sentences of Multi30k test_2016
// (/work/shared/data/multi30k/test_2016_flickr.en) through the Translator (src/mt/translator.ts),
// with the small translation config (configs/mt/multi30k-en-de-small.json: d 256, MLP 1024, 3+3
// layers, 8k vocabulary). Model: a trained checkpoint when given; otherwise that config randomly
// initialised, with a SentencePiece model trained on the fly (spm_train on Multi30k train, in a
// temp dir). Random weights almost never choose EOS, so every hypothesis runs to its maximum
// length: the max length is capped (maxLenA 0, maxLenB) and reported.
// `incrementalSpeedup` = time of full-recompute decoding (every step re-runs the decoder on the
// whole prefix: Seq2Seq.asFull() through src/mt/decoding/full-adapter.ts) ÷ time of incremental
// decoding (cached decoder state), both on the same subset of sentences, same batches; the two
// must produce the same hypotheses (checked and reported).
// Standalone: node --import tsx bench/decode.ts [--checkpoint C] [--sentences 1000] [--beam 4]
//             [--threads N] [--max-len-b 20] [--full-subset 100] [--spm M.model] [--json]
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend, setThreads } from '../src/backend/choose.js';
import { formatHelp, parseArgs, type FlagSpec } from '../src/cli/args.js';
import { DEFAULT_SPM_TRAIN, SentencePiece, trainSentencePiece } from '../src/mt/data/spm.js';
import type { GenerationConfig } from '../src/mt/decoding/config.js';
import { loadTranslationCheckpoint } from '../src/mt/model/load.js';
import { Seq2Seq, type Seq2SeqConfig } from '../src/mt/model/index.js';
import { Translator, type TranslationResult } from '../src/mt/translator.js';
import { repoRoot, sharedPath } from '../src/util/paths.js';

export interface DecodeBenchOptions {
  /** Trained checkpoint of `resmlp mt train`; absent: random init of the small config. */
  checkpoint?: string;
  /** Sentences of test_2016 decoded (≤ 1000). */
  sentences: number;
  beam: number;
  threads: number;
  /** Max length cap for a random model (maxLenA 0). Default 20. Ignored with a checkpoint unless set. */
  maxLenB?: number;
  /** Sentences decoded both ways for incrementalSpeedup. Default 100. */
  fullSubset?: number;
  /** An existing SentencePiece model for the random model (skips spm_train). */
  spm?: string;
  /** Translator batch budget (padded source tokens). Default 4096. */
  maxTokens?: number;
  /** Backend name for initBackend. Default RESMLP_BACKEND or auto. */
  backend?: string;
  /** Progress lines go here. Default stderr. */
  log?: (line: string) => void;
}

export interface DecodeBenchResult {
  /** What was decoded: 'checkpoint <path>' or 'random init of <config> (+ spm …)'. */
  model: string;
  backend: string;
  threads: number;
  sentences: number;
  beam: number;
  maxLenA: number;
  maxLenB: number;
  /** Wall time of the incremental decode of all `sentences`, seconds. */
  decodeSeconds: number;
  decodeSentencesPerSec: number;
  /** Target tokens (best hypotheses, EOS included) per second. */
  targetTokensPerSec: number;
  meanHypothesisTokens: number;
  /** Sentences in the full-vs-incremental comparison. */
  fullSubset: number;
  fullSeconds: number;
  incrementalSubsetSeconds: number;
  incrementalSpeedup: number;
  /** Subset sentences whose best hypothesis had the same tokens on both paths. */
  sameHypotheses: number;
}

const CONFIG = 'configs/mt/multi30k-en-de-small.json';

interface Loaded {
  model: Seq2Seq;
  spm: SentencePiece;
  generation: Partial<GenerationConfig>;
  description: string;
  cleanup: () => void;
}

async function loadModel(o: DecodeBenchOptions, log: (l: string) => void): Promise<Loaded> {
  if (o.checkpoint) {
    const { model, spm, config } = await loadTranslationCheckpoint(o.checkpoint);
    const generation: Partial<GenerationConfig> = { ...config.generation };
    if (o.maxLenB !== undefined) Object.assign(generation, { maxLenA: 0, maxLenB: o.maxLenB });
    return { model, spm, generation, description: `checkpoint ${o.checkpoint}`, cleanup: () => {} };
  }
  const cfg = JSON.parse(readFileSync(join(repoRoot, CONFIG), 'utf8')) as { model: Partial<Seq2SeqConfig>; data: { vocabSize: number } };
  let dir: string | null = null;
  let spmPath = o.spm;
  let spmNote = `spm ${o.spm}`;
  if (!spmPath) {
    dir = mkdtempSync(join(os.tmpdir(), 'resmlp-decode-bench-'));
    const corpus = join(dir, 'train.txt');
    const train = (lang: string) => readFileSync(sharedPath('data', 'multi30k', `train.${lang}`), 'utf8');
    writeFileSync(corpus, train('en') + train('de'));
    const t0 = performance.now();
    const vocab = cfg.data.vocabSize;
    log(`training a ${vocab}-piece SentencePiece model on Multi30k train (en + de) in ${dir} …`);
    spmPath = trainSentencePiece([corpus], join(dir, 'spm'), { ...DEFAULT_SPM_TRAIN, vocabSize: vocab, threads: o.threads }).model;
    spmNote = `spm ${vocab} pieces trained on the fly in ${((performance.now() - t0) / 1000).toFixed(1)} s`;
  }
  const spm = await SentencePiece.load(spmPath);
  const model = new Seq2Seq({
    ...cfg.model,
    vocabSize: spm.vocabSize,
    padId: spm.padId,
    unkId: spm.unkId,
    bosId: spm.bosId,
    eosId: spm.eosId,
  }).eval();
  return {
    model,
    spm,
    generation: { maxLenA: 0, maxLenB: o.maxLenB ?? 20 },
    description: `random init of ${CONFIG} (${spmNote}); random weights decode to the max length`,
    cleanup: () => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

const bestTokens = (r: TranslationResult) => (r.hypotheses[0]?.tokens ?? []).join(' ');

export async function decodeBench(opts: DecodeBenchOptions): Promise<DecodeBenchResult> {
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  await setThreads(opts.threads);
  const info = await initBackend(opts.backend);
  const lines = readFileSync(sharedPath('data', 'multi30k', 'test_2016_flickr.en'), 'utf8')
    .split('\n')
    .filter((l) => l !== '');
  if (!Number.isInteger(opts.sentences) || opts.sentences < 1 || opts.sentences > lines.length) {
    throw new Error(`decodeBench: sentences must be in [1, ${lines.length}], got ${opts.sentences}`);
  }
  const texts = lines.slice(0, opts.sentences);
  const subsetN = Math.min(opts.fullSubset ?? 100, texts.length);
  const subset = texts.slice(0, subsetN);
  const loaded = await loadModel(opts, log);
  try {
    const { model, spm } = loaded;
    const generation = { ...loaded.generation, beamSize: opts.beam, nbest: 1 };
    const maxTokens = opts.maxTokens ?? 4096;
    const inc = new Translator(model, spm, { maxTokens, generation });
    const full = new Translator(model.asFull(), spm, { maxTokens, generation });
    const g = inc.generation;
    log(`decoding ${texts.length} sentences, beam ${g.beamSize}, max len ${g.maxLenA}·|src| + ${g.maxLenB}, ${loaded.description}`);

    await inc.translate(texts.slice(0, 4)); // warm-up: kernels, allocations
    let t0 = performance.now();
    const all = await inc.translate(texts, { onTooLong: 'skip' });
    const decodeSeconds = (performance.now() - t0) / 1000;
    const skipped = all.filter((r) => r.skipped === 'too-long').length;
    if (skipped > 0) log(`${skipped} sentences longer than the model's maxLen were skipped`);
    const hypTokens = all.reduce((s, r) => s + (r.hypotheses[0]?.tokens.length ?? 0), 0);
    log(
      `incremental: ${texts.length} sentences in ${decodeSeconds.toFixed(1)} s (${(texts.length / decodeSeconds).toFixed(1)} sentences/s)`,
    );

    t0 = performance.now();
    const incSub = await inc.translate(subset, { onTooLong: 'skip' });
    const incrementalSubsetSeconds = (performance.now() - t0) / 1000;
    t0 = performance.now();
    const fullSub = await full.translate(subset, { onTooLong: 'skip' });
    const fullSeconds = (performance.now() - t0) / 1000;
    const sameHypotheses = incSub.filter((r, i) => bestTokens(r) === bestTokens(fullSub[i]!)).length;
    log(
      `subset of ${subsetN}: full recompute ${fullSeconds.toFixed(1)} s, incremental ${incrementalSubsetSeconds.toFixed(1)} s; same best hypothesis for ${sameHypotheses}/${subsetN}`,
    );
    return {
      model: loaded.description,
      backend: info.name,
      threads: info.threads,
      sentences: texts.length,
      beam: g.beamSize,
      maxLenA: g.maxLenA,
      maxLenB: g.maxLenB,
      decodeSeconds,
      decodeSentencesPerSec: texts.length / decodeSeconds,
      targetTokensPerSec: hypTokens / decodeSeconds,
      meanHypothesisTokens: hypTokens / Math.max(1, all.length - skipped),
      fullSubset: subsetN,
      fullSeconds,
      incrementalSubsetSeconds,
      incrementalSpeedup: fullSeconds / incrementalSubsetSeconds,
      sameHypotheses,
    };
  } finally {
    loaded.model.dispose();
    loaded.cleanup();
  }
}

const SPEC: Record<string, FlagSpec> = {
  checkpoint: { type: 'string', alias: 'c', help: 'trained checkpoint (default: random init of the small config)' },
  sentences: { type: 'int', help: 'test_2016 sentences decoded', default: 1000 },
  beam: { type: 'int', help: 'beam size', default: 4 },
  threads: { type: 'int', help: 'kernel threads', default: os.availableParallelism() },
  'max-len-b': {
    type: 'int',
    help: 'max target length (maxLenA 0) for a random model (default 20); with a checkpoint, overrides its max length',
  },
  'full-subset': { type: 'int', help: 'sentences decoded both ways for the incremental speedup', default: 100 },
  'max-tokens': { type: 'int', help: 'padded source tokens per decoding batch', default: 4096 },
  spm: { type: 'string', help: 'SentencePiece model for the random model (default: trained on the fly)' },
  backend: { type: 'string', help: 'auto | native | wasm | cpu (default: RESMLP_BACKEND or auto)' },
  json: { type: 'boolean', help: 'print the result as one JSON line' },
};

async function main(): Promise<void> {
  const { flags, help, positionals } = parseArgs(process.argv.slice(2), SPEC);
  if (help) {
    process.stdout.write(formatHelp('usage: node --import tsx bench/decode.ts [options]', SPEC));
    return;
  }
  if (positionals.length > 0) throw new Error(`unexpected argument(s) ${positionals.join(' ')}`);
  const r = await decodeBench({
    checkpoint: flags.checkpoint as string | undefined,
    sentences: flags.sentences as number,
    beam: flags.beam as number,
    threads: flags.threads as number,
    maxLenB: flags['max-len-b'] as number | undefined,
    fullSubset: flags['full-subset'] as number,
    maxTokens: flags['max-tokens'] as number,
    spm: flags.spm as string | undefined,
    backend: flags.backend as string | undefined,
  });
  if (flags.json) {
    console.log(JSON.stringify(r));
    return;
  }
  console.log(`\n## decoding: Multi30k test_2016, ${r.model}`);
  console.log(`backend ${r.backend} (${r.threads} threads), beam ${r.beam}, max len ${r.maxLenA}·|src| + ${r.maxLenB}`);
  console.log(
    `incremental: ${r.sentences} sentences in ${r.decodeSeconds.toFixed(1)} s = ${r.decodeSentencesPerSec.toFixed(1)} sentences/s, ${r.targetTokensPerSec.toFixed(0)} target tokens/s (mean ${r.meanHypothesisTokens.toFixed(1)} tokens)`,
  );
  console.log(
    `full recompute vs incremental on ${r.fullSubset} sentences: ${r.fullSeconds.toFixed(1)} s vs ${r.incrementalSubsetSeconds.toFixed(1)} s → incremental speedup ${r.incrementalSpeedup.toFixed(2)}× (same best hypothesis: ${r.sameHypotheses}/${r.fullSubset})`,
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: unknown) => {
    console.error(`bench/decode: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
