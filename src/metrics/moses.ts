// Moses tokenizer (tokenizer.perl), ported from sacremoses' MosesTokenizer.tokenize for
// English, German and French, as used before "tokenized BLEU" in fairseq's WMT recipes.
//
// Implemented, in sacremoses' order: whitespace squeezing and control-character removal,
// padding of every character that is not alphanumeric, whitespace, '.', "'", '`', ',' or '-';
// optional aggressive hyphen splitting (`a @-@ b`, off by default as in fairseq); multi-dot
// protection (DOTMULTI); comma separation except inside numbers; language-specific apostrophe
// rules (en: "don't" -> "don 't"; fr: "l'homme" -> "l' homme"; de: every "'" split off);
// non-breaking prefixes (en/de/fr lists) for a final '.'; the trailing ".'" split; XML escaping
// (& | < > ' " [ ] -> &amp; &#124; &lt; &gt; &apos; &quot; &#91; &#93;) unless escape=false.
//
// Not implemented: protected patterns, the Penn treebank mode, languages other than en/de/fr
// (fi/sv colon rules, CJK additions), and the Indic viramas/nuktas that sacremoses adds to its
// alphanumeric class. Perl's IsAlnum/IsAlpha/IsN/IsLower are taken as the Unicode properties
// Alphabetic+Nd, Alphabetic, N and Lowercase of this Node's ICU, which can differ from the
// Unicode version of sacremoses' generated tables on recently added characters.
import { PY_WHITESPACE_CLASS, pySplit, pyStrip } from './pystr.js';
import { NONBREAKING_PREFIXES } from './moses-prefixes.js';

export const MOSES_LANGS = ['en', 'de', 'fr'] as const;
export type MosesLang = (typeof MOSES_LANGS)[number];

export interface MosesTokenizeOptions {
  /** Split every hyphen between alphanumerics as '@-@'. Default false (fairseq's setting). */
  aggressiveDashSplits: boolean;
  /** Escape XML special characters. Default true (tokenizer.perl's default). */
  escape: boolean;
}

export const DEFAULT_MOSES_OPTIONS: Readonly<MosesTokenizeOptions> = { aggressiveDashSplits: false, escape: true };

const ALNUM = '\\p{Alphabetic}\\p{Nd}';
const ALPHA = '\\p{Alphabetic}';
const NUM = '\\p{N}';
const WS = PY_WHITESPACE_CLASS;

type Rule = [RegExp, string];
const re = (src: string): RegExp => new RegExp(src, 'gu');

const DEDUPLICATE_SPACE: Rule = [re(`[${WS}]+`), ' '];
const ASCII_JUNK: Rule = [re('[\\x00-\\x1f]'), ''];
const PAD_NOT_ISALNUM: Rule = [re(`([^${ALNUM}${WS}.'\`,\\-])`), ' $1 '];
const AGGRESSIVE_HYPHEN_SPLIT: Rule = [re(`([${ALNUM}])-(?=[${ALNUM}])`), '$1 @-@ '];
const COMMA_SEPARATE: Rule[] = [
  [re(`([^${NUM}])[,]`), '$1 , '],
  [re(`[,]([^${NUM}])`), ' , $1'],
  [re(`([${NUM}])[,]$`), '$1 , '],
];
const ENGLISH_SPECIFIC_APOSTROPHE: Rule[] = [
  [re(`([^${ALPHA}])[']([^${ALPHA}])`), "$1 ' $2"],
  [re(`([^${ALPHA}${NUM}])[']([${ALPHA}])`), "$1 ' $2"],
  [re(`([${ALPHA}])[']([^${ALPHA}])`), "$1 ' $2"],
  [re(`([${ALPHA}])[']([${ALPHA}])`), "$1 '$2"],
  [re(`([${NUM}])[']([s])`), "$1 '$2"],
];
const FR_IT_SPECIFIC_APOSTROPHE: Rule[] = [
  [re(`([^${ALPHA}])[']([^${ALPHA}])`), "$1 ' $2"],
  [re(`([^${ALPHA}])[']([${ALPHA}])`), "$1 ' $2"],
  [re(`([${ALPHA}])[']([^${ALPHA}])`), "$1 ' $2"],
  [re(`([${ALPHA}])[']([${ALPHA}])`), "$1' $2"],
];
const NON_SPECIFIC_APOSTROPHE: Rule = [re("'"), " ' "];
const TRAILING_DOT_APOSTROPHE: Rule = [re("\\.' ?$"), " . ' "];
const ESCAPE_XML: Rule[] = [
  [re('&'), '&amp;'],
  [re('\\|'), '&#124;'],
  [re('<'), '&lt;'],
  [re('>'), '&gt;'],
  [re("'"), '&apos;'],
  [re('"'), '&quot;'],
  [re('\\['), '&#91;'],
  [re('\\]'), '&#93;'],
];

