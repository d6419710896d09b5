// GET /languages (LibreTranslate's [{code, name, targets}] from the loaded models), GET /health
// (200 only once the models are loaded and while not shutting down; 503 otherwise) and GET
// /metrics (Prometheus text format).
import { type Request, type Response, Router } from 'express';
import type { ServerContext } from '../context.js';

export function infoRoutes(ctx: ServerContext): Router {
  const r = Router();
  r.get('/languages', (_req: Request, res: Response) => {
    res.json(ctx.registry.languages());
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
