// PNG charts of a run, drawn with the small raster layer (src/util/raster.ts), no plotting library:
// - line charts of metrics against step or epoch (several series, axes with "nice" tick labels,
//   grid, legend, optional log-scale y), e.g. training and validation loss, accuracy, BLEU;
// - `plotMetrics`, which reads a metrics JSONL file and writes the standard charts of a run.
// (Image grids of weights live in src/vision/image-grid.ts.)
import * as fs from 'node:fs';
import * as path from 'node:path';
import { INK, Raster, type RGB } from '../util/raster.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { readMetrics, type MetricsRecord } from './metrics-log.js';

/** matplotlib's tab10 palette: series colours in order. */
export const PALETTE: RGB[] = [
  [31, 119, 180],
  [255, 127, 14],
  [44, 160, 44],
  [214, 39, 40],
  [148, 103, 189],
  [140, 86, 75],
  [227, 119, 194],
  [127, 127, 127],
  [188, 189, 34],
  [23, 190, 207],
];

export interface Series {
  name: string;
  /** [x, y] points; non-finite y breaks the line. Sorted by x for drawing. */
  points: [number, number][];
  color?: RGB;
}

export interface LineChartOptions {
  /** Image width in pixels. Default 800. */
  width?: number;
  /** Image height in pixels. Default 480. */
  height?: number;
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** Logarithmic y axis (values ≤ 0 are dropped). Default false. */
  logY?: boolean;
  /** Fixed axis limits; default from the data. */
  xMin?: number;
  xMax?: number;
  yMin?: number;
  yMax?: number;
  /** Font pixel size. Default 2. */
  textScale?: number;
  /** Line width in pixels. Default 2. */
  lineWidth?: number;
  /** Draw a dot at each point: always, never, or when a series has ≤ 50 points (default). */
  markers?: 'always' | 'never' | 'auto';
}

const GRID: RGB = [225, 225, 225];
const AXIS: RGB = [90, 90, 90];