const IS_ALPHA = /\p{Alphabetic}/u;
const IS_LOWER = /^\p{Lowercase}$/u;
const STARTS_WITH_DIGITS = /^[0-9]+/;

function apply(text: string, rules: readonly Rule[]): string {
  for (const [r, s] of rules) text = text.replace(r, s);
  return text;
}

export class MosesTokenizer {
  private readonly nbp: ReadonlySet<string>;
  private readonly numericOnly: ReadonlySet<string>;

  constructor(readonly lang: MosesLang) {
    if (!(MOSES_LANGS as readonly string[]).includes(lang)) {
      throw new Error(`MosesTokenizer: unsupported language ${JSON.stringify(lang)}: expected one of ${MOSES_LANGS.join(', ')}`);
    }
    this.nbp = NONBREAKING_PREFIXES[lang].prefixes;
    this.numericOnly = NONBREAKING_PREFIXES[lang].numericOnly;
  }

  private static replaceMultidots(text: string): string {
    text = text.replace(/\.([.]+)/g, ' DOTMULTI$1');
    while (/DOTMULTI\./.test(text)) {
      text = text.replace(/DOTMULTI\.([^.])/gu, 'DOTDOTMULTI $1');
      text = text.replace(/DOTMULTI\./g, 'DOTDOTMULTI');
    }
    return text;
  }

  private static restoreMultidots(text: string): string {
    while (text.includes('DOTDOTMULTI')) text = text.replaceAll('DOTDOTMULTI', 'DOTMULTI.');
    return text.replaceAll('DOTMULTI', '.');
  }

  /** A final '.' is split off unless the word is a known abbreviation (sacremoses' logic). */
  private handlesNonbreakingPrefixes(text: string): string {
    const tokens = pySplit(text);
    const n = tokens.length;
    for (let i = 0; i < n; i++) {
      const token = tokens[i];
      if (token.length < 2 || !token.endsWith('.')) continue;
      const prefix = token.slice(0, -1);
      const next = i + 1 < n ? tokens[i + 1] : '';
      const nextFirst = next ? String.fromCodePoint(next.codePointAt(0)!) : '';
      if (
        (prefix.includes('.') && IS_ALPHA.test(prefix)) ||
        (this.nbp.has(prefix) && !this.numericOnly.has(prefix)) ||
        (i !== n - 1 && next !== '' && IS_LOWER.test(nextFirst))
      ) {
        // no change to the token
      } else if (this.numericOnly.has(prefix) && i + 1 < n && STARTS_WITH_DIGITS.test(next)) {
        // no change: a numeric-only prefix followed by a number
      } else {
        tokens[i] = `${prefix} .`;
      }
    }
    return tokens.join(' ');
  }

  /** Tokenizes one line; returns tokens joined by single spaces. */
  tokenize(text: string, options?: Partial<MosesTokenizeOptions>): string {
    const o = { ...DEFAULT_MOSES_OPTIONS, ...options };
    text = apply(text, [DEDUPLICATE_SPACE, ASCII_JUNK]);
    text = pyStrip(text);
    text = apply(text, [PAD_NOT_ISALNUM]);
    if (o.aggressiveDashSplits) text = apply(text, [AGGRESSIVE_HYPHEN_SPLIT]);
    text = MosesTokenizer.replaceMultidots(text);
    text = apply(text, COMMA_SEPARATE);
    if (this.lang === 'en') text = apply(text, ENGLISH_SPECIFIC_APOSTROPHE);
    else if (this.lang === 'fr') text = apply(text, FR_IT_SPECIFIC_APOSTROPHE);
    else text = apply(text, [NON_SPECIFIC_APOSTROPHE]);
    text = this.handlesNonbreakingPrefixes(text);
    text = pyStrip(apply(text, [DEDUPLICATE_SPACE]));
    text = apply(text, [TRAILING_DOT_APOSTROPHE]);
    text = MosesTokenizer.restoreMultidots(text);
    if (o.escape) text = apply(text, ESCAPE_XML);
    // sacremoses returns text.split(); we return those tokens joined by single spaces
    return pySplit(text).join(' ');
  }
}
