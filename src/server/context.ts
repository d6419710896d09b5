// What the routes and the WebSocket handler share: built once by app.ts from its dependencies.
import type { AccessControl } from './access.js';
import type { Batcher } from './batcher.js';
import type { TranslationCache } from './cache.js';
import type { ServerSettings } from './config.js';
import type { ServerMetrics } from './metrics.js';
import type { ModelRegistry } from './models.js';

export interface ServerContext {
  registry: ModelRegistry;
  settings: ServerSettings;
  batcher: Batcher;
  /** Finished sentences by pair, settings and text (LRU, bounded in bytes). */
  cache: TranslationCache;
  metrics: ServerMetrics;
  access: AccessControl;
  /** One line per event worth a log (errors with context, shutdown). */
  log: (line: string) => void;
  /** Logs `line` the first time `key` is seen (e.g. each ignored request field once). */
  logOnce: (key: string, line: string) => void;
  /** Set once shutdown starts: /health answers 503, new work 503. */
  state: { shuttingDown: boolean };
}
