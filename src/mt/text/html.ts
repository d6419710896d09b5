// Translation of HTML, LibreTranslate's `format: "html"`: the text of a fragment or a whole
// document is cut into blocks at block-level tags, the caller translates the blocks as plain text
// (in one call, so all sentences of a document can be batched together) and the inline tags are
// put back into each translation as markers. Everything else (tags, attributes, comments, doctype,
// scripts, untranslated text) is copied byte for byte.
//
// Parsing: htmlparser2, not parse5. parse5 follows the WHATWG tree construction and moves or adds
// elements on malformed input (foster parenting, adoption agency, implied html/head/body);
// htmlparser2 is lenient, never restructures, and reports source offsets, so the output is the
// input with only the translated text replaced. We drive its Tokenizer (the lexer under its
// Parser): it gives the exact extent of every token, where the Parser also reports events that
// have no bytes (a stray `</p>` becomes `<p></p>`) and ends close tags at their name. What little
// structure we need (open elements, `translate="no"`) comes from a forgiving stack of our own.
//
// Placing the inline tags (a marker is the source of a tag, or of a whole untranslated element):
//   0. a sentence translated to itself keeps its markers and the spelling of its entities, so the
//      identity translation is a byte-exact round trip;
//   1. an element whose trimmed text occurs exactly once (at word boundaries) in the translation
//      of its sentence wraps that occurrence (names, numbers, URLs are often copied), unless that
//      would leave an element around it that wrapped words without one;
//   2. otherwise each end goes to the same relative position in the target span of its own
//      sentence, moved out of the word it would split, tags hugging the text they wrap;
//   3. markers keep their source order at non-decreasing offsets (nesting survives); an element
//      that wrapped words and wraps none takes the nearest word it can reach.
//
// Not translated: attribute values (`alt`, `title`, `placeholder`…), the content of OPAQUE
// elements, and elements under `translate="no"` (a `translate="yes"` below one re-enables, as in
// HTML, except inside an OPAQUE element).

import { Tokenizer, type TokenizerCallbacks } from 'htmlparser2';

import type { AlignedSpan, Assembled } from './document.js';

export type { AlignedSpan };

/** A block's translation: the whole translated block and where each source unit (sentence) went
 * (`spans`, in order, not overlapping; what `assemble` of document.ts returns). */
export type BlockTranslation = Assembled;

/** Raw text and embedded documents: inline (they do not end a block) and OPAQUE (never translated). */
const EMBEDDED = ['script', 'style', 'noscript', 'template', 'textarea', 'svg', 'math', 'iframe'];

/** Elements that stay inside a block (phrasing content); the tags of every other element, br and
 * hr included, end a block. Void ones (img, wbr, input) and OPAQUE ones are point markers. */
const INLINE = new Set([
  'a',
  'abbr',
  'acronym',
  'b',
  'bdi',
  'bdo',
  'big',
  'cite',
  'code',
  'data',
  'del',
  'dfn',
  'em',
  'font',
  'i',
  'ins',
  'kbd',
  'label',
  'mark',
  'nobr',
  'q',
  's',
  'samp',
  'small',
  'span',
  'strike',
  'strong',
  'sub',
  'sup',
  'time',
  'tt',
  'u',
  'var',
  'img',
  'wbr',
  'input',
  ...EMBEDDED,
]);

/** Elements whose content is never translated (code, raw text, embedded documents). */
const OPAQUE = new Set([...EMBEDDED, 'noembed', 'noframes', 'code', 'kbd', 'samp', 'var', 'pre', 'listing', 'xmp', 'plaintext']);

/** Elements without content or end tag (HTML's void elements, as htmlparser2 knows them). */
const VOID = new Set([
  'area',
  'base',
  'basefont',
  'br',
  'col',
  'command',
  'embed',
  'frame',
  'hr',
  'img',
  'input',
  'isindex',
  'keygen',
  'link',
  'meta',
  'param',
  'source',
  'track',
  'wbr',
]);

/** Start tags that close an open element of these names first (a subset of HTML's implied end
 * tags: enough that `<li translate="no">a<li>b` translates b). */
