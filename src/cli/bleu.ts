// `resmlp bleu REF [REF ...] -i HYP [-m bleu chrf ter] ...`: sacreBLEU's command line
// (sacrebleu/sacrebleu.py, single-system mode) on our port in src/metrics. Same flags, same text
// and JSON output; the signature carries our version. `-m tok-bleu` adds the paper-style
// "tokenized BLEU" (Moses + compound splitting), printed under that name, never as BLEU.
// Parsing and file reading only; the metrics live in src/metrics.
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { FlagSpec, FlagValues } from './args.js';
import { defineCommand, type CommandContext } from './command.js';
import { listed } from './commands.js';
import {
  BLEU,
  CHRF,
  TER,
  TokenizedBLEU,
  MOSES_LANGS,
  SMOOTH_DEFAULTS,
  TOKENIZER_NAMES,
  packageVersion,
  type Metric,
  type MosesLang,
  type Score,
  type SmoothMethod,
} from '../metrics/index.js';
import { pyRstrip } from '../metrics/pystr.js';
import { UserError } from '../util/errors.js';

const METRIC_NAMES = ['bleu', 'chrf', 'ter', 'tok-bleu'] as const;
type MetricName = (typeof METRIC_NAMES)[number];
const FORMATS = ['json', 'text'] as const;

const FLAGS: Record<string, FlagSpec> = {
  input: { type: 'string', alias: 'i', help: "hypothesis file ('-' or absent: standard input)" },
  metrics: { type: 'strings', alias: 'm', help: `metrics to compute: ${METRIC_NAMES.join(', ')}`, default: ['bleu'] },
  'num-refs': { type: 'int', alias: 'nr', help: 'split each reference line on tabs into this many references', default: 1 },
  'sentence-level': { type: 'boolean', alias: 'sl', help: 'score every sentence (one metric only)' },
  tokenize: { type: 'string', alias: 'tok', help: `BLEU tokenizer: ${TOKENIZER_NAMES.join(', ')}`, default: '13a' },
  lowercase: { type: 'boolean', alias: 'lc', help: 'case-insensitive BLEU (and tokenized BLEU)' },
  force: { type: 'boolean', help: 'accepted for sacreBLEU parity (silences nothing here)' },
  'smooth-method': {
    type: 'string',
    alias: 's',
    help: `BLEU smoothing: ${Object.keys(SMOOTH_DEFAULTS).join(', ')} (default: exp; tokenized BLEU: none)`,
  },
  'smooth-value': { type: 'number', alias: 'sv', help: 'smoothing value for floor (0.1) and add-k (1)' },
  'chrf-char-order': { type: 'int', alias: 'cc', help: 'chrF character n-gram order', default: 6 },
  'chrf-word-order': { type: 'int', alias: 'cw', help: 'chrF word n-gram order (2 = chrF++)', default: 0 },
  'chrf-beta': { type: 'int', help: 'chrF recall weight', default: 2 },
  'chrf-whitespace': { type: 'boolean', help: 'keep whitespace in chrF character n-grams' },
  'chrf-lowercase': { type: 'boolean', help: 'case-insensitive chrF' },
  'chrf-eps-smoothing': { type: 'boolean', help: 'chrF++.py epsilon smoothing instead of effective order' },
  'ter-case-sensitive': { type: 'boolean', help: 'case-sensitive TER' },
  'ter-asian-support': { type: 'boolean', help: 'TER: special treatment of CJK characters' },
  'ter-no-punct': { type: 'boolean', help: 'TER: remove punctuation' },
  'ter-normalized': { type: 'boolean', help: 'TER: Tercom normalization and tokenization' },
  'tok-bleu-lang': { type: 'string', help: `Moses language of tokenized BLEU: ${MOSES_LANGS.join(', ')}`, default: 'en' },
  'score-only': { type: 'boolean', alias: 'b', help: 'print only the score(s), one per line' },
  width: { type: 'int', alias: 'w', help: 'decimals of printed scores', default: 1 },
  short: { type: 'boolean', alias: 'sh', help: 'short signature keys (text output)' },
  format: { type: 'string', alias: 'f', help: `output format: ${FORMATS.join(', ')}`, default: 'json' },
  version: { type: 'boolean', alias: 'V', help: 'print the version and exit' },
};

/** Lines of a text file as sacreBLEU reads them: split on '\n', each right-stripped (Python rstrip). */
function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map(pyRstrip);
}

function readTextFile(path: string, role: string): string {
  if (!existsSync(path)) throw new UserError(`${role} file not found: ${path}`);
  if (statSync(path).isDirectory()) throw new UserError(`${role} path is a directory, expected a text file: ${path}`);
  return decodeUtf8(readFileSync(path), `${role} file ${path}`);
}

