// The serve configuration (configs/serve/*.json), read once at boot and validated with zod:
// server limits and batching, and the models — one per language pair "src-tgt" — each a
// checkpoint of `resmlp mt train` (it carries its SentencePiece model) plus decoding defaults.
// Unknown keys, wrong types and bad values are refused with the key's path in the message.
// The file is read with the shared reader (src/util/config.ts), so it may extend a base config.
// Relative paths are resolved against the current directory.
import { z } from 'zod';
import { readConfigFile } from '../util/config.js';
import { PRECISIONS } from '../quant/precision.js';
import { DEFAULT_BATCHER } from './batcher.js';

const posInt = z.number().int().positive();

/** Decoding defaults of a pair; a request may override beam size, n-best, length penalty and max length. */
export const DecodingDefaultsSchema = z.strictObject({
  /** Beam size when the request gives none. Default: the checkpoint's generation default (5 without one, fairseq's). */
  beamSize: posInt.optional(),
  /** Length penalty. Default: the checkpoint's (`resmlp mt tune` stores the tuned one; 1 without one). */
  lenpen: z.number().finite().optional(),
  /** Max output tokens when the request gives none (capped by the model). Default 200. */
  maxLength: posInt.default(200),
  /** Never repeat an n-gram of this size (0 = off). Default 0. */
  noRepeatNgramSize: z.number().int().min(0).default(0),
  /** Subtracted from the unk log-prob. Default 0. */
  unkPenalty: z.number().finite().default(0),
});
export type DecodingDefaults = z.infer<typeof DecodingDefaultsSchema>;
/** Decoding defaults of a served pair: the config's, the checkpoint's where the config is silent. */
export type ServedDecoding = DecodingDefaults & { beamSize: number; lenpen: number };

export const ModelEntrySchema = z.strictObject({
  /** A checkpoint of `resmlp mt train` (safetensors; its spm.model must sit beside it). */
  checkpoint: z.string().min(1),
  /**
   * Optional: the SentencePiece model the checkpoint must have been trained with. The checkpoint
   * records its own (by sha256); giving it here makes boot fail if they differ.
   */
  sentencepiece: z.string().min(1).optional(),
  decoding: DecodingDefaultsSchema.default(DecodingDefaultsSchema.parse({})),
  /**
   * 'int8': the linear layers on oneDNN's int8 kernels (native backend, VNNI CPUs; elsewhere fp32,
   * said in the log); 'fp32'. Default: the checkpoint's (int8 for `resmlp mt quantize`'s).
   */
  precision: z.enum(PRECISIONS).optional(),
});
export type ModelEntry = z.infer<typeof ModelEntrySchema>;

export const ServerSettingsSchema = z.strictObject({
  /**
   * "step": step-level batching (sentences join the running decode loop between steps; the
   * default); "batch": batch-level dynamic batching (a batch decodes to its end, the next waits).
   */
  scheduler: z.enum(['step', 'batch'], { error: 'expected "step" or "batch"' }).default(DEFAULT_BATCHER.scheduler),
  /** Step scheduler: most live rows (sentences × beam) of a model's decode loop. Default 256. */
  maxLiveRows: posInt.default(DEFAULT_BATCHER.maxLiveRows),
  /**
   * Step scheduler: steps a sentence arriving during a decode may wait to be encoded with other
   * arrivals (0 = join at the next step). Default 2.
   */
  joinWaitSteps: z.number().int().nonnegative().default(DEFAULT_BATCHER.joinWaitSteps),
  /** Batch scheduler: source tokens per generate call (sentences are cut to fit it). */
  maxBatchTokens: posInt.default(DEFAULT_BATCHER.maxBatchTokens),
  /** Batch scheduler: sentences per generate call (1 = batching off). */
  maxBatchSentences: posInt.default(DEFAULT_BATCHER.maxBatchSentences),
  /** Batch scheduler: max wait of the oldest queued sentence for company, ms (0 = never wait). */
  maxWaitMs: z.number().min(0).default(DEFAULT_BATCHER.maxWaitMs),
  /** Queued sentences before 429. */
  maxQueueSentences: posInt.default(DEFAULT_BATCHER.maxQueueSentences),
  /** Deadline of a request (queue + decoding), ms; past it the answer is 504. Default 30000. */
  requestTimeoutMs: posInt.default(30_000),
  /** Request body limit, bytes (413 above). Default 1 MB. */
  bodyLimitBytes: posInt.default(1_000_000),
  /** Texts per POST /translate. Default 128. */
  maxTextsPerRequest: posInt.default(128),
  /** Characters per text (a text is cut into sentences; none is refused for its token count). Default 5000 (LibreTranslate's char_limit). */
  maxCharsPerText: posInt.default(5000),
  /** Largest beam_size a request may ask for. Default 16. */
  maxBeamSize: posInt.default(16),
  /** Accepted api_key values; empty = no key needed. Default []. */
  apiKeys: z.array(z.string().min(1)).default([]),
  /** Requests per minute per API key (or per client address without keys); 0 = unlimited. Default 0. */
  rateLimitPerMinute: z.number().int().min(0).default(0),
  /** Origins allowed by CORS: [] = no CORS headers, ["*"] = any. Default []. */
  corsOrigins: z.array(z.string().min(1)).default([]),
  /** Requests in flight per WebSocket. Default 16. */
  wsMaxInFlight: posInt.default(16),
  /** Largest WebSocket message, bytes. Default 64 KB. */
  wsMaxMessageBytes: posInt.default(65_536),
  /** Bytes of finished sentences the translation cache keeps (LRU); 0 = no cache. Default 64 MB. */
  cacheMaxBytes: z
    .number()
    .int()
    .min(0)
    .default(64 * 1024 * 1024),
});
export type ServerSettings = z.infer<typeof ServerSettingsSchema>;

