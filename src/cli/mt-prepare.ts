// `resmlp mt prepare`: parallel text → binary dataset (src/mt/data/prepare.ts does the work), and
// `resmlp mt multi30k` / `resmlp mt wmt14`, which fetch a public corpus first (src/mt/data/sources.ts;
// data-scripts/ wraps them). Parsing and messages only.
import * as path from 'node:path';
import { need, usageError, type FlagSpec, type FlagValues } from './args.js';
import { defineCommand, type CliIO } from './command.js';
import { listed } from './commands.js';
import { prepareDataset, DEFAULT_PREPARE, type PrepareOptions, type PrepareInputs } from '../mt/data/prepare.js';
import { fetchMulti30k, fetchWmt14, WMT14_DEFAULTS } from '../mt/data/sources.js';

const PREPARE_FLAGS: Record<string, FlagSpec> = {
  'vocab-size': { type: 'int', help: 'joint SentencePiece vocabulary size' },
  'model-type': { type: 'string', help: "SentencePiece model: 'unigram' or 'bpe'" },
  'max-len': { type: 'int', help: 'drop training pairs with a side longer than this many subword tokens' },
  'max-ratio': { type: 'number', help: 'drop training pairs whose token-length ratio exceeds this' },
  'spm-input-sentence-size': { type: 'int', help: 'sentences sampled by spm_train (0 = all)' },
  'spm-seed': { type: 'int', help: 'spm_train --random_seed' },
  'spm-threads': { type: 'int', help: 'spm_train --num_threads' },
  force: { type: 'boolean', help: 'overwrite a different dataset in --out' },
};

const GENERIC_FLAGS: Record<string, FlagSpec> = {
  src: { type: 'string', help: 'training source text (one sentence a line, UTF-8)' },
  tgt: { type: 'string', help: 'training target text, line-aligned with --src' },
  out: { type: 'string', help: 'output folder of the dataset' },
  'valid-src': { type: 'string', help: 'validation source text' },
  'valid-tgt': { type: 'string', help: 'validation target text' },
  'test-src': { type: 'string', help: 'test source text' },
  'test-tgt': { type: 'string', help: 'test target text' },
  'src-lang': { type: 'string', help: 'source language code (default: extension of --src)' },
  'tgt-lang': { type: 'string', help: 'target language code (default: extension of --tgt)' },
  ...PREPARE_FLAGS,
};

function optionsFrom(flags: FlagValues, defaults: Partial<PrepareOptions> = {}): Partial<PrepareOptions> {
  const modelType = flags['model-type'];
  if (modelType !== undefined && modelType !== 'unigram' && modelType !== 'bpe')
    throw usageError(`--model-type must be 'unigram' or 'bpe', got '${String(modelType)}'`);
  const o: Partial<PrepareOptions> = { ...defaults };
  const set = <K extends keyof PrepareOptions>(k: K, flag: string) => {
    if (flags[flag] !== undefined) o[k] = flags[flag] as PrepareOptions[K];
  };
  set('vocabSize', 'vocab-size');
  set('modelType', 'model-type');
  set('maxLen', 'max-len');
  set('maxRatio', 'max-ratio');
  set('spmInputSentenceSize', 'spm-input-sentence-size');
  set('spmSeed', 'spm-seed');
  set('spmThreads', 'spm-threads');
  return o;
}

function pairFlag(flags: FlagValues, split: 'valid' | 'test'): { src: string; tgt: string } | undefined {
  const s = flags[`${split}-src`] as string | undefined;
  const t = flags[`${split}-tgt`] as string | undefined;
  if (s === undefined && t === undefined) return undefined;
  if (s === undefined || t === undefined)
    throw usageError(`--${split}-src and --${split}-tgt go together (got only --${split}-${s === undefined ? 'tgt' : 'src'})`);
  return { src: s, tgt: t };
}

