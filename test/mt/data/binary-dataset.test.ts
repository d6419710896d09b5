// The binary token files: writers stream (ids, offsets, line numbers) and readers give the same
// sentences whole in memory or read on demand; offsets widen to uint64 mid-stream when the total
// passes the uint32 range (forced low here); a split's line numbers are read on first use.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  DatasetFormatError,
  IN_MEMORY_MAX_BYTES,
  TokenFile,
  TokenFileWriter,
  Uint32FileReader,
  Uint32FileWriter,
  readUint32File,
} from '../../../src/mt/data/binary-dataset.js';
import { ParallelSplit } from '../../../src/mt/data/dataset.js';
import { Rng } from '../../../src/util/rng.js';
import { tempDir } from './helpers.js';

function sentences(n: number, vocab: number, seed: number): number[][] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => Array.from({ length: rng.int(30) }, () => rng.int(vocab)));
}

function withDir(t: { after: (fn: () => void) => void }, tag: string): string {
  const dir = tempDir(tag);
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('token files: in memory, on demand and auto read the sentences written', (t) => {
  const dir = withDir(t, 'bin-rt');
  for (const [dtype, vocab] of [
    ['uint16', 1000],
    ['int32', 70000],
  ] as const) {
    const sents = sentences(3000, vocab, 1);
    const prefix = path.join(dir, dtype);
    const w = new TokenFileWriter(prefix, dtype, vocab);
    for (const s of sents) w.add(s);
    const info = w.close();
    assert.equal(info.sentences, 3000);
    assert.equal(info.offsetDtype, 'uint32');
    assert.equal(
      info.tokens,
      sents.reduce((a, s) => a + s.length, 0),
    );
    for (const inMemory of [true, false, 'auto'] as const) {
      const f = new TokenFile(prefix, dtype, 'uint32', { inMemory });
      assert.equal(f.inMemory, inMemory !== false, `${dtype} ${inMemory}`); // auto: small files load whole
      assert.equal(f.size, 3000);
      for (const i of [0, 1, 1500, 2999]) {
        assert.deepEqual(Array.from(f.get(i)), sents[i]);
        assert.equal(f.length(i), sents[i]!.length);
      }
      assert.throws(() => f.get(3000), /sentence 3000 outside \[0, 3000\)/);
      f.close();
    }
  }
  assert.ok(IN_MEMORY_MAX_BYTES >= 2 ** 20);
});

test('offsets widen to uint64 in the middle of a stream and read back the same', (t) => {
  const dir = withDir(t, 'bin-wide');
  // more sentences than the writer's buffer, so widening rewrites flushed data and buffered data
  const sents = sentences(70_000, 500, 2);
  const prefix = path.join(dir, 'w');
  const w = new TokenFileWriter(prefix, 'uint16', 500, { wideOffsetsAt: 600_000 });
  for (const s of sents) w.add(s);
  const info = w.close();
  assert.ok(info.tokens > 600_000, `${info.tokens} tokens`);
  assert.equal(info.offsetDtype, 'uint64');
  assert.equal(fs.statSync(`${prefix}.off`).size, 8 * (sents.length + 1));
  assert.ok(!fs.existsSync(`${prefix}.off.wide`));
  for (const inMemory of [true, false]) {
    const f = new TokenFile(prefix, 'uint16', 'uint64', { inMemory });
    for (const i of [0, 12345, 40000, 69999]) assert.deepEqual(Array.from(f.get(i)), sents[i]);
    let total = 0;
    for (let i = 0; i < f.size; i++) total += f.length(i);
    assert.equal(total, info.tokens);
    f.close();
  }
});

test('uint32 files stream through a fixed buffer both ways; reading past the end is an error', (t) => {
  const dir = withDir(t, 'bin-u32');
  const file = path.join(dir, 'x.lines');
  const w = new Uint32FileWriter(file);
  const n = 200_003; // three buffers and a bit
  for (let i = 0; i < n; i++) w.push((i * 2654435761) >>> 0);
  assert.equal(w.close(), n);
  const whole = readUint32File(file);
  assert.equal(whole.length, n);
  const r = new Uint32FileReader(file);
  assert.equal(r.count, n);
  for (let i = 0; i < n; i++) if (r.next() !== whole[i]) assert.fail(`value ${i} differs`);
  assert.throws(
    () => r.next(),
    (e: unknown) => e instanceof DatasetFormatError && /read past its 200003 values/.test((e as Error).message),
  );
  r.close();
  assert.throws(() => new Uint32FileWriter(path.join(dir, 'y')).push(-1), /value -1 is not a uint32/);
});

test('a split reads its line numbers on first use and checks their count up front', (t) => {
  const dir = withDir(t, 'bin-split');
  const sents = sentences(10, 50, 3);
  for (const side of ['src', 'tgt']) {
    const w = new TokenFileWriter(path.join(dir, side), 'uint16', 50);
    for (const s of sents) w.add(s);
    w.close();
  }
  const lines = new Uint32FileWriter(path.join(dir, 'train.lines'));
  for (let i = 0; i < 10; i++) lines.push(3 * i + 1);
  lines.close();
  const open = () =>
    [new TokenFile(path.join(dir, 'src'), 'uint16', 'uint32'), new TokenFile(path.join(dir, 'tgt'), 'uint16', 'uint32')] as const;
  const split = new ParallelSplit('train', ...open(), path.join(dir, 'train.lines'));
  assert.deepEqual(Array.from(split.lines), [1, 4, 7, 10, 13, 16, 19, 22, 25, 28]);
  fs.writeFileSync(path.join(dir, 'short.lines'), new Uint8Array(new Uint32Array([1, 2, 3]).buffer));
  assert.throws(
    () => new ParallelSplit('train', ...open(), path.join(dir, 'short.lines')),
    /split train: 10 source, 10 target sentences and 3 line numbers differ/,
  );
  assert.throws(() => new ParallelSplit('train', ...open(), path.join(dir, 'none.lines')), /dataset file .*none\.lines is missing/);
});
