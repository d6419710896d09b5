// `char` tokenizer: every character (code point) is a token (sacrebleu/tokenizers/tokenizer_char.py).
// Whitespace characters become tokens of the joined string and vanish in BLEU's whitespace split.
import { memoize, type Tokenizer } from './base.js';

export class TokenizerChar implements Tokenizer {
  readonly tokenize = memoize((line: string): string => Array.from(line).join(' '));
  signature(): string {
    return 'char';
  }
}
