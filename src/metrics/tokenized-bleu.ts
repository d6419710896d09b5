// Paper-style "tokenized BLEU" (as in the ResMLP paper's WMT numbers via fairseq): Moses-tokenize
// hypotheses and references, split hyphenated compounds like fairseq's
// scripts/compound_split_bleu.sh (perl `s{(\S)-(\S)}{$1 ##AT##-##AT## $2}g`), then BLEU on
// whitespace tokens. This is NOT sacreBLEU: the score is named "tokenized BLEU" and its
// signature says `tok:moses-<lang>+compound`, so the two are never confused.
import { resolveConfig } from '../util/config.js';
import { BLEU, type BLEUOptions } from './bleu.js';
import { MosesTokenizer, type MosesLang } from './moses.js';
import { memoize, type Tokenizer } from './tokenizers/base.js';

// Perl \S without the utf8 flag: anything but [ \t\n\r\f\v]; matches whole code points here.
const COMPOUND = /([^ \t\n\r\f\v])-([^ \t\n\r\f\v])/gu;

/** fairseq's compound splitting: 'a-b' -> 'a ##AT##-##AT## b' (non-overlapping, left to right). */
export function compoundSplit(line: string): string {
  return line.replace(COMPOUND, '$1 ##AT##-##AT## $2');
}

export interface TokenizedBLEUOptions {
  /** Moses tokenizer language: 'en', 'de' or 'fr'. Default 'en'. */
  lang: MosesLang;
  /** Moses XML escaping (tokenizer.perl default). Default true. */
  escape: boolean;
  /** Split hyphens as compounds (fairseq compound_split_bleu.sh). Default true. */
  compoundSplit: boolean;
  /** Lowercase before tokenizing. Default false. */
  lowercase: boolean;
  /** Smoothing; default 'none' as in multi-bleu.perl / fairseq-score. */
  smoothMethod: BLEUOptions['smoothMethod'];
  smoothValue: number | null;
  /** References to pre-compute and cache. */
  references: readonly (readonly string[])[] | null;
}

export const DEFAULT_TOKENIZED_BLEU_OPTIONS: Readonly<TokenizedBLEUOptions> = {
  lang: 'en',
  escape: true,
  compoundSplit: true,
  lowercase: false,
  smoothMethod: 'none',
  smoothValue: null,
  references: null,
};

/** Moses tokenization (+ compound splitting) as a BLEU tokenizer with its own signature. */
export class MosesCompoundTokenizer implements Tokenizer {
  private readonly moses: MosesTokenizer;
  constructor(
    readonly lang: MosesLang,
    // biome-ignore lint/suspicious/noShadowRestrictedNames: sacremoses' option name
    private readonly escape = true,
    private readonly split = true,
  ) {
    this.moses = new MosesTokenizer(lang);
  }
  readonly tokenize = memoize((line: string): string => {
    const tok = this.moses.tokenize(line, { escape: this.escape });
    return this.split ? compoundSplit(tok) : tok;
  });
  signature(): string {
    return `moses-${this.lang}${this.split ? '+compound' : ''}${this.escape ? '' : '-noescape'}`;
  }
}

/** BLEU on Moses-tokenized, compound-split text, printed as "tokenized BLEU". */
export class TokenizedBLEU extends BLEU {
  constructor(options?: Partial<TokenizedBLEUOptions>) {
    const o = resolveConfig('TokenizedBLEU', DEFAULT_TOKENIZED_BLEU_OPTIONS, options);
    super(
      { lowercase: o.lowercase, smoothMethod: o.smoothMethod, smoothValue: o.smoothValue, references: null },
      new MosesCompoundTokenizer(o.lang, o.escape, o.compoundSplit),
    );
    this.scoreName = 'tokenized BLEU';
    if (o.references) this.refCache = this.cacheReferences(o.references);
  }
}
