// What the routes and the WebSocket handler share: built once by app.ts from its dependencies.
import type { AccessControl } from './access.js';
import type { Batcher } from './batcher.js';
import type { ServerSettings } from './config.js';
import type { ServerMetrics } from './metrics.js';
import type { ModelRegistry } from './models.js';

export interface ServerContext {
  registry: ModelRegistry;
  settings: ServerSettings;
  batcher: Batcher;
  metrics: ServerMetrics;
  access: AccessControl;
  /** One line per event worth a log (errors with context, shutdown). */
  log: (line: string) => void;
  /** Set once shutdown starts: /health answers 503, new work 503. */
  state: { shuttingDown: boolean };
}
