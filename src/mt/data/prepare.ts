// The preparation pipeline for any parallel text: raw text → cleaned text → joint SentencePiece
// → binary dataset (see dataset.ts for the layout, clean.ts for the cleaning, spm.ts for the
// subword model). Follows fairseq's prepare-wmt14en2de.sh in spirit: the subword model is
// learned on all cleaned training text of both languages, then training pairs are filtered by
// subword length and length ratio (clean-corpus-n); valid/test are never filtered.
//
// Memory does not grow with the corpus: every per-pair result (cleaned text, kept line numbers,
// token ids, offsets) streams to disk, and spm_train samples `spmInputSentenceSize` sentences
// while it reads (docs/wmt14-scale.md has the figures for a 4.5M-pair corpus).
//
// The output folder is never overwritten silently: the same inputs and options reuse it, a
// different dataset there is an error unless `force`. Work happens in `<out>/.tmp-prepare`,
// moved into place at the end with the manifest written last (a crash leaves no manifest).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as crypto from 'node:crypto';
import { writeTextAtomic } from '../../util/atomic-write.js';
import { resolveConfig } from '../../util/config.js';
import { normalizeLine, filterPair, describeCleaning, type DropReason } from './clean.js';
import { readLines, countLines, sha256File, checkReadable, LineWriter, TextInputError } from './text-io.js';
import { SentencePiece, trainSentencePiece, DEFAULT_SPM_TRAIN } from './spm.js';
import { TokenFileWriter, Uint32FileReader, Uint32FileWriter, idDtypeFor } from './binary-dataset.js';
import {
  FORMAT_NAME,
  FORMAT_VERSION,
  MANIFEST,
  readManifest,
  type DatasetManifest,
  type InputFileInfo,
  type SplitInfo,
  type SplitName,
} from './dataset.js';
import { UserError } from '../../util/errors.js';

export class PrepareError extends UserError {
  constructor(message: string) {
    super(message, 'invalid_data');
  }
}

export interface PrepareOptions {
  /** Joint SentencePiece vocabulary size (specials included). Default 8000. */
  vocabSize: number;
  /** 'unigram' or 'bpe'. Default 'unigram'. */
  modelType: 'unigram' | 'bpe';
  /** Training pairs with a side longer than this many subword tokens are dropped. Default 250 (fairseq). */
  maxLen: number;
  /**
   * Training pairs with max(len)/min(len) above this (subword token counts) are dropped.
   * Default 9, the default of Moses' clean-corpus-n.perl: a junk filter. fairseq's WMT14 recipe
   * uses 1.5 (the wmt14 script sets it); on Multi30k 1.5 would drop 4% of good caption pairs.
   */
  maxRatio: number;
  /**
   * Sentences sampled by spm_train (0 = all). Default 1,000,000. spm_train samples while reading
   * (its memory does not grow with the corpus), but its unigram trainer builds a suffix array over
   * the sampled text: ~24 bytes per character, so 1M sentences of ~135 characters take ~3.2 GB
   * (docs/wmt14-scale.md). Lower it for corpora of long sentences.
   */
  spmInputSentenceSize: number;
  /** spm_train --random_seed. Default 1. */
  spmSeed: number;
  /** spm_train threads. Default 2. */
  spmThreads: number;
}

export const DEFAULT_PREPARE: PrepareOptions = {
  vocabSize: 8000,
  modelType: 'unigram',
  maxLen: 250,
  maxRatio: 9,
  spmInputSentenceSize: 1_000_000,
  spmSeed: 1,
  spmThreads: 2,
};

