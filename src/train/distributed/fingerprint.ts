// What every rank of a data-parallel job must share, and the words for how two ranks differ: the
// run's config, its dataset manifest and the model's parameter names and shapes. At start each rank
// compares its own with rank 0's (broadcast as JSON) and the job is refused when they differ, naming
// the first keys that do (a mistyped flag on one host, a dataset prepared twice), since ranks that
// average gradients of different models or data would train garbage without an error.
import { createHash } from 'node:crypto';

/** The parts compared between ranks: any JSON values (config, data manifest, parameter shapes). */
export type Fingerprint = Record<string, unknown>;

/** SHA-256 of a fingerprint part's JSON (keys sorted), for logs. */
export function fingerprintHash(part: unknown): string {
  return createHash('sha256').update(stableJson(part)).digest('hex');
}

/** JSON with object keys sorted, so key order never makes two equal values differ. */
export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** Leaves of a JSON value by dotted path (array items as path.0, path.1, …). */
function leaves(v: unknown, path: string, out: Map<string, string>): void {
  if (v !== null && typeof v === 'object') {
    const entries = Array.isArray(v) ? v.map((x, i) => [String(i), x] as const) : Object.entries(v as Record<string, unknown>);
    if (entries.length === 0) out.set(path, JSON.stringify(v));
    for (const [k, x] of entries) if (x !== undefined) leaves(x, path ? `${path}.${k}` : k, out);
  } else out.set(path, JSON.stringify(v) ?? 'undefined');
}

/**
 * How `mine` (rank `rank`) differs from rank 0's `lead`: '' when equal, else e.g. "config:
 * trainer.schedule.lr is 0.001 here, 0.003 on rank 0" (at most `max` keys, then a count).
 */
export function describeDifference(mine: Fingerprint, lead: Fingerprint, max = 4): string {
  const parts: string[] = [];
  for (const part of new Set([...Object.keys(lead), ...Object.keys(mine)])) {
    if (stableJson(mine[part]) === stableJson(lead[part])) continue;
    const a = new Map<string, string>();
    const b = new Map<string, string>();
    leaves(mine[part], '', a);
    leaves(lead[part], '', b);
    const keys = [...new Set([...b.keys(), ...a.keys()])].filter((k) => a.get(k) !== b.get(k));
    const shown = keys
      .slice(0, max)
      .map((k) => `${k || '(the whole value)'} is ${a.get(k) ?? '(absent)'} here, ${b.get(k) ?? '(absent)'} on rank 0`);
    if (keys.length > max) shown.push(`${keys.length - max} more`);
    parts.push(`${part}: ${shown.join('; ')}`);
  }
  return parts.join(' | ');
}
