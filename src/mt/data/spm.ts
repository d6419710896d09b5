// SentencePiece (Kudo & Richardson 2018, arXiv 1808.06226): a joint subword vocabulary for both
// languages. Training runs Debian's `spm_train` (0.1.97; no JS port can train); encoding and
// decoding run the same C++ library compiled to wasm (`@agnai/sentencepiece-js`), which gives the
// ids of `spm_encode` (tested). Its `cleanText` is never called: it lower-cases and drops text.
//
// Fixed special ids (every model this project trains): pad 0, unk 1, bos (<s>) 2, eos (</s>) 3.
// The normalisation rule is `identity`: the text is normalised once, by clean.ts, so
// decode(encode(s)) === s for every s made of characters seen in training
// (character_coverage 1.0 keeps all of them).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { SentencePieceProcessor } from '@agnai/sentencepiece-js';
import { UserError } from '../../util/errors.js';

export const SPECIAL_IDS = { pad: 0, unk: 1, bos: 2, eos: 3 } as const;
const SPECIAL_PIECES = { pad: '<pad>', unk: '<unk>', bos: '<s>', eos: '</s>' } as const;

export class SentencePieceError extends UserError {
  constructor(message: string) {
    super(message, 'invalid_data');
  }
}

export interface SpmTrainOptions {
  /** Vocabulary size, special symbols included. Default 8000. */
  vocabSize: number;
  /** 'unigram' (Kudo 2018, SentencePiece's default) or 'bpe'. Default 'unigram'. */
  modelType: 'unigram' | 'bpe';
  /** Fraction of characters covered by the vocabulary. Default 1.0 (every character). */
  characterCoverage: number;
  /**
   * At most this many sentences (sampled, seeded) are loaded by the trainer; 0 = all.
   * Default 1,000,000 (bounds memory on WMT: ~24 bytes per sampled character in the unigram
   * trainer; Multi30k's 58k are all used).
   */
  inputSentenceSize: number;
  /** spm_train --num_threads. Default 2. */
  threads: number;
  /** spm_train --random_seed. Default 1. */
  seed: number;
  /** The spm_train executable. Default 'spm_train' (on PATH). */
  bin: string;
}

export const DEFAULT_SPM_TRAIN: SpmTrainOptions = {
  vocabSize: 8000,
  modelType: 'unigram',
  characterCoverage: 1.0,
  inputSentenceSize: 1_000_000,
  threads: 2,
  seed: 1,
  bin: 'spm_train',
};

/** The spm_train command line for `inputs` (text files, one sentence a line). */
export function spmTrainArgs(inputs: string[], modelPrefix: string, opt: SpmTrainOptions): string[] {
  return [
    `--input=${inputs.join(',')}`,
    `--model_prefix=${modelPrefix}`,
    `--vocab_size=${opt.vocabSize}`,
    `--model_type=${opt.modelType}`,
    `--character_coverage=${opt.characterCoverage}`,
    `--pad_id=${SPECIAL_IDS.pad}`,
    `--unk_id=${SPECIAL_IDS.unk}`,
    `--bos_id=${SPECIAL_IDS.bos}`,
    `--eos_id=${SPECIAL_IDS.eos}`,
    '--normalization_rule_name=identity',
    `--input_sentence_size=${opt.inputSentenceSize}`,
    '--shuffle_input_sentence=true',
    `--num_threads=${opt.threads}`,
    `--random_seed=${opt.seed}`,
    '--minloglevel=1',
  ];
}

/**
 * Trains a model with spm_train; writes `<modelPrefix>.model` and `<modelPrefix>.vocab`.
 * Errors: spm_train missing (names the Debian package), or its failure with its last stderr lines.
 */
export function trainSentencePiece(
  inputs: string[],
  modelPrefix: string,
  opt: SpmTrainOptions,
): { model: string; vocab: string; args: string[] } {
  const args = spmTrainArgs(inputs, modelPrefix, opt);
  const r = spawnSync(opt.bin, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new SentencePieceError(`${opt.bin} not found on PATH: install SentencePiece's tools with \`apt-get install sentencepiece\``);
    }
    throw new SentencePieceError(`cannot run ${opt.bin}: ${r.error.message}`);
  }
  if (r.status !== 0) {
    const tail = (r.stderr || '').trim().split('\n').slice(-5).join('\n');
    throw new SentencePieceError(`${opt.bin} failed (exit ${r.status ?? r.signal}) on ${inputs.join(', ')}:\n${tail}`);
  }
  return { model: `${modelPrefix}.model`, vocab: `${modelPrefix}.vocab`, args };
}

