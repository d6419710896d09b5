// Token batching invariants: the padded-token budget holds, every kept sentence appears exactly
// once per epoch, over-long pairs are skipped and counted, batches are deterministic in
// (seed, epoch) and resume exactly from a saved position; the padded tensors are right. The
// compact index plans exactly what the earlier one-array-per-batch planner did (reference copy
// below), so runs saved before it resume on the same data; it reads the same from disk on demand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  TokenBatcher,
  arrayPairSource,
  pairSource,
  resolveBatchingConfig,
  type Batch,
  type BatchingConfig,
  type PairSource,
} from '../../../src/mt/data/batching.js';
import { TokenFile, TokenFileWriter, idDtypeFor } from '../../../src/mt/data/binary-dataset.js';
import { Rng } from '../../../src/util/rng.js';
import { tempDir } from './helpers.js';

const IDS = { padId: 0, bosId: 2, eosId: 3 };

function corpus(n: number, seed = 7): { src: number[][]; tgt: number[][] } {
  const rng = new Rng(seed);
  const sent = (len: number) => Array.from({ length: len }, () => 4 + rng.int(100));
  const src: number[][] = [];
  const tgt: number[][] = [];
  for (let i = 0; i < n; i++) {
    const l = rng.int(40); // 0..39 tokens, some empty
    src.push(sent(l));
    tgt.push(sent(Math.max(0, l + rng.int(9) - 4)));
  }
  return { src, tgt };
}

const fingerprint = (bs: Batch[]) => bs.map((b) => Array.from(b.indices).join(',')).join('|');

test('budget, coverage, skipping', () => {
  const { src, tgt } = corpus(3000);
  const maxLen = 32;
  const b = new TokenBatcher(arrayPairSource(src, tgt), IDS, { maxTokens: 500, maxLen, seed: 3 });
  let expectSkipped = 0;
  for (let i = 0; i < src.length; i++) if (src[i]!.length > maxLen - 1 || tgt[i]!.length > maxLen - 1) expectSkipped++;
  assert.ok(expectSkipped > 0);
  assert.equal(b.skipped, expectSkipped);
  for (const epoch of [0, 1]) {
    const seen = new Map<number, number>();
    let count = 0;
    for (const batch of b.epoch(epoch)) {
      count++;
      assert.ok(
        batch.size * Math.max(batch.srcLen, batch.tgtLen) <= 500,
        `batch ${batch.index}: ${batch.size}×max(${batch.srcLen},${batch.tgtLen}) > 500`,
      );
      assert.ok(batch.srcLen <= maxLen && batch.tgtLen <= maxLen);
      for (const i of batch.indices) seen.set(i, (seen.get(i) ?? 0) + 1);
    }
    assert.equal(count, b.numBatches(epoch));
    assert.equal(seen.size, src.length - expectSkipped);
    assert.ok([...seen.values()].every((c) => c === 1));
    for (const i of b.kept) assert.ok(seen.has(i));
  }
});

test('length bucketing keeps padding low', () => {
  const { src, tgt } = corpus(3000);
  const b = new TokenBatcher(arrayPairSource(src, tgt), IDS, { maxTokens: 1024, maxLen: 64, seed: 1 });
  let real = 0;
  let padded = 0;
  for (const batch of b.epoch(0)) {
    real += batch.tgtTokens;
    padded += batch.size * batch.tgtLen;
  }
  assert.ok(real / padded > 0.9, `target padding efficiency ${(real / padded).toFixed(3)}`);
});

test('deterministic in (seed, epoch); epochs and seeds differ; resume is exact', () => {
  const { src, tgt } = corpus(2000);
  const mk = (seed: number) => new TokenBatcher(arrayPairSource(src, tgt), IDS, { maxTokens: 400, maxLen: 48, seed });
  const a = mk(5);
  const e0 = [...a.epoch(0)];
  assert.equal(fingerprint(e0), fingerprint([...mk(5).epoch(0)]));
  assert.notEqual(fingerprint(e0), fingerprint([...a.epoch(1)]));
  assert.notEqual(fingerprint(e0), fingerprint([...mk(6).epoch(0)]));
  // run 1: stream 10 batches into epoch 1, save the position; run 2 resumes from it
  const stream = a.stream();
  let pos = { epoch: 0, batch: 0 };
  const first: Batch[] = [];
  for (let k = 0; k < e0.length + 10; k++) {
    const batch = stream.next().value as Batch;
    first.push(batch);
    pos = batch.next;
  }
  assert.deepEqual(pos, { epoch: 1, batch: 10 });
  const resumed = mk(5).stream(pos);
  const cont = [...Array(5)].map(() => resumed.next().value as Batch);
  const straight = [...mk(5).epoch(1)].slice(10, 15);
  assert.equal(fingerprint(cont), fingerprint(straight));
  assert.deepEqual(cont[0]!.src, straight[0]!.src);
  assert.equal(cont[0]!.epoch, 1);
  assert.equal(cont[0]!.index, 10);
});

