// Splits a sentence that has more subword tokens than the model accepts (its maxLen − 1) into
// pieces that fit, so that no text is refused for its length: first at clause punctuation
// (, ; : and dashes followed by a space), packing neighbouring clauses together; a clause that is
// still too long at word boundaries (whitespace); a "word" that is still too long (a URL, a
// chemical name) by grapheme clusters. Pieces are balanced: a sentence that needs k pieces aims at
// total / k tokens each rather than filling the first ones and leaving a scrap at the end. Pieces
// are ranges of the input; the whitespace between them stays the caller's (the translations are
// joined with it). Token counts come from the caller (the model's SentencePiece), so a piece's
// count is exact, not estimated from characters.
import type { TextRange } from './sentences.js';

/** Subword tokens of a string as the model sees them (EOS not counted). */
export type TokenCounter = (text: string) => number;

const CLAUSE_END = /[,;:\u2013\u2014](?=\s)|\s[\u2013\u2014-](?=\s)/gu;
const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * `range` of `text` as pieces of at most `maxTokens` tokens each (one piece if it fits), in order,
 * trimmed of whitespace. `maxTokens` must be ≥ 1.
 */
export function splitLongSentence(text: string, range: TextRange, count: TokenCounter, maxTokens: number): TextRange[] {
  if (!(Number.isInteger(maxTokens) && maxTokens >= 1))
    throw new Error(`splitLongSentence: maxTokens must be a positive integer, got ${maxTokens}`);
  const total = count(text.slice(range.start, range.end));
  if (total <= maxTokens) return [range];
  const clauses = cut(text, range, CLAUSE_END);
  const out: TextRange[] = [];
  for (const piece of pack(text, clauses, count, maxTokens, total)) {
    if (count(text.slice(piece.start, piece.end)) <= maxTokens) out.push(piece);
    else out.push(...splitWords(text, piece, count, maxTokens));
  }
  return out;
}

/** A clause that is too long on its own: at whitespace, then by graphemes for an overlong word. */
function splitWords(text: string, range: TextRange, count: TokenCounter, maxTokens: number): TextRange[] {
  const words = cut(text, range, /\s+/gu, true);
  const out: TextRange[] = [];
  for (const piece of pack(text, words, count, maxTokens, count(text.slice(range.start, range.end)))) {
    if (count(text.slice(piece.start, piece.end)) <= maxTokens) out.push(piece);
    else out.push(...splitGraphemes(text, piece, count, maxTokens));
  }
  return out;
}

/** Greedy over grapheme clusters (a token never splits a user-perceived character). */
function splitGraphemes(text: string, range: TextRange, count: TokenCounter, maxTokens: number): TextRange[] {
  const bounds = [...graphemes.segment(text.slice(range.start, range.end))].map((g) => range.start + g.index);
  bounds.push(range.end);
  const out: TextRange[] = [];
  let i = 0;
  while (i < bounds.length - 1) {
    // the longest prefix starting at bounds[i] that fits: binary search over end boundaries
    let lo = i + 1;
    let hi = bounds.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (count(text.slice(bounds[i]!, bounds[mid]!)) <= maxTokens) lo = mid;
      else hi = mid - 1;
    }
    out.push({ start: bounds[i]!, end: bounds[lo]! });
    i = lo;
  }
  return out;
}

/**
 * Cuts `range` after every match of `re` (or at it, with `atMatch`, for separators that are
 * whitespace), returning trimmed non-empty pieces.
 */
function cut(text: string, range: TextRange, re: RegExp, atMatch = false): TextRange[] {
  const s = text.slice(range.start, range.end);
  const pieces: TextRange[] = [];
  let from = 0;
  re.lastIndex = 0;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    const to = atMatch ? m.index : m.index + m[0].length;
    if (to > from) pieces.push({ start: from, end: to });
    from = atMatch ? m.index + m[0].length : to;
    if (m[0].length === 0) re.lastIndex++;
  }
  if (from < s.length) pieces.push({ start: from, end: s.length });
  return pieces.flatMap((p) => {
    const raw = s.slice(p.start, p.end);
    const lead = raw.length - raw.trimStart().length;
    const core = raw.trim();
    return core === '' ? [] : [{ start: range.start + p.start + lead, end: range.start + p.start + lead + core.length }];
  });
}

/**
 * Packs consecutive `pieces` into groups of at most `maxTokens` tokens, each aiming at total / k
 * tokens (k = the fewest groups that could hold `total`). A piece too long on its own becomes a
 * group of its own (the caller splits it further).
 */
function pack(text: string, pieces: TextRange[], count: TokenCounter, maxTokens: number, total: number): TextRange[] {
  const target = Math.ceil(total / Math.ceil(total / maxTokens));
  const out: TextRange[] = [];
  let cur: TextRange | null = null;
  let curTokens = 0;
  for (const p of pieces) {
    if (cur === null) {
      cur = { ...p };
      curTokens = count(text.slice(p.start, p.end));
      continue;
    }
    const joined = count(text.slice(cur.start, p.end));
    // extend while below the target, when the group ends nearer the target with p than without it
    if (joined <= maxTokens && curTokens < target && joined - target <= target - curTokens) {
      cur.end = p.end;
      curTokens = joined;
    } else {
      out.push(cur);
      cur = { ...p };
      curTokens = count(text.slice(p.start, p.end));
    }
  }
  if (cur !== null) out.push(cur);
  return out;
}
