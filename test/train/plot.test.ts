// Tests of the PNG charts: they decode with the right size and draw what they should where they
// should (series colours in the plot, legend), tick tables, and plotMetrics over a JSONL log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { renderLineChart, niceTicks, formatTick, plotMetrics, PALETTE, writeLineChart } from '../../src/train/plot.js';
import { MetricsLog } from '../../src/train/metrics-log.js';

function decode(buf: Buffer): PNG {
  return PNG.sync.read(buf);
}

function countColor(png: PNG, c: readonly number[], region?: [number, number, number, number]): number {
  const [x0, y0, x1, y1] = region ?? [0, 0, png.width, png.height];
  let n = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const o = (y * png.width + x) * 4;
      if (png.data[o] === c[0] && png.data[o + 1] === c[1] && png.data[o + 2] === c[2]) n++;
    }
  }
  return n;
}

test('niceTicks and formatTick tables', () => {
  const cases: [number, number, number, number[], number][] = [
    [0, 1, 5, [0, 0.2, 0.4, 0.6, 0.8, 1], 0.2],
    [0.31, 2.68, 5, [0, 0.5, 1, 1.5, 2, 2.5, 3], 0.5],
    [0, 5000, 6, [0, 1000, 2000, 3000, 4000, 5000], 1000],
    [-3, 7, 5, [-4, -2, 0, 2, 4, 6, 8], 2],
  ];
  for (const [lo, hi, n, ticks, step] of cases) assert.deepEqual(niceTicks(lo, hi, n), { ticks, step }, `${lo}..${hi}`);
  assert.deepEqual(niceTicks(2, 2).ticks.length > 1, true); // a flat range still gets ticks
  assert.throws(() => niceTicks(0, NaN), /non-finite/);
  assert.equal(formatTick(0.5, 0.5), '0.5');
  assert.equal(formatTick(1, 0.5), '1.0');
  assert.equal(formatTick(2000, 1000), '2000');
  assert.equal(formatTick(0.001, 2e-4), '1e-3'); // same form as its neighbours 8e-4, 6e-4
  assert.equal(formatTick(25000, 5000), '25000');
  assert.equal(formatTick(50000, 10000), '5e4');
  assert.equal(formatTick(1.5e-3, 5e-4), '1.5e-3');
  assert.equal(formatTick(0.25, 0.05), '0.25');
  assert.equal(formatTick(2e-4, 1e-4), '2e-4');
  assert.equal(formatTick(300000, 100000), '3e5');
  assert.equal(formatTick(0, 0.1), '0');
});

test('line chart: PNG of the requested size, series drawn in their colours inside the plot, legend', () => {
  const up: [number, number][] = Array.from({ length: 200 }, (_, i) => [i, i * i]);
  const down: [number, number][] = Array.from({ length: 20 }, (_, i) => [i * 10, 40000 - i * 1000]);
  const png = decode(
    renderLineChart(
      [
        { name: 'train loss', points: up },
        { name: 'valid', points: down },
      ],
      { width: 640, height: 400, title: 'Loss', xLabel: 'step', yLabel: 'loss' },
    ),
  );
  assert.equal(png.width, 640);
  assert.equal(png.height, 400);
  const blue = countColor(png, PALETTE[0]);
  const orange = countColor(png, PALETTE[1]);
  assert.ok(blue > 300, `blue pixels ${blue}`);
  assert.ok(orange > 300, `orange pixels ${orange}`);
  // the rising series ends at the top right, the falling one starts at the top left
  assert.ok(countColor(png, PALETTE[0], [540, 0, 640, 120]) > 0);
  assert.ok(countColor(png, PALETTE[0], [0, 0, 320, 80]) === 0 || countColor(png, PALETTE[0], [0, 300, 320, 400]) > 0);
  // text is drawn (dark ink in the title band)
  assert.ok(countColor(png, [40, 40, 40], [0, 0, 640, 40]) > 50);
  // NaN breaks the line rather than throwing; an empty series list still renders axes
  const gap = decode(
    renderLineChart([
      {
        name: 'x',
        points: [
          [0, 1],
          [1, NaN],
          [2, 3],
        ],
      },
    ]),
  );
  assert.equal(gap.width, 800);
  assert.equal(decode(renderLineChart([])).height, 480);
});

test('the legend goes to the corner that hides the fewest points, never over the end of a rising curve', () => {
  // an accuracy-like curve: rises from the bottom left and ends at the top right
  const acc: [number, number][] = Array.from({ length: 30 }, (_, i) => [i * 400, 0.8 + 0.12 * Math.sqrt(i / 29)]);
  const png = decode(renderLineChart([{ name: 'valid accuracy', points: acc }], { width: 800, height: 480 }));
  const border: [number, number, number] = [190, 190, 190];
  assert.equal(countColor(png, border, [400, 0, 800, 240]), 0, 'no legend box in the top right');
  assert.ok(countColor(png, border, [400, 240, 800, 480]) > 50, 'the legend box sits in the empty bottom right');
  // a falling loss curve leaves the top right free: the legend stays there (the default)
  const loss = decode(renderLineChart([{ name: 'loss', points: acc.map(([x, y]) => [x, 2 - y]) }], { width: 800, height: 480 }));
  assert.ok(countColor(loss, border, [400, 0, 800, 240]) > 50, 'legend top right when that corner is empty');
});

test('log-y chart drops non-positive values and needs a positive yMin', () => {
  const png = decode(
    renderLineChart(
      [
        {
          name: 'ppl',
          points: [
            [0, 1000],
            [1, 100],
            [2, 10],
            [3, 0],
          ],
        },
      ],
      { logY: true },
    ),
  );
  assert.ok(countColor(png, PALETTE[0]) > 100);
  assert.throws(() => renderLineChart([{ name: 'a', points: [[0, 1]] }], { logY: true, yMin: 0 }), /log y axis needs yMin > 0/);
  assert.throws(() => renderLineChart([], { width: 60, height: 60 }), /too small/);
});

test('plotMetrics writes loss, lr and validation-metric charts from a JSONL log', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plot-test-'));
  const file = path.join(dir, 'metrics.jsonl');
  const log = new MetricsLog(file);
  for (let step = 1; step <= 30; step++) log.log('train', { step, loss: 3 / step, lr: 1e-3, gradNorm: 1 });
  for (let step = 10; step <= 30; step += 10) log.log('valid', { step, loss: 3.5 / step, acc: step / 40 });
  const written = plotMetrics(file, path.join(dir, 'plots'));
  assert.deepEqual(written.map((f) => path.basename(f)).sort(), ['acc.png', 'loss.png', 'lr.png']);
  for (const f of written) {
    const png = decode(fs.readFileSync(f));
    assert.equal(png.width, 800);
    assert.ok(countColor(png, PALETTE[0]) > 20, `${f} has no series`);
  }
  // both events on the loss chart
  assert.ok(countColor(decode(fs.readFileSync(path.join(dir, 'plots', 'loss.png'))), PALETTE[1]) > 20);
  writeLineChart(path.join(dir, 'one.png'), [
    {
      name: 'a',
      points: [
        [0, 0],
        [1, 1],
      ],
    },
  ]);
  assert.ok(fs.existsSync(path.join(dir, 'one.png')));
  fs.rmSync(dir, { recursive: true });
});