/** Merges `overrides` into the defaults; rejects unknown keys and bad values, naming them. */
export function resolvePrepareOptions(overrides: Partial<PrepareOptions> = {}): PrepareOptions {
  const o = resolveConfig('prepare options', DEFAULT_PREPARE, overrides, { error: (message) => new PrepareError(message) });
  const intAtLeast = (name: keyof PrepareOptions, min: number) => {
    const v = o[name] as number;
    if (!Number.isInteger(v) || v < min) throw new PrepareError(`${name} must be an integer ≥ ${min}, got ${v}`);
  };
  intAtLeast('vocabSize', 8);
  intAtLeast('maxLen', 1);
  intAtLeast('spmInputSentenceSize', 0);
  intAtLeast('spmSeed', 0);
  intAtLeast('spmThreads', 1);
  if (o.vocabSize > 2 ** 31 - 1) throw new PrepareError(`vocabSize ${o.vocabSize} is too large`);
  if (!(typeof o.maxRatio === 'number' && o.maxRatio >= 1)) throw new PrepareError(`maxRatio must be a number ≥ 1, got ${o.maxRatio}`);
  if (o.modelType !== 'unigram' && o.modelType !== 'bpe')
    throw new PrepareError(`modelType must be 'unigram' or 'bpe', got ${JSON.stringify(o.modelType)}`);
  return o;
}

export interface FilePair {
  src: string;
  tgt: string;
}

export interface PrepareInputs {
  train: FilePair;
  valid?: FilePair;
  test?: FilePair;
  /** Language codes for the manifest; default: the extensions of the train files (a.en → en). */
  srcLang?: string;
  tgtLang?: string;
}

export interface PrepareRunOptions {
  /** Overwrite a different dataset in the output folder. */
  force?: boolean;
  /** Progress and summary lines (default: stderr). */
  log?: (line: string) => void;
  /** spm_train executable (default 'spm_train'). */
  spmBin?: string;
}

export interface PrepareResult {
  manifest: DatasetManifest;
  /** True if an identical dataset was already there and nothing was done. */
  reused: boolean;
  dir: string;
}

const TMP = '.tmp-prepare';

function langOf(file: string): string {
  const ext = path.extname(file).replace(/^\./, '');
  return ext.length > 0 && ext.length <= 8 ? ext : 'unknown';
}

function fingerprintOf(options: PrepareOptions, inputs: Record<string, { src: InputFileInfo; tgt: InputFileInfo }>): string {
  const canon = {
    format: FORMAT_NAME,
    version: FORMAT_VERSION,
    options,
    inputs: Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, { src: v.src.sha256, tgt: v.tgt.sha256 }])),
  };
  return crypto.createHash('sha256').update(JSON.stringify(canon)).digest('hex');
}

function describeDifference(
  old: DatasetManifest,
  options: PrepareOptions,
  inputs: Record<string, { src: InputFileInfo; tgt: InputFileInfo }>,
): string {
  const diffs: string[] = [];
  for (const [k, v] of Object.entries(options)) {
    if (JSON.stringify(old.options[k]) !== JSON.stringify(v))
      diffs.push(`option ${k}: ${JSON.stringify(old.options[k])} there, ${JSON.stringify(v)} now`);
  }
  const splits = new Set([...Object.keys(old.splits), ...Object.keys(inputs)]);
  for (const s of splits) {
    const a = old.splits[s as SplitName]?.inputs;
    const b = inputs[s];
    if (!a || !b) {
      diffs.push(`split ${s}: ${a ? 'present there, absent now' : 'absent there, present now'}`);
      continue;
    }
    for (const side of ['src', 'tgt'] as const) {
      if (a[side].sha256 !== b[side].sha256)
        diffs.push(
          `${s} ${side} input: ${a[side].path} (sha256 ${a[side].sha256.slice(0, 12)}…) there, ${b[side].path} (sha256 ${b[side].sha256.slice(0, 12)}…) now`,
        );
    }
  }
  return diffs.length > 0 ? diffs.join('; ') : `format differs (fingerprint ${old.fingerprint?.slice(0, 12)}…)`;
}

function allFilesPresent(dir: string, m: DatasetManifest): boolean {
  const files = [m.spm.model, m.spm.vocab];
  for (const s of Object.values(m.splits)) {
    if (!s) continue;
    files.push(s.src.ids, s.src.off, s.tgt.ids, s.tgt.off, s.lines);
    if (s.src.text) files.push(s.src.text);
    if (s.tgt.text) files.push(s.tgt.text);
  }
  return files.every((f) => fs.existsSync(path.join(dir, f)));
}

