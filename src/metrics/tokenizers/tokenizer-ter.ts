// Tercom tokenizer for TER (sacrebleu/tokenizers/tokenizer_ter.py, a port of
// src/ter/core/Normalizer.java from jhclark/tercom). By default it only lowercases and squeezes
// whitespace; `normalized`, `noPunct` and `asianSupport` enable Tercom's optional rules.
import { pyNormSpace } from '../pystr.js';
import { memoize, type Tokenizer } from './base.js';

const ASIAN_PUNCT = /([\u3001\u3002\u3008-\u3011\u3014-\u301f\uff61-\uff65\u30fb])/g;
const FULL_WIDTH_PUNCT = /([\uff0e\uff0c\uff1f\uff1a\uff1b\uff01\uff02\uff08\uff09])/g;

function normalizeGeneralAndWestern(sent: string): string {
  // language-independent (general) part
  sent = sent.replace(/\n-/g, ''); // strip end-of-line hyphenation and join lines
  sent = sent.replace(/\n/g, ' '); // join lines
  // handle XML escaped symbols
  sent = sent.replace(/&quot;/g, '"');
  sent = sent.replace(/&amp;/g, '&');
  sent = sent.replace(/&lt;/g, '<');
  sent = sent.replace(/&gt;/g, '>');
  // language-dependent (Western) part
  sent = ` ${sent} `;
  // tokenize punctuation: Python r"([{-~[-` -&(-+:-@/])"
  sent = sent.replace(/([\x7b-\x7e\x5b-\x60\x20-\x26\x28-\x2b\x3a-\x40\x2f])/gu, ' $1 ');
  // handle possessives
  sent = sent.replace(/'s /g, " 's ");
  sent = sent.replace(/'s$/g, " 's");
  // tokenize period and comma unless preceded by a digit
  sent = sent.replace(/([^0-9])([.,])/gu, '$1 $2 ');
  // tokenize period and comma unless followed by a digit
  sent = sent.replace(/([.,])([^0-9])/gu, ' $1 $2');
  // tokenize dash when preceded by a digit
  sent = sent.replace(/([0-9])(-)/gu, '$1 $2 ');
  return sent;
}

function normalizeAsian(sent: string): string {
  // Split Chinese chars and Japanese kanji down to character level
  sent = sent.replace(/([\u4e00-\u9fff\u3400-\u4dbf])/g, ' $1 '); // CJK Unified Ideographs (+ Ext A)
  sent = sent.replace(/([\u31c0-\u31ef\u2e80-\u2eff])/g, ' $1 '); // CJK Strokes, Radicals Supplement
  // CJK Compatibility, CJK Compatibility Ideographs, CJK Compatibility Forms
  sent = sent.replace(/([\u3300-\u33ff\uf900-\ufaff\ufe30-\ufe4f])/g, ' $1 ');
  sent = sent.replace(/([\u3200-\u3f22])/g, ' $1 '); // Enclosed CJK Letters and Months (sic range)
  // Split Hiragana, Katakana, and KatakanaPhoneticExtensions only when adjacent to something else
  // (the Python patterns are kept as written, including their odd anchors)
  sent = sent.replace(/(^|^[\u3040-\u309f])([\u3040-\u309f]+)(?=$|^[\u3040-\u309f])/g, '$1 $2 ');
  sent = sent.replace(/(^|^[\u30a0-\u30ff])([\u30a0-\u30ff]+)(?=$|^[\u30a0-\u30ff])/g, '$1 $2 ');
  sent = sent.replace(/(^|^[\u31f0-\u31ff])([\u31f0-\u31ff]+)(?=$|^[\u31f0-\u31ff])/g, '$1 $2 ');
  sent = sent.replace(ASIAN_PUNCT, ' $1 ');
  sent = sent.replace(FULL_WIDTH_PUNCT, ' $1 ');
  return sent;
}

function removePunct(sent: string): string {
  return sent.replace(/[.,?:;!"()]/g, '');
}

function removeAsianPunct(sent: string): string {
  return sent.replace(ASIAN_PUNCT, '').replace(FULL_WIDTH_PUNCT, '');
}

export interface TercomOptions {
  /** Enable Tercom's character normalization and punctuation tokenization. Default false. */
  normalized: boolean;
  /** Remove punctuation. Default false. */
  noPunct: boolean;
  /** Special treatment of CJK characters (with `normalized` and/or `noPunct`). Default false. */
  asianSupport: boolean;
  /** Keep case; by default TER lowercases. Default false. */
  caseSensitive: boolean;
}

export class TercomTokenizer implements Tokenizer {
  constructor(private readonly opts: TercomOptions) {}

  readonly tokenize = memoize((sent: string): string => {
    if (!sent) return '';
    if (!this.opts.caseSensitive) sent = sent.toLowerCase();
    if (this.opts.normalized) {
      sent = normalizeGeneralAndWestern(sent);
      if (this.opts.asianSupport) sent = normalizeAsian(sent);
    }
    if (this.opts.noPunct) {
      sent = removePunct(sent);
      if (this.opts.asianSupport) sent = removeAsianPunct(sent);
    }
    // Strip extra whitespaces
    return pyNormSpace(sent);
  });

  signature(): string {
    return 'tercom';
  }
}