test('shuffle: false gives sorted, epoch-independent batches', () => {
  const { src, tgt } = corpus(500);
  const b = new TokenBatcher(arrayPairSource(src, tgt), IDS, { maxTokens: 300, maxLen: 48, shuffle: false });
  assert.equal(fingerprint([...b.epoch(0)]), fingerprint([...b.epoch(3)]));
  const lens = [...b.epoch(0)].map((x) => x.tgtLen);
  assert.deepEqual(
    lens,
    [...lens].sort((p, q) => p - q),
  );
});

test('padded tensors: src + EOS, BOS + y, y + EOS', () => {
  const src = [[10, 11, 12], [20], []];
  const tgt = [[30, 31], [40, 41, 42, 43], [50]];
  const b = new TokenBatcher(arrayPairSource(src, tgt), IDS, { maxTokens: 100, maxLen: 8, shuffle: false });
  const [batch] = [...b.epoch(0)];
  assert.equal(b.numBatches(0), 1);
  const row = Array.from(batch!.indices).indexOf(1);
  const S = batch!.srcLen;
  const T = batch!.tgtLen;
  assert.equal(S, 4);
  assert.equal(T, 5);
  assert.deepEqual(Array.from(batch!.src.subarray(row * S, row * S + S)), [20, 3, 0, 0]);
  assert.deepEqual(Array.from(batch!.tgtIn.subarray(row * T, row * T + T)), [2, 40, 41, 42, 43]);
  assert.deepEqual(Array.from(batch!.tgtOut.subarray(row * T, row * T + T)), [40, 41, 42, 43, 3]);
  const r2 = Array.from(batch!.indices).indexOf(2);
  assert.deepEqual(Array.from(batch!.src.subarray(r2 * S, r2 * S + S)), [3, 0, 0, 0]);
  assert.equal(batch!.srcLengths[r2], 1);
  assert.equal(batch!.tgtLengths[row], 5);
  assert.equal(batch!.tgtTokens, 3 + 5 + 2);
});

test('maxSentences caps the batch size', () => {
  const { src, tgt } = corpus(400);
  const b = new TokenBatcher(arrayPairSource(src, tgt), IDS, { maxTokens: 100000, maxLen: 64, maxSentences: 16 });
  for (const batch of b.epoch(0)) assert.ok(batch.size <= 16);
});

test('config errors name the key', () => {
  assert.throws(
    () => resolveBatchingConfig({ maxTokns: 3 } as never),
    /batching config: unknown config key 'maxTokns'; known keys: maxTokens/,
  );
  assert.throws(() => resolveBatchingConfig({ maxTokens: 10, maxLen: 64 }), /maxTokens must be an integer ≥ maxLen \(64\)/);
  const b = new TokenBatcher(arrayPairSource([[1]], [[1]]), IDS, { maxTokens: 64, maxLen: 64 });
  assert.throws(() => b.batch(0, 5), /batch 5 does not exist in epoch 0 \(it has 1\)/);
});

/** The planner before the compact index (per-batch arrays, every epoch planned whole): the reference. */
function referencePlan(data: PairSource, c: BatchingConfig, epoch: number): Int32Array[] {
  const extra = c.appendSrcEos ? 1 : 0;
  const kept: number[] = [];
  for (let i = 0; i < data.size; i++) if (data.srcLength(i) + 1 <= c.maxLen && data.tgtLength(i) + 1 <= c.maxLen) kept.push(i);
  const srcNeed = Int32Array.from(kept, (i) => data.srcLength(i) + extra);
  const tgtNeed = Int32Array.from(kept, (i) => data.tgtLength(i) + 1);
  const sort = (order: Int32Array, key: Int32Array) => {
    const count = new Int32Array(c.maxLen + 2);
    for (const k of order) count[key[k]! + 1]++;
    for (let v = 1; v < count.length; v++) count[v] += count[v - 1]!;
    const out = new Int32Array(order.length);
    for (const k of order) out[count[key[k]!]++] = k;
    return out;
  };
  const rng = c.shuffle ? new Rng(c.seed).fork(`batching-epoch-${epoch}`) : null;
  let order = rng ? rng.permutation(kept.length) : Int32Array.from(kept, (_, i) => i);
  order = sort(sort(order, srcNeed), tgtNeed);
  const batches: Int32Array[] = [];
  let cur: number[] = [];
  let curMax = 0;
  for (const k of order) {
    const need = Math.max(srcNeed[k]!, tgtNeed[k]!);
    const m = Math.max(curMax, need);
    if (cur.length > 0 && ((cur.length + 1) * m > c.maxTokens || (c.maxSentences > 0 && cur.length >= c.maxSentences))) {
      batches.push(Int32Array.from(cur));
      cur = [];
      curMax = 0;
    }
    cur.push(kept[k]!);
    curMax = Math.max(curMax, need);
  }
  if (cur.length > 0) batches.push(Int32Array.from(cur));
  if (rng) rng.shuffle(batches);
  return batches;
}

