// Reading a dataset file with one clear error when it is missing or unreadable, and gzip detected
// by its magic bytes (1f 8b) rather than by the file name.
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';

/** Read `path` fully; `hint` is appended to the "missing file" error (e.g. how to obtain the data). */
export function readDataFile(path: string, hint = ''): Buffer {
  try {
    return fs.readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`${path}: file not found${hint ? ` (${hint})` : ''}`);
    if (code === 'EISDIR') throw new Error(`${path}: is a directory, expected a data file`);
    throw new Error(`${path}: cannot read (${(err as Error).message})`);
  }
}

/** Gunzip `bytes` if they start with the gzip magic; errors name `path`. */
export function maybeGunzip(bytes: Buffer, path: string): Buffer {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      return zlib.gunzipSync(bytes);
    } catch (err) {
      throw new Error(`${path}: gzip data is corrupt or truncated (${(err as Error).message})`);
    }
  }
  return bytes;
}
