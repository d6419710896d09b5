// Tests of the progress bar with an injected clock and stream: rate over the window, ETA,
// formatting, TTY redraws versus periodic plain lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Progress, formatDuration, formatCount, formatField } from '../../src/train/progress.js';

function fakeStream(isTTY: boolean, columns?: number) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, columns, write: (s: string) => writes.push(s) } };
}

test('formatting helpers', () => {
  assert.equal(formatDuration(0), '00:00');
  assert.equal(formatDuration(83.4), '01:23');
  assert.equal(formatDuration(3723), '1:02:03');
  assert.equal(formatDuration(null), '?');
  assert.equal(formatDuration(Infinity), '?');
  assert.equal(formatCount(1234), '1.23k');
  assert.equal(formatCount(999.9), '1.00k');
  assert.equal(formatCount(2.5e6), '2.50M');
  assert.equal(formatCount(5.4), '5.40');
  assert.equal(formatCount(0), '0');
  assert.equal(formatField(2.345678), '2.346');
  assert.equal(formatField(0.0001), '1.00e-4');
  assert.equal(formatField(12), '12');
  assert.equal(formatField('ok'), 'ok');
});

test('rate, ETA and the plain line (non-TTY) with a fake clock', () => {
  let t = 100;
  const { writes, stream } = fakeStream(false);
  const p = new Progress({ total: 100, label: 'train', unit: 'img', lineIntervalSec: 10 }, { stream, now: () => t });
  for (let i = 0; i < 10; i++) {
    t += 0.5;
    p.advance(1, 64, { loss: 2.5 - i * 0.1 });
  }
  // 10 steps in 5 s: 2 step/s, 128 img/s; 90 left → 45 s
  assert.equal(p.stepRate(), 2);
  assert.equal(p.unitRate(), 128);
  assert.equal(p.eta(), 45);
  assert.equal(writes.length, 0, 'no plain line before the interval');
  assert.equal(p.format(), 'train  10% 10/100 [00:05<00:45, 2.00 step/s, 128 img/s] loss=1.6');
  for (let i = 0; i < 10; i++) {
    t += 0.5;
    p.advance(1, 64);
  }
  assert.equal(writes.length, 1);
  assert.equal(writes[0], 'train  20% 20/100 [00:10<00:40, 2.00 step/s, 128 img/s] loss=1.6\n');
  // a re-planned run (trainer.timeBudgetSec) changes the total: percentage and ETA follow
  p.setTotal(40);
  assert.equal(p.eta(), 10);
  assert.match(p.format(), /^train {2}50% 20\/40 \[00:10<00:10,/);
  assert.throws(() => p.setTotal(-1), /total must be a number ≥ 0 or null, got -1/);
  p.setTotal(100);
  p.log('validation: acc=0.9');
  p.finish({ acc: 0.9 });
  p.finish();
  assert.deepEqual(writes.slice(1), [
    'validation: acc=0.9\n',
    'train  20% 20/100 [00:10<00:40, 2.00 step/s, 128 img/s] loss=1.6 acc=0.9\n',
  ]);
});

test('the rate follows the window: a slow start fades out', () => {
  let t = 0;
  const { stream } = fakeStream(false);
  const p = new Progress({ total: 1000, rateWindowSec: 10 }, { stream, now: () => t });
  t = 30; // first step took 30 s (warm-up)
  p.advance();
  for (let i = 0; i < 40; i++) {
    t += 0.5;
    p.advance();
  }
  // the window holds the last 10 s plus one older sample: 2 steps/s, not the overall 41/50
  assert.ok(Math.abs(p.stepRate() - 2) < 0.1, `rate ${p.stepRate()}`);
});

test('TTY: redraws with carriage return, throttled, with a bar; resumed start and unknown total', () => {
  let t = 0;
  const { writes, stream } = fakeStream(true, 200);
  const p = new Progress({ total: 8, barWidth: 8, redrawSec: 1 }, { stream, now: () => t, start: 4 });
  t = 1;
  p.advance();
  assert.equal(writes.length, 1);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the progress line ends with the terminal's erase-line escape
  assert.match(writes[0], /^\r 62% \|█████ {3}\| 5\/8 \[00:01<00:03, 1\.00 step\/s\]\x1b\[K$/);
  t = 1.5;
  p.advance();
  assert.equal(writes.length, 1, 'throttled');
  t = 2;
  p.log('hello');
  assert.equal(writes[1], '\r\x1b[Khello\n');
  assert.match(writes[2], /^\r 75% /);
  p.finish();
  assert.equal(writes[writes.length - 1], '\n');
  const u = fakeStream(false);
  const q = new Progress({ label: 'decode', stepUnit: 'sent' }, { stream: u.stream, now: () => t });
  t = 4;
  q.advance(10);
  assert.equal(q.eta(), null);
  assert.equal(q.format(), 'decode 10 [00:02, 5.00 sent/s]');
  // lines are cut to the terminal width
  const narrow = fakeStream(true, 20);
  const r = new Progress({ total: 10, label: 'a-rather-long-label' }, { stream: narrow.stream, now: () => t });
  r.advance();
  assert.ok(narrow.writes[0].length <= 1 + 19 + 3);
  assert.throws(() => new Progress({ total: -1 }), /total must be a number ≥ 0 or null/);
  assert.throws(() => new Progress({ totl: 5 } as any), /progress config: unknown config key 'totl'/);
});