/** Progress printer: at most one line every `everyMs`, plus the final one. */
function progress(log: (s: string) => void, label: string, total: number) {
  let last = Date.now();
  const t0 = last;
  return {
    tick(done: number) {
      const now = Date.now();
      if (now - last >= 5000) {
        last = now;
        log(
          `${label}: ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} lines (${((100 * done) / Math.max(total, 1)).toFixed(1)}%, ${((now - t0) / 1000).toFixed(0)} s)`,
        );
      }
    },
    done(extra: string) {
      log(`${label}: ${total.toLocaleString('en-US')} lines in ${((Date.now() - t0) / 1000).toFixed(1)} s${extra ? `, ${extra}` : ''}`);
    },
  };
}

function* zipLines(pair: FilePair): Generator<[string, string, number]> {
  const a = readLines(pair.src);
  const b = readLines(pair.tgt);
  for (;;) {
    const x = a.next();
    const y = b.next();
    if (x.done || y.done) {
      if (!x.done || !y.done) throw new PrepareError(`${pair.src} and ${pair.tgt} changed while being read (line counts now differ)`);
      return;
    }
    yield [x.value.text, y.value.text, x.value.lineNo];
  }
}

/** Checks that both files exist and have the same number of lines; returns that number. */
export function checkParallel(pair: FilePair, split: string): number {
  checkReadable(pair.src, `${split} source file`);
  checkReadable(pair.tgt, `${split} target file`);
  const ns = countLines(pair.src);
  const nt = countLines(pair.tgt);
  if (ns !== nt) {
    throw new PrepareError(
      `${split}: source and target line counts differ: ${pair.src} has ${ns} lines, ${pair.tgt} has ${nt}; the files must be line-aligned`,
    );
  }
  return ns;
}

/** The inputs of each split: absolute path and checksum of both sides. */
type InputInfo = Record<string, { src: InputFileInfo; tgt: InputFileInfo }>;

/**
 * Runs the pipeline (see the file comment), one named step after another. Returns the manifest;
 * `reused` when an identical dataset was already in `outDir`.
 */