/** Pieces of a `.vocab` file (piece TAB score, one a line), in id order. */
export function readVocab(vocabPath: string): string[] {
  if (!fs.existsSync(vocabPath)) {
    throw new SentencePieceError(`vocabulary file ${vocabPath} is missing (spm_train writes it beside the .model)`);
  }
  const lines = fs.readFileSync(vocabPath, 'utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((l, i) => {
    const tab = l.lastIndexOf('\t');
    if (tab < 0) throw new SentencePieceError(`${vocabPath}:${i + 1}: expected 'piece<TAB>score', got ${JSON.stringify(l)}`);
    return l.slice(0, tab);
  });
}

/** A loaded SentencePiece model: encode/decode plus the vocabulary facts the model needs. */
export class SentencePiece {
  private constructor(
    private readonly sp: SentencePieceProcessor,
    readonly modelPath: string,
    readonly pieces: string[],
    readonly padId: number,
    readonly unkId: number,
    readonly bosId: number,
    readonly eosId: number,
  ) {}

  /**
   * Loads `modelPath` and the `.vocab` beside it (same name, `.vocab` extension): the JS
   * library exposes no vocabulary size. Checks that the model loaded and agrees with the vocab.
   */
  static async load(modelPath: string, vocabPath?: string): Promise<SentencePiece> {
    const abs = path.resolve(modelPath);
    if (!fs.existsSync(abs)) throw new SentencePieceError(`SentencePiece model ${abs} does not exist`);
    const vocab = vocabPath ?? abs.replace(/\.model$/, '') + '.vocab';
    const pieces = readVocab(vocab);
    const sp = new SentencePieceProcessor();
    await sp.load(abs);
    // The library ignores the load status; read it ourselves.
    const inner = sp as unknown as { processor: { status(): { ToString(): string; delete(): void } } };
    const status = inner.processor.status();
    const msg = status.ToString();
    status.delete();
    if (msg !== 'OK') throw new SentencePieceError(`cannot load SentencePiece model ${abs}: ${msg}`);
    const ids: Record<keyof typeof SPECIAL_PIECES, number> = { pad: -1, unk: -1, bos: -1, eos: -1 };
    for (const k of Object.keys(SPECIAL_PIECES) as (keyof typeof SPECIAL_PIECES)[]) {
      ids[k] = pieces.indexOf(SPECIAL_PIECES[k]);
      if (ids[k] < 0) {
        throw new SentencePieceError(
          `${vocab} has no ${SPECIAL_PIECES[k]} piece: train with --pad_id=0 --unk_id=1 --bos_id=2 --eos_id=3 (see spmTrainArgs)`,
        );
      }
    }
    const model = new SentencePiece(sp, abs, pieces, ids.pad, ids.unk, ids.bos, ids.eos);
    // a .vocab from another model would give wrong sizes silently: cross-check a few pieces
    for (const id of [ids.eos, pieces.length - 1, Math.floor(pieces.length / 2)]) {
      const piece = pieces[id]!;
      if (model.pieceToId(piece) !== id) {
        throw new SentencePieceError(
          `${vocab} does not belong to ${abs}: piece ${JSON.stringify(piece)} has id ${model.pieceToId(piece)} in the model, ${id} in the vocab`,
        );
      }
    }
    return model;
  }

  /** Number of pieces (ids are 0 … vocabSize−1). */
  get vocabSize(): number {
    return this.pieces.length;
  }

  /** Subword ids of `text` (no BOS/EOS added). */
  encode(text: string): number[] {
    if (text.length === 0) return [];
    return this.sp.encodeIds(text) as number[];
  }

  /** Subword pieces of `text`. */
  encodePieces(text: string): string[] {
    if (text.length === 0) return [];
    return this.sp.encodePieces(text) as string[];
  }

  /** Text of `ids`; pad/bos/eos are control symbols and decode to nothing. */
  decode(ids: ArrayLike<number>): string {
    if (ids.length === 0) return '';
    return this.sp.decodeIds(Array.from(ids));
  }

  /** Id of a piece (unkId if absent). */
  pieceToId(piece: string): number {
    const inner = this.sp as unknown as {
      sentencepiece: { StringView: new (s: string) => { getView(): { delete(): void }; delete(): void } };
      processor: { PieceToId(v: unknown): number };
    };
    const sv = new inner.sentencepiece.StringView(piece);
    const view = sv.getView();
    const id = inner.processor.PieceToId(view);
    view.delete();
    sv.delete();
    return id;
  }

  /** Piece of an id. */
  idToPiece(id: number): string {
    const p = this.pieces[id];
    if (p === undefined) throw new SentencePieceError(`id ${id} is outside the vocabulary (size ${this.vocabSize})`);
    return p;
  }
}