test('the compact index plans exactly as the reference planner (epochs, seeds, caps, no shuffle)', () => {
  const { src, tgt } = corpus(2500, 11);
  const data = arrayPairSource(src, tgt);
  const cases: Partial<BatchingConfig>[] = [
    { maxTokens: 400, maxLen: 48, seed: 5 },
    { maxTokens: 1000, maxLen: 32, seed: 2, maxSentences: 7 },
    { maxTokens: 300, maxLen: 40, seed: 9, appendSrcEos: false },
    { maxTokens: 500, maxLen: 48, shuffle: false },
  ];
  for (const over of cases) {
    const b = new TokenBatcher(data, IDS, over);
    for (const epoch of [0, 1, 4, 2]) {
      const ref = referencePlan(data, b.config, epoch);
      assert.equal(b.numBatches(epoch), ref.length, JSON.stringify(over));
      assert.equal(
        fingerprint([...b.epoch(epoch)]),
        ref.map((r) => Array.from(r).join(',')).join('|'),
        `${JSON.stringify(over)} epoch ${epoch}`,
      );
    }
  }
});

test('numBatches is the same in every epoch and plans at most one epoch', () => {
  const { src, tgt } = corpus(1500, 3);
  const b = new TokenBatcher(arrayPairSource(src, tgt), IDS, { maxTokens: 300, maxLen: 40, seed: 4 });
  const n = b.numBatches(7);
  for (const e of [0, 1, 2, 30]) assert.equal(b.numBatches(e), n);
  assert.equal([...b.epoch(3)].length, n);
  assert.throws(() => b.numBatches(-1), /epoch must be an integer ≥ 0, got -1/);
});

test('a split read from disk on demand batches exactly like one in memory; resume is exact', (t) => {
  const dir = tempDir('batch-disk');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const { src, tgt } = corpus(1200, 5);
  for (const [side, sents] of [
    ['src', src],
    ['tgt', tgt],
  ] as const) {
    const w = new TokenFileWriter(path.join(dir, side), idDtypeFor(200), 200);
    for (const s of sents) w.add(s);
    w.close();
  }
  const open = (inMemory: boolean) => {
    const s = new TokenFile(path.join(dir, 'src'), 'uint16', 'uint32', { inMemory });
    const g = new TokenFile(path.join(dir, 'tgt'), 'uint16', 'uint32', { inMemory });
    assert.equal(s.inMemory, inMemory);
    return pairSource({ src: s, tgt: g });
  };
  const cfg = { maxTokens: 400, maxLen: 40, seed: 8 };
  const mem = new TokenBatcher(open(true), IDS, cfg);
  const disk = new TokenBatcher(open(false), IDS, cfg);
  const ref = new TokenBatcher(arrayPairSource(src, tgt), IDS, cfg);
  for (const epoch of [0, 1]) {
    const a = [...mem.epoch(epoch)];
    const b = [...disk.epoch(epoch)];
    assert.equal(fingerprint(a), fingerprint([...ref.epoch(epoch)]));
    assert.equal(a.length, b.length);
    a.forEach((x, i) => {
      assert.deepEqual(b[i]!.src, x.src);
      assert.deepEqual(b[i]!.tgtIn, x.tgtIn);
      assert.deepEqual(b[i]!.tgtOut, x.tgtOut);
    });
  }
  // stop after 7 batches of epoch 1 with a fresh batcher, resume with another: same batches
  const n = disk.numBatches(0);
  const it = new TokenBatcher(open(false), IDS, cfg).stream();
  let pos = { epoch: 0, batch: 0 };
  for (let k = 0; k < n + 7; k++) pos = (it.next().value as Batch).next;
  const resumed = new TokenBatcher(open(false), IDS, cfg).stream(pos);
  const cont = [...Array(4)].map(() => resumed.next().value as Batch);
  const straight = [...mem.epoch(1)].slice(7, 11);
  assert.equal(fingerprint(cont), fingerprint(straight));
  cont.forEach((x, i) => assert.deepEqual(x.src, straight[i]!.src));
});