/** "Nice" tick values covering [min, max]: steps of 1, 2 or 5 × 10^k, about `count` of them. */
export function niceTicks(min: number, max: number, count = 5): { ticks: number[]; step: number } {
  if (!(Number.isFinite(min) && Number.isFinite(max))) throw new Error(`niceTicks: non-finite range [${min}, ${max}]`);
  if (max < min) [min, max] = [max, min];
  if (max === min) {
    const d = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= d;
    max += d;
  }
  const raw = (max - min) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
  const start = Math.floor(min / step + 1e-9) * step;
  const ticks: number[] = [];
  for (let v = start; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  if (ticks[ticks.length - 1] < max - step * 1e-9) ticks.push(Number((ticks[ticks.length - 1] + step).toPrecision(12)));
  return { ticks, step };
}

/**
 * A tick label: as many decimals as the step needs. Axes with very small or large steps
 * (< 1e-3 or ≥ 1e4) use exponent form for every label (2e-4, 3e5), so one axis never mixes forms.
 */
export function formatTick(v: number, step: number): string {
  if (v === 0) return '0';
  if (step < 1e-3 || step >= 1e4) {
    const digits = Math.max(0, Math.min(3, Math.floor(Math.log10(Math.abs(v))) - Math.floor(Math.log10(step) + 1e-9)));
    return v
      .toExponential(digits)
      .replace(/\.?0+e/, 'e')
      .replace('e+', 'e');
  }
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return v.toFixed(Math.min(decimals, 6));
}

/** Ticks of a log axis over [lo, hi] (both > 0): decades, with 2 and 5 between when few decades. */
function logTicks(lo: number, hi: number): number[] {
  const k0 = Math.floor(Math.log10(lo));
  const k1 = Math.ceil(Math.log10(hi));
  const mult = k1 - k0 <= 2 ? [1, 2, 5] : [1];
  const ticks: number[] = [];
  for (let k = k0; k <= k1; k++) for (const m of mult) ticks.push(Number((m * 10 ** k).toPrecision(6)));
  return ticks.filter((t) => t >= lo * (1 - 1e-9) && t <= hi * (1 + 1e-9));
}

function formatLogTick(v: number): string {
  const a = Math.abs(v);
  return a >= 1e4 || a < 1e-2 ? v.toExponential(0).replace('e+', 'e') : String(Number(v.toPrecision(3)));
}

/** Render series as a line chart; returns PNG bytes. */
export function renderLineChart(series: Series[], opts: LineChartOptions = {}): Buffer {
  const W = opts.width ?? 800;
  const H = opts.height ?? 480;
  const ts = opts.textScale ?? 2;
  const lw = opts.lineWidth ?? 2;
  const logY = opts.logY ?? false;
  const img = new Raster(W, H);
  const th = Raster.textHeight(ts);
  const tx = (v: number) => (logY ? Math.log10(v) : v);

  // data range
  let xMin = Infinity;
  let xMax = -Infinity;
  let yMin = Infinity;
  let yMax = -Infinity;
  const clean = series.map((s, i) => ({
    name: s.name,
    color: s.color ?? PALETTE[i % PALETTE.length],
    points: s.points.filter(([x]) => Number.isFinite(x)).sort((a, b) => a[0] - b[0]),
  }));
  for (const s of clean) {
    for (const [x, y] of s.points) {
      xMin = Math.min(xMin, x);
      xMax = Math.max(xMax, x);
      if (Number.isFinite(y) && (!logY || y > 0)) {
        yMin = Math.min(yMin, y);
        yMax = Math.max(yMax, y);
      }
    }
  }
  xMin = opts.xMin ?? (Number.isFinite(xMin) ? xMin : 0);
  xMax = opts.xMax ?? (Number.isFinite(xMax) ? xMax : 1);
  yMin = opts.yMin ?? (Number.isFinite(yMin) ? yMin : logY ? 0.1 : 0);
  yMax = opts.yMax ?? (Number.isFinite(yMax) ? yMax : logY ? 1 : 1);
  if (xMax === xMin) {
    xMin -= 0.5;
    xMax += 0.5;
  }
  let yTicks: number[];
  let yLabels: string[];
  if (logY) {
    if (yMin <= 0) throw new Error(`renderLineChart: log y axis needs yMin > 0, got ${yMin}`);
    if (yMax === yMin) {
      yMin /= 2;
      yMax *= 2;
    }
    yTicks = logTicks(yMin, yMax);
    if (yTicks.length < 2) {
      yMin = 10 ** Math.floor(Math.log10(yMin));
      yMax = 10 ** Math.ceil(Math.log10(yMax));
      yTicks = logTicks(yMin, yMax);
    }
    yLabels = yTicks.map(formatLogTick);
  } else {
    const nt = niceTicks(yMin, yMax, 5);
    yTicks = nt.ticks;
    if (opts.yMin === undefined) yMin = Math.min(yMin, yTicks[0]);
    if (opts.yMax === undefined) yMax = Math.max(yMax, yTicks[yTicks.length - 1]);
    if (yMax === yMin) yMax = yMin + 1;
    yTicks = yTicks.filter((t) => t >= yMin - 1e-12 && t <= yMax + 1e-12);
    yLabels = yTicks.map((t) => formatTick(t, nt.step));
  }
  const xt = niceTicks(xMin, xMax, Math.max(3, Math.floor(W / 130)));
  const xTicks = xt.ticks.filter((t) => t >= xMin - 1e-12 && t <= xMax + 1e-12);
  const xLabels = xTicks.map((t) => formatTick(t, xt.step));

  // layout
  const labelW = Math.max(...yLabels.map((l) => Raster.textWidth(l, ts)), 0);
  const left = 12 + (opts.yLabel ? th + 12 : 0) + labelW + 8;
  const top = opts.title ? 16 + th + 14 : 16;
  const bottom = H - (12 + th + 8 + (opts.xLabel ? th + 12 : 0));
  const lastX = xLabels.length > 0 ? Raster.textWidth(xLabels[xLabels.length - 1], ts) : 0;
  const right = W - Math.max(20, Math.ceil(lastX / 2) + 8);
  if (right - left < 40 || bottom - top < 40) throw new Error(`renderLineChart: ${W}×${H} is too small for the labels`);
  const Y0 = tx(yMin);
  const Y1 = tx(yMax);
  const px = (x: number) => left + ((x - xMin) / (xMax - xMin)) * (right - left);
  const py = (y: number) => bottom - ((tx(y) - Y0) / (Y1 - Y0)) * (bottom - top);

  // grid and ticks
  for (let i = 0; i < yTicks.length; i++) {
    const y = Math.round(py(yTicks[i]));
    img.fillRect(left, y, right - left, 1, GRID);
    img.fillRect(left - 5, y, 5, 1, AXIS);
    img.text(left - 8, y, yLabels[i], INK, { scale: ts, align: 'right', valign: 'middle' });
  }
  for (let i = 0; i < xTicks.length; i++) {
    const x = Math.round(px(xTicks[i]));
    img.fillRect(x, top, 1, bottom - top, GRID);
    img.fillRect(x, bottom, 1, 5, AXIS);
    img.text(x, bottom + 8, xLabels[i], INK, { scale: ts, align: 'center' });
  }
  img.strokeRect(left, top, right - left + 1, bottom - top + 1, AXIS);

  // series, clipped to the plot area
  const inside = (x: number, y: number) => x >= left - 1 && x <= right + 1 && y >= top - 1 && y <= bottom + 1;
  const clip = (x0: number, y0: number, x1: number, y1: number) => {
    // Liang–Barsky clipping against the plot rectangle
    let t0 = 0;
    let t1 = 1;
    const dx = x1 - x0;
    const dy = y1 - y0;
    for (const [p, q] of [
      [-dx, x0 - left],
      [dx, right - x0],
      [-dy, y0 - top],
      [dy, bottom - y0],
    ]) {
      if (p === 0) {
        if (q < 0) return null;
      } else {
        const r = q / p;
        if (p < 0) t0 = Math.max(t0, r);
        else t1 = Math.min(t1, r);
      }
    }
    return t0 <= t1 ? [x0 + t0 * dx, y0 + t0 * dy, x0 + t1 * dx, y0 + t1 * dy] : null;
  };
  /** Each drawable point in pixels with the one before it (null after a gap: y not finite, or ≤ 0 on a log axis). */
  const eachPoint = (points: Series['points'], visit: (cur: [number, number], prev: [number, number] | null) => void) => {
    let prev: [number, number] | null = null;
    for (const [x, y] of points) {
      if (!Number.isFinite(y) || (logY && y <= 0)) {
        prev = null;
        continue;
      }
      const cur: [number, number] = [px(x), py(y)];
      visit(cur, prev);
      prev = cur;
    }
  };
  for (const s of clean) {
    const showMarkers = opts.markers === 'always' || ((opts.markers ?? 'auto') === 'auto' && s.points.length <= 50);
    eachPoint(s.points, (cur, prev) => {
      if (prev) {
        const seg = clip(prev[0], prev[1], cur[0], cur[1]);
        if (seg) img.line(seg[0], seg[1], seg[2], seg[3], s.color, lw);
      } else if (!showMarkers && inside(cur[0], cur[1])) img.fillRect(cur[0] - lw / 2, cur[1] - lw / 2, lw, lw, s.color);
      if (showMarkers && inside(cur[0], cur[1])) img.fillRect(cur[0] - lw - 1, cur[1] - lw - 1, 2 * lw + 2, 2 * lw + 2, s.color);
    });
  }

  // legend: inside the plot, in the corner that hides the fewest drawn points (top right on a tie)
  const named = clean.filter((s) => s.name);
  if (named.length > 0) {
    const rowH = th + 8;
    const sample = 24;
    const boxW = 10 + sample + 8 + Math.max(...named.map((s) => Raster.textWidth(s.name, ts))) + 10;
    const boxH = 8 + named.length * rowH;
    const corners: [number, number][] = [
      [right - boxW - 8, top + 8],
      [right - boxW - 8, bottom - boxH - 8],
      [left + 8, top + 8],
      [left + 8, bottom - boxH - 8],
    ];
    const drawn: [number, number][] = [];
    for (const s of clean)
      eachPoint(s.points, (cur, prev) => {
        // the segment's points every few pixels, so a line crossing the box counts too
        const steps = prev ? Math.min(200, Math.ceil(Math.hypot(cur[0] - prev[0], cur[1] - prev[1]) / 4)) : 0;
        for (let k = 1; k <= steps; k++)
          drawn.push([prev![0] + ((cur[0] - prev![0]) * k) / steps, prev![1] + ((cur[1] - prev![1]) * k) / steps]);
        drawn.push(cur);
      });
    const hidden = ([cx, cy]: [number, number]) =>
      drawn.filter(([x, y]) => x >= cx - 4 && x <= cx + boxW + 4 && y >= cy - 4 && y <= cy + boxH + 4).length;
    let [bx, by] = corners[0]!;
    let least = hidden(corners[0]!);
    for (const c of corners.slice(1)) {
      const n = hidden(c);
      if (n < least) [bx, by, least] = [c[0], c[1], n];
    }
    img.fillRect(bx, by, boxW, boxH, [255, 255, 255]);
    img.strokeRect(bx, by, boxW, boxH, [190, 190, 190]);
    named.forEach((s, i) => {
      const cy = by + 4 + i * rowH + rowH / 2;
      img.fillRect(bx + 10, cy - Math.floor(lw / 2) - 1, sample, lw + 1, s.color);
      img.text(bx + 10 + sample + 8, cy, s.name, INK, { scale: ts, valign: 'middle' });
    });
  }

  if (opts.title) img.text((left + right) / 2, 16, opts.title, INK, { scale: ts, align: 'center' });
  if (opts.xLabel) img.text((left + right) / 2, H - 12 - th, opts.xLabel, INK, { scale: ts, align: 'center' });
  if (opts.yLabel) img.text(12, (top + bottom) / 2, opts.yLabel, INK, { scale: ts, align: 'center', vertical: true });
  return img.toPNG();
}

/** Render and write a line chart atomically. */
export function writeLineChart(file: string, series: Series[], opts: LineChartOptions = {}): void {
  writeFileAtomic(file, renderLineChart(series, opts));
}

/** Fields that are coordinates or bookkeeping, never plotted as metrics. */
const NOT_METRICS = new Set(['time', 'event', 'step', 'epoch', 'update', 'updates', 'elapsed', 'elapsedSec']);

/**
 * The standard charts of a run from its metrics records, by x field (default 'step'):
 * `loss.png` (every event's `loss`, e.g. train and valid), `lr.png` when events carry `lr`, and one
 * chart per other numeric field of non-train events (e.g. `acc.png`, `bleu.png`).
 * Returns the files written.
 */
export function plotMetrics(
  records: MetricsRecord[] | string,
  outDir: string,
  opts: { x?: string; logLoss?: boolean; width?: number; height?: number } = {},
): string[] {
  const recs = typeof records === 'string' ? readMetrics(records) : records;
  const xField = opts.x ?? 'step';
  fs.mkdirSync(outDir, { recursive: true });
  const byEventField = new Map<string, Map<string, [number, number][]>>(); // field → event → points
  for (const r of recs) {
    const x = r[xField];
    if (typeof x !== 'number') continue;
    for (const [k, v] of Object.entries(r)) {
      if (typeof v !== 'number' || k === xField || NOT_METRICS.has(k)) continue;
      let perEvent = byEventField.get(k);
      if (!perEvent) byEventField.set(k, (perEvent = new Map()));
      let pts = perEvent.get(r.event);
      if (!pts) perEvent.set(r.event, (pts = []));
      pts.push([x, v]);
    }
  }
  const written: string[] = [];
  const size = { width: opts.width, height: opts.height };
  for (const [field, perEvent] of byEventField) {
    const series = [...perEvent.entries()].map(([event, points]) => ({ name: `${event} ${field}`, points }));
    const isLoss = field === 'loss';
    if (field !== 'loss' && field !== 'lr' && [...perEvent.keys()].every((e) => e === 'train')) continue; // train-only extras (grad norm, ...)
    const file = path.join(outDir, `${field.replace(/[^A-Za-z0-9_.-]/g, '_')}.png`);
    writeLineChart(file, series, { ...size, title: field, xLabel: xField, yLabel: field, logY: isLoss && (opts.logLoss ?? false) });
    written.push(file);
  }
  return written;
}
