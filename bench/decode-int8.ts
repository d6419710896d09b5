// int8 vs fp32 decoding, side by side in one run: beam search (beam 4) over Multi30k test_2016
// (/work/shared/data/multi30k/test_2016_flickr.{en,de}) through the Translator, once with the
// checkpoint in fp32 and once with its int8 checkpoint (written here by `resmlp mt quantize`'s
// writeInt8Checkpoint into a temp dir, then loaded as a user would). A round decodes the whole
// test set with both, interleaved chunk by chunk (--chunk sentences, about one decoding batch;
// which precision goes first alternates), so that a shared machine whose load changes by the
// second slows both alike; each round's ratio is taken and their median reported.
//   decodeInt8Speedup  = median over rounds of (fp32 seconds ÷ int8 seconds) for the whole test set
//   int8BleuDelta      = sacreBLEU(int8 hypotheses) − sacreBLEU(fp32 hypotheses)
//   int8WeightsRatio   = bytes of the model's fp32 parameters ÷ bytes of the int8 checkpoint's tensors
// Standalone: node --import tsx bench/decode-int8.ts --checkpoint C [--sentences 1000] [--rounds 3]
//             [--chunk 250] [--threads N] [--json]
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend, setThreads } from '../src/backend/choose.js';
import { formatHelp, parseArgs, type FlagSpec } from '../src/cli/args.js';
import type { Module } from '../src/core/module.js';
import { corpusBleu } from '../src/metrics/index.js';
import { loadTranslationCheckpoint, readMtCheckpointConfig } from '../src/mt/model/load.js';
import { Translator } from '../src/mt/translator.js';
import { applyPrecision, precisionLine, writeInt8Checkpoint } from '../src/quant/index.js';
import { sharedPath } from '../src/util/paths.js';

export interface Int8BenchOptions {
  checkpoint: string;
  sentences: number;
  beam: number;
  threads: number;
  /** Rounds over the test set. Default 3. */
  rounds?: number;
  /** Sentences per interleaved chunk. Default 250. */
  chunk?: number;
  log?: (line: string) => void;
}

