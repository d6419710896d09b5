// n-gram extraction shared by BLEU and chrF (sacrebleu/metrics/helpers.py) and corpus sums
// (sacrebleu/utils.py: sum_of_lists). Strings are indexed by code point as in Python.
import { pySplit } from './pystr.js';

export type Counter = Map<string, number>;

/**
 * All word n-grams of orders minOrder..maxOrder of a whitespace-split line, one Counter per
 * order (index n - minOrder), plus the number of tokens. Keys join tokens with a space, which is
 * unambiguous because tokens never contain whitespace.
 */
export function extractAllWordNgrams(line: string, minOrder: number, maxOrder: number): [Counter[], number] {
  const tokens = pySplit(line);
  const out: Counter[] = [];
  for (let n = minOrder; n <= maxOrder; n++) {
    const c: Counter = new Map();
    for (let i = 0; i + n <= tokens.length; i++) {
      const key = n === 1 ? tokens[i] : tokens.slice(i, i + n).join(' ');
      c.set(key, (c.get(key) ?? 0) + 1);
    }
    out.push(c);
  }
  return [out, tokens.length];
}

/** Word n-grams of order n from a token list. */
export function extractWordNgrams(tokens: readonly string[], n: number): Counter {
  const c: Counter = new Map();
  for (let i = 0; i + n <= tokens.length; i++) {
    const key = tokens.slice(i, i + n).join(' ');
    c.set(key, (c.get(key) ?? 0) + 1);
  }
  return c;
}

/** Character n-grams of orders 1..maxOrder; whitespace is removed unless includeWhitespace. */
export function extractAllCharNgrams(line: string, maxOrder: number, includeWhitespace = false): Counter[] {
  if (!includeWhitespace) line = pySplit(line).join('');
  const cps = Array.from(line);
  const simple = cps.length === line.length; // no surrogate pairs: substring == code-point slice
  const out: Counter[] = [];
  for (let n = 1; n <= maxOrder; n++) {
    const c: Counter = new Map();
    for (let i = 0; i + n <= cps.length; i++) {
      const key = simple ? line.substring(i, i + n) : cps.slice(i, i + n).join('');
      c.set(key, (c.get(key) ?? 0) + 1);
    }
    out.push(c);
  }
  return out;
}

/** Element-wise sum of equally long statistic vectors, left to right (float order as Python). */
export function sumOfLists(lists: readonly (readonly number[])[]): number[] {
  if (lists.length === 0) throw new Error('cannot aggregate statistics of an empty corpus');
  if (lists.length === 1) return lists[0].slice();
  const size = lists[0].length;
  const total = new Array<number>(size).fill(0);
  for (const ll of lists) for (let i = 0; i < size; i++) total[i] += ll[i];
  return total;
}

/** sacreBLEU's floored log: log(0) is -9999999999 instead of -inf. */
export function myLog(num: number): number {
  if (num === 0) return -9999999999;
  return Math.log(num);
}
