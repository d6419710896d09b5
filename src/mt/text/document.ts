// Text longer than one sentence, as translation servers take it (LibreTranslate, Bergamot and
// translateLocally all split before translating): `planText` cuts a text into the units the model
// translates one by one — its sentences (src/mt/text/sentences.ts), each split further at
// clauses or words when it has more tokens than the model accepts (long-sentences.ts) — and
// `assemble` puts translations back in their place. Everything between units (spaces, line
// breaks, blank lines, bullets and other runs without a letter or digit) is copied from the
// source, so the answer keeps the text's layout. The model was trained on single sentences: given
// a paragraph in one piece it drops sentences.
import { splitLongSentence, type TokenCounter } from './long-sentences.js';
import { splitSentences, type TextRange } from './sentences.js';

export interface TextPlanOptions {
  /** Source language (ICU sentence rules and abbreviations of that language). */
  lang: string;
  /** Cut into sentences (true), or keep the text as one unit unless it is too long (false). */
  sentences: boolean;
  /** Subword tokens of a string as the model sees them (after its cleaning; EOS not counted). */
  countTokens: TokenCounter;
  /** Most tokens per unit (the model's maxLen − 1). */
  maxTokens: number;
}

/** Something to translate: a letter or a digit. */
const TRANSLATABLE = /[\p{L}\p{N}]/u;

/** The units of `text` to translate, in order (ranges of `text`, trimmed, not overlapping). */
export function planText(text: string, opts: TextPlanOptions): TextRange[] {
  const parts: TextRange[] = opts.sentences ? splitSentences(text, opts.lang) : trimmed(text);
  const units: TextRange[] = [];
  for (const r of parts) {
    const s = text.slice(r.start, r.end);
    if (!TRANSLATABLE.test(s) || opts.countTokens(s) === 0) continue; // copied as is
    units.push(...splitLongSentence(text, r, opts.countTokens, opts.maxTokens));
  }
  return units;
}

function trimmed(text: string): TextRange[] {
  const lead = text.length - text.trimStart().length;
  const core = text.trim();
  return core === '' ? [] : [{ start: lead, end: lead + core.length }];
}

/** Where a unit went: its range in the source and in the assembled translation. */
export interface AlignedSpan {
  src: [number, number];
  tgt: [number, number];
}

export interface Assembled {
  text: string;
  /** One per unit, in order. */
  spans: AlignedSpan[];
}

/** `text` with each unit replaced by its translation (same order as `units`); the rest copied. */
export function assemble(text: string, units: readonly TextRange[], translations: readonly string[]): Assembled {
  if (translations.length !== units.length) throw new Error(`assemble: ${translations.length} translations for ${units.length} units`);
  let out = '';
  let at = 0;
  const spans: AlignedSpan[] = [];
  units.forEach((u, i) => {
    if (u.start < at || u.end < u.start || u.end > text.length) throw new Error(`assemble: unit ${i} [${u.start}, ${u.end}) is out of order or outside the text`);
    out += text.slice(at, u.start);
    const t = translations[i]!;
    spans.push({ src: [u.start, u.end], tgt: [out.length, out.length + t.length] });
    out += t;
    at = u.end;
  });
  out += text.slice(at);
  return { text: out, spans };
}