/**
 * Strict UTF-8 as Python's 'utf-8' codec reads it: invalid bytes are an error (sacreBLEU fails
 * instead of scoring replacement characters) and a leading byte-order mark is kept as U+FEFF, part
 * of the first token (sacreBLEU opens files with encoding='utf-8', not 'utf-8-sig').
 */
function decodeUtf8(buf: Uint8Array, what: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(buf);
  } catch {
    throw new UserError(`${what} is not valid UTF-8`);
  }
}

async function readStream(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return decodeUtf8(Buffer.concat(chunks), 'standard input');
}

function choice<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UserError(`unknown ${flag} ${JSON.stringify(value)}: expected one of ${allowed.join(', ')}`);
  }
  return value as T;
}

/** sacreBLEU's print_single_results: JSON list, or text lines right-aligned on the first '='. */
function formatResults(results: string[], json: boolean): string {
  if (json) return results.length > 1 ? `[\n${results.join(',\n')}\n]` : results[0];
  if (results.length === 1) return results[0];
  const lens = results.map((line) => line.indexOf('=') - 1);
  const w = Math.max(...lens);
  return results.map((line, k) => (lens[k] < 0 ? line : line.slice(0, lens[k]).padStart(w) + line.slice(lens[k]))).join('\n');
}

type AnyMetric = Metric<Score, unknown>;

function buildMetric(name: MetricName, f: FlagValues, sentenceLevel: boolean, refs: string[][]): AnyMetric {
  const smoothValue = (f['smooth-value'] as number | undefined) ?? null;
  const smoothGiven = f['smooth-method'] as string | undefined;
  const smooth = (fallback: SmoothMethod): SmoothMethod =>
    smoothGiven === undefined ? fallback : choice('smooth method', smoothGiven, Object.keys(SMOOTH_DEFAULTS) as SmoothMethod[]);
  switch (name) {
    case 'bleu':
      return new BLEU({
        tokenize: choice('tokenizer', f.tokenize as string, TOKENIZER_NAMES),
        lowercase: Boolean(f.lowercase),
        force: Boolean(f.force),
        smoothMethod: smooth('exp'),
        smoothValue,
        // sacreBLEU >= 2.0 turns effective order on for sentence-level BLEU
        effectiveOrder: sentenceLevel,
        references: refs,
      }) as unknown as AnyMetric;
    case 'chrf':
      return new CHRF({
        charOrder: f['chrf-char-order'] as number,
        wordOrder: f['chrf-word-order'] as number,
        beta: f['chrf-beta'] as number,
        whitespace: Boolean(f['chrf-whitespace']),
        lowercase: Boolean(f['chrf-lowercase']),
        epsSmoothing: Boolean(f['chrf-eps-smoothing']),
        references: refs,
      }) as unknown as AnyMetric;
    case 'ter':
      return new TER({
        caseSensitive: Boolean(f['ter-case-sensitive']),
        asianSupport: Boolean(f['ter-asian-support']),
        noPunct: Boolean(f['ter-no-punct']),
        normalized: Boolean(f['ter-normalized']),
        references: refs,
      }) as unknown as AnyMetric;
    case 'tok-bleu':
      return new TokenizedBLEU({
        lang: choice('tokenized BLEU language', f['tok-bleu-lang'] as string, MOSES_LANGS) as MosesLang,
        lowercase: Boolean(f.lowercase),
        smoothMethod: smooth('none'),
        smoothValue,
        references: refs,
      }) as unknown as AnyMetric;
  }
}

