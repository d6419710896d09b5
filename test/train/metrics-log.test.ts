// Tests of the JSONL metrics log: round trip, non-finite numbers, append/truncate, torn last
// line, bad lines, and series extraction.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MetricsLog, readMetrics, readMetricsFile, series } from '../../src/train/metrics-log.js';

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'metrics-test-'));
}

test('log then read back, with timestamps, events and NaN/Infinity kept', () => {
  const dir = tmpDir();
  const file = path.join(dir, 'sub', 'metrics.jsonl');
  let ms = Date.UTC(2026, 10, 22, 3, 0, 0);
  const log = new MetricsLog(file, { now: () => new Date((ms += 1000)) });
  log.log('train', { step: 1, loss: 2.5, lr: 1e-3 });
  log.log('train', { step: 2, loss: NaN, gradNorm: Infinity });
  log.log('valid', { step: 2, acc: 0.5, extra: { nested: [1, 2] } });
  const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
  assert.equal(lines.length, 3);
  assert.equal(lines[0], '{"time":"2026-11-22T03:00:01.000Z","event":"train","step":1,"loss":2.5,"lr":0.001}');
  const all = readMetrics(file);
  assert.equal(all.length, 3);
  assert.ok(Number.isNaN(all[1].loss as number));
  assert.equal(all[1].gradNorm, Infinity);
  assert.deepEqual(all[2].extra, { nested: [1, 2] });
  assert.deepEqual(
    readMetrics(file, { event: 'valid' }).map((r) => r.acc),
    [0.5],
  );
  assert.deepEqual(series(all, 'train', 'step', 'loss').length, 2);
  assert.deepEqual(series(all, 'train', 'step', 'lr'), [[1, 0.001]]);
  assert.throws(() => log.log('x', { event: 'y' }), /reserved/);
  fs.rmSync(dir, { recursive: true });
});

test('append continues a file (after a torn line), append:false starts fresh', () => {
  const dir = tmpDir();
  const file = path.join(dir, 'm.jsonl');
  fs.writeFileSync(file, '{"time":"t","event":"train","step":1}\n{"time":"t","event":"tr');
  const torn = readMetricsFile(file);
  assert.equal(torn.tornTail, true);
  assert.equal(torn.records.length, 1);
  const log = new MetricsLog(file);
  log.log('train', { step: 2 });
  // the torn line is now a complete bad line in the middle: reading names it
  assert.throws(() => readMetrics(file), /m\.jsonl:2: invalid JSON line/);
  const fresh = new MetricsLog(file, { append: false });
  fresh.log('train', { step: 1 });
  assert.deepEqual(
    readMetrics(file).map((r) => r.step),
    [1],
  );
  new MetricsLog(file).log('train', { step: 2 });
  assert.deepEqual(
    readMetrics(file).map((r) => r.step),
    [1, 2],
  );
  fs.writeFileSync(path.join(dir, 'bad.jsonl'), '[1,2]\n');
  assert.throws(() => readMetrics(path.join(dir, 'bad.jsonl')), /bad\.jsonl:1: expected an object with a string "event"/);
  assert.throws(() => readMetrics(path.join(dir, 'none.jsonl')), /none\.jsonl: cannot read metrics \(no such file\)/);
  fs.rmSync(dir, { recursive: true });
});
