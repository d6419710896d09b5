// The data side of a training run's start-up, alone (no model, no backend): open a prepared
// dataset's train split as `resmlp mt train` does, build the token batcher, count the batches of
// every planned epoch (what the training loop does to size its schedule), then build the first
// batches; reports the time and the process RSS after each step. Used for docs/wmt14-scale.md.
// Standalone: node --import tsx bench/data-startup.ts --data DIR [--max-len 64] [--max-tokens 4096]
//             [--epochs 30] [--batches 3]
import { fileURLToPath } from 'node:url';
import { formatHelp, parseArgs, type FlagSpec } from '../src/cli/args.js';
import { PreparedDataset } from '../src/mt/data/dataset.js';
import { TokenBatcher, pairSource } from '../src/mt/data/batching.js';

export interface DataStartup {
  pairs: number;
  idsInMemory: boolean;
  batchesPerEpoch: number;
  /** Seconds per step. */
  openSec: number;
  batcherSec: number;
  epochsSec: number;
  batchesSec: number;
  /** RSS (MiB) at the start and after each step; the process's peak RSS. */
  rssMiB: { start: number; opened: number; batcher: number; epochs: number; batches: number; peak: number };
}

export function dataStartup(dir: string, o: { maxLen: number; maxTokens: number; epochs: number; batches: number }): DataStartup {
  const rss = () => Math.round(process.memoryUsage().rss / 2 ** 20);
  const start = rss();
  let t = performance.now();
  const lap = () => {
    const now = performance.now();
    const s = Math.round(now - t) / 1000;
    t = now;
    return s;
  };
  const ds = PreparedDataset.open(dir);
  const split = ds.split('train');
  const openSec = lap();
  const opened = rss();
  const m = ds.manifest.spm;
  const b = new TokenBatcher(
    pairSource(split),
    { padId: m.padId, bosId: m.bosId, eosId: m.eosId },
    { maxTokens: o.maxTokens, maxLen: o.maxLen, seed: 1 },
  );
  const batcherSec = lap();
  const batcher = rss();
  for (let e = 0; e < o.epochs; e++) b.numBatches(e);
  const epochsSec = lap();
  const epochs = rss();
  for (let i = 0; i < Math.min(o.batches, b.numBatches(0)); i++) b.batch(0, i);
  const batchesSec = lap();
  const batches = rss();
  const result: DataStartup = {
    pairs: split.size,
    idsInMemory: split.src.inMemory,
    batchesPerEpoch: b.numBatches(0),
    openSec,
    batcherSec,
    epochsSec,
    batchesSec,
    rssMiB: { start, opened, batcher, epochs, batches, peak: Math.round(process.resourceUsage().maxRSS / 1024) },
  };
  split.close();
  return result;
}

const SPEC: Record<string, FlagSpec> = {
  data: { type: 'string', help: 'prepared dataset folder' },
  'max-len': { type: 'int', help: "the model's maxLen", default: 64 },
  'max-tokens': { type: 'int', help: 'padded tokens per batch', default: 4096 },
  epochs: { type: 'int', help: 'epochs whose batches are counted', default: 30 },
  batches: { type: 'int', help: 'first batches built', default: 3 },
};
const USAGE = 'usage: node --import tsx bench/data-startup.ts --data DIR [options]';

function main(): void {
  const { flags, help } = parseArgs(process.argv.slice(2), SPEC);
  if (help || typeof flags.data !== 'string') {
    process.stdout.write(formatHelp(USAGE, SPEC));
    if (!help) process.exitCode = 2;
    return;
  }
  const r = dataStartup(flags.data, {
    maxLen: flags['max-len'] as number,
    maxTokens: flags['max-tokens'] as number,
    epochs: flags.epochs as number,
    batches: flags.batches as number,
  });
  process.stdout.write(JSON.stringify(r) + '\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
