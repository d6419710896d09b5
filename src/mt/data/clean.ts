// Text normalisation and parallel-corpus filtering before and after SentencePiece.
//
// normalizeLine (every split, every side) — what the dataset's text IS; the binary data decodes
// back to exactly this string (SentencePiece is trained with the `identity` normalisation rule,
// so it adds no normalisation of its own):
//   1. Unicode NFC (composes e.g. "e" + U+0301 into "é"; never changes how the text reads,
//      unlike NFKC, which would turn "²" into "2" or "ﬁ" into "fi");
//   2. control characters (Unicode Cc: C0, DEL, C1) removed, except that tab, CR, LF, and the
//      other whitespace below become spaces; other code points that print nothing removed too:
//      format characters (Cf: soft hyphen, zero-width space, bidi marks and isolates, word
//      joiner, tag characters …; ZWJ and ZWNJ stay, they change how some scripts and emoji
//      read; U+FEFF is whitespace, step 3), lone surrogates (a JSON "\ud800" escape) and noncharacters (U+FDD0–FDEF, U+xFFFE/F);
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

/**
 * Format characters but ZWNJ, ZWJ and U+FEFF (whitespace in step 3), lone surrogates, and the
 * noncharacters U+FDD0–FDEF and U+xFFFE/xFFFF of every plane (step 2 of the file comment).
 */
const INVISIBLE =
  // biome-ignore lint/suspicious/noMisleadingCharacterClass: ZWNJ/ZWJ/BOM are listed to be EXCLUDED from the Cf class, not joined
  /[^\P{Cf}\u200c\u200d\ufeff]|\p{Cs}|[\u{FDD0}-\u{FDEF}]|[\u{FFFE}\u{FFFF}\u{1FFFE}\u{1FFFF}\u{2FFFE}\u{2FFFF}\u{3FFFE}\u{3FFFF}\u{4FFFE}\u{4FFFF}\u{5FFFE}\u{5FFFF}\u{6FFFE}\u{6FFFF}\u{7FFFE}\u{7FFFF}\u{8FFFE}\u{8FFFF}\u{9FFFE}\u{9FFFF}\u{AFFFE}\u{AFFFF}\u{BFFFE}\u{BFFFF}\u{CFFFE}\u{CFFFF}\u{DFFFE}\u{DFFFF}\u{EFFFE}\u{EFFFF}\u{FFFFE}\u{FFFFF}\u{10FFFE}\u{10FFFF}]/gu;

/** Normalise one line (see the file comment). Idempotent. */
export function normalizeLine(line: string): string {
  return line
    .normalize('NFC')
    .replace(/[^\P{Cc}\t\n\v\f\r]/gu, '') // control characters that are not whitespace
    .replace(INVISIBLE, '')
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
    'every split: Unicode NFC, control and invisible format characters removed, whitespace runs -> one space, trimmed; ' +
    `train only: drop pairs with an empty side, a side longer than ${opt.maxLen} subword tokens, ` +
    `or a token-length ratio above ${opt.maxRatio}`
  );
}
