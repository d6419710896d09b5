// `resmlp mt translate --checkpoint C [--beam 4 --lenpen 1 --nbest 1 --max-len-a A --max-len-b B
// --max-tokens N --json] < in.txt > out.txt`: fairseq-interactive's job on our Translator
// (src/mt/translator.ts). Standard input is streamed: lines are read while earlier ones are
// being translated; whenever the translator is free it takes the lines read so far (at most
// --chunk-lines), and writes their results in input order as soon as they finish. One output line
// per input line (empty input line → empty output line); a line is cut into sentences (unless
// --split-sentences=false) and a sentence too long for the model into pieces, so no line is
// refused; --json writes one JSON object per line with every hypothesis and its scores; text mode
// with --nbest > 1 writes Moses n-best lines (`i ||| text ||| score`, i 0-based). Generation flags
// left out take the checkpoint's defaults. --precision int8 decodes with int8 linear layers
// (src/quant; fp32 where they cannot run, said on stderr).
// Parsing and I/O only; the work lives in src/mt.
import { createInterface } from 'node:readline';
import { usageError, type FlagSpec, type FlagValues } from './args.js';
import { defineCommand, type CommandContext } from './command.js';
import { listed } from './commands.js';
import type { Module } from '../core/module.js';
import type { GenerationConfig } from '../mt/decoding/config.js';
import type { DocumentResult, Translator } from '../mt/translator.js';
import { parsePrecision } from '../quant/precision.js';
import { UserError } from '../util/errors.js';

/** Generation and model flags shared with `resmlp mt eval`. */
export const MODEL_FLAGS: Record<string, FlagSpec> = {
  checkpoint: { type: 'string', alias: 'c', help: 'checkpoint of `resmlp mt train` (its spm.model must sit beside it)' },
  beam: { type: 'int', help: "beam size (default: the checkpoint's)" },
  nbest: { type: 'int', help: 'hypotheses per sentence, ≤ beam (default 1)' },
  lenpen: { type: 'number', help: "length penalty: score = Σ log p / len^lenpen (default: the checkpoint's)" },
  'max-len-a': { type: 'number', help: "max target tokens = a·|src| + b (default: the checkpoint's)" },
  'max-len-b': { type: 'number', help: "see --max-len-a (default: the checkpoint's)" },
  'min-len': { type: 'int', help: 'no EOS before this many tokens (default 1)' },
  unkpen: { type: 'number', help: 'subtracted from the <unk> log-prob (default 0)' },
  'no-repeat-ngram-size': { type: 'int', help: 'never repeat an n-gram of this size, 0 = off (default 0)' },
  'max-tokens': { type: 'int', help: 'padded source tokens per decoding batch', default: 4096 },
  backend: { type: 'string', help: 'auto | native | wasm | cpu | tensorflow (default: RESMLP_BACKEND or auto)' },
  threads: { type: 'int', help: 'threads of the native kernels (default: RESMLP_THREADS or all cores)' },
  precision: {
    type: 'string',
    help: "int8 | fp32: int8 runs the linear layers on oneDNN's int8 kernels (native backend, VNNI CPUs; else fp32, said on stderr) (default: the checkpoint's, int8 for `resmlp mt quantize`'s)",
  },
};

const FLAGS: Record<string, FlagSpec> = {
  ...MODEL_FLAGS,
  json: { type: 'boolean', help: 'one JSON object per line: source, translation, hypotheses with scores' },
  'chunk-lines': { type: 'int', help: 'at most this many lines handed to the translator at once', default: 256 },
  'split-sentences': {
    type: 'boolean',
    help: 'translate each line sentence by sentence (false: a line is one unit, cut only when too long)',
    default: true,
  },
  quiet: { type: 'boolean', alias: 'q', help: 'no summary line on stderr' },
};

