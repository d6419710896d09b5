// Token batching invariants: the padded-token budget holds, every kept sentence appears exactly
// once per epoch, over-long pairs are skipped and counted, batches are deterministic in
// (seed, epoch) and resume exactly from a saved position; the padded tensors are right.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TokenBatcher, arrayPairSource, resolveBatchingConfig, type Batch } from '../../../src/mt/data/batching.js';
import { Rng } from '../../../src/util/rng.js';

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
      assert.ok(batch.size * Math.max(batch.srcLen, batch.tgtLen) <= 500, `batch ${batch.index}: ${batch.size}×max(${batch.srcLen},${batch.tgtLen}) > 500`);
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
  assert.deepEqual(lens, [...lens].sort((p, q) => p - q));
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
  assert.throws(() => resolveBatchingConfig({ maxTokns: 3 } as never), /batching config: unknown config key 'maxTokns'; known keys: maxTokens/);
  assert.throws(() => resolveBatchingConfig({ maxTokens: 10, maxLen: 64 }), /maxTokens must be an integer ≥ maxLen \(64\)/);
  const b = new TokenBatcher(arrayPairSource([[1]], [[1]]), IDS, { maxTokens: 64, maxLen: 64 });
  assert.throws(() => b.batch(0, 5), /batch 5 does not exist in epoch 0 \(it has 1\)/);
});
