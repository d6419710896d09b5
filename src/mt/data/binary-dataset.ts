// Compact binary token storage (the idea of fairseq's indexed datasets: one flat token file plus
// an offsets file per split and side; never JSON for tokens).
//
//   <split>.<side>.ids   token ids, little-endian, uint16 if the vocabulary has ≤ 65535 ids,
//                        else int32 (manifest `idDtype`)
//   <split>.<side>.off   n+1 offsets into .ids in tokens, little-endian uint32 if the total is
//                        < 2^32, else uint64 (manifest `offsetDtype` per file); sentence i is
//                        ids[off[i] .. off[i+1])
//   <split>.lines        uint32: 1-based line number in the raw input of each kept pair
//
// Writers stream everything to disk (ids, offsets and line numbers go out in buffers), so writing
// takes the same memory for 29k pairs as for 36M. Readers keep the offsets in memory (4 bytes a
// sentence: the index batching needs) and either load the whole .ids file or read sentences on
// demand with positioned reads (the OS page cache, not the process, then holds the corpus):
// `inMemory: 'auto'` (default) loads .ids files up to IN_MEMORY_MAX_BYTES (Multi30k) and streams
// larger ones (WMT14-scale corpora).
import * as fs from 'node:fs';
import * as os from 'node:os';
import { UserError } from '../../util/errors.js';

export type IdDtype = 'uint16' | 'int32';
export type OffsetDtype = 'uint32' | 'uint64';

export class DatasetFormatError extends UserError {
  constructor(message: string) {
    super(message, 'invalid_data');
  }
}

function checkEndian(): void {
  if (os.endianness() !== 'LE') throw new DatasetFormatError('the binary dataset format is little-endian; this machine is big-endian');
}

/** Smallest id dtype for a vocabulary of `vocabSize` ids. */
export function idDtypeFor(vocabSize: number): IdDtype {
  return vocabSize <= 65535 ? 'uint16' : 'int32';
}

const ID_BYTES: Record<IdDtype, number> = { uint16: 2, int32: 4 };
const OFF_BYTES: Record<OffsetDtype, number> = { uint32: 4, uint64: 8 };

/** .ids files up to this size are loaded whole by `inMemory: 'auto'`; larger ones are read on demand. */
export const IN_MEMORY_MAX_BYTES = 64 * 2 ** 20;

/** Elements buffered by the streaming writers before a write. */
const WRITE_BUFFER = 1 << 16;

function writeAll(fd: number, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.byteLength) off += fs.writeSync(fd, bytes, off, bytes.byteLength - off);
}

/** Streams uint32 values to a file (e.g. `<split>.lines`) through a fixed buffer. */
export class Uint32FileWriter {
  private fd: number;
  private buf = new Uint32Array(WRITE_BUFFER);
  private used = 0;
  /** Values written so far. */
  count = 0;

  constructor(readonly file: string) {
    checkEndian();
    this.fd = fs.openSync(file, 'w');
  }

  push(v: number): void {
    if (!(Number.isInteger(v) && v >= 0 && v < 2 ** 32)) throw new DatasetFormatError(`${this.file}: value ${v} is not a uint32`);
    if (this.used === this.buf.length) this.flush();
    this.buf[this.used++] = v;
    this.count++;
  }

  private flush(): void {
    writeAll(this.fd, new Uint8Array(this.buf.buffer, 0, this.used * 4));
    this.used = 0;
  }

  close(): number {
    this.flush();
    fs.closeSync(this.fd);
    return this.count;
  }
}

/** Reads a uint32 file front to back through a fixed buffer (the counterpart of Uint32FileWriter). */
export class Uint32FileReader {
  private fd: number;
  private buf = new Uint32Array(WRITE_BUFFER);
  private have = 0;
  private at = 0;
  private pos = 0; // file offset of the next read
  /** Values in the file. */
  readonly count: number;

  constructor(readonly file: string) {
    checkEndian();
    if (!fs.existsSync(file)) throw new DatasetFormatError(`dataset file ${file} is missing`);
    const bytes = fs.statSync(file).size;
    if (bytes % 4 !== 0) throw new DatasetFormatError(`${file}: size ${bytes} is not a multiple of 4 bytes`);
    this.count = bytes / 4;
    this.fd = fs.openSync(file, 'r');
  }

