// `zh` tokenizer: splits Chinese characters, then applies the 13a regex part
// (sacrebleu/tokenizers/tokenizer_zh.py, by Shujian Huang).
//
// Faithful to a quirk of the Python original: two of its ranges are written as '\u20000' and
// '\u2f800', which Python reads as two-character strings ('\u2000' + '0'). Compared with one
// character, ('\u2000'+'0') <= c <= ('\u2a6d'+'6') holds for U+2001..U+2A6D and the other pair
// for U+2F81..U+2FA1, so general punctuation such as '–', '“' and '€' counts as "Chinese" here,
// and CJK Extension B (U+20000..) does not. sacreBLEU's scores depend on this, so we keep it.
import { pyStrip } from '../pystr.js';
import { memoize, type Tokenizer } from './base.js';
import { TokenizerRegexp } from './tokenizer-re.js';

const UCODE_RANGES: Array<[number, number]> = [
  [0x3400, 0x4db5], // CJK Unified Ideographs Extension A, release 3.0
  [0x4e00, 0x9fa5], // CJK Unified Ideographs, release 1.1
  [0x9fa6, 0x9fbb], // CJK Unified Ideographs, release 4.1
  [0xf900, 0xfa2d], // CJK Compatibility Ideographs, release 1.1
  [0xfa30, 0xfa6a], // CJK Compatibility Ideographs, release 3.2
  [0xfa70, 0xfad9], // CJK Compatibility Ideographs, release 4.1
  [0x2001, 0x2a6d], // written (u'\u20000', u'\u2a6d6') in Python: see the header
  [0x2f81, 0x2fa1], // written (u'\u2f800', u'\u2fa1d') in Python: see the header
  [0xff00, 0xffef], // Full width ASCII, full width punctuation, half width Katakana, Hangul
  [0x2e80, 0x2eff], // CJK Radicals Supplement
  [0x3000, 0x303f], // CJK punctuation mark
  [0x31c0, 0x31ef], // CJK stroke
  [0x2f00, 0x2fdf], // Kangxi Radicals
  [0x2ff0, 0x2fff], // Chinese character structure
  [0x3100, 0x312f], // Phonetic symbols
  [0x31a0, 0x31bf], // Phonetic symbols (Taiwanese and Hakka expansion)
  [0xfe10, 0xfe1f],
  [0xfe30, 0xfe4f],
  [0x2600, 0x26ff],
  [0x2700, 0x27bf],
  [0x3200, 0x32ff],
  [0x3300, 0x33ff],
];

export function isChineseChar(cp: number): boolean {
  for (const [lo, hi] of UCODE_RANGES) if (cp >= lo && cp <= hi) return true;
  return false;
}

export class TokenizerZh implements Tokenizer {
  private readonly post = new TokenizerRegexp();

  readonly tokenize = memoize((line: string): string => {
    line = pyStrip(line);
    let out = '';
    for (const ch of line) {
      if (isChineseChar(ch.codePointAt(0)!)) out += ` ${ch} `;
      else out += ch;
    }
    return this.post.tokenize(out);
  });

  signature(): string {
    return 'zh';
  }
}
