// `13a` tokenizer: sacreBLEU's default, equivalent to mteval-v13a.pl used by WMT
// (sacrebleu/tokenizers/tokenizer_13a.py).
import { memoize, type Tokenizer } from './base.js';
import { TokenizerRegexp } from './tokenizer-re.js';

export class Tokenizer13a implements Tokenizer {
  private readonly post = new TokenizerRegexp();

  readonly tokenize = memoize((line: string): string => {
    // language-independent part
    line = line.replaceAll('<skipped>', '');
    line = line.replaceAll('-\n', '');
    line = line.replaceAll('\n', ' ');
    if (line.includes('&')) {
      line = line.replaceAll('&quot;', '"');
      line = line.replaceAll('&amp;', '&');
      line = line.replaceAll('&lt;', '<');
      line = line.replaceAll('&gt;', '>');
    }
    return this.post.tokenize(` ${line} `);
  });

  signature(): string {
    return '13a';
  }
}