  /** The next value; a DatasetFormatError past the end. */
  next(): number {
    if (this.at === this.have) {
      const n = fs.readSync(this.fd, new Uint8Array(this.buf.buffer), 0, this.buf.byteLength, this.pos);
      if (n === 0) throw new DatasetFormatError(`${this.file}: read past its ${this.count} values`);
      this.pos += n;
      this.have = n / 4;
      this.at = 0;
    }
    return this.buf[this.at++]!;
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

export interface WrittenTokens {
  sentences: number;
  tokens: number;
  offsetDtype: OffsetDtype;
}

/**
 * Streams the offsets of one side to `<prefix>.off`: uint32 while the running total fits, and if
 * it ever reaches 2^32 the file written so far is widened to uint64 (a streamed rewrite) and
 * writing goes on in uint64. Memory is the buffer, whatever the corpus size.
 */
class OffsetFileWriter {
  private fd: number;
  dtype: OffsetDtype = 'uint32';
  private buf32 = new Uint32Array(WRITE_BUFFER);
  private buf64 = new BigUint64Array(WRITE_BUFFER);
  private used = 0;
  count = 0;

  /** `wideAt`: the first offset written as uint64 (2^32; tests lower it to exercise widening). */
  constructor(
    readonly file: string,
    private readonly wideAt = 2 ** 32,
  ) {
    this.fd = fs.openSync(file, 'w');
  }

  push(v: number): void {
    if (this.dtype === 'uint32' && v >= this.wideAt) this.widen();
    if (this.used === WRITE_BUFFER) this.flush();
    if (this.dtype === 'uint32') this.buf32[this.used++] = v;
    else this.buf64[this.used++] = BigInt(v);
    this.count++;
  }

  private flush(): void {
    const b = this.dtype === 'uint32' ? this.buf32 : this.buf64;
    writeAll(this.fd, new Uint8Array(b.buffer, 0, this.used * OFF_BYTES[this.dtype]));
    this.used = 0;
  }

  /** Rewrites the uint32 offsets written so far as uint64, then continues in uint64. */
  private widen(): void {
    this.flush();
    fs.closeSync(this.fd);
    const wide = `${this.file}.wide`;
    const inFd = fs.openSync(this.file, 'r');
    const outFd = fs.openSync(wide, 'w');
    try {
      const chunk = new Uint32Array(WRITE_BUFFER);
      const out = new BigUint64Array(WRITE_BUFFER);
      for (let pos = 0; ; ) {
        const n = fs.readSync(inFd, new Uint8Array(chunk.buffer), 0, chunk.byteLength, pos);
        if (n === 0) break;
        pos += n;
        for (let i = 0; i < n / 4; i++) out[i] = BigInt(chunk[i]!);
        writeAll(outFd, new Uint8Array(out.buffer, 0, (n / 4) * 8));
      }
    } finally {
      fs.closeSync(inFd);
      fs.closeSync(outFd);
    }
    fs.renameSync(wide, this.file);
    this.fd = fs.openSync(this.file, 'a');
    this.dtype = 'uint64';
  }

  close(): void {
    this.flush();
    fs.closeSync(this.fd);
  }
}

/** Streams sentences of one split and side to `<prefix>.ids` / `<prefix>.off`. */
export class TokenFileWriter {
  private fd: number;
  private offsets: OffsetFileWriter;
  private buf: Uint8Array;
  private bufView: Uint16Array | Int32Array;
  private used = 0; // elements in buf
  private total = 0;

  /** `opts.wideOffsetsAt`: tests only (see OffsetFileWriter). */
  constructor(
    readonly prefix: string,
    readonly idDtype: IdDtype,
    readonly vocabSize: number,
    opts: { wideOffsetsAt?: number } = {},
  ) {
    checkEndian();
    this.fd = fs.openSync(`${prefix}.ids`, 'w');
    const n = 1 << 18;
    this.buf = new Uint8Array(n * ID_BYTES[idDtype]);
    this.bufView = idDtype === 'uint16' ? new Uint16Array(this.buf.buffer) : new Int32Array(this.buf.buffer);
    this.offsets = new OffsetFileWriter(`${prefix}.off`, opts.wideOffsetsAt);
    this.offsets.push(0);
  }

  add(ids: ArrayLike<number>): void {
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
        throw new DatasetFormatError(`${this.prefix}: token id ${id} outside [0, ${this.vocabSize}) in sentence ${this.offsets.count}`);
      }
      if (this.used === this.bufView.length) this.flush();
      this.bufView[this.used++] = id;
    }
    this.total += ids.length;
    this.offsets.push(this.total);
  }

  private flush(): void {
    writeAll(this.fd, this.buf.subarray(0, this.used * ID_BYTES[this.idDtype]));
    this.used = 0;
  }

  close(): WrittenTokens {
    this.flush();
    fs.closeSync(this.fd);
    this.offsets.close();
    return { sentences: this.offsets.count - 1, tokens: this.total, offsetDtype: this.offsets.dtype };
  }
}

