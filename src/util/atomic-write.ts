// Atomic file writes: write a temporary file in the target's directory, fsync it, rename it over
// the target, then fsync the directory. A crash leaves either the old file or the new one, never
// a torn mix (the rename is atomic on POSIX file systems). Used by every checkpoint writer.
import * as fs from 'node:fs';
import * as path from 'node:path';

function tempName(target: string): string {
  const dir = path.dirname(target);
  const base = path.basename(target);
  const rand = Math.floor(Math.random() * 0x7fffffff).toString(36);
  return path.join(dir, `.${base}.tmp-${process.pid}-${rand}`);
}

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // some file systems refuse fsync on directories (EISDIR/EINVAL); the rename is still atomic
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * Write `chunks` (in order) to `target` atomically. The directory must exist.
 * Throws an error naming the target on failure and removes the temporary file.
 */
export function writeFileAtomic(target: string, chunks: Uint8Array | Uint8Array[]): void {
  const parts = Array.isArray(chunks) ? chunks : [chunks];
  const dir = path.dirname(path.resolve(target));
  if (!fs.existsSync(dir)) throw new Error(`cannot write ${target}: directory ${dir} does not exist`);
  const tmp = tempName(path.resolve(target));
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'w', 0o644);
    for (const part of parts) {
      let off = 0;
      while (off < part.byteLength) off += fs.writeSync(fd, part, off, part.byteLength - off);
    }
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, target);
  } catch (err) {
    if (fd !== undefined) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw new Error(`cannot write ${target}: ${(err as Error).message}`);
  }
  fsyncDir(dir);
}

/** Atomic write of a UTF-8 text file (e.g. a JSON sidecar). */
export function writeTextAtomic(target: string, text: string): void {
  writeFileAtomic(target, Buffer.from(text, 'utf8'));
}
