// Tokenizers for BLEU, found by name (sacrebleu/metrics/bleu.py: _TOKENIZERS). `ja-mecab`,
// `ko-mecab`, `spm` and `flores*` need external models and are not provided.
import type { Tokenizer } from './base.js';
import { Tokenizer13a } from './tokenizer-13a.js';
import { TokenizerChar } from './tokenizer-char.js';
import { TokenizerIntl } from './tokenizer-intl.js';
import { NoneTokenizer } from './tokenizer-none.js';
import { TokenizerZh } from './tokenizer-zh.js';

export type { Tokenizer } from './base.js';

export const TOKENIZERS: Readonly<Record<string, () => Tokenizer>> = {
  none: () => new NoneTokenizer(),
  zh: () => new TokenizerZh(),
  '13a': () => new Tokenizer13a(),
  intl: () => new TokenizerIntl(),
  char: () => new TokenizerChar(),
};

export const TOKENIZER_NAMES: readonly string[] = Object.keys(TOKENIZERS);

/** Creates a BLEU tokenizer by its sacreBLEU name; throws naming the known ones otherwise. */
export function getTokenizer(name: string): Tokenizer {
  const make = Object.hasOwn(TOKENIZERS, name) ? TOKENIZERS[name] : undefined;
  if (!make) {
    throw new Error(`unknown tokenizer ${JSON.stringify(name)}: expected one of ${TOKENIZER_NAMES.join(', ')}`);
  }
  return make();
}
