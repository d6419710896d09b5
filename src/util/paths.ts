// Locations every module agrees on: the repository root (found from this file, so it works from
// src/ under tsx and from dist/ after a build) and the shared fixtures directory, which lives
// beside the clone at `<repoRoot>/../shared` (on CI too).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

function findRepoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find the repository root (no package.json above ${fileURLToPath(import.meta.url)})`);
    dir = parent;
  }
}

/** Absolute path of the repository root (the directory holding package.json). */
export const repoRoot: string = findRepoRoot();

/** Absolute path of the shared fixtures directory beside the clone (`<repoRoot>/../shared`). */
export const sharedDir: string = path.resolve(repoRoot, '..', 'shared');

/**
 * Path of a file under the shared directory; throws a clear error if it is absent.
 * `sharedPath('fixtures', 'resmlp', 'tiny_timm.safetensors')`.
 */
export function sharedPath(...parts: string[]): string {
  const p = path.join(sharedDir, ...parts);
  if (!fs.existsSync(p)) {
    throw new Error(`shared file ${p} is missing: tests and benchmarks read fixtures from <repoRoot>/../shared (repoRoot = ${repoRoot})`);
  }
  return p;
}
