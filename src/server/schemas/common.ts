// Pieces shared by the HTTP and WebSocket request schemas (zod; types are inferred from them).
import { z } from 'zod';

/** A text to translate: a string with something besides whitespace. */
export const Text = z.string({ error: 'expected a string' }).refine((s) => s.trim().length > 0, 'must not be empty or only whitespace');

export const LangCode = z.string({ error: 'expected a language code such as "en"' }).min(1, 'expected a language code such as "en"');

/** Decoding options of our extension of LibreTranslate's API (snake_case, as its fields). */
export const DecodingOptions = {
  beam_size: z.number().int().min(1).optional(),
  n_best: z.number().int().min(1).optional(),
  length_penalty: z.number().finite().optional(),
  max_length: z.number().int().min(1).optional(),
};
