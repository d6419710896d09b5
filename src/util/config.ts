// Configuration, one way for each job (STYLE.md habit 3):
//   resolveConfig   documented defaults + what was given; unknown keys are errors that name them,
//                   the place and the known keys; required keys; nested objects resolved key by key
//                   where the caller asks; renamed keys say their new name.
//   readConfigFile  a JSON config file that may name its base (`"extends": "base.json"`, relative
//                   to the file) and list only what it changes: objects merge key by key, arrays and
//                   scalars replace. Errors name the chain of files.
//   applyOverrides  `--a.b.c value` command-line overrides (value parsed as JSON when it parses,
//                   else a string), with setPath and parseOverrideValue under it.
//   checkInt, checkRate  value checks shared by the resolvers.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from './errors.js';

/** A config file, key or value is wrong; the message says what, where and what is accepted. */
export class ConfigError extends UserError {
  constructor(message: string) {
    super(message, 'invalid_config');
  }
}

/** A nested object's own resolver: gets the given object ({} when absent) and its place in messages. */
export type NestedResolver = (given: Record<string, unknown>, place: string) => unknown;

/**
 * Keys whose values are objects resolved key by key: `true` against the keys of the default's
 * object, a `Nested` to go deeper, a function for a resolver of the caller's own.
 */
export interface Nested {
  readonly [key: string]: true | Nested | NestedResolver;
}

export interface ResolveOptions {
  /** Top-level keys without a default that must be given (they may be absent from the defaults). Default []. */
  required?: readonly string[];
  /** Nested objects resolved key by key (see `Nested`); other object values are taken as given. Default none. */
  nested?: Nested;
  /** Old top-level key → new key: giving the old one is an error naming the new one. Default none. */
  renamed?: Readonly<Record<string, string>>;
  /** Makes the error thrown, for callers with an error class of their own. Default: a ConfigError. */
  error?: (message: string) => Error;
}

/** True for `{...}` (not null, not an array). */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const quoted = (keys: readonly string[]) => keys.map((k) => `'${k}'`).join(', ');
const plural = (n: number, word: string) => (n === 1 ? word : `${word}s`);

/**
 * `defaults` overridden by the keys of `given` (undefined values ignored). Unknown keys are errors
 * naming them, the place (`where`, then the dotted path of a nested object) and the known keys:
 * `vision run config: trainer.schedule: unknown config key 'lrr'; known keys: name, lr, …`.
 * `options` may be a list of required keys (shorthand for `{ required }`).
 */
export function resolveConfig<T extends object>(
  where: string,
  defaults: T,
  given: unknown,
  options: ResolveOptions | readonly string[] = {},
): T {
  const opts: ResolveOptions = Array.isArray(options) ? { required: options as readonly string[] } : (options as ResolveOptions);
  const fail = opts.error ?? ((message: string) => new ConfigError(message));
  if (given !== undefined && given !== null && !isPlainObject(given))
    throw fail(`${where}: expected an object of config keys, got ${JSON.stringify(given)}`);
  return resolveAt(where, '', defaults as Record<string, unknown>, given ?? {}, opts.nested, opts, fail) as T;
}

function resolveAt(
  where: string,
  at: string,
  defaults: Record<string, unknown>,
  given: Record<string, unknown>,
  nested: Nested | undefined,
  opts: ResolveOptions,
  fail: (message: string) => Error,
): Record<string, unknown> {
  const place = at ? `${where}: ${at}` : where;
  const required = at ? [] : (opts.required ?? []);
  const known = [...Object.keys(defaults), ...required.filter((k) => !Object.hasOwn(defaults, k))];
  const unknown = Object.keys(given).filter((k) => !known.includes(k));
  const renamed = at ? [] : unknown.filter((k) => opts.renamed && Object.hasOwn(opts.renamed, k));
  if (renamed.length > 0) {
    throw fail(`${place}: ${renamed.map((k) => `config key '${k}' was renamed to '${opts.renamed![k]}'`).join('; ')}`);
  }
  if (unknown.length > 0) {
    throw fail(`${place}: unknown config ${plural(unknown.length, 'key')} ${quoted(unknown)}; known keys: ${known.join(', ')}`);
  }
  const out: Record<string, unknown> = { ...defaults };
  for (const [k, v] of Object.entries(given)) if (v !== undefined) out[k] = v;
  for (const [k, spec] of Object.entries(nested ?? {})) {
    const sub = at ? `${at}.${k}` : k;
    const g = given[k];
    if (g !== undefined && !isPlainObject(g)) throw fail(`${place}: '${k}' must be an object of config keys, got ${JSON.stringify(g)}`);
    if (typeof spec === 'function') {
      out[k] = spec(g ?? {}, `${where}: ${sub}`);
      continue;
    }
    const d = defaults[k];
    if (!isPlainObject(d)) throw new Error(`resolveConfig(${place}): nested key '${k}' has no object default`);
    out[k] = resolveAt(where, sub, d, g ?? {}, spec === true ? undefined : spec, opts, fail);
  }
  const absent = required.filter((k) => out[k] === undefined);
  if (absent.length > 0) throw fail(`${place}: missing required config ${plural(absent.length, 'key')} ${quoted(absent)}`);
  return out;
}

