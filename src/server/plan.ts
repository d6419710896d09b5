// From a validated request (HTTP or WebSocket) to a batcher job: the pair's engine, the decoding
// settings (request values over the pair's defaults) and each text's token count — refusing with
// 400 anything over a limit, naming the limit. Shared by routes/translate.ts and ws.ts so both
// enforce the same rules.
import type { ServerSettings } from './config.js';
import type { DecodeSettings, TranslationEngine } from './engine.js';
import { ApiError, badRequest } from './errors.js';
import type { ModelRegistry } from './models.js';

export interface PlanInput {
  texts: string[];
  source: string;
  target: string;
  beam_size?: number;
  n_best?: number;
  /** LibreTranslate's alternatives: n more hypotheses besides the best. */
  alternatives?: number;
  length_penalty?: number;
  max_length?: number;
  /** Name of the texts field in messages ("q"). */
  field?: string;
}

export interface Plan {
  pair: string;
  engine: TranslationEngine;
  settings: DecodeSettings;
  texts: string[];
  /** Source tokens per text, EOS included (what the batch limit counts). */
  tokens: number[];
}

export function planTranslation(inp: PlanInput, registry: ModelRegistry, limits: ServerSettings): Plan {
  if (!registry.ready) throw new ApiError(503, 'the models are still loading; retry shortly', 'unavailable', { 'Retry-After': '5' });
  const field = inp.field ?? 'q';
  const available = registry.pairNames().join(', ');
  if (inp.source === 'auto') throw badRequest(`source "auto" (language detection) is not supported; give the source language (pairs served: ${available})`, 'unknown_pair');
  const served = registry.get(inp.source, inp.target);
  if (!served) throw badRequest(`unknown language pair ${inp.source}-${inp.target}; pairs served: ${available}`, 'unknown_pair');
  const { engine, decoding } = served;

  if (inp.texts.length > limits.maxTextsPerRequest) {
    throw badRequest(`${field} has ${inp.texts.length} texts; the limit is maxTextsPerRequest ${limits.maxTextsPerRequest}`, 'over_limit');
  }
  const alternatives = inp.alternatives ?? 0;
  const nbest = Math.max(inp.n_best ?? 1, alternatives + 1);
  const beamSize = inp.beam_size ?? Math.max(decoding.beamSize, nbest);
  if (beamSize > limits.maxBeamSize) throw badRequest(`beam_size ${beamSize} is over the limit maxBeamSize ${limits.maxBeamSize}`, 'over_limit');
  if (nbest > beamSize) {
    const why = inp.n_best !== undefined && inp.n_best === nbest ? `n_best ${nbest}` : `alternatives ${alternatives} (+1 for the best)`;
    throw badRequest(`${why} asks for more hypotheses than beam_size ${beamSize} keeps`, 'over_limit');
  }
  let maxLength = inp.max_length ?? decoding.maxLength;
  if (maxLength > engine.maxOutputTokens) {
    if (inp.max_length !== undefined) throw badRequest(`max_length ${maxLength} is over this model's limit of ${engine.maxOutputTokens} tokens`, 'over_limit');
    maxLength = engine.maxOutputTokens; // the pair's default, capped by the model (as fairseq caps max_len)
  }
  const settings: DecodeSettings = { beamSize, nbest, lenpen: inp.length_penalty ?? decoding.lenpen, maxLength };

  const tokens = inp.texts.map((text, i) => {
    const where = inp.texts.length > 1 ? `${field}[${i}]` : field;
    if (text.length > limits.maxCharsPerText) throw badRequest(`${where} has ${text.length} characters; the limit is maxCharsPerText ${limits.maxCharsPerText}`, 'over_limit');
    const n = engine.countTokens(text);
    if (n === 0) throw badRequest(`${where} has nothing to translate after cleaning (control characters and whitespace only)`);
    if (n > engine.maxInputTokens) throw badRequest(`${where} has ${n} tokens; the ${served.pair} model accepts at most ${engine.maxInputTokens} per text (split it into sentences)`, 'over_limit');
    if (n + 1 > limits.maxBatchTokens) throw badRequest(`${where} has ${n} tokens (+1 EOS); the limit is maxBatchTokens ${limits.maxBatchTokens}`, 'over_limit');
    return n + 1;
  });
  return { pair: served.pair, engine, settings, texts: inp.texts, tokens };
}