/** Prepares `inputs` into `out` and says what it wrote (or reused). */
async function finish(io: CliIO, inputs: PrepareInputs, out: string, options: Partial<PrepareOptions>, force: boolean): Promise<number> {
  const r = await prepareDataset(inputs, out, options, { force, log: (line) => io.stderr.write(line + '\n') });
  const m = r.manifest;
  const parts = Object.entries(m.splits).map(([k, s]) => `${k} ${s!.pairs.toLocaleString('en-US')} pairs`);
  io.stdout.write(
    `${r.reused ? 'reused' : 'wrote'} ${r.dir}: ${m.langs.src}→${m.langs.tgt}, vocab ${m.spm.vocabSize}, ${parts.join(', ')}\n`,
  );
  return 0;
}

export const prepare = defineCommand({
  ...listed('mt prepare'),
  usage: '--src FILE --tgt FILE --out DIR [--valid-src F --valid-tgt F] [--test-src F --test-tgt F] [options]',
  flags: GENERIC_FLAGS,
  notes: `defaults: ${JSON.stringify(DEFAULT_PREPARE)}`,
  run: ({ flags, io }) => {
    const inputs: PrepareInputs = { train: { src: need(flags, 'src'), tgt: need(flags, 'tgt') } };
    const out = need(flags, 'out');
    const valid = pairFlag(flags, 'valid');
    const test = pairFlag(flags, 'test');
    if (valid) inputs.valid = valid;
    if (test) inputs.test = test;
    if (flags['src-lang']) inputs.srcLang = flags['src-lang'] as string;
    if (flags['tgt-lang']) inputs.tgtLang = flags['tgt-lang'] as string;
    return finish(io, inputs, out, optionsFrom(flags), flags.force === true);
  },
});

const MULTI30K_FLAGS: Record<string, FlagSpec> = {
  out: { type: 'string', help: 'output folder of the dataset' },
  from: { type: 'string', help: 'use local Multi30k files (train.en, val.de, test_2016_flickr.fr, … or .gz) instead of downloading' },
  src: { type: 'string', help: 'source language (en, de, fr)', default: 'en' },
  tgt: { type: 'string', help: 'target language (en, de, fr)', default: 'de' },
  raw: { type: 'string', help: 'folder for downloads and unpacked text (default: <out>-raw)' },
  'base-url': { type: 'string', help: 'download base URL (default: the multi30k/dataset GitHub raw files)' },
  ...PREPARE_FLAGS,
};

export const multi30k = defineCommand({
  ...listed('mt multi30k'),
  usage: '--out DIR [--from DIR] [--src en --tgt de] [options]',
  flags: MULTI30K_FLAGS,
  run: async ({ flags, io }) => {
    const out = need(flags, 'out');
    const raw = (flags.raw as string | undefined) ?? `${path.resolve(out)}-raw`;
    const inputs = await fetchMulti30k(raw, {
      log: (line) => io.stderr.write(line + '\n'),
      src: flags.src as string,
      tgt: flags.tgt as string,
      ...(flags.from ? { from: flags.from as string } : {}),
      ...(flags['base-url'] ? { baseUrl: flags['base-url'] as string } : {}),
    });
    return finish(io, inputs, out, optionsFrom(flags), flags.force === true);
  },
});

const WMT14_FLAGS: Record<string, FlagSpec> = {
  out: { type: 'string', help: 'output folder of the dataset' },
  src: { type: 'string', help: 'source language (en, de, fr; one side must be en)', default: 'en' },
  tgt: { type: 'string', help: 'target language', default: 'de' },
  raw: { type: 'string', help: 'folder for downloads and unpacked text (default: <out>-raw)' },
  ...PREPARE_FLAGS,
};

export const wmt14 = defineCommand({
  ...listed('mt wmt14'),
  usage: '--out DIR [--src en --tgt de|fr] [options]',
  flags: WMT14_FLAGS,
  notes: `WMT14 defaults: ${JSON.stringify(WMT14_DEFAULTS)}`,
  run: async ({ flags, io }) => {
    const out = need(flags, 'out');
    const raw = (flags.raw as string | undefined) ?? `${path.resolve(out)}-raw`;
    const inputs = await fetchWmt14(raw, {
      src: flags.src as string,
      tgt: flags.tgt as string,
      log: (line) => io.stderr.write(line + '\n'),
    });
    return finish(io, inputs, out, optionsFrom(flags, WMT14_DEFAULTS), flags.force === true);
  },
});