export interface Int8BenchResult {
  checkpoint: string;
  backend: string;
  threads: number;
  sentences: number;
  beam: number;
  precision: string;
  /** Seconds of each round, per precision. */
  fp32Seconds: number[];
  int8Seconds: number[];
  /** fp32 ÷ int8 seconds of each round. */
  roundSpeedups: number[];
  fp32SentencesPerSec: number;
  int8SentencesPerSec: number;
  decodeInt8Speedup: number;
  fp32Bleu: number;
  int8Bleu: number;
  int8BleuDelta: number;
  fp32Signature: string;
  /** Sentences whose best hypothesis is the same text in both. */
  sameTranslations: number;
  /** The model's parameters in fp32 (bytes), the int8 checkpoint's tensors, and the ratio. */
  fp32WeightBytes: number;
  int8CheckpointBytes: number;
  int8WeightsRatio: number;
  /** The quantised layers alone: fp32 bytes ÷ int8 bytes (with their scales). */
  int8LayersRatio: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

function readLines(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
}

export async function int8Bench(o: Int8BenchOptions): Promise<Int8BenchResult> {
  const log = o.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const rounds = o.rounds ?? 3;
  const chunk = o.chunk ?? 250;
  await setThreads(o.threads);
  const info = await initBackend('native');
  const src = readLines(sharedPath('data', 'multi30k', 'test_2016_flickr.en')).slice(0, o.sentences);
  const ref = readLines(sharedPath('data', 'multi30k', 'test_2016_flickr.de')).slice(0, o.sentences);
  const dir = mkdtempSync(join(os.tmpdir(), 'resmlp-int8-bench-'));
  const translators: Translator[] = [];
  try {
    const config = readMtCheckpointConfig(o.checkpoint);
    const int8Path = join(dir, 'checkpoint_int8.safetensors');
    const q = writeInt8Checkpoint(o.checkpoint, config, int8Path);
    const load = async (path: string, precision: 'fp32' | 'int8') => {
      const { model, spm, config: c } = await loadTranslationCheckpoint(path);
      const report = applyPrecision(model as unknown as Module, precision);
      log(`${precision}: ${precisionLine(report)}`);
      if (report.precision !== precision)
        throw new Error(`int8 bench: ${precision} requested, ${report.precision} runs (${report.fallback})`);
      const t = new Translator(
        model,
        spm,
        { maxTokens: 4096, generation: { ...c.generation, beamSize: o.beam, nbest: 1 } },
        { onDispose: () => model.dispose() },
      );
      translators.push(t);
      return { t, model, report };
    };
    const fp32 = await load(o.checkpoint, 'fp32');
    const int8 = await load(int8Path, 'int8');
    const fp32WeightBytes = 4 * fp32.model.numParameters();
    const int8CheckpointBytes = statSync(int8Path).size;
    for (const { t } of [fp32, int8]) await t.translate(src.slice(0, 16)); // warm-up: kernels, primitives, allocations
    const secs = { fp32: [] as number[], int8: [] as number[] };
    const hyps: Record<'fp32' | 'int8', string[]> = { fp32: [], int8: [] };
    for (let r = 0; r < rounds; r++) {
      const total = { fp32: 0, int8: 0 };
      const out: Record<'fp32' | 'int8', string[]> = { fp32: [], int8: [] };
      for (let c = 0, i = 0; i < src.length; c++, i += chunk) {
        const part = src.slice(i, i + chunk);
        for (const p of (r + c) % 2 === 0 ? (['fp32', 'int8'] as const) : (['int8', 'fp32'] as const)) {
          const t0 = performance.now();
          const res = await (p === 'fp32' ? fp32 : int8).t.translate(part, { onTooLong: 'skip' });
          total[p] += (performance.now() - t0) / 1000;
          out[p].push(...res.map((x) => x.text));
        }
      }
      secs.fp32.push(total.fp32);
      secs.int8.push(total.int8);
      Object.assign(hyps, out);
      log(
        `round ${r + 1}/${rounds}: fp32 ${total.fp32.toFixed(2)} s, int8 ${total.int8.toFixed(2)} s (${(total.fp32 / total.int8).toFixed(2)}×)`,
      );
    }
    const bleu32 = corpusBleu(hyps.fp32, [ref]);
    const bleu8 = corpusBleu(hyps.int8, [ref]);
    const roundSpeedups = secs.fp32.map((s, i) => s / secs.int8[i]!);
    return {
      checkpoint: o.checkpoint,
      backend: info.name,
      threads: info.threads,
      sentences: src.length,
      beam: o.beam,
      precision: precisionLine(int8.report),
      fp32Seconds: secs.fp32,
      int8Seconds: secs.int8,
      roundSpeedups,
      fp32SentencesPerSec: src.length / median(secs.fp32),
      int8SentencesPerSec: src.length / median(secs.int8),
      decodeInt8Speedup: median(roundSpeedups),
      fp32Bleu: bleu32.score,
      int8Bleu: bleu8.score,
      int8BleuDelta: bleu8.score - bleu32.score,
      fp32Signature: bleu32.signature,
      sameTranslations: hyps.fp32.filter((h, i) => h === hyps.int8[i]).length,
      fp32WeightBytes,
      int8CheckpointBytes,
      int8WeightsRatio: fp32WeightBytes / int8CheckpointBytes,
      int8LayersRatio: q.fp32Bytes / q.int8Bytes,
    };
  } finally {
    for (const t of translators) t.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The human-readable lines of a result. */
export function formatInt8Bench(r: Int8BenchResult): string[] {
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MB`;
  return [
    `## int8 vs fp32 decoding: beam ${r.beam}, ${r.sentences} Multi30k test_2016 sentences, ${r.checkpoint}`,
    `backend ${r.backend} (${r.threads} threads); ${r.precision}`,
    `rounds (fp32 s / int8 s): ${r.fp32Seconds.map((s, i) => `${s.toFixed(2)}/${r.int8Seconds[i]!.toFixed(2)}`).join(', ')}`,
    `sentences/s: fp32 ${r.fp32SentencesPerSec.toFixed(1)}, int8 ${r.int8SentencesPerSec.toFixed(1)}; decodeInt8Speedup ${r.decodeInt8Speedup.toFixed(2)}× (median of the rounds' ratios; target ≥ 1.6)`,
    `BLEU: fp32 ${r.fp32Bleu.toFixed(2)}, int8 ${r.int8Bleu.toFixed(2)}; int8BleuDelta ${r.int8BleuDelta >= 0 ? '+' : ''}${r.int8BleuDelta.toFixed(2)} (target ≥ −0.3); same translation ${r.sameTranslations}/${r.sentences}`,
    `weights: fp32 ${mb(r.fp32WeightBytes)}, int8 checkpoint ${mb(r.int8CheckpointBytes)} (${r.int8WeightsRatio.toFixed(2)}× smaller; quantised layers ${r.int8LayersRatio.toFixed(2)}×)`,
  ];
}

const SPEC: Record<string, FlagSpec> = {
  checkpoint: { type: 'string', alias: 'c', help: 'trained fp32 translation checkpoint (required)' },
  sentences: { type: 'int', help: 'test_2016 sentences decoded', default: 1000 },
  beam: { type: 'int', help: 'beam size', default: 4 },
  rounds: { type: 'int', help: 'rounds over the test set (each decodes it in both precisions, interleaved)', default: 3 },
  chunk: { type: 'int', help: 'sentences per interleaved chunk', default: 250 },
  threads: { type: 'int', help: 'kernel threads', default: os.availableParallelism() },
  json: { type: 'boolean', help: 'print the result as one JSON line' },
};

async function main(): Promise<void> {
  const { flags, help, positionals } = parseArgs(process.argv.slice(2), SPEC);
  if (help) {
    process.stdout.write(formatHelp('usage: node --import tsx bench/decode-int8.ts --checkpoint C [options]', SPEC));
    return;
  }
  if (positionals.length > 0) throw new Error(`unexpected argument(s) ${positionals.join(' ')}`);
  if (typeof flags.checkpoint !== 'string') throw new Error('--checkpoint is required (a trained fp32 checkpoint of `resmlp mt train`)');
  const r = await int8Bench({
    checkpoint: flags.checkpoint,
    sentences: flags.sentences as number,
    beam: flags.beam as number,
    rounds: flags.rounds as number,
    chunk: flags.chunk as number,
    threads: flags.threads as number,
  });
  if (flags.json) console.log(JSON.stringify(r));
  else console.log(['', ...formatInt8Bench(r)].join('\n'));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: unknown) => {
    console.error(`bench/decode-int8: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