const PAIR = /^[a-z]{2,3}(?:-[A-Za-z]{2,4})?-[a-z]{2,3}(?:-[A-Za-z]{2,4})?$/;

export const ServeConfigSchema = z.strictObject({
  server: ServerSettingsSchema.default(ServerSettingsSchema.parse({})),
  /** Language pair "src-tgt" (e.g. "en-de") → model. */
  models: z
    .record(z.string(), ModelEntrySchema)
    .superRefine((m, ctx) => {
      for (const k of Object.keys(m)) {
        if (!PAIR.test(k))
          ctx.addIssue({
            code: 'custom',
            path: [k],
            message: `expected a language pair such as "en-de" (ISO 639 codes, source-target), got ${JSON.stringify(k)}`,
          });
      }
    })
    .refine((m) => Object.keys(m).length > 0, 'at least one model'),
  /** Display names of language codes, added to / overriding the built-in table. */
  languageNames: z.record(z.string(), z.string().min(1)).default({}),
});
export type ServeConfig = z.infer<typeof ServeConfigSchema>;

/** Zod issues as "key.path: message" lines. */
export function formatIssues(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`).join('; ');
}

/** Validates a parsed serve config; errors name the key (`where` prefixes the message). */
export function resolveServeConfig(raw: unknown, where = 'serve config'): ServeConfig {
  const r = ServeConfigSchema.safeParse(raw);
  if (!r.success) throw new Error(`${where}: ${formatIssues(r.error)}`);
  return r.data;
}

/** Reads and validates a serve config file (it may extend a base: `"extends": "base.json"`). */
export function readServeConfig(path: string): ServeConfig {
  return resolveServeConfig(readConfigFile(path), `serve config ${path}`);
}

/** Splits "en-de" into its source and target codes. */
export function splitPair(pair: string): { source: string; target: string } {
  const m = /^([a-z]{2,3}(?:-[A-Za-z]{2,4})?)-([a-z]{2,3}(?:-[A-Za-z]{2,4})?)$/.exec(pair);
  if (!m) throw new Error(`not a language pair: ${JSON.stringify(pair)} (expected e.g. "en-de")`);
  return { source: m[1]!, target: m[2]! };
}

/** Built-in display names (LibreTranslate's /languages shows names). */
export const LANGUAGE_NAMES: Readonly<Record<string, string>> = {
  ar: 'Arabic',
  cs: 'Czech',
  de: 'German',
  en: 'English',
  es: 'Spanish',
  fi: 'Finnish',
  fr: 'French',
  hi: 'Hindi',
  it: 'Italian',
  ja: 'Japanese',
  ko: 'Korean',
  nl: 'Dutch',
  pl: 'Polish',
  pt: 'Portuguese',
  ro: 'Romanian',
  ru: 'Russian',
  tr: 'Turkish',
  uk: 'Ukrainian',
  zh: 'Chinese',
};