function readExact(file: string, bytesPer: number): Buffer {
  if (!fs.existsSync(file)) throw new DatasetFormatError(`dataset file ${file} is missing`);
  const buf = fs.readFileSync(file);
  if (buf.byteLength % bytesPer !== 0)
    throw new DatasetFormatError(`${file}: size ${buf.byteLength} is not a multiple of ${bytesPer} bytes`);
  // typed-array views need aligned offsets; copy if Node handed us an unaligned slice
  return buf.byteOffset % 8 === 0 ? buf : Buffer.from(buf);
}

/** Reads a uint32 array file. */
export function readUint32File(file: string): Uint32Array {
  checkEndian();
  const buf = readExact(file, 4);
  return new Uint32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
}

/**
 * Sentences of one split and side: offsets in memory (uint32 as stored, uint64 as float64), ids
 * in memory or read on demand (see the file comment for `inMemory`).
 */
export class TokenFile {
  private ids: Uint16Array | Int32Array | null = null;
  private fd: number | null = null;
  private scratch: Buffer = Buffer.alloc(0);
  /** Sentence boundaries (n+1 entries, in tokens). */
  readonly offsets: Uint32Array | Float64Array;

  constructor(
    readonly prefix: string,
    readonly idDtype: IdDtype,
    offsetDtype: OffsetDtype,
    opts: { inMemory?: boolean | 'auto' } = {},
  ) {
    checkEndian();
    const offBuf = readExact(`${prefix}.off`, OFF_BYTES[offsetDtype]);
    if (offsetDtype === 'uint32') {
      this.offsets = new Uint32Array(offBuf.buffer, offBuf.byteOffset, offBuf.byteLength / 4);
    } else {
      const big = new BigUint64Array(offBuf.buffer, offBuf.byteOffset, offBuf.byteLength / 8);
      this.offsets = new Float64Array(big.length);
      for (let i = 0; i < big.length; i++) this.offsets[i] = Number(big[i]!);
    }
    if (this.offsets.length === 0 || this.offsets[0] !== 0) throw new DatasetFormatError(`${prefix}.off: must start with offset 0`);
    const total = this.offsets[this.offsets.length - 1]!;
    const idFile = `${prefix}.ids`;
    if (!fs.existsSync(idFile)) throw new DatasetFormatError(`dataset file ${idFile} is missing`);
    const idBytes = fs.statSync(idFile).size;
    if (idBytes !== total * ID_BYTES[idDtype]) {
      throw new DatasetFormatError(
        `${idFile}: ${idBytes} bytes, but ${prefix}.off promises ${total} ${idDtype} tokens (${total * ID_BYTES[idDtype]} bytes)`,
      );
    }
    const mode = opts.inMemory ?? 'auto';
    if (mode === true || (mode === 'auto' && idBytes <= IN_MEMORY_MAX_BYTES)) {
      const b = readExact(idFile, ID_BYTES[idDtype]);
      this.ids =
        idDtype === 'uint16'
          ? new Uint16Array(b.buffer, b.byteOffset, b.byteLength / 2)
          : new Int32Array(b.buffer, b.byteOffset, b.byteLength / 4);
    } else {
      this.fd = fs.openSync(idFile, 'r');
    }
  }

  /** True if the ids are loaded whole; false if sentences are read from the file on demand. */
  get inMemory(): boolean {
    return this.ids !== null;
  }

  /** Number of sentences. */
  get size(): number {
    return this.offsets.length - 1;
  }

  /** Token count of sentence i. */
  length(i: number): number {
    return this.offsets[i + 1]! - this.offsets[i]!;
  }

  /** Token ids of sentence i (a fresh Int32Array). */
  get(i: number): Int32Array {
    if (!(i >= 0 && i < this.size)) throw new RangeError(`${this.prefix}: sentence ${i} outside [0, ${this.size})`);
    const a = this.offsets[i]!;
    const b = this.offsets[i + 1]!;
    if (this.ids) return Int32Array.from(this.ids.subarray(a, b));
    if (this.fd === null) throw new DatasetFormatError(`${this.prefix}: read after close()`);
    const bytes = ID_BYTES[this.idDtype];
    const need = (b - a) * bytes;
    if (this.scratch.byteLength < need) this.scratch = Buffer.alloc(Math.max(need, 4096));
    let got = 0;
    while (got < need) {
      const n = fs.readSync(this.fd, this.scratch, got, need - got, a * bytes + got);
      if (n === 0) throw new DatasetFormatError(`${this.prefix}.ids: ended inside sentence ${i} (the file shrank while open?)`);
      got += n;
    }
    const view =
      this.idDtype === 'uint16'
        ? new Uint16Array(this.scratch.buffer, this.scratch.byteOffset, b - a)
        : new Int32Array(this.scratch.buffer, this.scratch.byteOffset, b - a);
    return Int32Array.from(view);
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
    this.ids = null;
  }
}
