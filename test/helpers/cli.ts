// Runs a `resmlp` command in-process, as the CLI tests do: its exit code and what it wrote to
// stdout and stderr (src/cli/command.ts: a command's `run(argv, io)`).
import { Readable } from 'node:stream';
import type { CliIO } from '../../src/cli/command.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `run(argv)` with stdout and stderr captured; stdin is `stdin`, else empty. */
export async function runCli(
  run: (argv: string[], io?: Partial<CliIO>) => Promise<number>,
  argv: string[],
  stdin: NodeJS.ReadableStream = Readable.from([]),
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await run(argv, {
    stdin,
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
  });
  return { code, stdout, stderr };
}

/** `lines` as standard input, one a line. */
export const input = (lines: readonly string[]): NodeJS.ReadableStream => Readable.from([lines.map((l) => l + '\n').join('')]);
