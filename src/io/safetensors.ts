// Reader and writer for the safetensors format (huggingface/safetensors, docs "Format"):
//   8 bytes   N, unsigned little-endian u64: size of the header
//   N bytes   UTF-8 JSON: {"name": {"dtype", "shape", "data_offsets": [begin, end]}, ...,
//             "__metadata__": {string: string}}; writers pad it with spaces to a multiple of 8
//   rest      the byte buffer; offsets are relative to its start, tensors are little-endian,
//             row-major, and must cover the buffer exactly (no holes, no overlaps).
// Reading converts F32/F16/BF16/F64 to Float32Array and integer/bool dtypes to Int32Array; writing
// supports F32, I32 and I8 (int8 checkpoints: src/quant). Validation follows the reference Rust crate; every error names the file.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { writeFileAtomic } from '../util/atomic-write.js';

export type SafetensorsDtype =
  | 'BOOL'
  | 'U8'
  | 'I8'
  | 'I16'
  | 'U16'
  | 'F16'
  | 'BF16'
  | 'I32'
  | 'U32'
  | 'F32'
  | 'F64'
  | 'I64'
  | 'U64'
  | 'F8_E5M2'
  | 'F8_E4M3';

/** Bytes per element of every dtype of the spec. */
export const DTYPE_SIZE: Record<SafetensorsDtype, number> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};

/** A tensor as read: `dtype` is the dtype stored in the file, `data` the converted values. */
export interface StoredTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: Float32Array | Int32Array;
}

/**
 * A tensor to write. `dtype` defaults from the array type (Float32Array → F32, Int32Array → I32,
 * Int8Array → I8); I8 also takes an Int32Array of values in [−128, 127] (an I8 tensor as read).
 */
export interface TensorToWrite {
  dtype?: 'F32' | 'I32' | 'I8';
  shape: readonly number[];
  data: Float32Array | Int32Array | Int8Array;
}

/** One header entry, as stored. */
export interface HeaderEntry {
  dtype: SafetensorsDtype;
  shape: number[];
  data_offsets: [number, number];
}

export interface SafetensorsHeader {
  entries: Map<string, HeaderEntry>;
  metadata: Record<string, string>;
  /** Byte offset of the data section in the file (8 + N). */
  dataStart: number;
}

export interface SafetensorsContents {
  tensors: Map<string, StoredTensor>;
  metadata: Record<string, string>;
}

/** Header size limit of the reference implementation (100 MB). */
const MAX_HEADER_BYTES = 100_000_000;

if (os.endianness() !== 'LE') {
  throw new Error('safetensors.ts assumes a little-endian host (typed arrays are copied byte for byte)');
}

function fail(where: string, problem: string): never {
  throw new Error(`safetensors ${where}: ${problem}`);
}

function product(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * Parse and validate the header. `fileSize` is the total size, used to check offsets against the
 * data section. `where` names the file in errors.
 */
export function parseHeader(headerBytes: Uint8Array, fileSize: number, where: string): SafetensorsHeader {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    fail(where, 'invalid header: not valid UTF-8');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    fail(where, `invalid JSON header (${(err as Error).message}); header starts with ${JSON.stringify(text.slice(0, 60))}`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    fail(where, `invalid header: expected a JSON object, found ${Array.isArray(json) ? 'an array' : typeof json}`);
  }
  const dataStart = 8 + headerBytes.byteLength;
  const dataSize = fileSize - dataStart;
  const entries = new Map<string, HeaderEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(where, '__metadata__ must be an object of strings');
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(where, `__metadata__ key '${k}' must be a string, found ${typeof v}`);
      }
      metadata = { ...(value as Record<string, string>) };
      continue;
    }
    const e = value as Partial<HeaderEntry> | null;
    if (e === null || typeof e !== 'object') fail(where, `tensor '${name}': header entry must be an object`);
    if (typeof e.dtype !== 'string' || !(e.dtype in DTYPE_SIZE)) {
      fail(where, `tensor '${name}': unknown dtype ${JSON.stringify(e.dtype)} (known: ${Object.keys(DTYPE_SIZE).join(', ')})`);
    }
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(where, `tensor '${name}': shape must be an array of non-negative integers, found ${JSON.stringify(e.shape)}`);
    }
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((o) => Number.isSafeInteger(o) && o >= 0) || off[0] > off[1]) {
      fail(where, `tensor '${name}': data_offsets must be [begin, end] with 0 ≤ begin ≤ end, found ${JSON.stringify(off)}`);
    }
    const expected = product(e.shape) * DTYPE_SIZE[e.dtype];
    const found = off[1] - off[0];
    if (expected !== found) {
      fail(
        where,
        `tensor '${name}': shape ${JSON.stringify(e.shape)} of ${e.dtype} needs ${expected} bytes, ` +
          `but data_offsets ${JSON.stringify(off)} span ${found} bytes`,
      );
    }
    if (off[1] > dataSize) {
      fail(
        where,
        `tensor '${name}': data_offsets ${JSON.stringify(off)} out of range: the data section has ${dataSize} bytes ` +
          `(file of ${fileSize} bytes truncated?)`,
      );
    }
    entries.set(name, { dtype: e.dtype, shape: [...e.shape], data_offsets: [off[0], off[1]] });
  }
  // the buffer must be covered exactly: sort by begin, each must start where the previous ended
  const sorted = [...entries.entries()].sort(
    (a, b) => a[1].data_offsets[0] - b[1].data_offsets[0] || a[1].data_offsets[1] - b[1].data_offsets[1],
  );
  let pos = 0;
  let prevName = '';
  for (const [name, e] of sorted) {
    const [b, en] = e.data_offsets;
    if (b < pos) fail(where, `tensor '${name}': data_offsets [${b}, ${en}] overlap tensor '${prevName}' (which ends at ${pos})`);
    if (b > pos) fail(where, `tensor '${name}': data_offsets [${b}, ${en}] leave a hole at bytes [${pos}, ${b}) of the data section`);
    pos = en;
    prevName = name;
  }
  if (pos !== dataSize) {
    fail(where, `data section has ${dataSize} bytes but the tensors cover ${pos} (trailing bytes after the last tensor)`);
  }
  return { entries, metadata, dataStart };
}