const CLOSES_P = ['p'];
const HEADINGS = ['h1', 'h2', 'h3', 'h4', 'h5', 'h6'];
const IMPLIED_CLOSE = new Map<string, ReadonlySet<string>>([
  ...[
    'address',
    'article',
    'aside',
    'blockquote',
    'details',
    'div',
    'dl',
    'fieldset',
    'figcaption',
    'figure',
    'footer',
    'form',
    'header',
    'hr',
    'main',
    'nav',
    'ol',
    'p',
    'pre',
    'section',
    'table',
    'ul',
  ].map((n) => [n, new Set(CLOSES_P)] as const),
  ...HEADINGS.map((n) => [n, new Set([...CLOSES_P, ...HEADINGS])] as const),
  ['li', new Set(['li'])],
  ['dt', new Set(['dt', 'dd'])],
  ['dd', new Set(['dt', 'dd'])],
  ['option', new Set(['option'])],
  ['optgroup', new Set(['optgroup', 'option'])],
  ['tr', new Set(['tr', 'td', 'th'])],
  ['td', new Set(['td', 'th'])],
  ['th', new Set(['td', 'th'])],
]);

/** Something to translate: a letter or a digit. */
const TRANSLATABLE = /[\p{L}\p{N}]/u;
const SPACE = /\s/;

/** A piece of a block: text (decoded, with its source spelling), or the source of a tag
 * (`open`/`close` of an inline element) or of anything else kept verbatim (`point`). */
type Atom =
  | { kind: 'text'; text: string; raw: string }
  | { kind: 'open' | 'close'; name: string; raw: string }
  | { kind: 'point'; raw: string };

interface OpenElement {
  name: string;
  /** Its text is translated. */
  translatable: boolean;
  /** It or an ancestor is OPAQUE: nothing inside is translated, no tag inside ends a block. */
  opaque: boolean;
}

/** The input cut into verbatim strings (block boundaries) and blocks, in source order. */
function tokenize(html: string): Array<string | Atom[]> {
  const parts: Array<string | Atom[]> = [];
  let atoms: Atom[] = [];
  const stack: OpenElement[] = [];
  let cursor = 0; // end of the last piece taken from `html`
  let tag: { start: number; name: string; attrs: Map<string, string>; attr: string; value: string } | null = null;

  const top = (): OpenElement | undefined => stack[stack.length - 1];
  const flush = (): void => {
    if (atoms.length > 0) parts.push(atoms);
    atoms = [];
  };
  /** Bytes no token claimed (`</>`, a tag cut off by the end of the input): kept as they are. */
  const gap = (to: number): void => {
    if (to > cursor) atoms.push({ kind: 'point', raw: html.slice(cursor, to) });
    cursor = Math.max(cursor, to);
  };
  const text = (start: number, end: number, decoded: string): void => {
    gap(start);
    const raw = html.slice(cursor, end);
    cursor = end;
    atoms.push((top()?.translatable ?? true) ? { kind: 'text', text: decoded, raw } : { kind: 'point', raw });
  };
  const markup = (
    start: number,
    end: number,
    name: string,
    kind: 'open' | 'close' | 'void',
    translatable: boolean,
    inOpaque: boolean,
  ): void => {
    gap(start);
    const raw = html.slice(cursor, end);
    cursor = end;
    if (!INLINE.has(name) && !inOpaque) {
      flush();
      parts.push(raw);
    } else if (!translatable || kind === 'void') atoms.push({ kind: 'point', raw });
    else atoms.push({ kind, name, raw });
  };
  const openTag = (end: number): void => {
    if (tag === null) return;
    const { start, name, attrs } = tag;
    tag = null;
    const closes = IMPLIED_CLOSE.get(name);
    while (closes !== undefined && stack.length > 0 && closes.has(top()!.name)) stack.pop();
    const parent = top();
    const opaque = OPAQUE.has(name) || (parent?.opaque ?? false);
    const t = attrs.get('translate')?.toLowerCase(); // HTML: "yes" or "" → yes, "no" → no, else inherited
    const translatable = !opaque && (t === 'no' ? false : t === 'yes' || t === '' ? true : (parent?.translatable ?? true));
    const isVoid = VOID.has(name);
    markup(start, end, name, isVoid ? 'void' : 'open', translatable, parent?.opaque ?? false);
    if (!isVoid) stack.push({ name, translatable, opaque });
  };

  const cbs: TokenizerCallbacks = {
    ontext: (start, end) => text(start, end, html.slice(start, end)),
    ontextentity: (cp, end) => text(Math.max(cursor, html.lastIndexOf('&', end - 1)), end, String.fromCodePoint(cp)),
    onopentagname: (start, end) => {
      tag = { start: start - 1, name: html.slice(start, end).toLowerCase(), attrs: new Map(), attr: '', value: '' };
    },
    onattribname: (start, end) => {
      if (tag === null) return;
      tag.attr = html.slice(start, end).toLowerCase();
      tag.value = '';
    },
    onattribdata: (start, end) => {
      if (tag !== null) tag.value += html.slice(start, end);
    },
    onattribentity: (cp) => {
      if (tag !== null) tag.value += String.fromCodePoint(cp);
    },
    onattribend: () => {
      if (tag !== null && !tag.attrs.has(tag.attr)) tag.attrs.set(tag.attr, tag.value); // the first one counts
    },
    onopentagend: (end) => openTag(end + 1),
    onselfclosingtag: (end) => openTag(end + 1), // HTML ignores the slash: `<span/>` opens a span
    onclosetag: (start, end) => {
      const name = html.slice(start, end).toLowerCase();
      const gt = html.indexOf('>', end); // the tokenizer skips to the next '>'
      let i = stack.length - 1;
      while (i >= 0 && stack[i]!.name !== name) i--;
      const translatable = i >= 0 ? stack[i]!.translatable : (top()?.translatable ?? true); // stray: ignored
      if (i >= 0) stack.length = i;
      markup(start - 2, gt < 0 ? html.length : gt + 1, name, 'close', translatable, top()?.opaque ?? false);
    },
    // Comments, CDATA, doctype and processing instructions are copied with the bytes around them.
    oncomment: () => {},
    oncdata: () => {},
    ondeclaration: () => {},
    onprocessinginstruction: () => {},
    onend: () => {
      gap(html.length);
      flush();
    },
  };
  const tokenizer = new Tokenizer({ decodeEntities: true }, cbs);
  tokenizer.write(html);
  tokenizer.end();
  return parts;
}

