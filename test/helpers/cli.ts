// Runs a `resmlp` command in-process, as the CLI tests do: its exit code and what it wrote to
// stdout and stderr (src/cli/command.ts: `runCommand(command, argv, io)`).
import { Readable } from 'node:stream';
import { runCommand, type Command } from '../../src/cli/command.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `command` run with `argv`, stdout and stderr captured; stdin is `stdin`, else empty. */
export async function runCli(command: Command, argv: string[], stdin: NodeJS.ReadableStream = Readable.from([])): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCommand(command, argv, {
    stdin,
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
  });
  return { code, stdout, stderr };
}

/** `lines` as standard input, one a line. */
export const input = (lines: readonly string[]): NodeJS.ReadableStream => Readable.from([lines.map((l) => l + '\n').join('')]);
