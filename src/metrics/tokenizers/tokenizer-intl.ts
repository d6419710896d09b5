// `intl` tokenizer: mteval-v14.pl's international tokenization
// (sacrebleu/tokenizers/tokenizer_intl.py, TokenizerV14International). Splits punctuation not
// between digits and every symbol, using Unicode general categories (`\p{P}`, `\p{S}`, `\p{N}`).
// As in mteval-v14, a number followed by a final dot keeps the dot attached.
import { pyNormSpace } from '../pystr.js';
import { memoize, type Tokenizer } from './base.js';

const RULES: Array<[RegExp, string]> = [
  // Separate out punctuations preceded by a non-digit
  [/(\P{N})(\p{P})/gu, '$1 $2 '],
  // Separate out punctuations followed by a non-digit
  [/(\p{P})(\P{N})/gu, ' $1 $2'],
  // Separate out symbols
  [/(\p{S})/gu, ' $1 '],
];

export class TokenizerIntl implements Tokenizer {
  readonly tokenize = memoize((line: string): string => {
    for (const [re, repl] of RULES) line = line.replace(re, repl);
    return pyNormSpace(line);
  });
  signature(): string {
    return 'intl';
  }
}
