// Flag parsing shared by every command: `--name value`, `--name=value`, boolean `--flag`, short
// aliases, positionals. Unknown flags and bad values are errors that name the flag and what was
// expected, so a typo never silently runs with a default. They are UserErrors of kind 'usage'
// (exit code 2, printed with the command's help by command.ts).
import { UserError } from '../util/errors.js';

export type FlagType = 'string' | 'number' | 'int' | 'boolean' | 'strings';

export interface FlagSpec {
  type: FlagType;
  help: string;
  alias?: string;
  default?: string | number | boolean | string[];
}

export type FlagValues = Record<string, string | number | boolean | string[] | undefined>;

export interface Parsed {
  flags: FlagValues;
  positionals: string[];
  help: boolean;
}

/** A usage error: printed with the command's help, exit 2. */
export function usageError(message: string): UserError {
  return new UserError(message, 'usage');
}

function convert(name: string, type: FlagType, raw: string): string | number | boolean {
  switch (type) {
    case 'string':
    case 'strings':
      return raw;
    case 'number': {
      const v = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(v)) throw usageError(`--${name} expects a number, got '${raw}'`);
      return v;
    }
    case 'int': {
      const v = Number(raw);
      if (!Number.isInteger(v)) throw usageError(`--${name} expects an integer, got '${raw}'`);
      return v;
    }
    case 'boolean':
      if (raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      throw usageError(`--${name} expects true or false, got '${raw}'`);
  }
}

/** The value of string flag `--name`; a usage error when it is missing or empty. */
export function need(flags: FlagValues, name: string): string {
  const v = flags[name];
  if (typeof v !== 'string' || v === '') throw usageError(`--${name} is required`);
  return v;
}

/**
 * Parses argv against `spec`. `strings` flags take every following non-flag word
 * (`-m bleu chrf`). `allowUnknown` collects unknown `--key value` pairs into `extra`
 * (used for `--key value` config overrides, which the config resolver then validates).
 */
export function parseArgs(
  argv: string[],
  spec: Record<string, FlagSpec>,
  opts: { allowUnknown?: boolean } = {},
): Parsed & { extra: Record<string, string> } {
  const flags: FlagValues = {};
  const extra: Record<string, string> = {};
  const positionals: string[] = [];
  const byAlias = new Map<string, string>();
  for (const [name, s] of Object.entries(spec)) if (s.alias) byAlias.set(s.alias, name);
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-' || /^-\d/.test(arg)) {
      positionals.push(arg);
      continue;
    }
    let key = arg.startsWith('--') ? arg.slice(2) : arg.slice(1);
    let inline: string | undefined;
    const eq = key.indexOf('=');
    if (eq >= 0) {
      inline = key.slice(eq + 1);
      key = key.slice(0, eq);
    }
    const name = spec[key] ? key : byAlias.get(key);
    if (name === undefined) {
      if (opts.allowUnknown && arg.startsWith('--')) {
        const value = inline ?? argv[++i];
        if (value === undefined) throw usageError(`--${key} expects a value`);
        extra[key] = value;
        continue;
      }
      throw usageError(`unknown option '${arg}'`);
    }
    const s = spec[name]!;
    if (s.type === 'boolean' && inline === undefined) {
      flags[name] = true;
      continue;
    }
    if (s.type === 'strings') {
      const vals: string[] = inline !== undefined ? [inline] : [];
      while (i + 1 < argv.length && !argv[i + 1]!.startsWith('-')) vals.push(argv[++i]!);
      if (vals.length === 0) throw usageError(`--${name} expects at least one value`);
      flags[name] = vals;
      continue;
    }
    const raw = inline ?? argv[++i];
    if (raw === undefined) throw usageError(`--${name} expects a value`);
    flags[name] = convert(name, s.type, raw);
  }
  for (const [name, s] of Object.entries(spec)) if (flags[name] === undefined && s.default !== undefined) flags[name] = s.default;
  return { flags, positionals, help, extra };
}

/** Help text for a command from its spec. */
export function formatHelp(usage: string, spec: Record<string, FlagSpec>): string {
  const rows = Object.entries(spec).map(([name, s]) => {
    const left = `  ${s.alias ? `-${s.alias}, ` : ''}--${name}${s.type === 'boolean' ? '' : ` <${s.type}>`}`;
    const def = s.default !== undefined ? ` (default: ${JSON.stringify(s.default)})` : '';
    return `${left.padEnd(34)} ${s.help}${def}`;
  });
  return `${usage}\n\noptions:\n${rows.join('\n')}\n`;
}
