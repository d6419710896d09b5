// `resmlp serve --config configs/serve/<name>.json [--port 8080] [--host 127.0.0.1] [--backend B]`:
// parsing only. Reads and validates the serve config once, picks the tensor backend, and runs
// src/server/main.ts (listen, load the models, stop gracefully on SIGTERM/SIGINT).
import { formatHelp, parseArgs, UsageError, type FlagSpec } from './args.js';

const FLAGS: Record<string, FlagSpec> = {
  config: { type: 'string', alias: 'c', help: 'serve config (configs/serve/*.json): models per language pair, limits, batching' },
  port: { type: 'int', alias: 'p', default: 8080, help: 'TCP port (0 = any free port)' },
  host: { type: 'string', default: '127.0.0.1', help: 'address to listen on (0.0.0.0 in a container)' },
  backend: { type: 'string', help: 'auto | native | wasm | cpu | tensorflow | tensorflow-gpu (default: RESMLP_BACKEND or auto)' },
};

const USAGE = 'usage: resmlp serve --config FILE [--port 8080] [--host 127.0.0.1] [--backend auto]';

export async function run(argv: string[]): Promise<number> {
  let flags: Record<string, unknown>;
  try {
    const p = parseArgs(argv, FLAGS);
    if (p.help) {
      process.stdout.write(formatHelp(USAGE, FLAGS) + '\nAPI: POST /translate, GET /languages, /health, /metrics, WebSocket /translate/stream, page at /\n');
      return 0;
    }
    if (p.positionals.length > 0) throw new UsageError(`unexpected argument(s) ${p.positionals.join(' ')}`);
    if (typeof p.flags.config !== 'string') throw new UsageError('--config is required');
    const port = p.flags.port as number;
    if (port < 0 || port > 65535) throw new UsageError(`--port must be in 0..65535, got ${port}`);
    flags = p.flags;
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`resmlp serve: ${e.message}\n\n${formatHelp(USAGE, FLAGS)}`);
      return 2;
    }
    throw e;
  }
  const { readServeConfig } = await import('../server/config.js');
  let config;
  try {
    config = readServeConfig(flags.config as string);
  } catch (e) {
    process.stderr.write(`resmlp serve: ${(e as Error).message}\n`);
    return 1;
  }
  const { initBackend } = await import('../backend/choose.js');
  await initBackend(typeof flags.backend === 'string' ? flags.backend : undefined);
  const { startServer, stopOnSignals } = await import('../server/main.js');
  const s = await startServer(config, { port: flags.port as number, host: flags.host as string });
  const stopped = stopOnSignals(s);
  try {
    await s.loaded;
  } catch (e) {
    process.stderr.write(`resmlp serve: ${(e as Error).message}\n`);
    await s.stop();
    return 1;
  }
  await stopped;
  return 0;
}
