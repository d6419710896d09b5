// Streaming line reader for parallel text: one sentence a line, strict UTF-8. Files of any size
// (WMT14 En-Fr is ~36M lines) are read in 1 MiB chunks, never whole. Invalid UTF-8 is an error
// that names the file, the line and the byte offset of the first bad byte (the WHATWG decoder
// with `fatal: true` finds it, a small validator locates it). Line ends: `\n`, with one trailing
// `\r` removed (CRLF files); a UTF-8 byte-order mark at the start of the file is dropped.
import * as fs from 'node:fs';
import * as crypto from 'node:crypto';
import { UserError } from '../../util/errors.js';

export class TextInputError extends UserError {
  constructor(message: string) {
    super(message, 'invalid_data');
  }
}

const CHUNK = 1 << 20;

/** Offset (within `bytes`) of the first byte that starts an invalid UTF-8 sequence, or -1. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  const n = bytes.length;
  while (i < n) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
      min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      min = 0x10000;
    } else return i;
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}

export interface Line {
  /** The decoded line without its line end. */
  text: string;
  /** 1-based line number. */
  lineNo: number;
  /** Byte offset of the line's first byte in the file. */
  byteOffset: number;
}

/** Throws a TextInputError naming `file` if it is missing or not a regular file. */
export function checkReadable(file: string, what = 'input file'): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    throw new TextInputError(`${what} ${file} does not exist`);
  }
  if (!st.isFile()) throw new TextInputError(`${what} ${file} is not a regular file`);
}

/**
 * Lines of a UTF-8 text file, streamed. Throws TextInputError for a missing file or invalid UTF-8
 * (with file, line number and byte offset).
 */
export function* readLines(file: string): Generator<Line> {
  checkReadable(file);
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    let carry: Buffer = Buffer.alloc(0);
    let pos = 0; // file offset of carry[0]
    let lineNo = 0;
    let first = true;
    const emit = (bytes: Buffer, offset: number): Line => {
      lineNo++;
      let body = bytes;
      if (first) {
        first = false;
        if (body.length >= 3 && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) {
          body = body.subarray(3);
          offset += 3;
        }
      }
      if (body.length > 0 && body[body.length - 1] === 0x0d) body = body.subarray(0, body.length - 1);
      let text: string;
      try {
        text = decoder.decode(body);
      } catch {
        const bad = firstInvalidUtf8(body);
        throw new TextInputError(
          `${file} is not valid UTF-8: line ${lineNo}, byte offset ${offset + Math.max(bad, 0)} ` +
            `(byte 0x${body[Math.max(bad, 0)]?.toString(16).padStart(2, '0') ?? '??'}); convert it with iconv or fix the line`,
        );
      }
      return { text, lineNo, byteOffset: offset };
    };
    for (;;) {
      const n = fs.readSync(fd, buf, 0, CHUNK, null);
      if (n === 0) break;
      const data = carry.length > 0 ? Buffer.concat([carry, buf.subarray(0, n)]) : Buffer.from(buf.subarray(0, n));
      let start = 0;
      for (;;) {
        const nl = data.indexOf(0x0a, start);
        if (nl < 0) break;
        yield emit(data.subarray(start, nl), pos + start);
        start = nl + 1;
      }
      carry = data.subarray(start);
      pos += start;
    }
    if (carry.length > 0) yield emit(carry, pos);
  } finally {
    fs.closeSync(fd);
  }
}

/** Number of lines `readLines` yields for `file` (counts `\n`, plus a final unterminated line). */
export function countLines(file: string): number {
  checkReadable(file);
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    let count = 0;
    let last = 0x0a;
    for (;;) {
      const n = fs.readSync(fd, buf, 0, CHUNK, null);
      if (n === 0) break;
      let i = -1;
      for (;;) {
        i = buf.indexOf(0x0a, i + 1);
        if (i < 0 || i >= n) break;
        count++;
      }
      last = buf[n - 1]!;
    }
    return last === 0x0a ? count : count + 1;
  } finally {
    fs.closeSync(fd);
  }
}

/** SHA-256 (hex) and size of a file, streamed. */
export function sha256File(file: string): { sha256: string; bytes: number } {
  checkReadable(file);
  const h = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  let bytes = 0;
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, CHUNK, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      bytes += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  return { sha256: h.digest('hex'), bytes };
}

/** Buffered line writer (UTF-8, `\n` after every line). */
export class LineWriter {
  private fd: number;
  private parts: string[] = [];
  private size = 0;

  constructor(readonly file: string) {
    this.fd = fs.openSync(file, 'w');
  }

  write(line: string): void {
    this.parts.push(line, '\n');
    this.size += line.length + 1;
    if (this.size > CHUNK) this.flush();
  }

  private flush(): void {
    if (this.parts.length === 0) return;
    const bytes = Buffer.from(this.parts.join(''), 'utf8');
    let off = 0;
    while (off < bytes.length) off += fs.writeSync(this.fd, bytes, off, bytes.length - off);
    this.parts = [];
    this.size = 0;
  }

  close(): void {
    this.flush();
    fs.closeSync(this.fd);
  }
}