async function bleu({ flags: f, positionals: refFiles, io }: CommandContext): Promise<number> {
  if (f.version) {
    io.stdout.write(`resmlp bleu ${packageVersion()}\n`);
    return 0;
  }

  const metricNames = (f.metrics as string[]).map((m) => choice('metric', m, METRIC_NAMES));
  const unique = [...new Set(metricNames)];
  const format = choice('format', f.format as string, FORMATS);
  const width = f.width as number;
  if (width < 0 || width > 20) throw new UserError(`--width must be between 0 and 20, got ${width}`);
  const numRefs = f['num-refs'] as number;
  if (numRefs < 1) throw new UserError(`--num-refs must be at least 1, got ${numRefs}`);
  const sentenceLevel = Boolean(f['sentence-level']);
  if (sentenceLevel && unique.length > 1) throw new UserError('only one metric can be used in sentence-level mode (-sl)');
  if (refFiles.length === 0) {
    throw new UserError('no reference files given: expected REF [REF ...] before -i HYP');
  }
  if (numRefs !== 1 && refFiles.length > 1) {
    throw new UserError('--num-refs reads tab-separated references from ONE file; got several reference files');
  }
  // Validate choices before reading any file.
  if (unique.includes('bleu')) choice('tokenizer', f.tokenize as string, TOKENIZER_NAMES);
  if (unique.includes('tok-bleu')) choice('tokenized BLEU language', f['tok-bleu-lang'] as string, MOSES_LANGS);
  if (f['smooth-method'] !== undefined) choice('smooth method', f['smooth-method'] as string, Object.keys(SMOOTH_DEFAULTS));

  // References: refs[k][i] = k-th reference of segment i
  const refs: string[][] = [];
  for (const path of refFiles) {
    const lines = splitLines(readTextFile(path, 'reference'));
    if (numRefs === 1) {
      refs.push(lines);
    } else {
      for (let k = 0; k < numRefs; k++) refs.push([]);
      lines.forEach((line, i) => {
        const parts = line.split('\t');
        const fields = parts.length > numRefs ? [...parts.slice(0, numRefs - 1), parts.slice(numRefs - 1).join('\t')] : parts;
        if (fields.length !== numRefs) {
          throw new UserError(`${path}:${i + 1}: expected ${numRefs} tab-separated references, found ${fields.length}`);
        }
        fields.forEach((r, k) => refs[k].push(r));
      });
    }
  }

  const hypPath = (f.input as string | undefined) ?? '-';
  const hypName = hypPath === '-' ? '<stdin>' : hypPath;
  const hyps = splitLines(hypPath === '-' ? await readStream(io.stdin) : readTextFile(hypPath, 'hypothesis'));
  if (hyps.length === 0) throw new UserError(`hypothesis ${hypName} contains no sentence (0 lines)`);

  const mismatched = refs
    .map((stream, k) => ({ stream, name: numRefs === 1 ? refFiles[k] : `${refFiles[0]} (field ${k + 1})` }))
    .filter(({ stream }) => stream.length !== hyps.length);
  if (mismatched.length > 0) {
    const detail = mismatched.map(({ stream, name }) => `reference ${name} has ${stream.length} lines`).join('; ');
    throw new UserError(`line count mismatch: hypothesis ${hypName} has ${hyps.length} lines; ${detail}`);
  }

  for (let i = 0; i < hyps.length; i++) {
    if (refs.every((stream) => stream[i] === '')) {
      throw new UserError(`empty reference at line ${i + 1} of ${refFiles.join(', ')}: every segment needs a reference`);
    }
  }

  // Metrics in sacreBLEU's order (sorted upper-case names).
  const ordered = [...unique].sort((a, b) => (a.toUpperCase() < b.toUpperCase() ? -1 : 1));
  const scoreOnly = Boolean(f['score-only']);
  const short = Boolean(f.short);

  if (sentenceLevel) {
    const metric = buildMetric(ordered[0], f, true, refs);
    const out: string[] = [];
    for (let i = 0; i < hyps.length; i++) {
      const segRefs = refs.map((r) => r[i]).filter((r) => r !== '');
      const score = metric.sentenceScore(hyps[i], segRefs);
      out.push(score.format(width, scoreOnly, metric.getSignature().format(short)));
    }
    io.stdout.write(out.join('\n') + '\n');
    return 0;
  }

  const results: string[] = [];
  for (const name of ordered) {
    const metric = buildMetric(name, f, false, refs);
    const score = metric.corpusScore(hyps, null);
    const sig = metric.getSignature().format(format !== 'json' ? short : false);
    results.push(score.format(width, scoreOnly, sig, format === 'json'));
  }
  // -b: bare scores, one per line, whatever the format
  io.stdout.write((scoreOnly ? results.join('\n') : formatResults(results, format === 'json')) + '\n');
  return 0;
}

/** Errors about the data found by the metrics themselves (e.g. an empty reference line) as UserErrors. */
async function metricDataErrors<T>(score: () => Promise<T>): Promise<T> {
  try {
    return await score();
  } catch (e) {
    if (e instanceof Error && /^(BLEU|CHRF|TER|TokenizedBLEU)[: ]/.test(e.message)) throw new UserError(e.message);
    throw e;
  }
}

export const command = defineCommand({
  ...listed('bleu'),
  usage: 'REF [REF ...] [-i HYP] [-m bleu chrf ter tok-bleu] [-tok 13a] [-lc] [-b] [-w N] [-f json|text]',
  flags: FLAGS,
  positionals: true,
  // sacreBLEU exits 1 for every error, flags included
  usageExitCode: 1,
  run: (ctx) => metricDataErrors(() => bleu(ctx)),
});
