// WebSocket /translate/stream messages (see src/server/README.md): a translation request
// {id, q, source, target, format?, beam_size?, n_best?, length_penalty?, max_length?, api_key?}
// or a cancel {id, cancel: true}; and what the server sends back. The protocol is ours: unknown
// fields are refused by name.
import { z } from 'zod';
import { DecodingOptions, LangCode, Text } from './common.js';
import type { DetectedLanguage } from './translate.js';
import { TextFormat } from './translate.js';

export const StreamId = z.union([z.string().min(1).max(128), z.number().int().safe()], {
  error: 'expected a non-empty string (≤ 128 chars) or an integer',
});

export const StreamRequestSchema = z.strictObject({
  id: StreamId,
  q: Text,
  source: LangCode,
  target: LangCode,
  format: TextFormat.default('text'),
  api_key: z.string().optional(),
  ...DecodingOptions,
});
export type StreamRequest = z.infer<typeof StreamRequestSchema>;

export const StreamCancelSchema = z.strictObject({
  id: StreamId,
  cancel: z.literal(true),
});
export type StreamCancel = z.infer<typeof StreamCancelSchema>;

export type StreamId = z.infer<typeof StreamId>;

/** Server → client. */
export type StreamMessage =
  | { id: StreamId; sentences: string[]; detectedLanguage?: DetectedLanguage }
  | { id: StreamId; sentence: number; step: number; beams: { text: string; tokens: number[]; score: number }[] }
  | { id: StreamId; done: true; translations: { text: string; score: number }[]; detectedLanguage?: DetectedLanguage }
  | { id: StreamId; cancelled: true }
  | { id?: StreamId; error: string; status?: number };
