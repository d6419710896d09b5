// Text normalisation and parallel-corpus filtering before and after SentencePiece.
//
// normalizeLine (every split, every side) — what the dataset's text IS; the binary data decodes
// back to exactly this string (SentencePiece is trained with the `identity` normalisation rule,
// so it adds no normalisation of its own):
//   1. Unicode NFC (composes e.g. "e" + U+0301 into "é"; never changes how the text reads,
//      unlike NFKC, which would turn "²" into "2" or "ﬁ" into "fi");
//   2. control characters (Unicode Cc: C0, DEL, C1) removed, except that tab, CR, LF, and the
//      other whitespace below become spaces;
//   3. every run of whitespace (JS `\s`: space, tab, NBSP, U+2000–U+200A, U+2028/9, U+3000,
//      U+FEFF …) collapsed to one ASCII space; leading/trailing whitespace trimmed.
//
// filterPair (training split only; valid/test are never filtered, so their scores stay
// comparable with published numbers) — after SentencePiece encoding, like fairseq's
// prepare-wmt14en2de.sh, which runs Moses' clean-corpus-n.perl (-ratio 1.5, lengths 1..250) on
// the subword-segmented text:
//   - empty: either side is empty after normalisation;
//   - tooLong: either side has more than maxLen subword tokens;
//   - ratio: max(len) / min(len) > maxRatio (token counts).

/** Normalise one line (see the file comment). Idempotent. */
export function normalizeLine(line: string): string {
  return line
    .normalize('NFC')
    .replace(/[^\P{Cc}\t\n\v\f\r]/gu, '') // control characters that are not whitespace
    .replace(/\s+/gu, ' ')
    .trim();
}

export type DropReason = 'empty' | 'tooLong' | 'ratio';

export interface FilterOptions {
  /** Longest kept side, in subword tokens. */
  maxLen: number;
  /** Largest kept max(len)/min(len) of the two sides (token counts). */
  maxRatio: number;
}

/** Why a training pair is dropped, or null if kept. Lengths are token counts. */
export function filterPair(srcLen: number, tgtLen: number, opt: FilterOptions): DropReason | null {
  if (srcLen === 0 || tgtLen === 0) return 'empty';
  if (srcLen > opt.maxLen || tgtLen > opt.maxLen) return 'tooLong';
  if (Math.max(srcLen, tgtLen) / Math.min(srcLen, tgtLen) > opt.maxRatio) return 'ratio';
  return null;
}

/** A human-readable statement of the cleaning, stored in the manifest. */
export function describeCleaning(opt: FilterOptions): string {
  return (
    'every split: Unicode NFC, whitespace runs -> one space, control characters removed, trimmed; ' +
    `train only: drop pairs with an empty side, a side longer than ${opt.maxLen} subword tokens, ` +
    `or a token-length ratio above ${opt.maxRatio}`
  );
}