/** A marker: the verbatim source of a tag or of an untranslated piece, at an offset of the block's
 * text. `pair` is the index of the other end of an inline element (open ↔ close), -1 for points. */
interface Marker {
  at: number;
  raw: string;
  pair: number;
}

interface Block {
  /** What the model sees: the text of the block, entities decoded, tags removed. */
  text: string;
  /** The source spelling of each UTF-16 unit of `text` (an entity's goes to its first unit). */
  rawOfUnit: string[];
  markers: Marker[];
  /** Has a letter or a digit (else it is copied as is). */
  translatable: boolean;
  /** The block's source. */
  raw: string;
}

function toBlock(atoms: Atom[]): Block {
  let text = '';
  const rawOfUnit: string[] = [];
  const markers: Marker[] = [];
  const names: string[] = []; // the inline element of each marker (points: '')
  const open: number[] = []; // unpaired open markers, innermost last
  for (const a of atoms) {
    if (a.kind === 'text') {
      if (a.raw === a.text)
        for (let i = 0; i < a.text.length; i++) rawOfUnit.push(a.text[i]!); // UTF-16 units
      else rawOfUnit.push(a.raw, ...Array<string>(a.text.length - 1).fill(''));
      text += a.text;
      continue;
    }
    const last = markers[markers.length - 1];
    if (a.kind === 'point' && last !== undefined && last.at === text.length && last.pair === -1 && names[markers.length - 1] === '') {
      last.raw += a.raw; // consecutive verbatim pieces travel together
      continue;
    }
    markers.push({ at: text.length, raw: a.raw, pair: -1 });
    names.push(a.kind === 'point' ? '' : a.name);
    if (a.kind === 'open') open.push(markers.length - 1);
    else if (a.kind === 'close') {
      let j = open.length - 1;
      while (j >= 0 && names[open[j]!] !== a.name) j--;
      if (j >= 0) {
        const o = open[j]!;
        markers[o]!.pair = markers.length - 1;
        markers[markers.length - 1]!.pair = o;
        open.length = j; // elements opened inside and never closed stay points
      }
    }
  }
  return { text, rawOfUnit, markers, translatable: TRANSLATABLE.test(text), raw: atoms.map((a) => a.raw).join('') };
}

function parse(html: string): Array<string | Block> {
  return tokenize(html).map((p) => (typeof p === 'string' ? p : toBlock(p)));
}

/** The plain text of every translatable block of `html`, in document order (what translateHtml
 * would send). */
export function htmlBlocks(html: string): string[] {
  return parse(html).flatMap((p) => (typeof p !== 'string' && p.translatable ? [p.text] : []));
}

