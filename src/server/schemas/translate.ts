// POST /translate: LibreTranslate's request and response (q, source — "auto" detects it —,
// target, format "text" | "html", alternatives, api_key or apiKey → translatedText, alternatives,
// detectedLanguage) plus our extensions beam_size, n_best, length_penalty, return_scores,
// max_length and cache. As LibreTranslate, fields it does not know are ignored (the route names
// them once in the log); the fields it does know, and ours, are validated strictly.
import { z } from 'zod';
import { DecodingOptions, LangCode, Text } from './common.js';

export const TextFormat = z.enum(['text', 'html'], { error: 'expected "text" or "html"' });

const fields = {
  source: LangCode,
  target: LangCode,
  format: TextFormat.default('text'),
  alternatives: z.number().int().min(0).default(0),
  api_key: z.string().optional(),
  /** The npm `libretranslate` client's spelling of api_key. */
  apiKey: z.string().optional(),
  ...DecodingOptions,
  return_scores: z.boolean().default(false),
  /** Answer repeated sentences from the translation cache (default true). */
  cache: z.boolean().default(true),
};
/** Every field we read; anything else in a body is ignored and logged once. */
export const KNOWN_FIELDS: ReadonlySet<string> = new Set(['q', ...Object.keys(fields)]);

const QUnion = z.union([Text, z.array(Text)]);
export const TranslateRequestSchema = z.object({ q: QUnion, ...fields });
/** The two shapes of q, validated separately so errors point inside arrays (q.1: …). */
const SingleSchema = z.object({
  q: z.string({ error: 'expected a non-empty string or an array of non-empty strings' }).pipe(Text),
  ...fields,
});
const ArraySchema = z.object({ q: z.array(Text).min(1, 'must hold at least one text'), ...fields });

export interface ParsedTranslateRequest {
  data: z.infer<typeof TranslateRequestSchema>;
  /** Fields of the body we do not know (ignored). */
  ignored: string[];
}

/**
 * Validates a parsed body (the array schema when q is an array, so element errors are precise).
 * Unknown fields are not errors: they are returned in `ignored`.
 */
export function parseTranslateRequest(raw: unknown): z.ZodSafeParseResult<z.infer<typeof TranslateRequestSchema>> & { ignored: string[] } {
  const isObject = raw !== null && typeof raw === 'object' && !Array.isArray(raw);
  const isArray = isObject && Array.isArray((raw as { q?: unknown }).q);
  const ignored = isObject ? Object.keys(raw).filter((k) => !KNOWN_FIELDS.has(k)) : [];
  return Object.assign((isArray ? ArraySchema : SingleSchema).safeParse(raw), { ignored });
}
export type TranslateRequest = z.infer<typeof TranslateRequestSchema>;

/** LibreTranslate's detection record: confidence 0–100. */
export interface DetectedLanguage {
  language: string;
  confidence: number;
}

/** One n-best entry (our extension). */
export interface NBestEntry {
  text: string;
  score: number;
  /**
   * With return_scores: output token ids and their log-probs, one each, every sentence ending with
   * EOS, concatenated over the text's sentences.
   */
  tokens?: number[];
  positional_scores?: number[];
}

export interface TranslateResponse {
  translatedText: string | string[];
  alternatives?: string[] | string[][];
  /** With source "auto": the language found (per text for an array q). */
  detectedLanguage?: DetectedLanguage | DetectedLanguage[];
  /** With n_best: the n best hypotheses per text. */
  nbest?: NBestEntry[] | NBestEntry[][];
  /** With return_scores: total (length-normalised) score of translatedText. */
  score?: number | number[];
  positional_scores?: number[] | number[][];
}

/** Fields that must be numbers or booleans when the body is a form (application/x-www-form-urlencoded). */
const NUMERIC = new Set(['alternatives', 'beam_size', 'n_best', 'length_penalty', 'max_length']);
const BOOLEAN = new Set(['return_scores', 'cache']);

/**
 * A form body (as LibreTranslate also accepts) to the JSON shape: repeated q → array, numeric
 * fields parsed when they look like numbers (otherwise left as strings for the schema to refuse),
 * booleans from "true"/"false". Line breaks CR LF → LF, as LibreTranslate normalises form text.
 */
export function formToObject(body: string): Record<string, unknown> {
  const params = new URLSearchParams(body);
  const out: Record<string, unknown> = {};
  for (const key of new Set(params.keys())) {
    const all = params.getAll(key).map((v) => (key === 'q' ? v.replace(/\r\n?/g, '\n') : v));
    let v: unknown = key === 'q' && all.length > 1 ? all : all[all.length - 1];
    if (NUMERIC.has(key) && typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v)) v = Number(v);
    if (BOOLEAN.has(key) && (v === 'true' || v === 'false')) v = v === 'true';
    out[key] = v;
  }
  return out;
}
