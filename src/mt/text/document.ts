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

/**
 * Units are kept to the model's longest output ÷ this, so that their translations fit it too
 * (En→De/Fr translations run up to ~1.2× the source's tokens): a unit at the model's input limit
 * would come back cut off at its output limit.
 */
export const OUTPUT_HEADROOM = 1.25;

/** Most tokens per unit for a model that reads `maxInput` and writes `maxOutput` tokens (EOS not counted). */
export function unitTokenLimit(maxInput: number, maxOutput: number): number {
  return Math.max(1, Math.min(maxInput, Math.floor(maxOutput / OUTPUT_HEADROOM)));
}

/** A unit: a range of the text, the sentence it belongs to, and whether it is a piece of it. */
export interface TextUnit extends TextRange {
  /** Index of its sentence among the text's sentences. */
  sentence: number;
  /** A piece of a sentence cut because it was too long for the model. */
  cut: boolean;
}

/** The units of `text` to translate, in order (ranges of `text`, trimmed, not overlapping). */
export function planText(text: string, opts: TextPlanOptions): TextUnit[] {
  const parts: TextRange[] = opts.sentences ? splitSentences(text, opts.lang) : trimmed(text);
  const units: TextUnit[] = [];
  parts.forEach((r, sentence) => {
    const s = text.slice(r.start, r.end);
    if (!TRANSLATABLE.test(s) || opts.countTokens(s) === 0) return; // copied as is
    const pieces = splitLongSentence(text, r, opts.countTokens, opts.maxTokens);
    for (const p of pieces) units.push({ ...p, sentence, cut: pieces.length > 1 });
  });
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
    if (u.start < at || u.end < u.start || u.end > text.length)
      throw new Error(`assemble: unit ${i} [${u.start}, ${u.end}) is out of order or outside the text`);
    out += text.slice(at, u.start);
    const t = translations[i]!;
    spans.push({ src: [u.start, u.end], tgt: [out.length, out.length + t.length] });
    out += t;
    at = u.end;
  });
  out += text.slice(at);
  return { text: out, spans };
}
