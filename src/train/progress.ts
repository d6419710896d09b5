// The training progress display: a tqdm-style bar on stderr,
//   train  45% |█████▌      | 450/1000 [01:23<01:40, 5.4 step/s, 1.73k img/s] loss=2.345
// with the rate over a sliding time window (so start-up cost fades out) and an ETA. When the
// stream is not a TTY (CI logs, files) it writes the same line as plain text every
// `lineIntervalSec` instead of redrawing, and always once at the end. The clock and the stream are
// injectable, so the formatting is testable. One progress path for vision and translation.
import { resolveConfig } from '../util/config.js';

/** What the bar writes to (process.stderr by default). */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressConfig {
  /** Total steps, or null when unknown (no percentage, bar or ETA). Default null. */
  total: number | null;
  /** Label at the start of the line. Default ''. */
  label: string;
  /** Name of a step in the count's rate. Default 'step'. */
  stepUnit: string;
  /** Name of the throughput unit counted with `units` (e.g. 'img', 'tok'); '' hides it. Default ''. */
  unit: string;
  /** Sliding window of the rate, seconds. Default 20. */
  rateWindowSec: number;
  /** Minimum time between redraws on a TTY, seconds. Default 0.1. */
  redrawSec: number;
  /** Time between plain lines when the stream is not a TTY, seconds. Default 30. */
  lineIntervalSec: number;
  /** Bar width in characters on a TTY. Default 20. */
  barWidth: number;
}

export const DEFAULT_PROGRESS_CONFIG: ProgressConfig = {
  total: null,
  label: '',
  stepUnit: 'step',
  unit: '',
  rateWindowSec: 20,
  redrawSec: 0.1,
  lineIntervalSec: 30,
  barWidth: 20,
};

/** Values shown after the rate, e.g. {loss: 2.345, lr: 1e-3}. Numbers are formatted compactly. */
export type ProgressFields = Record<string, number | string>;

interface Sample {
  t: number;
  steps: number;
  units: number;
}

