// POST /translate: bytes → UTF-8 check → JSON/form → zod schema → access (key, rate) → plan
// (pair, limits, settings) → batcher (shared queue) → LibreTranslate-shaped response. The
// request's deadline and the client's disconnect abort it wherever it is (queue or batch).
import express, { type Request, type Response, Router } from 'express';
import { parseBody } from '../body.js';
import { formatIssues } from '../config.js';
import type { ServerContext } from '../context.js';
import type { EngineHypothesis } from '../engine.js';
import { ApiError, abortReasonToError, badRequest, CancelledError } from '../errors.js';
import { planTranslation } from '../plan.js';
import { type NBestEntry, parseTranslateRequest, type TranslateResponse } from '../schemas/translate.js';

export function translateRoutes(ctx: ServerContext): Router {
  const r = Router();
  r.post('/translate', express.raw({ type: () => true, limit: ctx.settings.bodyLimitBytes }), async (req: Request, res: Response) => {
    const parsed = parseTranslateRequest(parseBody(req.body, req.headers['content-type']));
    if (!parsed.success) throw badRequest(formatIssues(parsed.error));
    const body = parsed.data;
    ctx.access.check(body.api_key, req.ip ?? 'unknown');
    const single = typeof body.q === 'string';
    const texts = typeof body.q === 'string' ? [body.q] : body.q;
    const plan = planTranslation({ ...body, texts }, ctx.registry, ctx.settings);

    const gone = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) gone.abort(new CancelledError());
    });
    const signal = AbortSignal.any([AbortSignal.timeout(ctx.settings.requestTimeoutMs), gone.signal]);
    let results: EngineHypothesis[][];
    try {
      results = await ctx.batcher.submit(plan.engine, plan.pair, plan.texts, plan.tokens, plan.settings, { signal });
    } catch (e) {
      if (signal.aborted && e === signal.reason) throw abortReasonToError(e, ctx.settings.requestTimeoutMs);
      throw e;
    }
    res.json(shapeResponse(results, single, body.alternatives, body.n_best !== undefined, body.return_scores));
  });
  return r;
}

/** LibreTranslate's shape (string for a single q, arrays for an array q) plus our extensions. */
export function shapeResponse(results: EngineHypothesis[][], single: boolean, alternatives: number, withNBest: boolean, withScores: boolean): TranslateResponse {
  for (const [i, h] of results.entries()) {
    if (h.length === 0) throw new ApiError(500, `no hypothesis reached EOS for text ${i}`, 'internal');
  }
  const pick = <T>(f: (h: EngineHypothesis[]) => T): T | T[] => (single ? f(results[0]!) : results.map(f));
  const out: TranslateResponse = { translatedText: pick((h) => h[0]!.text) as string | string[] };
  if (alternatives > 0) out.alternatives = pick((h) => h.slice(1, 1 + alternatives).map((x) => x.text)) as string[] | string[][];
  if (withNBest) {
    out.nbest = pick((h) =>
      h.map((x): NBestEntry => (withScores ? { text: x.text, score: x.score, tokens: x.tokens, positional_scores: x.positionalScores } : { text: x.text, score: x.score })),
    ) as NBestEntry[] | NBestEntry[][];
  }
  if (withScores) {
    out.score = pick((h) => h[0]!.score) as number | number[];
    out.positional_scores = pick((h) => h[0]!.positionalScores) as number[] | number[][];
  }
  return out;
}
