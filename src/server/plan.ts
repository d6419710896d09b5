// From a validated request (HTTP or WebSocket) to what the server will do: the pair's engine and
// the decoding settings (request values over the pair's defaults), refusing with 400 anything
// over a limit and naming the field the client sent and the limit. Shared by
// routes/translate.ts and ws.ts so both enforce the same rules. Texts are cut into sentences
// later (translate-texts.ts); here only their number and characters are checked (checkTexts).
import type { ServerSettings } from './config.js';
import type { DecodeSettings, TranslationEngine } from './engine.js';
import { UserError } from '../util/errors.js';
import { badRequest } from './errors.js';
import type { ModelRegistry } from './models.js';

export interface PlanInput {
  source: string;
  target: string;
  beam_size?: number;
  n_best?: number;
  /** LibreTranslate's alternatives: n more hypotheses besides the best. */
  alternatives?: number;
  length_penalty?: number;
  max_length?: number;
}

export interface Plan {
  pair: string;
  source: string;
  engine: TranslationEngine;
  settings: DecodeSettings;
}

/** Names of the texts of a request for messages: "q" for one text, "q[i]" for an array. */
export function textNames(count: number, field = 'q'): string[] {
  return count === 1 ? [field] : Array.from({ length: count }, (_, i) => `${field}[${i}]`);
}

/** The number of texts and the characters of each against the limits (400 naming the text). */
export function checkTexts(texts: readonly string[], limits: ServerSettings, field = 'q'): void {
  if (texts.length > limits.maxTextsPerRequest) {
    throw badRequest(`${field} has ${texts.length} texts; the limit is maxTextsPerRequest ${limits.maxTextsPerRequest}`, 'over_limit');
  }
  const names = textNames(texts.length, field);
  texts.forEach((text, i) => {
    if (text.length > limits.maxCharsPerText)
      throw badRequest(`${names[i]} has ${text.length} characters; the limit is maxCharsPerText ${limits.maxCharsPerText}`, 'over_limit');
  });
}

/** 503 while the models load. */
export function checkReady(registry: ModelRegistry): void {
  if (!registry.ready) throw new UserError('the models are still loading; retry shortly', 'unavailable', { 'Retry-After': '5' });
}

export function planTranslation(inp: PlanInput, registry: ModelRegistry, limits: ServerSettings): Plan {
  checkReady(registry);
  const served = registry.get(inp.source, inp.target);
  if (!served)
    throw badRequest(`unknown language pair ${inp.source}-${inp.target}; pairs served: ${registry.pairNames().join(', ')}`, 'unknown_pair');
  const { engine, decoding } = served;

  const alternatives = inp.alternatives ?? 0;
  const nbest = Math.max(inp.n_best ?? 1, alternatives + 1);
  // the field that asked for the most hypotheses, as the client wrote it
  const asked =
    inp.n_best !== undefined && inp.n_best >= alternatives + 1 ? `n_best ${inp.n_best}` : `alternatives ${alternatives} (+1 for the best)`;
  const beamSize = inp.beam_size ?? Math.max(decoding.beamSize, nbest);
  if (beamSize > limits.maxBeamSize) {
    const why = inp.beam_size !== undefined ? `beam_size ${beamSize}` : `${asked} needs beam_size ${beamSize}, which`;
    throw badRequest(`${why} is over the limit maxBeamSize ${limits.maxBeamSize}`, 'over_limit');
  }
  if (nbest > beamSize) throw badRequest(`${asked} asks for more hypotheses than beam_size ${beamSize} keeps`, 'over_limit');
  let maxLength = inp.max_length ?? decoding.maxLength;
  if (maxLength > engine.maxOutputTokens) {
    if (inp.max_length !== undefined)
      throw badRequest(`max_length ${maxLength} is over this model's limit of ${engine.maxOutputTokens} tokens`, 'over_limit');
    maxLength = engine.maxOutputTokens; // the pair's default, capped by the model (as fairseq caps max_len)
  }
  const settings: DecodeSettings = { beamSize, nbest, lenpen: inp.length_penalty ?? decoding.lenpen, maxLength };
  return { pair: served.pair, source: served.source, engine, settings };
}
