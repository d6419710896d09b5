// The language-dependent regex part of mteval-v13a, shared by the `13a` and `zh` tokenizers
// (sacrebleu/tokenizers/tokenizer_re.py: TokenizerRegexp).
import { pyNormSpace } from '../pystr.js';
import { memoize, type Tokenizer } from './base.js';

// Python: r'([\{-\~\[-\` -\&\(-\+\:-\@\/])' -> ranges {-~, [-`, space-&, (-+, :-@ and '/'.
const RULES: Array<[RegExp, string]> = [
  [/([\x7b-\x7e\x5b-\x60\x20-\x26\x28-\x2b\x3a-\x40\x2f])/gu, ' $1 '],
  // tokenize period and comma unless preceded by a digit
  [/([^0-9])([.,])/gu, '$1 $2 '],
  // tokenize period and comma unless followed by a digit
  [/([.,])([^0-9])/gu, ' $1 $2'],
  // tokenize dash when preceded by a digit
  [/([0-9])(-)/gu, '$1 $2 '],
];

export class TokenizerRegexp implements Tokenizer {
  readonly tokenize = memoize((line: string): string => {
    for (const [re, repl] of RULES) line = line.replace(re, repl);
    // no leading or trailing spaces, single space within words
    return pyNormSpace(line);
  });
  signature(): string {
    return 're';
  }
}
