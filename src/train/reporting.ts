// The one progress-and-logging path of training runs (vision and translation): a progress bar with
// rate and ETA on stderr, a JSONL metrics log (`metrics.jsonl` in the run folder), and PNG curves
// (`plots/loss.png`, `plots/lr.png`, one per validation metric) redrawn after every validation.
// Under mpirun only rank 0 reports; the other ranks get a reporting that writes nothing.
import { join } from 'node:path';
import type { TrainerHooks } from './loop.js';
import { Progress, type ProgressStream } from './progress.js';
import { MetricsLog, readMetrics } from './metrics-log.js';
import { plotMetrics } from './plot.js';
import { isLeadRank } from './distributed/mpi.js';

export interface ReportingOptions {
  /** Run folder (metrics.jsonl and the PNGs go there). */
  outDir: string;
  /** Throughput unit shown in the rate ('img', 'tok'). */
  unit: string;
  /** Label at the start of the progress line. */
  label?: string;
  /** Log a 'train' record every N updates (averaged over them). Default 50. */
  logEvery?: number;
  /** Append to an existing metrics.jsonl (a resumed run). Default true. */
  append?: boolean;
  /** Draw the PNG curves. Default true. */
  plots?: boolean;
  /** Where the bar and messages go. Default process.stderr. */
  stream?: ProgressStream;
  /** Where messages go instead (e.g. a test's or an embedding program's log). Default: above the bar. */
  log?: (line: string) => void;
}

export interface Reporting {
  hooks: TrainerHooks;
  metrics: Pick<MetricsLog, 'log'>;
  /** Redraws the PNGs; returns the files written. */
  plot(): string[];
  close(): void;
}

/** Builds the trainer hooks of a run: progress bar, JSONL metrics, PNG curves. */
export function createReporting(opts: ReportingOptions): Reporting {
  if (!isLeadRank())
    return {
      hooks: { log: () => {} },
      metrics: { log: (event) => ({ time: new Date().toISOString(), event }) },
      plot: () => [],
      close: () => {},
    };
  const stream = opts.stream ?? process.stderr;
  const metricsFile = join(opts.outDir, 'metrics.jsonl');
  const metrics = new MetricsLog(metricsFile, { append: opts.append ?? true });
  const logEvery = opts.logEvery ?? 50;
  let bar: Progress | null = null;
  let acc = { loss: 0, n: 0, units: 0, t: performance.now() };
  const t0 = performance.now();
  const say = opts.log ?? ((msg: string) => (bar ? bar.log(msg) : stream.write(`${msg}\n`)));
  const plot = (): string[] => {
    if (opts.plots === false) return [];
    try {
      return plotMetrics(readMetrics(metricsFile), join(opts.outDir, 'plots'), { x: 'update' });
    } catch (e) {
      say(`plotting failed: ${(e as Error).message}`); // a chart is never worth a run
      return [];
    }
  };

  const hooks: TrainerHooks = {
    onStart({ totalUpdates, startUpdate }) {
      bar = new Progress(
        { total: totalUpdates, label: opts.label ?? 'train', stepUnit: 'upd', unit: opts.unit },
        { stream, start: startUpdate },
      );
      acc = { loss: 0, n: 0, units: 0, t: performance.now() };
    },
    onPlan({ totalUpdates }) {
      bar?.setTotal(totalUpdates);
    },
    onUpdate(u) {
      bar?.advance(1, u.units, { epoch: u.epoch + 1, loss: u.loss, lr: u.lr });
      acc.loss += u.loss;
      acc.n++;
      acc.units += u.units;
      if (u.update % logEvery === 0) {
        const sec = (performance.now() - acc.t) / 1000;
        metrics.log('train', {
          update: u.update,
          epoch: u.epoch + 1,
          loss: acc.loss / acc.n,
          lr: u.lr,
          gradNorm: u.gradNorm,
          [`${opts.unit}PerSec`]: acc.units / sec,
          elapsedSec: (performance.now() - t0) / 1000,
        });
        acc = { loss: 0, n: 0, units: 0, t: performance.now() };
      }
    },
    onValidate(v) {
      metrics.log('valid', { update: v.update, epoch: v.epoch + 1, ...v.metrics, best: v.best });
      const shown = Object.entries(v.metrics)
        .map(([k, x]) => `${k} ${Number.isInteger(x) ? x : Math.abs(x) >= 10 ? x.toFixed(2) : x.toFixed(4)}`)
        .join(', ');
      say(`validation at update ${v.update}: ${shown}${v.best ? ' (best)' : ''}`);
      plot();
    },
    onEpochEnd(e) {
      metrics.log('epoch', { update: e.update, epoch: e.epoch + 1, meanLoss: e.meanLoss });
    },
    log: say,
  };
  return {
    hooks,
    metrics,
    plot,
    close() {
      (bar as Progress | null)?.finish();
    },
  };
}
