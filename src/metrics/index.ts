// Public API of our sacreBLEU port ("sacrebleu-ts"): BLEU, chrF/chrF++ and TER equal to
// sacreBLEU 2.x, plus paper-style tokenized BLEU (Moses + compound splitting, clearly labelled).
// References are streams as in sacreBLEU: refs[k][i] is the k-th reference of segment i.
import type { Metric, Score } from './base.js';
import { BLEU, type BLEUScore, type BLEUOptions } from './bleu.js';
import { CHRF, type CHRFScore, type CHRFOptions } from './chrf.js';
import { TER, type TERScore, type TEROptions } from './ter.js';
import { TokenizedBLEU, type TokenizedBLEUOptions } from './tokenized-bleu.js';

export { Metric, Score, Signature } from './base.js';
export { BLEU, BLEUScore, BLEUSignature, computeBleu, DEFAULT_BLEU_OPTIONS, SMOOTH_DEFAULTS, MAX_NGRAM_ORDER } from './bleu.js';
export type { BLEUOptions, SmoothMethod } from './bleu.js';
export { CHRF, CHRFScore, CHRFSignature, DEFAULT_CHRF_OPTIONS } from './chrf.js';
export type { CHRFOptions } from './chrf.js';
export { TER, TERScore, TERSignature, DEFAULT_TER_OPTIONS } from './ter.js';
export type { TEROptions } from './ter.js';
export { translationEditRate } from './lib-ter.js';
export { TokenizedBLEU, DEFAULT_TOKENIZED_BLEU_OPTIONS, compoundSplit } from './tokenized-bleu.js';
export type { TokenizedBLEUOptions } from './tokenized-bleu.js';
export { MosesTokenizer, MOSES_LANGS } from './moses.js';
export type { MosesLang, MosesTokenizeOptions } from './moses.js';
export { TOKENIZERS, TOKENIZER_NAMES, getTokenizer } from './tokenizers/index.js';
export type { Tokenizer } from './tokenizers/index.js';
export { packageVersion } from './version.js';

/** A score with its signature string attached (what sacreBLEU prints next to a number). */
export type Signed<S> = S & { signature: string };

function sign<S extends object>(score: S, signature: string): Signed<S> {
  return Object.assign(score, { signature });
}

/** `m`'s corpus score with its signature (taken after scoring: it names the number of references). */
function signedCorpus<S extends Score>(m: Metric<S, unknown>, hyps: readonly string[], refs: readonly (readonly string[])[]): Signed<S> {
  const s = m.corpusScore(hyps, refs);
  return sign(s, m.getSignature().format());
}

/** `m`'s score of one sentence with its signature. */
function signedSentence<S extends Score>(m: Metric<S, unknown>, hyp: string, refs: readonly string[]): Signed<S> {
  const s = m.sentenceScore(hyp, refs);
  return sign(s, m.getSignature().format());
}

/** Corpus BLEU (sacreBLEU `corpus_bleu`): default 13a tokenization, exp smoothing. */
export function corpusBleu(hyps: readonly string[], refs: readonly (readonly string[])[], opts?: Partial<BLEUOptions>): Signed<BLEUScore> {
  return signedCorpus(new BLEU(opts), hyps, refs);
}

/** Sentence BLEU (sacreBLEU `sentence_bleu`): effective order on by default. */
export function sentenceBleu(hyp: string, refs: readonly string[], opts?: Partial<BLEUOptions>): Signed<BLEUScore> {
  return signedSentence(new BLEU({ effectiveOrder: true, ...opts }), hyp, refs);
}

/** Corpus chrF (chrF++ with `{ wordOrder: 2 }`). */
export function corpusChrf(hyps: readonly string[], refs: readonly (readonly string[])[], opts?: Partial<CHRFOptions>): Signed<CHRFScore> {
  return signedCorpus(new CHRF(opts), hyps, refs);
}

/** Sentence chrF. */
export function sentenceChrf(hyp: string, refs: readonly string[], opts?: Partial<CHRFOptions>): Signed<CHRFScore> {
  return signedSentence(new CHRF(opts), hyp, refs);
}

/** Corpus TER (score in percent, lower is better). */
export function corpusTer(hyps: readonly string[], refs: readonly (readonly string[])[], opts?: Partial<TEROptions>): Signed<TERScore> {
  return signedCorpus(new TER(opts), hyps, refs);
}

/** Sentence TER. */
export function sentenceTer(hyp: string, refs: readonly string[], opts?: Partial<TEROptions>): Signed<TERScore> {
  return signedSentence(new TER(opts), hyp, refs);
}

/**
 * Paper-style tokenized BLEU: Moses-tokenize (language `lang`), split hyphenated compounds
 * as `a ##AT##-##AT## b` (fairseq's compound_split_bleu.sh), then BLEU with no further
 * tokenization. NOT comparable with sacreBLEU; its name and signature say "tokenized BLEU".
 */
export function tokenizedBleu(
  hyps: readonly string[],
  refs: readonly (readonly string[])[],
  opts?: Partial<TokenizedBLEUOptions>,
): Signed<BLEUScore> {
  return signedCorpus(new TokenizedBLEU(opts), hyps, refs);
}