/**
 * Translates the text of `html`; tags, attributes, comments, doctype and untranslated text are
 * copied byte for byte. `translateBlocks` is called once with the text of every translatable block
 * (not at all when there is none) and returns one BlockTranslation per block, in order. If a block
 * starts (ends) with whitespace and its translation does not, that whitespace is kept around it.
 */
export async function translateHtml(html: string, translateBlocks: (blocks: string[]) => Promise<BlockTranslation[]>): Promise<string> {
  const parts = parse(html);
  const blocks = parts.filter((p): p is Block => typeof p !== 'string' && p.translatable);
  if (blocks.length === 0) return html;
  const translations = await translateBlocks(blocks.map((b) => b.text));
  if (!Array.isArray(translations) || translations.length !== blocks.length) {
    const found = Array.isArray(translations) ? `${translations.length}` : typeof translations;
    throw new Error(
      `translateHtml: expected ${blocks.length} block translations from translateBlocks (one per block, in order), found ${found}`,
    );
  }
  const rendered = new Map<Block, string>();
  blocks.forEach((b, i) =>
    rendered.set(b, renderBlock(b, translations[i]!, `translateHtml: block ${i} (${JSON.stringify(preview(b.text))})`)),
  );
  return parts.map((p) => (typeof p === 'string' ? p : (rendered.get(p) ?? p.raw))).join('');
}

function preview(s: string): string {
  const t = s.trim();
  return t.length > 40 ? `${t.slice(0, 40)}…` : t;
}

/** Aligned source and target ranges of a block: its spans and the gaps around them, in order,
 * covering both texts. `verbatim`: the target copies the source. */
interface Region {
  a: number; // source [a, b)
  b: number;
  c: number; // target [c, d)
  d: number;
  verbatim: boolean;
}

function align(src: string, tr: BlockTranslation, where: string): { text: string; regions: Region[] } {
  if (typeof tr !== 'object' || tr === null || typeof tr.text !== 'string' || !Array.isArray(tr.spans)) {
    throw new Error(`${where}: expected a translation { text: string, spans: AlignedSpan[] }, found ${JSON.stringify(tr)}`);
  }
  let text = tr.text;
  let a = 0;
  let c = 0;
  const spans = tr.spans.map((s, i) => {
    const ok = (r: unknown, lo: number, hi: number): r is [number, number] =>
      Array.isArray(r) && r.length === 2 && Number.isInteger(r[0]) && Number.isInteger(r[1]) && lo <= r[0] && r[0] <= r[1] && r[1] <= hi;
    if (!ok(s?.src, a, src.length) || !ok(s?.tgt, c, text.length)) {
      throw new Error(
        `${where}, span ${i}: expected src within [${a}, ${src.length}] and tgt within [${c}, ${text.length}] ` +
          `(integer ranges, in order, not overlapping), found ${JSON.stringify(s)}`,
      );
    }
    a = s.src[1];
    c = s.tgt[1];
    return { src: [...s.src], tgt: [...s.tgt] };
  });
  // Whitespace around the block belongs to the page's layout: keep it if the translation lost it.
  const lead = /^\s+/.exec(src)?.[0] ?? '';
  const trail = /\s+$/.exec(src)?.[0] ?? '';
  if (lead !== '' && !/^\s/.test(text)) {
    text = lead + text;
    for (const s of spans) s.tgt = [s.tgt[0]! + lead.length, s.tgt[1]! + lead.length];
  }
  if (trail !== '' && !/\s$/.test(text)) text += trail;

  const regions: Region[] = [];
  const push = (a: number, b: number, c: number, d: number): void => {
    if (b > a || d > c) regions.push({ a, b, c, d, verbatim: src.slice(a, b) === text.slice(c, d) });
  };
  a = 0;
  c = 0;
  for (const s of spans) {
    push(a, s.src[0]!, c, s.tgt[0]!); // the gap before the span
    push(s.src[0]!, s.src[1]!, s.tgt[0]!, s.tgt[1]!);
    a = s.src[1]!;
    c = s.tgt[1]!;
  }
  push(a, src.length, c, text.length);
  return { text, regions };
}

/** The region holding source offset `s`: the text after it (`after`) or before it. `starts`: the
 * regions' source starts (sorted). */
