// Builds the translation server from its dependencies and never listens (main.ts does): routes
// (POST /translate, POST /detect, GET /languages, /frontend/settings, /health, /metrics, the page
// at /), the WebSocket stream server, CORS, per-route metrics and one error handler that logs
// context and hides the internals of 5xx. Tests build it in-process around a fake engine.
import type { Server } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { AccessControl } from './access.js';
import { Batcher } from './batcher.js';
import { TranslationCache } from './cache.js';
import { type ServerSettings, ServerSettingsSchema } from './config.js';
import type { ServerContext } from './context.js';
import { UserError } from '../util/errors.js';
import { errorAnswer } from './errors.js';
import { ServerMetrics } from './metrics.js';
import type { ModelRegistry } from './models.js';
import { detectRoutes } from './routes/detect.js';
import { infoRoutes } from './routes/info.js';
import { pageRoutes } from './routes/page.js';
import { translateRoutes } from './routes/translate.js';
import { StreamServer } from './ws.js';

export interface AppDeps {
  registry: ModelRegistry;
  /** Validated server settings (defaults for anything not given). */
  settings?: Partial<ServerSettings>;
  metrics?: ServerMetrics;
  log?: (line: string) => void;
  /** Clock of the rate limiter (tests). */
  now?: () => number;
}

export interface ServerApp {
  app: express.Express;
  context: ServerContext;
  /** Sends WebSocket upgrades of `server` on /translate/stream to the stream server. */
  attach(server: Server): void;
  /**
   * Graceful stop: refuse new work (503), let queued and decoding work finish, then close the
   * WebSockets. The caller closes the HTTP server (stop accepting) before awaiting this.
   */
  shutdown(): Promise<void>;
}

export function buildApp(deps: AppDeps): ServerApp {
  const settings = ServerSettingsSchema.parse(deps.settings ?? {});
  const metrics = deps.metrics ?? new ServerMetrics();
  const log = deps.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const batcher = new Batcher(
    {
      scheduler: settings.scheduler,
      maxLiveRows: settings.maxLiveRows,
      joinWaitSteps: settings.joinWaitSteps,
      maxBatchTokens: settings.maxBatchTokens,
      maxBatchSentences: settings.maxBatchSentences,
      maxWaitMs: settings.maxWaitMs,
      maxQueueSentences: settings.maxQueueSentences,
    },
    metrics,
    log,
  );
  const logged = new Set<string>();
  const ctx: ServerContext = {
    registry: deps.registry,
    settings,
    batcher,
    cache: new TranslationCache(settings.cacheMaxBytes, metrics),
    metrics,
    access: new AccessControl(settings.apiKeys, settings.rateLimitPerMinute, deps.now),
    log,
    logOnce: (key, line) => {
      if (logged.has(key)) return;
      logged.add(key);
      log(line);
    },
    state: { shuttingDown: false },
  };

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use((req: Request, res: Response, next: NextFunction) => {
    const t0 = performance.now();
    res.on('finish', () => {
      const route = req.route?.path ?? (res.statusCode === 404 ? 'unmatched' : req.path);
      metrics.requests.inc({ route, method: req.method, status: String(res.statusCode) });
      metrics.latency.observe({ route }, (performance.now() - t0) / 1000);
    });
    next();
  });
  if (settings.corsOrigins.length > 0) app.use(cors(settings.corsOrigins));
  app.use(pageRoutes());
  app.use(infoRoutes(ctx));
  app.use(translateRoutes(ctx));
  app.use(detectRoutes(ctx));
  app.use((req: Request) => {
    throw new UserError(
      `no route ${req.method} ${req.path}; see GET / , POST /translate, POST /detect, GET /languages, /frontend/settings, /health, /metrics, WebSocket /translate/stream`,
      'not_found',
    );
  });
  app.use(errorHandler(ctx));

  const stream = new StreamServer(ctx);
  return {
    app,
    context: ctx,
    attach: (server) => stream.attach(server),
    async shutdown() {
      ctx.state.shuttingDown = true;
      batcher.stop();
      await batcher.idle();
      await stream.close();
    },
  };
}

/** CORS for the configured origins ("*" = any); answers preflights with 204. */
function cors(origins: string[]) {
  const any = origins.includes('*');
  return (req: Request, res: Response, next: NextFunction) => {
    const origin = req.headers.origin;
    if (origin !== undefined && (any || origins.includes(origin))) {
      res.setHeader('Access-Control-Allow-Origin', any ? '*' : origin);
      if (!any) res.setHeader('Vary', 'Origin');
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type');
      res.setHeader('Access-Control-Max-Age', '600');
    }
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
    next();
  };
}

/** Body-parser errors carry `type` and `status`. */
interface ParserError {
  type?: string;
  status?: number;
  limit?: number;
  length?: number;
}

/** Body-parser failures as UserErrors; null for anything else. */
function bodyParserError(err: unknown): UserError | null {
  const pe = err as ParserError;
  if (pe?.type === 'entity.too.large')
    return new UserError(`request body has ${pe.length} bytes; the limit is bodyLimitBytes ${pe.limit}`, 'too_large');
  if (pe?.type === 'request.aborted') return new UserError('request body was aborted by the client', 'cancelled');
  if (typeof pe?.type === 'string' && typeof pe.status === 'number' && pe.status < 500)
    return new UserError(`bad request body (${pe.type})`, 'invalid_request');
  return null;
}

/** The one error handler: the answer of src/server/errors.ts, internals logged, never shown. */
function errorHandler(ctx: ServerContext) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const a = errorAnswer(bodyParserError(err) ?? err);
    if (a.internal) ctx.log(`[serve] 500 on ${req.method} ${req.originalUrl}: ${(err as Error)?.stack ?? String(err)}`);
    ctx.metrics.errors.inc({ kind: a.kind });
    if (res.headersSent) {
      res.end();
      return;
    }
    for (const [k, v] of Object.entries(a.headers)) res.setHeader(k, v);
    // a client that went away (499) reads nothing; answer 400 for the log
    res.status(a.status === 499 ? 400 : a.status).json({ error: a.message });
  };
}
