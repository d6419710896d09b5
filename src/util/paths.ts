// Locations every module agrees on: the repository root (found from this file, so it works from
// src/ under tsx and from dist/ after a build) and the shared data directory, which lives beside
// the clone at `<repoRoot>/../shared` when it is there (developers' machines and CI): benchmarks
// read Multi30k from it, and the few tests that need data too large to commit skip without it
// (tests' own fixtures are committed under test/fixtures/).
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

/** Absolute path of the shared data directory beside the clone (`<repoRoot>/../shared`). */
export const sharedDir: string = path.resolve(repoRoot, '..', 'shared');

/**
 * Path of a file under the shared directory; throws a clear error if it is absent.
 * `sharedPath('data', 'multi30k', 'train.en')`.
 */
export function sharedPath(...parts: string[]): string {
  const p = path.join(sharedDir, ...parts);
  if (!fs.existsSync(p)) {
    throw new Error(
      `shared file ${p} is missing: benchmarks read their data from <repoRoot>/../shared beside the clone (repoRoot = ${repoRoot})`,
    );
  }
  return p;
}

/**
 * Why a shared file is unusable, or undefined when it is there: a test that needs it passes this
 * as node:test's `skip` option, so it is reported as skipped with the reason instead of failing.
 * `test('…', { skip: sharedMissing('data', 'multi30k', 'train.en') }, …)`.
 */
export function sharedMissing(...parts: string[]): string | undefined {
  const p = path.join(sharedDir, ...parts);
  return fs.existsSync(p) ? undefined : `needs ${p} (the shared data beside the repository, too large to commit), which is absent`;
}