function regionAt(regions: Region[], starts: readonly number[], s: number, side: 'after' | 'before'): Region {
  const find = (after: boolean): Region | undefined => {
    for (let i = (after ? upperBound(starts, s) : lowerBound(starts, s)) - 1; i >= 0; i--) {
      const r = regions[i]!;
      if (after ? s < r.b : s <= r.b) return r;
      if (r.b > r.a) return undefined; // regions before this one end earlier still
    }
    return undefined;
  };
  return (side === 'after' ? (find(true) ?? find(false)) : (find(false) ?? find(true))) ?? regions[0]!;
}

/** The first index of sorted `xs` whose value is ≥ x (lowerBound) or > x (upperBound). */
function lowerBound(xs: readonly number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function upperBound(xs: readonly number[], x: number): number {
  return lowerBound(xs, x + 1); // offsets are integers
}

/** Word-like segments of the translation (Intl.Segmenter, so also Chinese and Japanese). */
interface Words {
  starts: number[];
  ends: number[];
  /** Every segment boundary. */
  bounds: Set<number>;
  /** inside[p]: offset p is strictly inside a word. */
  inside: boolean[];
}

const SEGMENTER = new Intl.Segmenter('und', { granularity: 'word' });
/** Longest piece given to SEGMENTER at once: V8's word iteration slows down more than linearly
 * with the length of the string (80k characters: 0.5 s in one piece). */
const SEGMENT_CHUNK = 2000;

/** The words of `t`, segmented region by region (sentences), long ones in chunks cut at spaces. */
function wordsOf(t: string, regions: readonly Region[]): Words {
  const w: Words = { starts: [], ends: [], bounds: new Set([0, t.length]), inside: new Array<boolean>(t.length + 1).fill(false) };
  for (const r of regions) {
    for (let from = r.c; from < r.d; ) {
      let to = r.d;
      if (to - from > SEGMENT_CHUNK) {
        to = from + SEGMENT_CHUNK;
        const space = t.slice(from, to).search(/\s\S*$/); // the last space of the chunk
        if (space > 0) to = from + space + 1;
        else if (/[\ud800-\udbff]/.test(t[to - 1]!)) to--; // not between the halves of a pair
      }
      for (const s of SEGMENTER.segment(t.slice(from, to))) {
        const start = from + s.index;
        const end = start + s.segment.length;
        w.bounds.add(start);
        if (s.isWordLike) {
          w.starts.push(start);
          w.ends.push(end);
          for (let p = start + 1; p < end; p++) w.inside[p] = true;
        }
      }
      w.bounds.add(to);
      from = to;
    }
  }
  return w;
}

/** u moved out of the word it splits, to the nearer edge (ties: the start, for a close tag the end),
 * then made to hug the text: an open tag moves forward over whitespace, a close tag backward. */
function snap(t: string, w: Words, lo: number, hi: number, u: number, kind: 'open' | 'close' | 'point'): number {
  let p = Math.min(Math.max(u, lo), hi);
  if (w.inside[p]) {
    const k = upperBound(w.ends, p);
    const start = w.starts[k]!;
    const end = w.ends[k]!;
    p = p - start < end - p || (p - start === end - p && kind !== 'close') ? start : end;
    p = Math.min(Math.max(p, lo), hi);
  }
  return hug(t, p, kind, lo, hi);
}

function hug(t: string, p: number, kind: 'open' | 'close' | 'point', lo: number, hi: number): number {
  if (kind === 'open') while (p < hi && SPACE.test(t[p]!)) p++;
  if (kind === 'close') while (p > lo && SPACE.test(t[p - 1]!)) p--;
  return p;
}

/** The words lying inside [lo, hi]: indices [first, end) of Words.starts/ends (empty if end ≤ first). */
function wordsIn(w: Words, lo: number, hi: number): { first: number; end: number; count: number } {
  const first = lowerBound(w.starts, lo);
  const end = upperBound(w.ends, hi);
  return { first, end, count: Math.max(0, end - first) };
}

/** The only occurrence of `needle` in t[lo, hi) that starts and ends at segment boundaries, or -1. */
function uniqueOccurrence(t: string, needle: string, lo: number, hi: number, w: Words): number {
  let found = -1;
  for (let p = t.indexOf(needle, lo); p >= 0 && p + needle.length <= hi; p = t.indexOf(needle, p + 1)) {
    if (!w.bounds.has(p) || !w.bounds.has(p + needle.length)) continue;
    if (found >= 0) return -1;
    found = p;
  }
  return found;
}

function escapeText(ch: string): string {
  return ch === '&' ? '&amp;' : ch === '<' ? '&lt;' : ch === '>' ? '&gt;' : ch === '\u00a0' ? '&nbsp;' : ch;
}

/** The translated block with its markers placed (strategy in the file header). */
function renderBlock(block: Block, tr: BlockTranslation, where: string): string {
  const { text: S, markers } = block;
  const { text: T, regions } = align(S, tr, where);
  const W = wordsOf(T, regions);
  const n = markers.length;
  const kind = (i: number): 'open' | 'close' | 'point' => (markers[i]!.pair < 0 ? 'point' : markers[i]!.pair > i ? 'open' : 'close');
  const starts = regions.map((r) => r.a);
  const region = markers.map((m, i) => regionAt(regions, starts, m.at, kind(i) === 'close' ? 'before' : 'after'));
  const pos = new Array<number>(n).fill(0);
  const fixed = new Array<boolean>(n).fill(false);
  const letters = [0]; // letters[j]: letters and digits in S[0, j)
  for (const ch of S)
    for (let u = 0; u < ch.length; u++) letters.push(letters[letters.length - 1]! + (u === 0 && TRANSLATABLE.test(ch) ? 1 : 0));
  /** The element opened by marker i wrapped a letter or a digit. */
  const wrapsWords = (i: number): boolean => letters[markers[markers[i]!.pair]!.at]! > letters[markers[i]!.at]!;

  // 0. Sentences translated to themselves keep their markers.
  markers.forEach((m, i) => {
    const r = region[i]!;
    if (r.verbatim) {
      pos[i] = r.c + (m.at - r.a);
      fixed[i] = true;
    }
  });

  // 1. Text copied to the translation: wrap its only occurrence, if that keeps the source order
  // and leaves a word for each element around it that wrapped words (else a copied word at the
  // end of the sentence could take the place of every element after it).
  /** Words needed between fixed markers `from` and `to` (exclusive): one per outermost element
   * inside that wrapped words, one more for elements reaching out on either side (conservative). */
  const wordsNeeded = (from: number, to: number): number => {
    let count = 0;
    let left = false;
    let right = false;
    for (let k = from + 1; k < to; k++) {
      const c = markers[k]!.pair;
      if (c < 0 || !wrapsWords(Math.min(k, c))) continue;
      if (c < k) left ||= c <= from;
      else if (c >= to) right = true;
      else {
        count++;
        k = c;
      }
    }
    return count + Number(left) + Number(right);
  };
  const room = (lo: number, hi: number): number => wordsIn(W, lo, hi).count;
  const fixedList = markers.flatMap((_, i) => (fixed[i] ? [i] : [])); // sorted; their offsets never decrease
  const inRegion = new Map<Region, { first: number; last: number }>(); // markers of each sentence
  region.forEach((r, i) => {
    const e = inRegion.get(r);
    if (e === undefined) inRegion.set(r, { first: i, last: i });
    else e.last = i;
  });
  const fits = (o: number, c: number, p: number, q: number, r: Region): boolean => {
    const at = lowerBound(fixedList, o);
    const before = at > 0 ? fixedList[at - 1]! : -1;
    const inside = fixedList[at] !== undefined && fixedList[at]! < c ? fixedList[at]! : -1;
    const lastInside = inside < 0 ? -1 : fixedList[lowerBound(fixedList, c) - 1]!;
    const after = fixedList[lowerBound(fixedList, c)] ?? n;
    if ((before >= 0 && pos[before]! > p) || (inside >= 0 && (pos[inside]! < p || pos[lastInside]! > q)) || (after < n && pos[after]! < q))
      return false;
    // Words needed and left, within the sentence: the elements around must keep one each.
    const own = inRegion.get(r) ?? { first: o, last: c };
    const from = Math.max(before, Math.min(own.first, o) - 1);
    const to = Math.min(after, Math.max(own.last, c) + 1);
    return (
      room(Math.max(before < 0 ? 0 : pos[before]!, r.c), p) >= wordsNeeded(from, o) &&
      room(p, q) >= wordsNeeded(o, c) &&
      room(q, Math.min(after < n ? pos[after]! : T.length, r.d)) >= wordsNeeded(c, to)
    );
  };
  for (let o = 0; o < n; o++) {
    const c = markers[o]!.pair;
    if (c <= o || fixed[o] || fixed[c]) continue;
    let lo = markers[o]!.at;
    let hi = markers[c]!.at;
    while (lo < hi && SPACE.test(S[lo]!)) lo++;
    while (hi > lo && SPACE.test(S[hi - 1]!)) hi--;
    if (lo === hi) continue;
    const r = regionAt(regions, starts, lo, 'after');
    if (hi > r.b) continue; // across sentences
    const p = uniqueOccurrence(T, S.slice(lo, hi), r.c, r.d, W);
    if (p < 0 || !fits(o, c, p, p + hi - lo, r)) continue;
    pos[o] = p;
    pos[c] = p + hi - lo;
    fixed[o] = fixed[c] = true;
    fixedList.splice(lowerBound(fixedList, o), 0, o);
    fixedList.splice(lowerBound(fixedList, c), 0, c);
  }

  // 2. The rest: same relative position within its sentence, out of the word it would split; an
  // element that wrapped words and landed between two takes the word nearest to its place.
  const project = (i: number): number => {
    const r = region[i]!;
    const s = markers[i]!.at;
    return r.b === r.a ? r.c : r.c + Math.round(((s - r.a) * (r.d - r.c)) / (r.b - r.a));
  };
  for (let i = 0; i < n; i++) {
    if (fixed[i]) continue;
    const r = region[i]!;
    pos[i] = snap(T, W, r.c, r.d, project(i), kind(i));
  }
  for (let o = 0; o < n; o++) {
    const c = markers[o]!.pair;
    if (c <= o || fixed[o] || fixed[c] || region[o] !== region[c] || !wrapsWords(o)) continue;
    const r = region[o]!;
    if (pos[o]! <= pos[c]! && wordsIn(W, pos[o]!, pos[c]!).count > 0) continue;
    const inRegion = wordsIn(W, r.c, r.d);
    if (inRegion.count === 0) continue;
    const mid = (project(o) + project(c)) / 2; // wrap the word nearest to where the text was
    let best = Math.min(Math.max(upperBound(W.ends, Math.floor(mid)), inRegion.first), inRegion.end - 1);
    if (best > inRegion.first && mid - W.ends[best - 1]! < W.starts[best]! - mid) best--;
    pos[o] = W.starts[best]!;
    pos[c] = W.ends[best]!;
  }

  // 3. Source order: the others fit between the fixed markers, then offsets never decrease.
  const lower = new Array<number>(n);
  const upper = new Array<number>(n);
  for (let i = 0, m = 0; i < n; i++) {
    lower[i] = m;
    if (fixed[i]) m = pos[i]!;
  }
  for (let i = n - 1, m = T.length; i >= 0; i--) {
    upper[i] = m;
    if (fixed[i]) m = pos[i]!;
  }
  for (let i = 0; i < n; i++) {
    const lo = Math.max(lower[i]!, i > 0 ? pos[i - 1]! : 0);
    if (!fixed[i]) pos[i] = hug(T, Math.min(Math.max(pos[i]!, lo), upper[i]!), kind(i), lo, upper[i]!);
    if (pos[i]! < lo) pos[i] = lo;
  }

  // 3b. An element that wrapped words and now wraps none takes the nearest word it can reach.
  for (let o = 0; o < n; o++) {
    const c = markers[o]!.pair;
    if (c <= o || !wrapsWords(o) || wordsIn(W, pos[o]!, pos[c]!).count > 0) continue;
    const ceil = Math.min(c + 1 < n ? pos[c + 1]! : T.length, region[c]!.d);
    const floor = Math.max(o > 0 ? pos[o - 1]! : 0, region[o]!.c);
    const right = wordsIn(W, pos[o]!, ceil);
    const left = wordsIn(W, floor, pos[c]!);
    if (!fixed[c] && right.count > 0) pos[c] = W.ends[right.first]!;
    else if (!fixed[o] && left.count > 0) pos[o] = W.starts[left.end - 1]!;
  }

  // 4. Write: markers before the character at their offset; copied sentences in their source spelling.
  const rawAt = new Array<string | undefined>(T.length);
  for (const r of regions) if (r.verbatim) for (let j = r.c; j < r.d; j++) rawAt[j] = block.rawOfUnit[r.a + j - r.c];
  let out = '';
  let k = 0;
  for (let j = 0; j <= T.length; j++) {
    while (k < n && pos[k]! <= j) out += markers[k++]!.raw;
    if (j < T.length) out += rawAt[j] ?? escapeText(T[j]!);
  }
  return out;
}