/** "mm:ss" under an hour, "h:mm:ss" above; "?" for unknown/infinite. */
export function formatDuration(sec: number | null): string {
  if (sec === null || !Number.isFinite(sec) || sec < 0) return '?';
  const s = Math.round(sec);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  const mm = String(m).padStart(2, '0');
  const ss = String(r).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** 3 significant digits with k/M/G suffixes: 1234 → "1.23k", 0.5 → "0.500". */
export function formatCount(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  for (const [div, suffix] of [
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ] as const) {
    if (a >= div * 0.9995) return `${(v / div).toPrecision(3)}${suffix}`;
  }
  if (a === 0) return '0';
  if (a < 1e-3) return v.toExponential(2);
  return v.toPrecision(3);
}

/** A field value: integers as is, other numbers with 4 significant digits (exponent when tiny). */
export function formatField(v: number | string): string {
  if (typeof v === 'string') return v;
  if (Number.isInteger(v)) return String(v);
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(2);
  return String(Number(v.toPrecision(4)));
}

export class Progress {
  private cfg: ProgressConfig;
  private readonly stream: ProgressStream;
  private readonly now: () => number;
  private readonly tty: boolean;
  private readonly startTime: number;
  private readonly startStep: number;
  private steps: number;
  private units = 0;
  private fields: ProgressFields = {};
  private samples: Sample[] = [];
  private lastDraw = -Infinity;
  private lastLine: number;
  private drawn = false;
  private finished = false;

  /**
   * `start`: step already done when the bar starts (a resumed run); it counts towards the
   * percentage but not the rate. `now` returns seconds (default: performance.now() / 1000).
   */
  constructor(config: Partial<ProgressConfig> = {}, opts: { stream?: ProgressStream; now?: () => number; start?: number } = {}) {
    this.cfg = resolveConfig('progress config', DEFAULT_PROGRESS_CONFIG, config);
    const { total } = this.cfg;
    if (total !== null && !(Number.isFinite(total) && total >= 0))
      throw new Error(`progress config: total must be a number ≥ 0 or null, got ${total}`);
    this.stream = opts.stream ?? process.stderr;
    this.now = opts.now ?? (() => performance.now() / 1000);
    this.tty = this.stream.isTTY === true;
    this.startTime = this.now();
    this.lastLine = this.startTime;
    this.startStep = opts.start ?? 0;
    this.steps = this.startStep;
    this.samples.push({ t: this.startTime, steps: this.steps, units: 0 });
  }

  get config(): ProgressConfig {
    return this.cfg;
  }

  /** Changes the planned total (a run that re-plans its length, see trainer.timeBudgetSec). */
  setTotal(total: number | null): void {
    if (total !== null && !(Number.isFinite(total) && total >= 0))
      throw new Error(`progress: total must be a number ≥ 0 or null, got ${total}`);
    this.cfg = { ...this.cfg, total };
  }

  /** Steps done so far (including `start`). */
  get step(): number {
    return this.steps;
  }

  /** Record `steps` more steps and `units` more throughput units; merge `fields`; maybe redraw. */
  advance(steps = 1, units = 0, fields?: ProgressFields): void {
    this.steps += steps;
    this.units += units;
    if (fields) this.fields = { ...this.fields, ...fields };
    const t = this.now();
    this.samples.push({ t, steps: this.steps, units: this.units });
    // keep one sample older than the window as its left edge
    const cutoff = t - this.cfg.rateWindowSec;
    while (this.samples.length > 2 && this.samples[1].t <= cutoff) this.samples.shift();
    this.maybeDraw(t);
  }

  /** Merge `fields` without counting a step (e.g. a validation score); maybe redraw. */
  setFields(fields: ProgressFields): void {
    this.fields = { ...this.fields, ...fields };
    this.maybeDraw(this.now());
  }

  /** Steps per second over the window (0 before any progress). */
  stepRate(): number {
    return this.windowRate((s) => s.steps);
  }

  /** Units per second over the window. */
  unitRate(): number {
    return this.windowRate((s) => s.units);
  }

  private windowRate(get: (s: Sample) => number): number {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    const dt = last.t - first.t;
    return dt > 0 ? (get(last) - get(first)) / dt : 0;
  }

  /** Seconds left at the current step rate, or null when unknown. */
  eta(): number | null {
    const { total } = this.cfg;
    const rate = this.stepRate();
    if (total === null || rate <= 0) return null;
    return Math.max(0, total - this.steps) / rate;
  }

  /** The status line (without newline or control characters). */
  format(): string {
    const { total, label, stepUnit, unit, barWidth } = this.cfg;
    const elapsed = this.now() - this.startTime;
    const parts: string[] = [];
    if (label) parts.push(label);
    let count: string;
    if (total !== null) {
      const frac = total > 0 ? Math.min(1, this.steps / total) : 1;
      parts.push(`${String(Math.floor(frac * 100)).padStart(3)}%`);
      if (this.tty) parts.push(`|${bar(frac, barWidth)}|`);
      count = `${this.steps}/${total}`;
    } else count = `${this.steps}`;
    const rates = [`${formatCount(this.stepRate())} ${stepUnit}/s`];
    if (unit) rates.push(`${formatCount(this.unitRate())} ${unit}/s`);
    const time = total !== null ? `${formatDuration(elapsed)}<${formatDuration(this.eta())}` : formatDuration(elapsed);
    parts.push(`${count} [${time}, ${rates.join(', ')}]`);
    const f = Object.entries(this.fields).map(([k, v]) => `${k}=${formatField(v)}`);
    if (f.length > 0) parts.push(f.join(' '));
    return parts.join(' ');
  }

  private maybeDraw(t: number): void {
    if (this.finished) return;
    if (this.tty) {
      if (t - this.lastDraw >= this.cfg.redrawSec) this.draw(t);
    } else if (t - this.lastLine >= this.cfg.lineIntervalSec) {
      this.lastLine = t;
      this.stream.write(`${this.format()}\n`);
    }
  }

  private draw(t: number): void {
    this.lastDraw = t;
    let line = this.format();
    const cols = this.stream.columns;
    if (cols && line.length > cols - 1) line = line.slice(0, cols - 1);
    this.stream.write(`\r${line}\x1b[K`);
    this.drawn = true;
  }

  /** Print a message above the bar (TTY) or as its own line, without garbling the bar. */
  log(message: string): void {
    if (this.tty && this.drawn && !this.finished) {
      this.stream.write(`\r\x1b[K${message}\n`);
      this.draw(this.now());
    } else this.stream.write(`${message}\n`);
  }

  /** Final line (always written), then the bar is done. Idempotent. */
  finish(fields?: ProgressFields): void {
    if (this.finished) return;
    if (fields) this.fields = { ...this.fields, ...fields };
    if (this.tty) {
      this.draw(this.now());
      this.stream.write('\n');
    } else this.stream.write(`${this.format()}\n`);
    this.finished = true;
  }
}

const PARTIAL = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

function bar(frac: number, width: number): string {
  const eighths = Math.round(frac * width * 8);
  const full = Math.floor(eighths / 8);
  const rest = eighths % 8;
  const s = '█'.repeat(full) + (full < width ? PARTIAL[rest] : '');
  return s + ' '.repeat(Math.max(0, width - full - (rest > 0 && full < width ? 1 : 0)));
}
