// POST /translate: bytes → UTF-8 check → JSON/form → zod schema (unknown fields ignored, named
// once in the log) → access (key, rate) → source ("auto": detected per text) → plan per pair
// (limits, settings) → texts cut into sentences, cache, batcher (shared queue) → texts put back
// together → LibreTranslate-shaped response. The request's deadline and the client's disconnect
// abort it wherever it is (queue or batch).
import express, { type Request, type Response, Router } from 'express';
import { resolveAutoSource } from '../auto-source.js';
import { parseBody } from '../body.js';
import { formatIssues } from '../config.js';
import type { ServerContext } from '../context.js';
import type { TranslationHypothesis } from '../engine.js';
import { abortReasonToError, badRequest, CancelledError } from '../errors.js';
import { checkReady, checkTexts, type Plan, planTranslation, textNames } from '../plan.js';
import { type DetectedLanguage, type NBestEntry, parseTranslateRequest, type TranslateResponse } from '../schemas/translate.js';
import { translateTexts } from '../translate-texts.js';

export function translateRoutes(ctx: ServerContext): Router {
  const r = Router();
  r.post('/translate', express.raw({ type: () => true, limit: ctx.settings.bodyLimitBytes }), async (req: Request, res: Response) => {
    const parsed = parseTranslateRequest(parseBody(req.body, req.headers['content-type']));
    logIgnored(ctx, 'POST /translate', parsed.ignored);
    if (!parsed.success) throw badRequest(formatIssues(parsed.error));
    const body = parsed.data;
    ctx.access.check(apiKeyOf(body), req.ip ?? 'unknown');
    checkReady(ctx.registry);
    const single = typeof body.q === 'string';
    const texts = typeof body.q === 'string' ? [body.q] : body.q;
    checkTexts(texts, ctx.settings);
    const names = textNames(texts.length);

    // the source of every text; texts already in the target language (auto only) come back as they are
    let detected: DetectedLanguage[] | undefined;
    let sources: string[];
    if (body.source === 'auto') {
      detected = await resolveAutoSource(ctx, texts, body.target, names);
      sources = detected.map((d) => d.language);
    } else sources = texts.map(() => body.source);
    const groups = new Map<string, number[]>();
    sources.forEach((s, i) => groups.set(s, [...(groups.get(s) ?? []), i]));
    const plans: { plan: Plan | null; idx: number[] }[] = [...groups].map(([source, idx]) => ({
      plan: detected !== undefined && source === body.target ? null : planTranslation({ ...body, source }, ctx.registry, ctx.settings),
      idx,
    }));

    const gone = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) gone.abort(new CancelledError());
    });
    const signal = AbortSignal.any([AbortSignal.timeout(ctx.settings.requestTimeoutMs), gone.signal]);
    const results: TranslationHypothesis[][] = new Array(texts.length);
    try {
      await Promise.all(
        plans.map(async ({ plan, idx }) => {
          if (plan === null) {
            for (const i of idx) results[i] = [{ text: texts[i]!, score: 0, tokens: [], positionalScores: [] }];
            return;
          }
          const got = await translateTexts(
            ctx,
            plan,
            idx.map((i) => texts[i]!),
            { format: body.format, cache: body.cache, signal, names: idx.map((i) => names[i]!) },
          );
          got.forEach((h, k) => (results[idx[k]!] = h));
        }),
      );
    } catch (e) {
      if (signal.aborted && e === signal.reason) throw abortReasonToError(e, ctx.settings.requestTimeoutMs);
      throw e;
    }
    res.json(shapeResponse(results, single, body.alternatives, body.n_best !== undefined, body.return_scores, detected));
  });
  return r;
}

/** LibreTranslate's api_key, or the npm client's apiKey; both given and different is an error. */
export function apiKeyOf(body: { api_key?: string; apiKey?: string }): string | undefined {
  if (body.api_key !== undefined && body.apiKey !== undefined && body.api_key !== body.apiKey && body.apiKey !== '') {
    throw badRequest('api_key and apiKey differ; give one of them');
  }
  return body.api_key ?? (body.apiKey === '' ? undefined : body.apiKey);
}

/** Names fields we ignore in the log, once per route and field. */
export function logIgnored(ctx: ServerContext, route: string, fields: readonly string[]): void {
  for (const f of fields)
    ctx.logOnce(
      `ignored ${route} ${f}`,
      `[serve] ${route}: ignoring unknown field ${JSON.stringify(f)} (as LibreTranslate does); logged once`,
    );
}

/** LibreTranslate's shape (string for a single q, arrays for an array q) plus our extensions. */
export function shapeResponse(
  results: TranslationHypothesis[][],
  single: boolean,
  alternatives: number,
  withNBest: boolean,
  withScores: boolean,
  detected?: DetectedLanguage[],
): TranslateResponse {
  const pick = <T>(f: (h: TranslationHypothesis[], i: number) => T): T | T[] => (single ? f(results[0]!, 0) : results.map(f));
  const out: TranslateResponse = { translatedText: pick((h) => h[0]!.text) as string | string[] };
  if (alternatives > 0) out.alternatives = pick((h) => h.slice(1, 1 + alternatives).map((x) => x.text)) as string[] | string[][];
  if (detected !== undefined) out.detectedLanguage = pick((_, i) => detected[i]!) as DetectedLanguage | DetectedLanguage[];
  if (withNBest) {
    out.nbest = pick((h) =>
      h.map(
        (x): NBestEntry =>
          withScores
            ? { text: x.text, score: x.score, tokens: x.tokens, positional_scores: x.positionalScores }
            : { text: x.text, score: x.score },
      ),
    ) as NBestEntry[] | NBestEntry[][];
  }
  if (withScores) {
    out.score = pick((h) => h[0]!.score) as number | number[];
    out.positional_scores = pick((h) => h[0]!.positionalScores) as number[] | number[][];
  }
  return out;
}
