// `none` tokenizer: the identity (sacrebleu/tokenizers/tokenizer_none.py). Use it for text that
// is already tokenized; the signature then says `tok:none`.
import type { Tokenizer } from './base.js';

export class NoneTokenizer implements Tokenizer {
  tokenize(line: string): string {
    return line;
  }
  signature(): string {
    return 'none';
  }
}
