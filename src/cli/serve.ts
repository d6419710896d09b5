// `resmlp serve --config configs/serve/<name>.json [--port 8080] [--host 127.0.0.1] [--backend B]`:
// parsing only. Reads and validates the serve config once, picks the tensor backend, and runs
// src/server/main.ts (listen, load the models, stop gracefully on SIGTERM/SIGINT).
import { usageError, type FlagSpec } from './args.js';
import { defineCommand, type CommandContext } from './command.js';
import { listed } from './commands.js';
import { UserError } from '../util/errors.js';

const FLAGS: Record<string, FlagSpec> = {
  config: { type: 'string', alias: 'c', help: 'serve config (configs/serve/*.json): models per language pair, limits, batching' },
  port: { type: 'int', alias: 'p', default: 8080, help: 'TCP port (0 = any free port)' },
  host: { type: 'string', default: '127.0.0.1', help: 'address to listen on (0.0.0.0 in a container)' },
  backend: { type: 'string', help: 'auto | native | wasm | cpu | tensorflow | tensorflow-gpu (default: RESMLP_BACKEND or auto)' },
};

/** An error of the serve config or of loading the models it names: the user's to fix, exit 1. */
const configError = (e: unknown) => (e instanceof UserError ? e : new UserError((e as Error).message, 'invalid_config'));

async function serve({ flags }: CommandContext): Promise<number> {
  if (typeof flags.config !== 'string') throw usageError('--config is required');
  const port = flags.port as number;
  if (port < 0 || port > 65535) throw usageError(`--port must be in 0..65535, got ${port}`);
  const { readServeConfig } = await import('../server/config.js');
  let config: ReturnType<typeof readServeConfig>;
  try {
    config = readServeConfig(flags.config);
  } catch (e) {
    throw configError(e);
  }
  const { initBackend } = await import('../backend/choose.js');
  await initBackend(typeof flags.backend === 'string' ? flags.backend : undefined);
  const { startServer, stopOnSignals } = await import('../server/main.js');
  const s = await startServer(config, { port, host: flags.host as string });
  const stopped = stopOnSignals(s);
  try {
    await s.loaded;
  } catch (e) {
    await s.stop();
    throw configError(e);
  }
  await stopped;
  return 0;
}

export const command = defineCommand({
  ...listed('serve'),
  usage: '--config FILE [--port 8080] [--host 127.0.0.1] [--backend auto]',
  flags: FLAGS,
  notes: 'API: POST /translate, GET /languages, /health, /metrics, WebSocket /translate/stream, page at /',
  run: serve,
});
