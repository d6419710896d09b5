// POST /detect (LibreTranslate's): {q, api_key?} → [{language, confidence}], best first, among
// the source languages served; 400 when the text cannot be placed (src/server/auto-source.ts).
import express, { type Request, type Response, Router } from 'express';
import { z } from 'zod';
import { detectLanguage } from '../auto-source.js';
import { parseBody } from '../body.js';
import { formatIssues } from '../config.js';
import type { ServerContext } from '../context.js';
import { badRequest } from '../errors.js';
import { checkReady, checkTexts } from '../plan.js';
import { Text } from '../schemas/common.js';
import { apiKeyOf, logIgnored } from './translate.js';

const DetectSchema = z.object({
  q: z.union([Text, z.array(Text).min(1, 'must hold at least one text')]),
  api_key: z.string().optional(),
  apiKey: z.string().optional(),
});
const KNOWN = new Set(['q', 'api_key', 'apiKey']);

export function detectRoutes(ctx: ServerContext): Router {
  const r = Router();
  r.post('/detect', express.raw({ type: () => true, limit: ctx.settings.bodyLimitBytes }), async (req: Request, res: Response) => {
    const raw = parseBody(req.body, req.headers['content-type']);
    if (raw !== null && typeof raw === 'object' && !Array.isArray(raw))
      logIgnored(
        ctx,
        'POST /detect',
        Object.keys(raw).filter((k) => !KNOWN.has(k)),
      );
    const parsed = DetectSchema.safeParse(raw);
    if (!parsed.success) throw badRequest(formatIssues(parsed.error));
    ctx.access.check(apiKeyOf(parsed.data), req.ip ?? 'unknown');
    checkReady(ctx.registry);
    const texts = typeof parsed.data.q === 'string' ? [parsed.data.q] : parsed.data.q;
    checkTexts(texts, ctx.settings);
    res.json(await detectLanguage(ctx, texts));
  });
  return r;
}