/** Throws unless `value` is an integer ≥ `min`. */
export function checkInt(where: string, name: string, value: unknown, min = 1): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new ConfigError(`${where}: '${name}' must be an integer ≥ ${min}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Throws unless 0 ≤ `value` < 1 (a dropout-like probability). */
export function checkRate(where: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0 && value < 1)) {
    throw new ConfigError(`${where}: '${name}' must be a number in [0, 1), got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * `over` merged into `base` (neither is changed): objects key by key, recursively; arrays, scalars
 * and null replace what the base has.
 */
export function mergeConfig(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isPlainObject(b) && isPlainObject(v) ? mergeConfig(b, v) : v;
  }
  return out;
}

/**
 * Reads a JSON config file (an object). If it has `"extends": "<path>"` (relative to the file), the
 * base is read the same way and this file's keys are merged over it (mergeConfig); `extends` itself
 * is dropped. Errors name the chain of files: `config a.json extends b.json: cannot read (ENOENT)`.
 */
export function readConfigFile(file: string): Record<string, unknown> {
  return readChain([file], [path.resolve(file)]);
}

function readChain(shown: string[], real: string[]): Record<string, unknown> {
  const chain = `config ${shown.join(' extends ')}`;
  const file = real[real.length - 1]!;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`${chain}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${chain}: invalid JSON (${(e as Error).message})`);
  }
  if (!isPlainObject(json))
    throw new ConfigError(`${chain}: expected a JSON object, got ${Array.isArray(json) ? 'an array' : JSON.stringify(json)}`);
  const { extends: base, ...own } = json;
  if (base === undefined) return own;
  if (typeof base !== 'string' || base === '')
    throw new ConfigError(`${chain}: 'extends' must be the path of a base config (relative to this file), got ${JSON.stringify(base)}`);
  const baseReal = path.resolve(path.dirname(file), base);
  const baseShown = path.join(path.dirname(shown[shown.length - 1]!), base);
  if (real.includes(baseReal)) throw new ConfigError(`${chain} extends ${baseShown}: a cycle (a config cannot extend itself)`);
  return mergeConfig(readChain([...shown, baseShown], [...real, baseReal]), own);
}

/** A command-line value: JSON when it parses (`5`, `false`, `null`, `[1,2]`, `{"a":1}`, `"x"`), else the string itself. */
export function parseOverrideValue(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

const FORBIDDEN = new Set(['__proto__', 'prototype', 'constructor']);

/**
 * Sets `value` at the dotted `key` of `config` (in place), creating objects on the way. Errors
 * name `flag` (default `--<key>`): an empty part, or a part that holds something other than an object.
 */
export function setPath(config: Record<string, unknown>, key: string, value: unknown, flag = `--${key}`): void {
  const parts = key.split('.');
  if (parts.some((p) => p === '' || FORBIDDEN.has(p))) throw new ConfigError(`${flag}: '${key}' is not a dotted config key (a.b.c)`);
  let node = config;
  for (const [i, p] of parts.slice(0, -1).entries()) {
    const next = node[p];
    if (next === undefined) node[p] = {};
    else if (!isPlainObject(next)) {
      throw new ConfigError(
        `${flag}: cannot set '${key}': '${parts.slice(0, i + 1).join('.')}' is ${JSON.stringify(next)}, not an object of config keys`,
      );
    }
    node = node[p] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]!] = value;
}

/**
 * A copy of `config` with `--a.b.c value` overrides applied in order: `overrides` maps the dotted
 * key (the flag without `--`) to its raw value, parsed with parseOverrideValue.
 */
export function applyOverrides(config: Record<string, unknown>, overrides: Readonly<Record<string, string>>): Record<string, unknown> {
  const out = structuredClone(config);
  for (const [key, raw] of Object.entries(overrides)) setPath(out, key, parseOverrideValue(raw));
  return out;
}