/** Generation overrides from the flags that were given (others keep the checkpoint's defaults). */
export function generationOverrides(flags: FlagValues): Partial<GenerationConfig> {
  const g: Partial<GenerationConfig> = {};
  const num = (flag: string) => flags[flag] as number | undefined;
  if (num('beam') !== undefined) g.beamSize = num('beam');
  if (num('nbest') !== undefined) g.nbest = num('nbest');
  if (num('lenpen') !== undefined) g.lenpen = num('lenpen');
  if (num('max-len-a') !== undefined) g.maxLenA = num('max-len-a');
  if (num('max-len-b') !== undefined) g.maxLenB = num('max-len-b');
  if (num('min-len') !== undefined) g.minLen = num('min-len');
  if (num('unkpen') !== undefined) g.unkPenalty = num('unkpen');
  if (num('no-repeat-ngram-size') !== undefined) g.noRepeatNgramSize = num('no-repeat-ngram-size');
  return g;
}

/** Checks the flags common to translate and eval; throws a usage error. */
export function checkModelFlags(flags: FlagValues): void {
  if (typeof flags.checkpoint !== 'string') throw usageError('--checkpoint is required');
  for (const f of ['beam', 'nbest', 'max-tokens', 'threads']) {
    const v = flags[f];
    if (v !== undefined && (v as number) < 1) throw usageError(`--${f} must be ≥ 1, got ${v}`);
  }
  for (const f of ['max-len-a', 'max-len-b', 'min-len', 'no-repeat-ngram-size']) {
    const v = flags[f];
    if (v !== undefined && (v as number) < 0) throw usageError(`--${f} must be ≥ 0, got ${v}`);
  }
  if (flags.precision !== undefined) parsePrecision(flags.precision, '--precision', 'usage');
  const beam = flags.beam as number | undefined;
  const nbest = flags.nbest as number | undefined;
  if (beam !== undefined && nbest !== undefined && nbest > beam) throw usageError(`--nbest ${nbest} exceeds --beam ${beam}`);
}

/** Backend, then the translator of --checkpoint with the flags' generation settings and --precision (said on `log`). */
export async function loadTranslator(
  flags: FlagValues,
  log: (line: string) => void = (l) => process.stderr.write(`[resmlp] ${l}\n`),
): Promise<Translator> {
  const { initBackend, setThreads } = await import('../backend/choose.js');
  if (flags.threads !== undefined) await setThreads(flags.threads as number);
  await initBackend(typeof flags.backend === 'string' ? flags.backend : undefined);
  const { Translator } = await import('../mt/translator.js');
  const { existsSync } = await import('node:fs');
  const ckpt = flags.checkpoint as string;
  if (!existsSync(ckpt)) throw new UserError(`checkpoint not found: ${ckpt}`);
  const translator = await Translator.load(ckpt, { maxTokens: flags['max-tokens'] as number, generation: generationOverrides(flags) });
  const { applyPrecision, checkpointPrecision, precisionLine } = await import('../quant/index.js');
  try {
    const precision = flags.precision === undefined ? checkpointPrecision(ckpt) : parsePrecision(flags.precision, '--precision', 'usage');
    const report = applyPrecision(translator.model as unknown as Module, precision);
    // a fallback is always said; int8 itself unless --quiet; plain fp32 goes without saying
    if (report.fallback !== '' || (report.precision === 'int8' && flags.quiet !== true)) log(precisionLine(report));
  } catch (e) {
    translator.dispose();
    throw e;
  }
  return translator;
}

/** Output of one input line in text or JSON mode. */
export function formatResult(
  r: Pick<DocumentResult, 'text' | 'hypotheses' | 'skipped'>,
  lineNo: number,
  source: string,
  json: boolean,
  nbest: number,
): string {
  if (json) {
    const o: Record<string, unknown> = {
      line: lineNo,
      source,
      translation: r.text,
      hypotheses: r.hypotheses.map((h) => ({ text: h.text, score: h.score, tokens: h.tokens, positionalScores: h.positionalScores })),
    };
    if (r.skipped) o.skipped = r.skipped;
    return JSON.stringify(o) + '\n';
  }
  if (nbest <= 1) return r.text + '\n';
  if (r.hypotheses.length === 0) return `${lineNo - 1} |||  ||| 0\n`;
  return r.hypotheses.map((h) => `${lineNo - 1} ||| ${h.text} ||| ${h.score.toFixed(6)}\n`).join('');
}

