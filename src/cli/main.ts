#!/usr/bin/env node
// The `resmlp` command line: --version here, every command through the table of commands.ts (one
// module per command in src/cli, loaded only when named; the work lives in src/). Errors that are
// not a user's (see command.ts) arrive here: printed as `resmlp: <message>`, with the stack when
// RESMLP_DEBUG is set, exit code 1.
import { readFileSync } from 'node:fs';
import { dispatch } from './commands.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === '--version' || argv[0] === '-V') {
    process.stdout.write(version() + '\n');
    return 0;
  }
  return dispatch(argv);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`resmlp: ${err instanceof Error ? err.message : String(err)}\n`);
    if (process.env.RESMLP_DEBUG) console.error(err);
    process.exitCode = 1;
  },
);
