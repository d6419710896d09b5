// Runs the server: reads nothing itself (the serve config comes validated), listens, loads the
// models (GET /health is 503 until they are ready), and stops gracefully on SIGTERM/SIGINT:
// stop accepting, finish queued and decoding work, close the WebSockets, free the models.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildApp, type ServerApp } from './app.js';
import type { ServeConfig } from './config.js';
import { ServerMetrics } from './metrics.js';
import { loadModels, ModelRegistry } from './models.js';

export interface StartOptions {
  port: number;
  host: string;
  log?: (line: string) => void;
  /** Loads the models into the registry (default: loadModels from the config's checkpoints). */
  load?: (registry: ModelRegistry) => Promise<void>;
}

export interface RunningServer {
  server: Server;
  app: ServerApp;
  registry: ModelRegistry;
  url: string;
  /** Resolves once the models are loaded (rejects if loading failed; the server then stops). */
  loaded: Promise<void>;
  stop(): Promise<void>;
}

export async function startServer(config: ServeConfig, opts: StartOptions): Promise<RunningServer> {
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const registry = new ModelRegistry(config.languageNames);
  const app = buildApp({ registry, settings: config.server, metrics: new ServerMetrics({ processMetrics: true }), log });
  const server = createServer(app.app);
  app.attach(server);
  server.requestTimeout = config.server.requestTimeoutMs + 10_000;
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(opts.port, opts.host, () => {
      server.off('error', rej);
      res();
    });
  });
  const addr = server.address() as AddressInfo;
  const url = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
  log(`[serve] listening on ${url} (models loading; /health is 503 until ready)`);
  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      log('[serve] shutting down: no new requests; finishing in-flight work');
      const closed = new Promise<void>((r) => server.close(() => r()));
      await app.shutdown();
      server.closeIdleConnections();
      await closed;
      registry.dispose();
      log('[serve] stopped');
    })());
  const loaded = (opts.load ?? ((r) => loadModels(config, r, log)))(registry).then(() =>
    log(`[serve] ready: ${registry.pairNames().join(', ')}`),
  );
  return { server, app, registry, url, loaded, stop };
}

/** Stops `s` on the first SIGTERM or SIGINT; resolves when it has stopped. */
export function stopOnSignals(s: RunningServer): Promise<void> {
  return new Promise((resolve) => {
    const onSignal = (sig: NodeJS.Signals) => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      process.stderr.write(`[serve] ${sig}\n`);
      void s.stop().then(resolve);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
