// One way to define and run a `resmlp` command. A command is its definition — name, one-line
// summary, usage, flags, run — and runCommand is the one prologue every command shares: parse argv
// (args.ts), answer --help (exit 0), reject stray positionals, then run. Errors become exit codes
// here and nowhere else: a UserError (src/util/errors.ts) prints `resmlp <name>: <message>` (plus
// the help text when its kind is 'usage') and exits with its exitCode (2 for usage, 1 otherwise);
// anything else is a bug or a failure of the environment and propagates (main.ts prints it, with
// the stack under RESMLP_DEBUG).
import { UserError } from '../util/errors.js';
import { formatHelp, parseArgs, usageError, type FlagSpec, type FlagValues } from './args.js';

export { usageError };

/** Where a command reads and writes; tests pass their own, the process passes its streams. */
export interface CliIO {
  /** Read by commands that take their input from standard input (bleu, mt translate). */
  stdin: NodeJS.ReadableStream;
  stdout: { write(s: string): unknown };
  /** Progress bars draw themselves in place when it is a terminal. */
  stderr: { write(s: string): unknown; isTTY?: boolean };
}

/** `io` with the process's streams for what it leaves out (read when used, so tests may patch them). */
export function withProcessIO(io: Partial<CliIO> = {}): CliIO {
  return {
    get stdin() {
      return io.stdin ?? process.stdin;
    },
    stdout: io.stdout ?? { write: (s: string) => process.stdout.write(s) },
    stderr: io.stderr ?? {
      write: (s: string) => process.stderr.write(s),
      get isTTY() {
        return process.stderr.isTTY;
      },
    },
  };
}

/** What a command's run gets: its parsed flags and positionals, config overrides, and where to write. */
export interface CommandContext {
  /** Every flag of the definition: given, else its default, else undefined. */
  flags: FlagValues;
  /** Words that are not flags (only for commands with `positionals: true`; others reject them). */
  positionals: string[];
  /** `--a.b.c value` config overrides, key without `--` → raw value (commands with `overrides: true`). */
  overrides: Record<string, string>;
  io: CliIO;
}

export interface CommandDefinition {
  /** Its words after `resmlp`: 'bleu', 'mt eval', 'vision train'. */
  name: string;
  /** One line, as `resmlp --help` lists it (commands in the table take it from there: listed() of commands.ts). */
  summary: string;
  /** The arguments after `resmlp <name>` in the usage line, e.g. '--checkpoint FILE [--beam N]'. */
  usage: string;
  flags: Record<string, FlagSpec>;
  /** Takes positional arguments. Default false: any is a usage error naming it. */
  positionals?: boolean;
  /** Takes `--a.b.c value` config overrides (unknown `--` flags with a value). Default false. */
  overrides?: boolean;
  /** Printed after the options in --help. */
  notes?: string;
  /** Exit code of usage errors. Default 2; `resmlp bleu` keeps sacreBLEU's 1. */
  usageExitCode?: number;
  /** The work; returns the exit code. Throws UserError for what the user can fix. */
  run(ctx: CommandContext): Promise<number> | number;
}

export type Command = Readonly<CommandDefinition>;

/** A command definition, checked (its name is words, its flags have help). */
export function defineCommand(def: CommandDefinition): Command {
  if (!/^[a-z0-9-]+( [a-z0-9-]+)*$/.test(def.name))
    throw new Error(`command name must be lower-case words, got ${JSON.stringify(def.name)}`);
  for (const [flag, spec] of Object.entries(def.flags))
    if (!spec.help) throw new Error(`resmlp ${def.name}: flag --${flag} has no help text`);
  return Object.freeze({ ...def });
}

/** The command's --help text. */
export function helpText(cmd: Command): string {
  const overrides = cmd.overrides
    ? '\nany other --a.b.c value sets that key of the config (the value is read as JSON when it parses, e.g. --model.dim 256)\n'
    : '';
  const notes = cmd.notes ? `\n${cmd.notes.replace(/\n*$/, '\n')}` : '';
  return `${formatHelp(`usage: resmlp ${cmd.name} ${cmd.usage}\n\n${cmd.summary}`, cmd.flags)}${overrides}${notes}`;
}

/**
 * Runs `cmd` with `argv` (the words after its name); returns the exit code. The one place where
 * parsing, --help and user errors are handled for every command.
 */
export async function runCommand(cmd: Command, argv: string[], io: Partial<CliIO> = {}): Promise<number> {
  const full = withProcessIO(io);
  try {
    const p = parseArgs(argv, cmd.flags, { allowUnknown: cmd.overrides === true });
    if (p.help) {
      full.stdout.write(helpText(cmd));
      return 0;
    }
    if (!cmd.positionals && p.positionals.length > 0) throw usageError(`unexpected argument(s) ${p.positionals.join(' ')}`);
    return await cmd.run({ flags: p.flags, positionals: p.positionals, overrides: p.extra, io: full });
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    if (e.kind === 'usage') {
      full.stderr.write(`resmlp ${cmd.name}: ${e.message}\n\n${helpText(cmd)}`);
      return cmd.usageExitCode ?? e.exitCode;
    }
    full.stderr.write(`resmlp ${cmd.name}: ${e.message}\n`);
    return e.exitCode;
  }
}

/**
 * Runs `work` with a signal that Ctrl-C aborts (the training loop saves a checkpoint at the next
 * update and returns); a second Ctrl-C exits at once with 130. The handler is removed when the work
 * ends, however it ends.
 */
export async function interruptible<T>(io: CliIO, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  const onInt = () => {
    if (ac.signal.aborted) process.exit(130);
    io.stderr.write('\ninterrupt: stopping at the next update and saving a checkpoint (Ctrl-C again to quit now)\n');
    ac.abort();
  };
  process.on('SIGINT', onInt);
  try {
    return await work(ac.signal);
  } finally {
    process.off('SIGINT', onInt);
  }
}
