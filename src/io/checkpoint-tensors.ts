// tf.Tensor/tf.Variable maps ⇄ safetensors files, with the model config stored as JSON in the
// header metadata (`__metadata__.config`), as nanoGPT stores its config in the checkpoint so that
// loading takes the architecture from the file. Also a name+shape check that lists every missing,
// unexpected and mis-shaped key (expected vs found), used before assigning loaded weights.
// The full training checkpoint (optimizer state, step, RNG) is built on these in src/train.
import * as tf from '@tensorflow/tfjs';
import { readSafetensors, writeSafetensors, type TensorToWrite } from './safetensors.js';

/** Metadata key holding the JSON config. */
export const CONFIG_KEY = 'config';

export interface SaveTensorsOptions {
  /** Any JSON-serialisable value (e.g. the model config); stored under `__metadata__.config`. */
  config?: unknown;
  /** Extra string metadata (e.g. `{format: 'resmlp-ts'}`); must not use the key `config`. */
  metadata?: Record<string, string>;
}

export interface LoadedTensors<C = unknown> {
  /** Tensors by name, in file order. The caller owns (and must dispose) them. */
  tensors: Map<string, tf.Tensor>;
  /** Parsed `__metadata__.config`, or undefined when the file has none. */
  config: C | undefined;
  /** All metadata strings, including the raw `config`. */
  metadata: Record<string, string>;
}

function buildMetadata(path: string, opts: SaveTensorsOptions): Record<string, string> {
  const metadata: Record<string, string> = { ...(opts.metadata ?? {}) };
  if (CONFIG_KEY in metadata)
    throw new Error(`saveTensors ${path}: metadata key '${CONFIG_KEY}' is reserved; pass the config as options.config`);
  if (opts.config !== undefined) {
    const json = JSON.stringify(opts.config);
    if (json === undefined) throw new Error(`saveTensors ${path}: config is not JSON-serialisable`);
    metadata[CONFIG_KEY] = json;
  }
  return metadata;
}

function toWrite(path: string, name: string, t: tf.Tensor, values: tf.TypedArray): TensorToWrite {
  if (t.dtype === 'float32') return { dtype: 'F32', shape: t.shape, data: values as Float32Array };
  if (t.dtype === 'int32') return { dtype: 'I32', shape: t.shape, data: values as Int32Array };
  if (t.dtype === 'bool') return { dtype: 'I32', shape: t.shape, data: Int32Array.from(values as Uint8Array) };
  throw new Error(`saveTensors ${path}: tensor '${name}' has dtype ${t.dtype}; only float32, int32 and bool can be saved`);
}

/** Save tensors (read with async `data()`, so the backend is not blocked) and config, atomically. */
export async function saveTensors(path: string, tensors: Map<string, tf.Tensor>, opts: SaveTensorsOptions = {}): Promise<void> {
  const metadata = buildMetadata(path, opts);
  const out = new Map<string, TensorToWrite>();
  for (const [name, t] of tensors) {
    if (t.isDisposed) throw new Error(`saveTensors ${path}: tensor '${name}' is disposed`);
    out.set(name, toWrite(path, name, t, await t.data()));
  }
  writeSafetensors(path, out, metadata);
}

/** Synchronous variant of saveTensors (uses dataSync). */
export function saveTensorsSync(path: string, tensors: Map<string, tf.Tensor>, opts: SaveTensorsOptions = {}): void {
  const metadata = buildMetadata(path, opts);
  const out = new Map<string, TensorToWrite>();
  for (const [name, t] of tensors) {
    if (t.isDisposed) throw new Error(`saveTensors ${path}: tensor '${name}' is disposed`);
    out.set(name, toWrite(path, name, t, t.dataSync()));
  }
  writeSafetensors(path, out, metadata);
}

/** Parse the `config` metadata of a file as JSON (undefined when absent). */
export function parseConfigMetadata<C = unknown>(path: string, metadata: Record<string, string>): C | undefined {
  const raw = metadata[CONFIG_KEY];
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw) as C;
  } catch (err) {
    throw new Error(`${path}: __metadata__.${CONFIG_KEY} is not valid JSON (${(err as Error).message})`);
  }
}

