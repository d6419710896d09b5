// Sentence segmentation of running text: ICU's sentence breaks (UAX #29, through Node's built-in
// `Intl.Segmenter` with sentence granularity) plus the suppressions ICU applies when asked for
// them (CLDR's segmentation exceptions, `ss=standard`), which V8's Intl.Segmenter does not
// expose. A break is suppressed (the two pieces stay one sentence) when:
//   - nothing separates the pieces (no whitespace after the break): ICU breaks inside URLs,
//     file names and "a.b?c=d", but sentences of running text are followed by a space or a
//     line break (except after a full-width stop: Chinese and Japanese put no space there);
//   - the piece ends in an abbreviation of the language ("Mr.", "e.g.", "z. B.", "M.", …) or a
//     single-letter initial ("J. K. Rowling");
//   - the piece is only a number or a list marker ("1.", "iv.", "a)"), or, in languages that
//     write ordinals with a dot (German "am 3. Mai"), ends in one.
// A break after a line break is never suppressed: lines stay lines. Sentences are returned as
// ranges of the text without their surrounding whitespace; what lies between them (spaces, line
// breaks) is the caller's to keep.

/** A range [start, end) of a string (UTF-16 offsets). */
export interface TextRange {
  start: number;
  end: number;
}

/** Abbreviations (lower case, with their final dot) after which a sentence does not end. */
const ABBREVIATIONS: Record<string, readonly string[]> = {
  en: [
    'mr.',
    'mrs.',
    'ms.',
    'dr.',
    'prof.',
    'st.',
    'mt.',
    'jr.',
    'sr.',
    'vs.',
    'etc.',
    'e.g.',
    'i.e.',
    'cf.',
    'approx.',
    'no.',
    'nos.',
    'fig.',
    'vol.',
    'ed.',
    'inc.',
    'ltd.',
    'co.',
    'corp.',
    'dept.',
    'gen.',
    'gov.',
    'rev.',
    'sgt.',
    'capt.',
    'col.',
    'lt.',
    'u.s.',
    'u.k.',
    'a.m.',
    'p.m.',
    'jan.',
    'feb.',
    'mar.',
    'apr.',
    'jun.',
    'jul.',
    'aug.',
    'sep.',
    'sept.',
    'oct.',
    'nov.',
    'dec.',
    'ph.d.',
    'ave.',
    'blvd.',
    'est.',
  ],
  de: [
    'z.',
    'd.',
    'u.',
    'o.',
    'v.',
    'z.b.',
    'z. b.',
    'd.h.',
    'd. h.',
    'u.a.',
    'u. a.',
    'usw.',
    'bzw.',
    'ca.',
    'evtl.',
    'ggf.',
    'inkl.',
    'nr.',
    'str.',
    'dr.',
    'prof.',
    'hr.',
    'fr.',
    'vgl.',
    's.',
    'bd.',
    'abs.',
    'tel.',
    'sog.',
    'z.t.',
    'u.u.',
    'o.ä.',
    'jh.',
    'jhd.',
    'geb.',
    'gest.',
    'mio.',
    'mrd.',
    'etc.',
    'dt.',
    'engl.',
    'franz.',
    'allg.',
    'bzgl.',
    'einschl.',
    'zzgl.',
  ],
  fr: [
    'm.',
    'mm.',
    'mme.',
    'mlle.',
    'dr.',
    'pr.',
    'st.',
    'ste.',
    'etc.',
    'cf.',
    'p.ex.',
    'p. ex.',
    'c.-à-d.',
    'av.',
    'bd.',
    'env.',
    'no.',
    'n°.',
    'vol.',
    'éd.',
    'chap.',
    'fig.',
    'janv.',
    'févr.',
    'avr.',
    'juil.',
    'sept.',
    'oct.',
    'nov.',
    'déc.',
  ],
};

/** Languages that write ordinal numbers with a trailing dot ("3. Mai"). */
const ORDINAL_DOT = new Set([
  'de',
  'da',
  'nb',
  'no',
  'nn',
  'fi',
  'is',
  'cs',
  'sk',
  'sl',
  'hr',
  'sr',
  'bs',
  'pl',
  'hu',
  'et',
  'lv',
  'lt',
  'tr',
  'fo',
]);

const segmenters = new Map<string, Intl.Segmenter>();
function segmenter(lang: string): Intl.Segmenter {
  let s = segmenters.get(lang);
  if (!s) {
    s = new Intl.Segmenter(lang, { granularity: 'sentence' });
    segmenters.set(lang, s);
  }
  return s;
}

const LIST_MARKER = /^(?:\d{1,4}|[ivxlcdm]{1,6}|[a-z])[.)]$/iu;
const ENDS_IN_ORDINAL = /(?:^|\s)\d{1,4}\.$/u;
const FULL_WIDTH_END = /[\u3002\uff0e\uff01\uff1f\uff61][\p{Pe}\p{Pf}\u300d\u300f]*$/u;
const INITIAL = /(?:^|[\s(])\p{Lu}\.$/u;

/** True if the break after `piece` (trimmed, non-empty) should not end a sentence. */
function suppressed(piece: string, lang: string): boolean {
  if (LIST_MARKER.test(piece)) return true;
  if (ORDINAL_DOT.has(lang) && ENDS_IN_ORDINAL.test(piece)) return true;
  if (!piece.endsWith('.')) return false;
  if (INITIAL.test(piece)) return true;
  const lower = piece.toLowerCase();
  for (const abbr of ABBREVIATIONS[lang] ?? ABBREVIATIONS.en!) {
    if (lower.endsWith(abbr)) {
      const before = lower.length - abbr.length;
      if (before === 0 || !/[\p{L}\p{N}]/u.test(lower[before - 1]!)) return true;
    }
  }
  return false;
}

/**
 * The sentences of `text` in language `lang` (an ISO 639-1 code; any BCP 47 tag Intl accepts),
 * as ranges without leading/trailing whitespace, in order. Whitespace-only text gives [].
 */
export function splitSentences(text: string, lang = 'en'): TextRange[] {
  const base = lang.toLowerCase().split('-')[0]!;
  const out: TextRange[] = [];
  let open: TextRange | null = null; // the sentence being built (pieces joined by suppressed breaks)
  for (const seg of segmenter(lang).segment(text)) {
    const raw = seg.segment;
    const lead = raw.length - raw.trimStart().length;
    const core = raw.trim();
    if (core === '') continue;
    const start = seg.index + lead;
    const end = start + core.length;
    if (open === null) open = { start, end };
    else open.end = end;
    const after = raw.slice(lead + core.length); // whitespace that followed this piece
    const atEnd = seg.index + raw.length >= text.length;
    const lineBreak = /[\n\r\u2028\u2029\v\f\u0085]/u.test(after);
    const glued = after === '' && !FULL_WIDTH_END.test(core); // CJK sentences have no space between them
    const joined = !atEnd && !lineBreak && (glued || suppressed(text.slice(open.start, end), base));
    if (!joined) {
      out.push(open);
      open = null;
    }
  }
  if (open !== null) out.push(open);
  return out;
}