/** Lines of `input` as they arrive: the reader pauses when `highWater` lines wait unread. */
class LineQueue {
  private lines: string[] = [];
  private ended = false;
  private error: Error | null = null;
  private wake: (() => void) | null = null;
  private readonly rl;

  constructor(
    input: NodeJS.ReadableStream,
    private readonly highWater: number,
  ) {
    this.rl = createInterface({ input, crlfDelay: Infinity });
    this.rl.on('line', (l) => {
      this.lines.push(l);
      if (this.lines.length >= this.highWater) this.rl.pause();
      this.notify();
    });
    this.rl.on('close', () => {
      this.ended = true;
      this.notify();
    });
    input.on('error', (e: Error) => {
      this.error = e;
      this.ended = true;
      this.notify();
    });
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** Up to `max` lines read so far (waiting for at least one); null at the end of input. */
  async take(max: number): Promise<string[] | null> {
    // let lines already in the stream's buffer arrive before taking a batch
    await new Promise<void>((r) => setImmediate(r));
    while (this.lines.length === 0 && !this.ended) await new Promise<void>((r) => (this.wake = r));
    if (this.error) throw new UserError(`cannot read standard input: ${this.error.message}`);
    if (this.lines.length === 0) return null;
    const out = this.lines.splice(0, max);
    if (this.lines.length < this.highWater) this.rl.resume();
    return out;
  }

  close(): void {
    this.rl.close();
  }
}

async function translate({ flags, io }: CommandContext): Promise<number> {
  checkModelFlags(flags);
  if ((flags['chunk-lines'] as number) < 1) throw usageError(`--chunk-lines must be ≥ 1, got ${flags['chunk-lines']}`);
  const translator = await loadTranslator(flags, (l) => io.stderr.write(`[resmlp] ${l}\n`));
  const json = flags.json === true;
  const sentences = flags['split-sentences'] === true;
  const chunkLines = flags['chunk-lines'] as number;
  const nbest = translator.generation.nbest;
  const queue = new LineQueue(io.stdin, 4 * chunkLines);
  const t0 = performance.now();
  let lines = 0;
  let tokens = 0;
  let cut = 0;
  try {
    for (;;) {
      const chunk = await queue.take(chunkLines);
      if (chunk === null) break;
      const results = await translator.translateDocuments(chunk, { sentences });
      let out = '';
      results.forEach((r, j) => {
        out += formatResult(r, lines + j + 1, chunk[j]!, json, nbest);
        tokens += r.srcTokens;
        cut += r.cutSentences;
      });
      io.stdout.write(out);
      lines += chunk.length;
    }
  } finally {
    queue.close();
    translator.dispose();
  }
  if (flags.quiet !== true) {
    const sec = (performance.now() - t0) / 1000;
    const g = translator.generation;
    io.stderr.write(
      `translated ${lines} lines (${tokens} source tokens) in ${sec.toFixed(1)} s: ${(lines / Math.max(sec, 1e-9)).toFixed(1)} lines/s; beam ${g.beamSize}, lenpen ${g.lenpen}, max len ${g.maxLenA}·|src| + ${g.maxLenB}\n`,
    );
    if (cut > 0) io.stderr.write(`${cut} sentence(s) too long for the model were translated in pieces (cut at clauses or words)\n`);
  }
  return 0;
}

export const command = defineCommand({
  ...listed('mt translate'),
  usage: '--checkpoint FILE [--beam N] [--nbest N] [--lenpen X] [--max-len-a A] [--max-len-b B] [--max-tokens N] [--json] < input > output',
  flags: FLAGS,
  run: translate,
});
