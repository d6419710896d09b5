// POST /translate: LibreTranslate's request and response (q, source, target, format,
// alternatives, api_key → translatedText, alternatives) plus our extensions beam_size, n_best,
// length_penalty, return_scores and max_length. Unknown fields are refused by name.
import { z } from 'zod';
import { DecodingOptions, LangCode, Text } from './common.js';

const fields = {
  source: LangCode,
  target: LangCode,
  format: z.literal('text', { error: 'only "text" is supported (no "html")' }).default('text'),
  alternatives: z.number().int().min(0).default(0),
  api_key: z.string().optional(),
  ...DecodingOptions,
  return_scores: z.boolean().default(false),
};
const QUnion = z.union([Text, z.array(Text)]);
export const TranslateRequestSchema = z.strictObject({ q: QUnion, ...fields });
/** The two shapes of q, validated separately so errors point inside arrays (q.1: …). */
const SingleSchema = z.strictObject({ q: z.string({ error: 'expected a non-empty string or an array of non-empty strings' }).pipe(Text), ...fields });
const ArraySchema = z.strictObject({ q: z.array(Text).min(1, 'must hold at least one text'), ...fields });

/** Validates a parsed body; the array schema when q is an array, so element errors are precise. */
export function parseTranslateRequest(raw: unknown): z.ZodSafeParseResult<z.infer<typeof TranslateRequestSchema>> {
  const isArray = raw !== null && typeof raw === 'object' && Array.isArray((raw as { q?: unknown }).q);
  return (isArray ? ArraySchema : SingleSchema).safeParse(raw);
}
export type TranslateRequest = z.infer<typeof TranslateRequestSchema>;

/** One n-best entry (our extension). */
export interface NBestEntry {
  text: string;
  score: number;
  /** With return_scores: output token ids (EOS excluded) and per-token log-probs (EOS included). */
  tokens?: number[];
  positional_scores?: number[];
}

export interface TranslateResponse {
  translatedText: string | string[];
  alternatives?: string[] | string[][];
  /** With n_best: the n best hypotheses per text. */
  nbest?: NBestEntry[] | NBestEntry[][];
  /** With return_scores: total (length-normalised) score of translatedText. */
  score?: number | number[];
  positional_scores?: number[] | number[][];
}

/** Fields that must be numbers or booleans when the body is a form (application/x-www-form-urlencoded). */
const NUMERIC = new Set(['alternatives', 'beam_size', 'n_best', 'length_penalty', 'max_length']);

/**
 * A form body (as LibreTranslate also accepts) to the JSON shape: repeated q → array, numeric
 * fields parsed when they look like numbers (otherwise left as strings for the schema to refuse),
 * return_scores "true"/"false".
 */
export function formToObject(body: string): Record<string, unknown> {
  const params = new URLSearchParams(body);
  const out: Record<string, unknown> = {};
  for (const key of new Set(params.keys())) {
    const all = params.getAll(key);
    let v: unknown = key === 'q' && all.length > 1 ? all : all[all.length - 1];
    if (NUMERIC.has(key) && typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v)) v = Number(v);
    if (key === 'return_scores' && (v === 'true' || v === 'false')) v = v === 'true';
    out[key] = v;
  }
  return out;
}
