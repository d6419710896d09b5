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
// Readers load the offsets into memory and either the whole .ids file (`inMemory`, default;
// fine for Multi30k and WMT14 En-De) or read sentences on demand with positioned reads.
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

/** A growable uint32 array (line numbers of tens of millions of pairs without a JS array). */
export class Uint32Growable {
  data = new Uint32Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Uint32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  view(): Uint32Array {
    return this.data.subarray(0, this.length);
  }
}

/** A growable Float64 array of non-negative integers (exact below 2^53). */
class Growable {
  data = new Float64Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  view(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.byteLength) off += fs.writeSync(fd, bytes, off, bytes.byteLength - off);
}

export interface WrittenTokens {
  sentences: number;
  tokens: number;
  offsetDtype: OffsetDtype;
}

/** Streams sentences of one split and side to `<prefix>.ids` / `<prefix>.off`. */
export class TokenFileWriter {
  private fd: number;
  private offsets = new Growable();
  private buf: Uint8Array;
  private bufView: Uint16Array | Int32Array;
  private used = 0; // elements in buf
  private total = 0;

  constructor(readonly prefix: string, readonly idDtype: IdDtype, readonly vocabSize: number) {
    checkEndian();
    this.fd = fs.openSync(`${prefix}.ids`, 'w');
    const n = 1 << 18;
    this.buf = new Uint8Array(n * ID_BYTES[idDtype]);
    this.bufView = idDtype === 'uint16' ? new Uint16Array(this.buf.buffer) : new Int32Array(this.buf.buffer);
    this.offsets.push(0);
  }

  add(ids: ArrayLike<number>): void {
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
        throw new DatasetFormatError(`${this.prefix}: token id ${id} outside [0, ${this.vocabSize}) in sentence ${this.offsets.length}`);
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
    const offs = this.offsets.view();
    const offsetDtype: OffsetDtype = this.total < 2 ** 32 ? 'uint32' : 'uint64';
    let bytes: Uint8Array;
    if (offsetDtype === 'uint32') {
      bytes = new Uint8Array(Uint32Array.from(offs).buffer);
    } else {
      const big = new BigUint64Array(offs.length);
      for (let i = 0; i < offs.length; i++) big[i] = BigInt(offs[i]!);
      bytes = new Uint8Array(big.buffer);
    }
    const fd = fs.openSync(`${this.prefix}.off`, 'w');
    try {
      writeAll(fd, bytes);
    } finally {
      fs.closeSync(fd);
    }
    return { sentences: offs.length - 1, tokens: this.total, offsetDtype };
  }
}

/** Writes a uint32 array file (e.g. `<split>.lines`). */
export function writeUint32File(file: string, values: ArrayLike<number>): void {
  checkEndian();
  const fd = fs.openSync(file, 'w');
  try {
    writeAll(fd, new Uint8Array(Uint32Array.from(values).buffer));
  } finally {
    fs.closeSync(fd);
  }
}

function readExact(file: string, bytesPer: number): Buffer {
  if (!fs.existsSync(file)) throw new DatasetFormatError(`dataset file ${file} is missing`);
  const buf = fs.readFileSync(file);
  if (buf.byteLength % bytesPer !== 0) throw new DatasetFormatError(`${file}: size ${buf.byteLength} is not a multiple of ${bytesPer} bytes`);
  // typed-array views need aligned offsets; copy if Node handed us an unaligned slice
  return buf.byteOffset % 8 === 0 ? buf : Buffer.from(buf);
}

/** Reads a uint32 array file. */
export function readUint32File(file: string): Uint32Array {
  checkEndian();
  const buf = readExact(file, 4);
  return new Uint32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
}

/** Sentences of one split and side: offsets in memory, ids in memory or read on demand. */
export class TokenFile {
  private ids: Uint16Array | Int32Array | null = null;
  private fd: number | null = null;
  /** Sentence boundaries (n+1 entries, in tokens). */
  readonly offsets: Float64Array;

  constructor(readonly prefix: string, readonly idDtype: IdDtype, offsetDtype: OffsetDtype, opts: { inMemory?: boolean } = {}) {
    checkEndian();
    const offBuf = readExact(`${prefix}.off`, OFF_BYTES[offsetDtype]);
    if (offsetDtype === 'uint32') {
      this.offsets = Float64Array.from(new Uint32Array(offBuf.buffer, offBuf.byteOffset, offBuf.byteLength / 4));
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
      throw new DatasetFormatError(`${idFile}: ${idBytes} bytes, but ${prefix}.off promises ${total} ${idDtype} tokens (${total * ID_BYTES[idDtype]} bytes)`);
    }
    if (opts.inMemory ?? true) {
      const b = readExact(idFile, ID_BYTES[idDtype]);
      this.ids = idDtype === 'uint16' ? new Uint16Array(b.buffer, b.byteOffset, b.byteLength / 2) : new Int32Array(b.buffer, b.byteOffset, b.byteLength / 4);
    } else {
      this.fd = fs.openSync(idFile, 'r');
    }
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
    const bytes = ID_BYTES[this.idDtype];
    const buf = Buffer.alloc((b - a) * bytes);
    fs.readSync(this.fd!, buf, 0, buf.length, a * bytes);
    const view = this.idDtype === 'uint16' ? new Uint16Array(buf.buffer, buf.byteOffset, b - a) : new Int32Array(buf.buffer, buf.byteOffset, b - a);
    return Int32Array.from(view);
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
    this.ids = null;
  }
}
