// The version that goes into metric signatures: ours (package.json "version"), not sacreBLEU's,
// so a signature says which implementation produced a score.
import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** Reads `version` from the package.json two levels above this module (src/ and dist/ alike). */
export function packageVersion(): string {
  if (cached !== undefined) return cached;
  const url = new URL('../../package.json', import.meta.url);
  let pkg: unknown;
  try {
    pkg = JSON.parse(readFileSync(url, 'utf8'));
  } catch (e) {
    throw new Error(`cannot read the package version from ${url.pathname}: ${(e as Error).message}`);
  }
  const v = (pkg as { version?: unknown }).version;
  if (typeof v !== 'string' || v === '') {
    throw new Error(`${url.pathname} has no string "version" field`);
  }
  cached = v;
  return v;
}