function readHeaderFromBytes(bytes: Uint8Array, where: string): SafetensorsHeader {
  if (bytes.byteLength < 8) fail(where, `truncated file: ${bytes.byteLength} bytes, the 8-byte header length is missing`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(bytes.byteLength - 8)) {
    fail(where, `header length ${n} beyond file: the file has ${bytes.byteLength} bytes (truncated, or not a safetensors file)`);
  }
  if (n > BigInt(MAX_HEADER_BYTES)) fail(where, `header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const headerLen = Number(n);
  return parseHeader(bytes.subarray(8, 8 + headerLen), bytes.byteLength, where);
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24; // subnormal
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** Convert one tensor's raw little-endian bytes. */
function convert(name: string, e: HeaderEntry, raw: Uint8Array, where: string): Float32Array | Int32Array {
  const count = product(e.shape);
  // copy into a fresh aligned buffer: file offsets need not be aligned to the element size
  const aligned = new Uint8Array(raw.byteLength);
  aligned.set(raw);
  const buf = aligned.buffer;
  switch (e.dtype) {
    case 'F32':
      return new Float32Array(buf, 0, count);
    case 'F64':
      return Float32Array.from(new Float64Array(buf, 0, count));
    case 'F16': {
      const src = new Uint16Array(buf, 0, count);
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = halfToFloat(src[i]);
      return out;
    }
    case 'BF16': {
      const src = new Uint16Array(buf, 0, count);
      const out = new Float32Array(count);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) bits[i] = src[i] << 16;
      return out;
    }
    case 'I32':
      return new Int32Array(buf, 0, count);
    case 'U32':
    case 'I64':
    case 'U64': {
      const out = new Int32Array(count);
      const src =
        e.dtype === 'U32'
          ? new Uint32Array(buf, 0, count)
          : e.dtype === 'I64'
            ? new BigInt64Array(buf, 0, count)
            : new BigUint64Array(buf, 0, count);
      for (let i = 0; i < count; i++) {
        const v = Number(src[i]);
        if (v < -0x80000000 || v > 0x7fffffff) {
          fail(where, `tensor '${name}': ${e.dtype} value ${src[i]} at index ${i} does not fit in int32`);
        }
        out[i] = v;
      }
      return out;
    }
    case 'I16':
      return Int32Array.from(new Int16Array(buf, 0, count));
    case 'U16':
      return Int32Array.from(new Uint16Array(buf, 0, count));
    case 'I8':
      return Int32Array.from(new Int8Array(buf, 0, count));
    case 'U8':
    case 'BOOL':
      return Int32Array.from(aligned);
    default:
      fail(where, `tensor '${name}': dtype ${e.dtype} is valid safetensors but not supported by this reader`);
  }
}

/** Parse a whole safetensors file held in memory. `where` names it in errors. */
export function parseSafetensors(bytes: Uint8Array, where = '<buffer>'): SafetensorsContents {
  const header = readHeaderFromBytes(bytes, where);
  const tensors = new Map<string, StoredTensor>();
  for (const [name, e] of header.entries) {
    const raw = bytes.subarray(header.dataStart + e.data_offsets[0], header.dataStart + e.data_offsets[1]);
    tensors.set(name, { dtype: e.dtype, shape: e.shape, data: convert(name, e, raw, where) });
  }
  return { tensors, metadata: header.metadata };
}

/** Read a safetensors file (every tensor converted; see the file comment for dtype mapping). */
export function readSafetensors(path: string): SafetensorsContents {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`safetensors ${path}: cannot read file (${code === 'ENOENT' ? 'no such file' : (err as Error).message})`);
  }
  return parseSafetensors(bytes, path);
}

/** Read only the header (names, dtypes, shapes, metadata) without loading the data. */
export function readSafetensorsHeader(path: string): SafetensorsHeader {
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`safetensors ${path}: cannot read file (${code === 'ENOENT' ? 'no such file' : (err as Error).message})`);
  }
  try {
    const size = fs.fstatSync(fd).size;
    const lenBuf = Buffer.alloc(8);
    const got = fs.readSync(fd, lenBuf, 0, 8, 0);
    if (got < 8) fail(path, `truncated file: ${size} bytes, the 8-byte header length is missing`);
    const n = lenBuf.readBigUInt64LE(0);
    if (n > BigInt(size - 8))
      fail(path, `header length ${n} beyond file: the file has ${size} bytes (truncated, or not a safetensors file)`);
    if (n > BigInt(MAX_HEADER_BYTES)) fail(path, `header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
    const header = Buffer.alloc(Number(n));
    fs.readSync(fd, header, 0, header.length, 8);
    return parseHeader(header, size, path);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Serialise tensors (in the map's order) and metadata to the chunks of a safetensors file:
 * [8-byte length, header padded to 8 with spaces, data of each tensor...].
 */
export function serializeSafetensors(
  tensors: Map<string, TensorToWrite> | Record<string, TensorToWrite>,
  metadata: Record<string, string> = {},
  where = '<buffer>',
): Uint8Array[] {
  const map = tensors instanceof Map ? tensors : new Map(Object.entries(tensors));
  const header: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') fail(where, `metadata key '${k}' must be a string, found ${typeof v}`);
  }
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of map) {
    if (name === '' || name === '__metadata__') fail(where, `invalid tensor name ${JSON.stringify(name)}`);
    const dtype =
      t.dtype ??
      (t.data instanceof Float32Array ? 'F32' : t.data instanceof Int32Array ? 'I32' : t.data instanceof Int8Array ? 'I8' : undefined);
    if (dtype === 'F32' && !(t.data instanceof Float32Array)) fail(where, `tensor '${name}': dtype F32 needs a Float32Array`);
    else if (dtype === 'I32' && !(t.data instanceof Int32Array)) fail(where, `tensor '${name}': dtype I32 needs an Int32Array`);
    else if (dtype === 'I8' && t.data instanceof Float32Array)
      fail(where, `tensor '${name}': dtype I8 needs an Int8Array or an Int32Array`);
    else if (dtype !== 'F32' && dtype !== 'I32' && dtype !== 'I8')
      fail(where, `tensor '${name}': can write F32, I32 or I8, not ${String(dtype)}`);
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(where, `tensor '${name}': invalid shape ${JSON.stringify(t.shape)}`);
    const n = product(t.shape);
    if (n !== t.data.length) {
      fail(where, `tensor '${name}': shape ${JSON.stringify(t.shape)} expects ${n} elements, data has ${t.data.length}`);
    }
    let data = t.data;
    if (dtype === 'I8' && data instanceof Int32Array) {
      const bad = data.findIndex((v) => v < -128 || v > 127);
      if (bad >= 0) fail(where, `tensor '${name}': I8 value ${data[bad]} at index ${bad} is outside [-128, 127]`);
      data = Int8Array.from(data);
    }
    const nbytes = n * DTYPE_SIZE[dtype];
    header[name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + nbytes] };
    chunks.push(new Uint8Array(data.buffer, data.byteOffset, nbytes));
    offset += nbytes;
  }
  let json = JSON.stringify(header);
  const jsonBytes = Buffer.byteLength(json, 'utf8');
  json += ' '.repeat((8 - (jsonBytes % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  return [len, headerBytes, ...chunks];
}

/** Write a safetensors file atomically (temp file in the same directory, fsync, rename). */
export function writeSafetensors(
  path: string,
  tensors: Map<string, TensorToWrite> | Record<string, TensorToWrite>,
  metadata: Record<string, string> = {},
): void {
  writeFileAtomic(path, serializeSafetensors(tensors, metadata, path));
}