/**
 * Load every tensor of a safetensors file as tf tensors (float dtypes → float32, integer → int32)
 * with the parsed config.
 */
export function loadTensors<C = unknown>(path: string): LoadedTensors<C> {
  const { tensors, metadata } = readSafetensors(path);
  const config = parseConfigMetadata<C>(path, metadata);
  const out = new Map<string, tf.Tensor>();
  for (const [name, t] of tensors) {
    out.set(name, t.data instanceof Float32Array ? tf.tensor(t.data, t.shape, 'float32') : tf.tensor(t.data, t.shape, 'int32'));
  }
  return { tensors: out, config, metadata };
}

export interface ShapeCheckOptions {
  /** Allow expected keys that are absent from `found` (default false). */
  allowMissing?: boolean;
  /** Allow keys of `found` that are not expected (default false). */
  allowUnexpected?: boolean;
  /** Names the source in errors (e.g. the checkpoint path). */
  where?: string;
}

export interface ShapeCheckResult {
  missing: string[];
  unexpected: string[];
}

type ShapeSource = Map<string, readonly number[] | { shape: readonly number[] }>;

function shapeOf(v: readonly number[] | { shape: readonly number[] }): readonly number[] {
  return Array.isArray(v) ? (v as readonly number[]) : (v as { shape: readonly number[] }).shape;
}

/**
 * Compare names and shapes of `found` (e.g. a loaded file) against `expected` (e.g. a model's
 * variables). Values may be shapes or anything with a `.shape`. Throws one error listing every
 * problem: mis-shaped keys always (`key: expected [..], found [..]`), missing and unexpected keys
 * unless allowed. Returns the missing and unexpected keys.
 */
export function checkShapes(found: ShapeSource, expected: ShapeSource, opts: ShapeCheckOptions = {}): ShapeCheckResult {
  const where = opts.where ?? 'checkpoint';
  const missing = [...expected.keys()].filter((k) => !found.has(k));
  const unexpected = [...found.keys()].filter((k) => !expected.has(k));
  const problems: string[] = [];
  for (const [k, e] of expected) {
    const f = found.get(k);
    if (f === undefined) continue;
    const es = shapeOf(e);
    const fs = shapeOf(f);
    if (es.length !== fs.length || es.some((d, i) => d !== fs[i]))
      problems.push(`'${k}': expected shape [${es.join(', ')}], found [${fs.join(', ')}]`);
  }
  if (!opts.allowMissing && missing.length > 0)
    problems.push(`missing keys (${missing.length}): ${missing.map((k) => `'${k}'`).join(', ')}`);
  if (!opts.allowUnexpected && unexpected.length > 0) {
    problems.push(`unexpected keys (${unexpected.length}): ${unexpected.map((k) => `'${k}'`).join(', ')}`);
  }
  if (problems.length > 0) throw new Error(`${where}: tensors do not match the expected names/shapes:\n  ${problems.join('\n  ')}`);
  return { missing, unexpected };
}

/**
 * Load a file into existing variables by name after checking names and shapes (strict by
 * default: every variable present, no extra key). Values are cast to each variable's dtype.
 * Returns the parsed config and what was missing/unexpected (non-empty only when allowed).
 */
export function loadIntoVariables<C = unknown>(
  path: string,
  variables: Map<string, tf.Variable>,
  opts: Omit<ShapeCheckOptions, 'where'> = {},
): ShapeCheckResult & { config: C | undefined; metadata: Record<string, string> } {
  const { tensors, metadata } = readSafetensors(path);
  const config = parseConfigMetadata<C>(path, metadata);
  const result = checkShapes(tensors, variables, { ...opts, where: path });
  for (const [name, v] of variables) {
    const t = tensors.get(name);
    if (!t) continue;
    tf.tidy(() => {
      const src = t.data instanceof Float32Array ? tf.tensor(t.data, t.shape, 'float32') : tf.tensor(t.data, t.shape, 'int32');
      v.assign(src.dtype === v.dtype ? src : tf.cast(src, v.dtype));
    });
  }
  return { ...result, config, metadata };
}
