// Tokenizer interface shared by BLEU/TER: a small callable with a `signature()`, as in
// sacrebleu/tokenizers/tokenizer_base.py. Implementations are registered by name in index.ts.

export interface Tokenizer {
  /** Tokenizes one line; the result is a string with single spaces between tokens. */
  tokenize(line: string): string;
  /** The name that appears in the metric signature (`tok:13a`). */
  signature(): string;
}

/** Memoizes a tokenizer (sacrebleu wraps every `__call__` in `lru_cache`). */
export function memoize(fn: (line: string) => string, maxSize = 1 << 16): (line: string) => string {
  const cache = new Map<string, string>();
  return (line: string): string => {
    const hit = cache.get(line);
    if (hit !== undefined) return hit;
    const out = fn(line);
    if (cache.size >= maxSize) cache.clear();
    cache.set(line, out);
    return out;
  };
}
