// Peak memory of a real training run: `resmlp mt train` of the small Multi30k config
// (configs/mt/multi30k-en-de-small.json) as a child process for --updates updates on Multi30k
// En-De, with one validation (loss and BLEU decoding of the validation set) and one checkpoint on
// the way, as a user's run does them. The peak is the child's VmHWM (the kernel's high-water mark
// of its resident set, /proc/<pid>/status), read every 0.2 s until it exits; VmHWM never
// decreases, so the last read is the peak up to the last 0.2 s. Issue 20's target: ≤ 2,500 MB
// (a run held 8.3 GB before the output pool took size classes).
// Data: --mt-data DIR (a folder of `resmlp mt multi30k`), else Multi30k En-De is prepared from
// <repo>/../shared/data/multi30k into a temporary folder (spm_train, ~30 s).
// Standalone: node --import tsx bench/mt-train-rss.ts [--mt-data DIR] [--updates 60]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type FlagSpec, formatHelp, parseArgs } from '../src/cli/args.js';
import { repoRoot } from '../src/util/paths.js';
import { prepareShared } from './mt-train-real.js';

export interface MtTrainRssResult {
  config: string;
  updates: number;
  seconds: number;
  /** VmHWM of the training process, MB (2^20 bytes). */
  peakRssMb: number;
  /** The child's last progress lines (for the record). */
  tail: string[];
}

const CONFIG = 'configs/mt/multi30k-en-de-small.json';

function vmHwmMb(pid: number): number | null {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null; // exited, or no /proc (not Linux)
  }
}

export async function mtTrainRssBench(
  opts: { updates?: number; data?: string; log?: (l: string) => void } = {},
): Promise<MtTrainRssResult> {
  const log = opts.log ?? (() => {});
  const updates = opts.updates ?? 60;
  const prepared = opts.data ? { dir: opts.data, cleanup: () => {} } : await prepareShared(log, true);
  const out = mkdtempSync(join(os.tmpdir(), 'resmlp-bench-rss-'));
  try {
    const every = Math.max(1, Math.floor(updates * 0.8));
    const args = [
      '--import',
      'tsx',
      join(repoRoot, 'src/cli/main.ts'),
      'mt',
      'train',
      '--config',
      join(repoRoot, CONFIG),
      '--data',
      prepared.dir,
      '--out',
      join(out, 'run'),
      '--max-updates',
      String(updates),
      '--max-time',
      '0',
      '--validate-every',
      String(every),
      '--checkpoint-every',
      String(every),
      '--fresh',
    ];
    log(`mt-train-rss: resmlp mt train ${CONFIG} for ${updates} updates (validation and checkpoint at ${every}) in ${out}`);
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    const keep = (d: Buffer) => {
      for (const l of d.toString().split(/[\r\n]+/)) if (l.trim()) lines.push(l.trim());
      if (lines.length > 200) lines.splice(0, lines.length - 200);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let peak = 0;
    const timer = setInterval(() => {
      const v = child.pid === undefined ? null : vmHwmMb(child.pid);
      if (v !== null) peak = Math.max(peak, v);
    }, 200);
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (c) => resolve(c));
    });
    clearInterval(timer);
    if (code !== 0) throw new Error(`mt-train-rss: resmlp mt train exited with ${code}:\n${lines.slice(-15).join('\n')}`);
    if (peak === 0) throw new Error("mt-train-rss: could not read the child's VmHWM from /proc (Linux only)");
    return { config: CONFIG, updates, seconds: (performance.now() - t0) / 1000, peakRssMb: peak, tail: lines.slice(-4) };
  } finally {
    rmSync(out, { recursive: true, force: true });
    prepared.cleanup();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const spec: Record<string, FlagSpec> = {
    updates: { type: 'int', default: 60, help: 'training updates (a validation and a checkpoint at 80% of them)' },
    'mt-data': { type: 'string', help: 'a prepared Multi30k folder with a valid split (default: prepared from ../shared)' },
  };
  const { flags, help } = parseArgs(process.argv.slice(2), spec);
  if (help) process.stdout.write(formatHelp('usage: node --import tsx bench/mt-train-rss.ts [options]', spec));
  else {
    const updates = flags.updates as number;
    if (updates < 1) throw new Error(`--updates must be ≥ 1, got ${updates}`);
    const r = await mtTrainRssBench({ updates, data: flags['mt-data'] as string | undefined, log: (l) => console.error(l) });
    console.log(JSON.stringify(r));
  }
}
