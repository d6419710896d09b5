// Checkpoint averaging, as fairseq's scripts/average_checkpoints.py: the element-wise mean of the
// model tensors of several checkpoints of src/train/checkpoint.ts (e.g. the last N numbered ones a
// run keeps, trainer.keepLast), written as one weights-only checkpoint. The inputs must share
// their model config (the `config` metadata, compared key by key) and their parameter names and
// shapes; optimizer slots and trainer state are dropped (fairseq keeps only `model`), so the
// result evaluates, serves and starts new runs but does not resume one. Sums run in float64, so
// the average of identical checkpoints is that checkpoint bit for bit.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { readSafetensors, writeSafetensors, type StoredTensor, type TensorToWrite } from '../io/safetensors.js';
import { UserError } from '../util/errors.js';
import { CHECKPOINT_FORMAT, OPT_PREFIX } from './checkpoint.js';

/** Numbered checkpoints of a run folder (`checkpoint_<update>.safetensors`, as the loop writes them), oldest first. */
export function numberedCheckpoints(dir: string): { path: string; update: number }[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UserError(`run folder ${dir} not found`, 'not_found');
  return readdirSync(dir)
    .map((f) => /^checkpoint_(\d+)\.safetensors$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ path: join(dir, m[0]), update: Number(m[1]) }))
    .sort((a, b) => a.update - b.update);
}

/** The `n` newest numbered checkpoints of a run folder, oldest first; an error says how many there are and why. */
export function lastCheckpoints(dir: string, n: number): string[] {
  if (!Number.isInteger(n) || n < 1) throw new UserError(`the number of checkpoints to average must be an integer ≥ 1, got ${n}`, 'usage');
  const all = numberedCheckpoints(dir);
  if (all.length < n) {
    const found = all.length === 0 ? 'no numbered checkpoint' : `only ${all.length} (${all.map((c) => basename(c.path)).join(', ')})`;
    throw new UserError(
      `${dir} holds ${found}, fewer than the ${n} to average: a run keeps its last trainer.keepLast numbered checkpoints (checkpoint_<update>.safetensors, one every trainer.checkpointEvery updates); train with keepLast ≥ ${n}`,
      'invalid_data',
    );
  }
  return all.slice(-n).map((c) => c.path);
}

/** Dotted paths where two JSON values differ (at most `max`), for the error message. */
function jsonDiff(a: unknown, b: unknown, path = '', out: string[] = [], max = 5): string[] {
  if (out.length >= max) return out;
  const obj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (obj(a) && obj(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) jsonDiff(a[k], b[k], path ? `${path}.${k}` : k, out, max);
  } else if (JSON.stringify(a) !== JSON.stringify(b)) {
    out.push(`${path || '(the whole config)'}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
  }
  return out;
}

export interface AverageResult {
  out: string;
  inputs: string[];
  /** Model tensors averaged. */
  tensors: number;
  /** Their elements. */
  parameters: number;
}

/**
 * Writes to `out` (atomically) the mean of the model tensors of `inputs`, with the first input's
 * config and an `averaged` metadata entry listing the inputs. Throws a UserError naming the file
 * whose config, tensor names, shapes or dtypes differ from the first input's.
 */
export function averageCheckpoints(inputs: readonly string[], out: string): AverageResult {
  if (inputs.length === 0) throw new UserError('no checkpoint to average', 'usage');
  if (new Set(inputs).size !== inputs.length) throw new UserError(`a checkpoint is listed twice: ${inputs.join(', ')}`, 'usage');
  let first: { path: string; config: unknown; configRaw: string; tensors: Map<string, StoredTensor> } | null = null;
  const sums = new Map<string, Float64Array>();
  for (const path of inputs) {
    if (!existsSync(path)) throw new UserError(`checkpoint ${path}: file not found`, 'not_found');
    const { tensors, metadata } = readSafetensors(path);
    const raw = metadata.config;
    if (raw === undefined)
      throw new UserError(`checkpoint ${path}: no model config in its metadata (is it a resmlp checkpoint?)`, 'invalid_data');
    const config: unknown = JSON.parse(raw);
    const model = new Map([...tensors].filter(([k]) => !k.startsWith(OPT_PREFIX)));
    if (first === null) {
      first = { path, config, configRaw: raw, tensors: model };
      for (const [k, t] of model) {
        if (t.data instanceof Float32Array) sums.set(k, Float64Array.from(t.data));
      }
      continue;
    }
    if (raw !== first.configRaw) {
      const diff = jsonDiff(first.config, config);
      if (diff.length > 0) {
        throw new UserError(
          `checkpoint ${path}: its model config differs from ${first.path}'s, so they cannot be averaged:\n  ${diff.join('\n  ')}`,
          'invalid_data',
        );
      }
    }
    const problems: string[] = [];
    for (const k of first.tensors.keys()) if (!model.has(k)) problems.push(`missing '${k}'`);
    for (const [k, t] of model) {
      const f = first.tensors.get(k);
      if (f === undefined) problems.push(`unexpected '${k}'`);
      else if (f.shape.join(',') !== t.shape.join(','))
        problems.push(`'${k}': shape [${t.shape.join(', ')}], ${first.path} has [${f.shape.join(', ')}]`);
      else if (f.data.constructor !== t.data.constructor) problems.push(`'${k}': dtype ${t.dtype}, ${first.path} has ${f.dtype}`);
    }
    if (problems.length > 0)
      throw new UserError(
        `checkpoint ${path}: its tensors do not match ${first.path}'s:\n  ${problems.slice(0, 10).join('\n  ')}`,
        'invalid_data',
      );
    for (const [k, t] of model) {
      const s = sums.get(k);
      if (s) {
        const d = t.data as Float32Array;
        for (let i = 0; i < d.length; i++) s[i]! += d[i]!;
      } else if (!sameValues(t.data, first.tensors.get(k)!.data)) {
        throw new UserError(
          `checkpoint ${path}: integer tensor '${k}' differs from ${first.path}'s (integer tensors are not averaged; they must be equal)`,
          'invalid_data',
        );
      }
    }
  }
  const n = inputs.length;
  const outTensors = new Map<string, TensorToWrite>();
  let parameters = 0;
  for (const [k, t] of first!.tensors) {
    const s = sums.get(k);
    if (s) {
      const mean = new Float32Array(s.length);
      for (let i = 0; i < s.length; i++) mean[i] = s[i]! / n;
      outTensors.set(k, { dtype: 'F32', shape: t.shape, data: mean });
    } else {
      outTensors.set(k, { dtype: 'I32', shape: t.shape, data: t.data as Int32Array });
    }
    parameters += t.data.length;
  }
  const metadata = {
    format: CHECKPOINT_FORMAT,
    config: first!.configRaw,
    averaged: JSON.stringify({ inputs: inputs.map((p) => basename(p)) }),
  };
  writeSafetensors(out, outTensors, metadata);
  return { out, inputs: [...inputs], tensors: outTensors.size, parameters };
}

function sameValues(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
