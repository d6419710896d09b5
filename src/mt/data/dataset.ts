// The prepared dataset on disk: its JSON manifest (format version, vocabulary, counts, dropped
// counts, input checksums, options) and the reader that opens a split as parallel token
// sequences. Written by prepare.ts; read by training, evaluation and the batcher.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DatasetFormatError, TokenFile, readUint32File, type IdDtype, type OffsetDtype } from './binary-dataset.js';

export const FORMAT_NAME = 'resmlp-mt-binary';
export const FORMAT_VERSION = 1;
export const MANIFEST = 'manifest.json';

export type SplitName = 'train' | 'valid' | 'test';
export type Side = 'src' | 'tgt';

export interface InputFileInfo {
  path: string;
  sha256: string;
  bytes: number;
}

export interface SideInfo {
  /** Files relative to the dataset folder. */
  ids: string;
  off: string;
  offsetDtype: OffsetDtype;
  tokens: number;
  /** Cleaned text of the split (valid/test only; the references to score against). */
  text?: string;
}

export interface SplitInfo {
  /** Lines read from the raw input. */
  read: number;
  /** Pairs kept (= sentences in each side's files). */
  pairs: number;
  /** Pairs dropped, by reason (train only; valid/test keep every line). */
  dropped: { empty: number; tooLong: number; ratio: number };
  /** Kept lines whose side is empty after cleaning (valid/test only; kept, not dropped). */
  emptyKept?: number;
  src: SideInfo;
  tgt: SideInfo;
  /** uint32 file: 1-based raw line number of each kept pair. */
  lines: string;
  inputs: { src: InputFileInfo; tgt: InputFileInfo };
}

export interface DatasetManifest {
  format: typeof FORMAT_NAME;
  version: number;
  createdAt: string;
  /** sha256 of (format version, options, input checksums): equal fingerprints → same dataset. */
  fingerprint: string;
  langs: { src: string; tgt: string };
  options: Record<string, unknown>;
  cleaning: string;
  spm: {
    model: string;
    vocab: string;
    sha256: string;
    vocabSize: number;
    modelType: string;
    padId: number;
    unkId: number;
    bosId: number;
    eosId: number;
    trainArgs: string[];
    trainSentences: number;
  };
  idDtype: IdDtype;
  splits: Partial<Record<SplitName, SplitInfo>>;
}

/** Reads and checks `<dir>/manifest.json`. */
export function readManifest(dir: string): DatasetManifest {
  const file = path.join(dir, MANIFEST);
  if (!fs.existsSync(file))
    throw new DatasetFormatError(`${dir} holds no prepared dataset (no ${MANIFEST}); run \`resmlp mt prepare\` first`);
  let m: DatasetManifest;
  try {
    m = JSON.parse(fs.readFileSync(file, 'utf8')) as DatasetManifest;
  } catch (e) {
    throw new DatasetFormatError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  if (m.format !== FORMAT_NAME) throw new DatasetFormatError(`${file}: format ${JSON.stringify(m.format)}, expected ${FORMAT_NAME}`);
  if (m.version !== FORMAT_VERSION)
    throw new DatasetFormatError(`${file}: format version ${m.version}, this code reads version ${FORMAT_VERSION}`);
  return m;
}

/** One split: pairs of token sequences (no BOS/EOS stored). */
export class ParallelSplit {
  private lineNumbers: Uint32Array | null;
  private readonly linesFile: string | null;

  /** `lines`: the line numbers, or the path of the `<split>.lines` file (read on first use). */
  constructor(
    readonly name: SplitName,
    readonly src: TokenFile,
    readonly tgt: TokenFile,
    lines: Uint32Array | string,
  ) {
    this.lineNumbers = typeof lines === 'string' ? null : lines;
    this.linesFile = typeof lines === 'string' ? lines : null;
    let count: number;
    if (typeof lines !== 'string') count = lines.length;
    else if (!fs.existsSync(lines)) throw new DatasetFormatError(`dataset file ${lines} is missing`);
    else count = fs.statSync(lines).size / 4;
    if (src.size !== tgt.size || src.size !== count) {
      throw new DatasetFormatError(`split ${name}: ${src.size} source, ${tgt.size} target sentences and ${count} line numbers differ`);
    }
  }

  /** 1-based raw line number of each pair (read from disk on first use). */
  get lines(): Uint32Array {
    if (this.lineNumbers === null) this.lineNumbers = readUint32File(this.linesFile!);
    return this.lineNumbers;
  }

  get size(): number {
    return this.src.size;
  }

  close(): void {
    this.src.close();
    this.tgt.close();
  }
}

export class PreparedDataset {
  private constructor(
    readonly dir: string,
    readonly manifest: DatasetManifest,
    private readonly inMemory: boolean | 'auto',
  ) {}

  /**
   * Opens a prepared dataset folder. `inMemory`: true loads every token file whole, false reads
   * sentences on demand, 'auto' (default) loads small files and reads large ones on demand
   * (binary-dataset.ts), so a WMT-size training split is not held in memory.
   */
  static open(dir: string, opts: { inMemory?: boolean | 'auto' } = {}): PreparedDataset {
    return new PreparedDataset(dir, readManifest(dir), opts.inMemory ?? 'auto');
  }

  /** Absolute path of the SentencePiece model. */
  get spmModel(): string {
    return path.resolve(this.dir, this.manifest.spm.model);
  }

  /** Split names present. */
  get splits(): SplitName[] {
    return (['train', 'valid', 'test'] as SplitName[]).filter((s) => this.manifest.splits[s] !== undefined);
  }

  split(name: SplitName): ParallelSplit {
    const info = this.manifest.splits[name];
    if (!info) throw new DatasetFormatError(`${this.dir} has no ${name} split (it has: ${this.splits.join(', ')})`);
    const side = (s: SideInfo) =>
      new TokenFile(path.join(this.dir, s.ids.replace(/\.ids$/, '')), this.manifest.idDtype, s.offsetDtype, { inMemory: this.inMemory });
    return new ParallelSplit(name, side(info.src), side(info.tgt), path.join(this.dir, info.lines));
  }

  /** Cleaned text lines of a valid/test side (the references), or null for train. */
  text(name: SplitName, side: Side): string[] | null {
    const f = this.manifest.splits[name]?.[side].text;
    if (!f) return null;
    const lines = fs.readFileSync(path.join(this.dir, f), 'utf8').split('\n');
    lines.pop(); // trailing newline
    return lines;
  }
}
