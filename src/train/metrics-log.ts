// Metrics as JSON lines: one object per event (`{"time": ISO-8601, "event": "train", "step": 100,
// "loss": 2.3, ...}`) appended to a .jsonl file, and read back for plots and reports. Appends are
// one write(2) of a whole line each, so a crash loses at most the last line; the reader tolerates
// (and reports) a torn last line. Non-finite numbers, which JSON cannot hold, are written as the
// strings "NaN", "Infinity", "-Infinity" and turned back into numbers when read (top-level fields).
import * as fs from 'node:fs';
import * as path from 'node:path';

/** One logged event. */
export interface MetricsRecord {
  time: string;
  event: string;
  [field: string]: unknown;
}

const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

export class MetricsLog {
  private readonly now: () => Date;

  /**
   * Open `file` for appending (creating its directory). With `{append: false}` an existing file
   * is truncated first (a fresh run); resuming runs append. `now` is injectable for tests.
   */
  constructor(
    readonly file: string,
    opts: { append?: boolean; now?: () => Date } = {},
  ) {
    this.now = opts.now ?? (() => new Date());
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    if (opts.append === false) fs.writeFileSync(file, '');
    else if (fs.existsSync(file)) {
      // a previous run that crashed mid-line would glue our first record to its torn line
      const size = fs.statSync(file).size;
      if (size > 0) {
        const fd = fs.openSync(file, 'r');
        const last = Buffer.alloc(1);
        fs.readSync(fd, last, 0, 1, size - 1);
        fs.closeSync(fd);
        if (last[0] !== 0x0a) fs.appendFileSync(file, '\n');
      }
    }
  }

  /** Append one event; returns the record written. Field names `time` and `event` are reserved. */
  log(event: string, fields: Record<string, unknown> = {}): MetricsRecord {
    if ('time' in fields || 'event' in fields) throw new Error(`MetricsLog.log(${event}): field names 'time' and 'event' are reserved`);
    const record: MetricsRecord = { time: this.now().toISOString(), event, ...fields };
    const line = JSON.stringify(record, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
    fs.appendFileSync(this.file, `${line}\n`);
    return record;
  }
}

export interface ReadMetricsResult {
  records: MetricsRecord[];
  /** True when the last line was incomplete (no newline, not valid JSON) and was skipped. */
  tornTail: boolean;
}

/** Read every record of a metrics file; `event` keeps only that event. Errors name file and line. */
export function readMetricsFile(file: string, opts: { event?: string } = {}): ReadMetricsResult {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`${file}: cannot read metrics (${code === 'ENOENT' ? 'no such file' : (err as Error).message})`);
  }
  const lines = text.split('\n');
  const endsWithNewline = text.endsWith('\n');
  if (endsWithNewline) lines.pop();
  const records: MetricsRecord[] = [];
  let tornTail = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') continue;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch (err) {
      if (i === lines.length - 1 && !endsWithNewline) {
        tornTail = true;
        break;
      }
      throw new Error(`${file}:${i + 1}: invalid JSON line (${(err as Error).message})`);
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj) || typeof (obj as MetricsRecord).event !== 'string') {
      throw new Error(`${file}:${i + 1}: expected an object with a string "event", found ${line.slice(0, 80)}`);
    }
    const rec = obj as MetricsRecord;
    for (const [k, v] of Object.entries(rec))
      if (typeof v === 'string' && v in NON_FINITE && k !== 'event' && k !== 'time') rec[k] = NON_FINITE[v];
    if (opts.event === undefined || rec.event === opts.event) records.push(rec);
  }
  return { records, tornTail };
}

/** The records of `file` (optionally one event), skipping a torn last line. */
export function readMetrics(file: string, opts: { event?: string } = {}): MetricsRecord[] {
  return readMetricsFile(file, opts).records;
}

/**
 * [x, y] points of `yField` against `xField` for one event, skipping records where either is not a
 * number (e.g. `series(records, 'valid', 'step', 'bleu')`), ready for the line chart.
 */
export function series(records: MetricsRecord[], event: string, xField: string, yField: string): [number, number][] {
  const out: [number, number][] = [];
  for (const r of records) {
    if (r.event !== event) continue;
    const x = r[xField];
    const y = r[yField];
    if (typeof x === 'number' && typeof y === 'number') out.push([x, y]);
  }
  return out;
}
