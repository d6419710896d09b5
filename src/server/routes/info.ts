// GET /languages (LibreTranslate's [{code, name, targets}] from the loaded models), GET
// /frontend/settings (LibreTranslate's, for its web clients), GET /health (200 only once the
// models are loaded and while not shutting down; 503 otherwise) and GET /metrics (Prometheus).
import { type Request, type Response, Router } from 'express';
import type { ServerContext } from '../context.js';

/** LibreTranslate's default delay of its page between typing and translating, ms. */
const FRONTEND_TIMEOUT_MS = 500;

export function infoRoutes(ctx: ServerContext): Router {
  const r = Router();
  r.get('/languages', (_req: Request, res: Response) => {
    res.json(ctx.registry.languages());
  });
  r.get('/frontend/settings', (_req: Request, res: Response) => {
    const pairs = ctx.registry.all().sort((a, b) => a.pair.localeCompare(b.pair));
    const target = pairs[0]?.target ?? '';
    res.json({
      charLimit: ctx.settings.maxCharsPerText,
      frontendTimeout: FRONTEND_TIMEOUT_MS,
      apiKeys: ctx.access.keysRequired,
      keyRequired: ctx.access.keysRequired,
      suggestions: false,
      filesTranslation: false,
      supportedFilesFormat: [],
      language: { source: { code: 'auto', name: 'Auto Detect' }, target: { code: target, name: ctx.registry.name(target) } },
    });
  });
  r.get('/health', (_req: Request, res: Response) => {
    const status = ctx.state.shuttingDown ? 'shutting down' : ctx.registry.ready ? 'ok' : 'loading';
    res.status(status === 'ok' ? 200 : 503).json({ status, pairs: ctx.registry.pairNames(), queued: ctx.batcher.queued });
  });
  r.get('/metrics', async (_req: Request, res: Response) => {
    res.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics());
  });
  return r;
}
