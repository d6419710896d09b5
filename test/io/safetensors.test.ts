// Tests of the safetensors reader/writer: round trips, the timm fixture, dtype conversion, and one
// test per malformed-file error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readSafetensors, readSafetensorsHeader, writeSafetensors, parseSafetensors } from '../../src/io/safetensors.js';
import { fixturePath } from '../fixtures/paths.js';

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'st-test-'));
}

/** Build a file from a header object and a data buffer, with a correct length prefix. */
function rawFile(header: unknown, data: Uint8Array, headerText?: string): Buffer {
  const h = Buffer.from(headerText ?? JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  return Buffer.concat([len, h, data]);
}

test('write then read round trip keeps names, order, shapes, values, metadata; header aligned to 8', () => {
  const dir = tmpDir();
  const p = path.join(dir, 'a.safetensors');
  const w = new Float32Array([1.5, -2, 3.25, 0, 1e-8, 7]);
  const idx = new Int32Array([-3, 2147483647, 5]);
  writeSafetensors(
    p,
    new Map<string, any>([
      ['w', { shape: [2, 3], data: w }],
      ['idx', { shape: [3], data: idx }],
      ['empty', { shape: [0, 4], data: new Float32Array(0) }],
    ]),
    {
      config: '{"d":4}',
      format: 'pt',
    },
  );
  const bytes = fs.readFileSync(p);
  const n = Number(bytes.readBigUInt64LE(0));
  assert.equal(n % 8, 0);
  const { tensors, metadata } = readSafetensors(p);
  assert.deepEqual([...tensors.keys()], ['w', 'idx', 'empty']);
  assert.equal(tensors.get('w')!.dtype, 'F32');
  assert.deepEqual(tensors.get('w')!.shape, [2, 3]);
  assert.deepEqual(tensors.get('w')!.data, w);
  assert.ok(tensors.get('idx')!.data instanceof Int32Array);
  assert.deepEqual(tensors.get('idx')!.data, idx);
  assert.deepEqual(tensors.get('empty')!.shape, [0, 4]);
  assert.deepEqual(metadata, { config: '{"d":4}', format: 'pt' });
  const header = readSafetensorsHeader(p);
  assert.deepEqual(header.entries.get('w')!.data_offsets, [0, 24]);
  assert.equal(header.dataStart, 8 + n);
  // no temporary files left behind by the atomic write
  assert.deepEqual(fs.readdirSync(dir), ['a.safetensors']);
  fs.rmSync(dir, { recursive: true });
});

test('writes from a subarray view store only the view', () => {
  const dir = tmpDir();
  const p = path.join(dir, 'v.safetensors');
  const big = new Float32Array([9, 1, 2, 3, 9]);
  writeSafetensors(p, { v: { shape: [3], data: big.subarray(1, 4) } });
  assert.deepEqual(readSafetensors(p).tensors.get('v')!.data, new Float32Array([1, 2, 3]));
  fs.rmSync(dir, { recursive: true });
});

test('reads the timm fixture written by Python (test/fixtures/resmlp/make-tiny-timm.py: space-padded header, F32)', () => {
  const p = fixturePath('resmlp', 'tiny-timm.safetensors');
  const { tensors } = readSafetensors(p);
  const w = tensors.get('stem.proj.weight');
  assert.ok(w, 'stem.proj.weight missing');
  assert.equal(w.dtype, 'F32');
  assert.deepEqual(w.shape, [16, 3, 4, 4]);
  assert.equal(w.data.length, 16 * 3 * 4 * 4);
  assert.ok(w.data.every((v) => Number.isFinite(v)));
  assert.ok(w.data.some((v) => v !== 0));
  assert.deepEqual(tensors.get('blocks.0.linear_tokens.weight')!.shape, [9, 9]);
  assert.equal(tensors.size, 30);
});

test('converts F16, BF16, F64, I64, U8, BOOL', () => {
  const f16 = new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00]); // 1, -2, 65504, 2^-24, inf
  const bf16 = new Uint16Array([0x3f80, 0x4049]); // 1, 3.140625
  const f64 = new Float64Array([0.1, -1e3]);
  const i64 = new BigInt64Array([-5n, 2147483647n]);
  const u8 = new Uint8Array([0, 255]);
  const parts = [f16, bf16, f64, i64, u8, new Uint8Array([1, 0, 1])].map((a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  let off = 0;
  const entry = (dtype: string, shape: number[], n: number) => {
    const e = { dtype, shape, data_offsets: [off, off + n] };
    off += n;
    return e;
  };
  const header = {
    h: entry('F16', [5], 10),
    b: entry('BF16', [2], 4),
    d: entry('F64', [2], 16),
    l: entry('I64', [2], 16),
    u: entry('U8', [2], 2),
    z: entry('BOOL', [3], 3),
  };
  const { tensors } = parseSafetensors(rawFile(header, Buffer.concat(parts)), 'mixed');
  assert.deepEqual([...tensors.get('h')!.data], [1, -2, 65504, 2 ** -24, Infinity]);
  assert.ok(tensors.get('h')!.data instanceof Float32Array);
  assert.deepEqual([...tensors.get('b')!.data], [1, 3.140625]);
  assert.deepEqual([...tensors.get('d')!.data], [Math.fround(0.1), -1000]);
  assert.ok(tensors.get('l')!.data instanceof Int32Array);
  assert.deepEqual([...tensors.get('l')!.data], [-5, 2147483647]);
  assert.deepEqual([...tensors.get('u')!.data], [0, 255]);
  assert.deepEqual([...tensors.get('z')!.data], [1, 0, 1]);
  const tooBig = new BigInt64Array([1n << 40n]);
  assert.throws(
    () => parseSafetensors(rawFile({ x: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, new Uint8Array(tooBig.buffer)), 'big.st'),
    /big\.st.*'x'.*does not fit in int32/,
  );
});

test('malformed files: each gets one error naming the file and the problem', () => {
  const dir = tmpDir();
  const write = (name: string, bytes: Uint8Array) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, bytes);
    return p;
  };
  const data8 = new Uint8Array(8);
  const good = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
  const cases: [string, Uint8Array, RegExp][] = [
    ['short.st', new Uint8Array([1, 2, 3]), /short\.st: truncated file: 3 bytes/],
    [
      'hlen.st',
      (() => {
        const b = rawFile(good, data8);
        b.writeBigUInt64LE(10_000n);
        return b;
      })(),
      /hlen\.st: header length 10000 beyond file/,
    ],
    ['json.st', rawFile(null, data8, '{"a": {'), /json\.st: invalid JSON header/],
    ['arr.st', rawFile([1, 2], data8), /arr\.st: invalid header: expected a JSON object, found an array/],
    ['dtype.st', rawFile({ a: { dtype: 'F128', shape: [2], data_offsets: [0, 8] } }, data8), /dtype\.st: tensor 'a': unknown dtype "F128"/],
    [
      'size.st',
      rawFile({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, data8),
      /size\.st: tensor 'a': shape \[3\] of F32 needs 12 bytes, but data_offsets \[0,8\] span 8 bytes/,
    ],
    [
      'range.st',
      rawFile({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, data8),
      /range\.st: tensor 'a': data_offsets \[0,16\] out of range: the data section has 8 bytes/,
    ],
    [
      'overlap.st',
      rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, data8),
      /overlap\.st: tensor '.*': data_offsets \[4, 8\] overlap tensor/,
    ],
    [
      'hole.st',
      rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, data8),
      /hole\.st: tensor 'a': .* leave a hole at bytes \[0, 4\)/,
    ],
    [
      'trail.st',
      rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, data8),
      /trail\.st: data section has 8 bytes but the tensors cover 4/,
    ],
    ['meta.st', rawFile({ __metadata__: { n: 3 }, ...good }, data8), /meta\.st: __metadata__ key 'n' must be a string/],
    [
      'offs.st',
      rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, data8),
      /offs\.st: tensor 'a': data_offsets must be \[begin, end\]/,
    ],
  ];
  for (const [name, bytes, re] of cases) {
    const p = write(name, bytes);
    assert.throws(() => readSafetensors(p), re, name);
  }
  // truncating a valid file in its data section
  const valid = path.join(dir, 'valid.st');
  writeSafetensors(valid, { a: { shape: [4], data: new Float32Array(4) } });
  const full = fs.readFileSync(valid);
  const cut = write('cut.st', full.subarray(0, full.length - 3));
  assert.throws(
    () => readSafetensors(cut),
    /cut\.st: tensor 'a': data_offsets \[0,16\] out of range: the data section has 13 bytes \(file of \d+ bytes truncated\?\)/,
  );
  assert.throws(() => readSafetensors(path.join(dir, 'nope.st')), /nope\.st: cannot read file \(no such file\)/);
  assert.throws(() => readSafetensorsHeader(path.join(dir, 'hlen.st')), /hlen\.st: header length 10000 beyond file/);
  fs.rmSync(dir, { recursive: true });
});

test('writer rejects shape/size mismatch naming the key, and unwritable targets', () => {
  const dir = tmpDir();
  const p = path.join(dir, 'x.st');
  assert.throws(
    () => writeSafetensors(p, { 'blocks.0.w': { shape: [2, 2], data: new Float32Array(3) } }),
    /x\.st: tensor 'blocks\.0\.w': shape \[2,2\] expects 4 elements, data has 3/,
  );
  assert.throws(() => writeSafetensors(p, { a: { dtype: 'I32', shape: [1], data: new Float32Array(1) } }), /dtype I32 needs an Int32Array/);
  assert.throws(
    () => writeSafetensors(p, { a: { shape: [1], data: new Float32Array(1) } }, { k: 5 as any }),
    /metadata key 'k' must be a string/,
  );
  assert.throws(
    () => writeSafetensors(path.join(dir, 'no', 'such', 'dir.st'), { a: { shape: [1], data: new Float32Array(1) } }),
    /cannot write .*dir\.st: directory .* does not exist/,
  );
  assert.equal(fs.existsSync(p), false);
  assert.deepEqual(fs.readdirSync(dir), []);
  fs.rmSync(dir, { recursive: true });
});