export async function prepareDataset(
  inputs: PrepareInputs,
  outDir: string,
  overrides: Partial<PrepareOptions> = {},
  run: PrepareRunOptions = {},
): Promise<PrepareResult> {
  const log = run.log ?? ((s: string) => process.stderr.write(s + '\n'));
  const options = resolvePrepareOptions(overrides);
  const splitPairs: [SplitName, FilePair][] = [['train', inputs.train]];
  if (inputs.valid) splitPairs.push(['valid', inputs.valid]);
  if (inputs.test) splitPairs.push(['test', inputs.test]);

  const { counts, inputInfo } = checkInputs(inputs, splitPairs, log);
  const fingerprint = fingerprintOf(options, inputInfo);
  const out = path.resolve(outDir);
  const existing = claimOutputFolder(out, fingerprint, options, inputInfo, run.force === true, log);
  if (existing) return { manifest: existing, reused: true, dir: out };
  const tmp = path.join(out, TMP);
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });

  try {
    const cleaned = cleanTrain(inputs.train, counts.train!, tmp, log);
    const { trained, sp } = await trainJointSpm(cleaned, tmp, options, run.spmBin, log);
    const idDtype = idDtypeFor(sp.vocabSize);
    const filt = { maxLen: options.maxLen, maxRatio: options.maxRatio };
    const splits: Partial<Record<SplitName, SplitInfo>> = {};
    for (const [name, pair] of splitPairs)
      splits[name] = encodeSplit(name, pair, { tmp, sp, idDtype, options, cleaned, read: counts[name]!, inputs: inputInfo[name]!, log });
    const manifest: DatasetManifest = {
      format: FORMAT_NAME,
      version: FORMAT_VERSION,
      createdAt: new Date().toISOString(),
      fingerprint,
      langs: { src: inputs.srcLang ?? langOf(inputs.train.src), tgt: inputs.tgtLang ?? langOf(inputs.train.tgt) },
      options: { ...options },
      cleaning: describeCleaning(filt),
      spm: {
        model: 'spm.model',
        vocab: 'spm.vocab',
        sha256: sha256File(trained.model).sha256,
        vocabSize: sp.vocabSize,
        modelType: options.modelType,
        padId: sp.padId,
        unkId: sp.unkId,
        bosId: sp.bosId,
        eosId: sp.eosId,
        // paths relative to the work folder, so the manifest does not depend on where it ran
        trainArgs: trained.args.map((a) => a.split(tmp + path.sep).join('')),
        trainSentences: 2 * cleaned.keptCount,
      },
      idDtype,
      splits,
    };
    moveIntoPlace(tmp, out, manifest);
    return { manifest, reused: false, dir: out };
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** Step 1: every split's two files are present and line-aligned (their line count), and checksummed. */
function checkInputs(
  inputs: PrepareInputs,
  splitPairs: [SplitName, FilePair][],
  log: (line: string) => void,
): { counts: Partial<Record<SplitName, number>>; inputInfo: InputInfo } {
  log('checking line counts and checksumming the inputs…');
  const counts: Partial<Record<SplitName, number>> = {};
  for (const [name, pair] of splitPairs) counts[name] = checkParallel(pair, name);
  if (counts.train === 0) throw new PrepareError(`training files ${inputs.train.src} and ${inputs.train.tgt} are empty`);
  const inputInfo: InputInfo = {};
  for (const [name, pair] of splitPairs) {
    const info = (f: string): InputFileInfo => ({ path: path.resolve(f), ...sha256File(f) });
    inputInfo[name] = { src: info(pair.src), tgt: info(pair.tgt) };
  }
  return { counts, inputInfo };
}

/**
 * Step 2: the output folder. Returns the manifest already in `out` when it is this dataset (same
 * fingerprint, every file present); otherwise leaves `out` without a dataset and returns null. A
 * different dataset there is replaced only with `force`, and never when the folder also holds files
 * this tool did not write; a non-empty folder without a manifest is refused.
 */
function claimOutputFolder(
  out: string,
  fingerprint: string,
  options: PrepareOptions,
  inputInfo: InputInfo,
  force: boolean,
  log: (line: string) => void,
): DatasetManifest | null {
  if (!fs.existsSync(out)) return null;
  if (!fs.statSync(out).isDirectory()) throw new PrepareError(`output ${out} exists and is not a folder`);
  const entries = fs.readdirSync(out).filter((e) => e !== TMP);
  if (entries.length === 0) return null;
  if (!fs.existsSync(path.join(out, MANIFEST))) {
    throw new PrepareError(
      `output folder ${out} is not empty and holds no dataset manifest (${entries.slice(0, 5).join(', ')}${entries.length > 5 ? ', …' : ''}); choose an empty or new folder`,
    );
  }
  const old = readManifest(out);
  if (old.fingerprint === fingerprint && allFilesPresent(out, old)) {
    log(`${out} already holds this dataset (same inputs and options): reusing it`);
    return old;
  }
  if (!force) {
    throw new PrepareError(
      `output folder ${out} already holds a different dataset (${describeDifference(old, options, inputInfo)}); pass --force to overwrite it or choose another --out`,
    );
  }
  log(`--force: replacing the dataset in ${out}`);
  const listed = new Set<string>([MANIFEST]);
  listed.add(old.spm.model).add(old.spm.vocab);
  for (const s of Object.values(old.splits)) {
    if (!s) continue;
    for (const f of [s.src.ids, s.src.off, s.tgt.ids, s.tgt.off, s.lines, s.src.text, s.tgt.text]) if (f) listed.add(f);
  }
  const foreign = entries.filter((e) => !listed.has(e));
  if (foreign.length > 0)
    throw new PrepareError(
      `--force: ${out} also holds files this tool did not write (${foreign.slice(0, 5).join(', ')}); move them away first`,
    );
  for (const e of entries) fs.rmSync(path.join(out, e), { force: true });
  return null;
}

/** The cleaned training text: one file a side, how many pairs were kept, and what was dropped so far. */
interface CleanedTrain {
  src: string;
  tgt: string;
  /** The raw line number of each kept pair. */
  kept: string;
  keptCount: number;
  dropped: Record<DropReason, number>;
}

/**
 * Step 3: clean the training text (drop pairs with an empty side), keeping the raw line numbers
 * (in a file, like everything per pair here: memory does not grow with the corpus).
 */
function cleanTrain(train: FilePair, total: number, tmp: string, log: (line: string) => void): CleanedTrain {
  const cleaned = {
    src: path.join(tmp, 'train.clean.src'),
    tgt: path.join(tmp, 'train.clean.tgt'),
    kept: path.join(tmp, 'train.kept'),
  };
  const ws = new LineWriter(cleaned.src);
  const wt = new LineWriter(cleaned.tgt);
  const keptLines = new Uint32FileWriter(cleaned.kept);
  const dropped: Record<DropReason, number> = { empty: 0, tooLong: 0, ratio: 0 };
  const p1 = progress(log, 'cleaning train', total);
  try {
    for (const [s, t, lineNo] of zipLines(train)) {
      const cs = normalizeLine(s);
      const ct = normalizeLine(t);
      if (cs.length === 0 || ct.length === 0) dropped.empty++;
      else {
        ws.write(cs);
        wt.write(ct);
        keptLines.push(lineNo);
      }
      p1.tick(lineNo);
    }
  } finally {
    ws.close();
    wt.close();
    keptLines.close();
  }
  p1.done(`${dropped.empty} pairs with an empty side dropped`);
  const keptCount = keptLines.count;
  if (keptCount === 0)
    throw new PrepareError(`no training pair is left after cleaning ${train.src} / ${train.tgt} (all had an empty side)`);
  return { ...cleaned, keptCount, dropped };
}

/**
 * Step 4: joint SentencePiece on both sides of the cleaned training text; spm_train samples
 * spmInputSentenceSize sentences from them while reading (reservoir sampling), so its memory
 * follows that number, not the corpus.
 */
async function trainJointSpm(
  cleaned: CleanedTrain,
  tmp: string,
  options: PrepareOptions,
  spmBin: string | undefined,
  log: (line: string) => void,
): Promise<{ trained: ReturnType<typeof trainSentencePiece>; sp: SentencePiece }> {
  const spmOpts = {
    ...DEFAULT_SPM_TRAIN,
    vocabSize: options.vocabSize,
    modelType: options.modelType,
    inputSentenceSize: options.spmInputSentenceSize,
    threads: options.spmThreads,
    seed: options.spmSeed,
    bin: spmBin ?? DEFAULT_SPM_TRAIN.bin,
  };
  const t0 = Date.now();
  const sentences = 2 * cleaned.keptCount;
  log(
    `training SentencePiece (${options.modelType}, vocab ${options.vocabSize}) on ${options.spmInputSentenceSize > 0 && options.spmInputSentenceSize < sentences ? `${options.spmInputSentenceSize.toLocaleString('en-US')} sampled of ` : ''}${sentences.toLocaleString('en-US')} sentences…`,
  );
  const trained = trainSentencePiece([cleaned.src, cleaned.tgt], path.join(tmp, 'spm'), spmOpts);
  log(`SentencePiece trained in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return { trained, sp: await SentencePiece.load(trained.model) };
}

/** What encodeSplit needs besides the split: the work folder, the subword model, options, the cleaned training text. */
interface EncodeContext {
  tmp: string;
  sp: SentencePiece;
  idDtype: ReturnType<typeof idDtypeFor>;
  options: PrepareOptions;
  cleaned: CleanedTrain;
  /** Pairs read from the split's raw files. */
  read: number;
  inputs: { src: InputFileInfo; tgt: InputFileInfo };
  log: (line: string) => void;
}

/**
 * Step 5: encode one split into its binary files: train (filtered by subword length and ratio)
 * from the cleaned text, valid/test (unfiltered, their normalized text kept beside) from the raw.
 */
function encodeSplit(name: SplitName, pair: FilePair, ctx: EncodeContext): SplitInfo {
  const { tmp, sp, idDtype, options, cleaned, log } = ctx;
  const filt = { maxLen: options.maxLen, maxRatio: options.maxRatio };
  const isTrain = name === 'train';
  const src = new TokenFileWriter(path.join(tmp, `${name}.src`), idDtype, sp.vocabSize);
  const tgt = new TokenFileWriter(path.join(tmp, `${name}.tgt`), idDtype, sp.vocabSize);
  const lines = new Uint32FileWriter(path.join(tmp, `${name}.lines`));
  const kept = isTrain ? new Uint32FileReader(cleaned.kept) : null;
  const textSrc = isTrain ? null : new LineWriter(path.join(tmp, `${name}.src.txt`));
  const textTgt = isTrain ? null : new LineWriter(path.join(tmp, `${name}.tgt.txt`));
  // train continues the cleaning's count of dropped pairs; valid/test drop nothing
  const dropped: Record<DropReason, number> = isTrain ? { ...cleaned.dropped } : { empty: 0, tooLong: 0, ratio: 0 };
  let emptyKept = 0;
  const total = isTrain ? cleaned.keptCount : ctx.read;
  const pr = progress(log, `encoding ${name}`, total);
  let k = 0;
  const source = isTrain ? zipLines({ src: cleaned.src, tgt: cleaned.tgt }) : zipLines(pair);
  for (const [rs, rt, lineNo] of source) {
    const s = isTrain ? rs : normalizeLine(rs);
    const t = isTrain ? rt : normalizeLine(rt);
    const si = sp.encode(s);
    const ti = sp.encode(t);
    const rawLine = kept ? kept.next() : lineNo;
    if (isTrain) {
      const why = filterPair(si.length, ti.length, filt);
      if (why) {
        dropped[why]++;
        k++;
        pr.tick(k);
        continue;
      }
    } else {
      if (s.length === 0 || t.length === 0) emptyKept++;
      textSrc!.write(s);
      textTgt!.write(t);
    }
    src.add(si);
    tgt.add(ti);
    lines.push(rawLine);
    k++;
    pr.tick(k);
  }
  textSrc?.close();
  textTgt?.close();
  kept?.close();
  const ws = src.close();
  const wt = tgt.close();
  lines.close();
  pr.done(
    isTrain
      ? `${lines.count.toLocaleString('en-US')} pairs kept; dropped: ${dropped.empty} empty, ${dropped.tooLong} longer than ${options.maxLen} tokens, ${dropped.ratio} with length ratio > ${options.maxRatio}`
      : `${lines.count} pairs, ${ws.tokens + wt.tokens} tokens${emptyKept ? `, ${emptyKept} with an empty side (kept)` : ''}`,
  );
  if (isTrain && lines.count === 0)
    throw new PrepareError(
      `every training pair was filtered out (maxLen ${options.maxLen}, maxRatio ${options.maxRatio}); relax the filters`,
    );
  const side = (s: 'src' | 'tgt', w: typeof ws) => ({
    ids: `${name}.${s}.ids`,
    off: `${name}.${s}.off`,
    offsetDtype: w.offsetDtype,
    tokens: w.tokens,
    ...(isTrain ? {} : { text: `${name}.${s}.txt` }),
  });
  return {
    read: ctx.read,
    pairs: lines.count,
    dropped,
    ...(isTrain ? {} : { emptyKept }),
    src: side('src', ws),
    tgt: side('tgt', wt),
    lines: `${name}.lines`,
    inputs: ctx.inputs,
  };
}

/** Step 6: move the dataset's files from the work folder into `out` (work files stay behind and go with it), the manifest last. */
function moveIntoPlace(tmp: string, out: string, manifest: DatasetManifest): void {
  for (const e of fs.readdirSync(tmp)) {
    if (e.startsWith('spm-input.') || e === 'train.clean.src' || e === 'train.clean.tgt' || e === 'train.kept') continue;
    fs.renameSync(path.join(tmp, e), path.join(out, e));
  }
  writeTextAtomic(path.join(out, MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
  fs.rmSync(tmp, { recursive: true, force: true });
}

export { TextInputError };
