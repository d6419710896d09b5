// Peak memory of a command and everything it starts (Linux /proc): runs the command, sums the
// resident set of its whole process tree every `--every` ms, and reports the peak of that sum
// and each process's own peak (`/usr/bin/time -v` reports only the largest single process, which
// misses node and spm_train running side by side). With `--mark-file F --mark S` it also reports
// when S first appears in F and the tree's RSS then, e.g. the first training record of a run's
// metrics.jsonl: time to the first update. Used for docs/wmt14-scale.md.
// Standalone: node --import tsx bench/tree-rss.ts [--every 200] [--mark-file F --mark S] -- CMD ARGS…
// Prints the command's output as it runs, then one JSON line (prefixed `tree-rss: `) on stderr.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';

interface Proc {
  pid: number;
  ppid: number;
  name: string;
  rssKb: number;
}

function readProc(pid: number): Proc | null {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (k: string) => status.match(new RegExp(`^${k}:\\s*(.*)$`, 'm'))?.[1] ?? '';
    return { pid, ppid: Number(field('PPid')), name: field('Name'), rssKb: Number.parseInt(field('VmRSS'), 10) || 0 };
  } catch {
    return null; // gone between listing and reading
  }
}

/** The processes of the tree rooted at `root` (root included). */
function tree(root: number): Proc[] {
  const all: Proc[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const p = readProc(Number(e));
    if (p) all.push(p);
  }
  const kids = new Map<number, Proc[]>();
  for (const p of all) kids.set(p.ppid, [...(kids.get(p.ppid) ?? []), p]);
  const out: Proc[] = [];
  const stack = all.filter((p) => p.pid === root);
  while (stack.length > 0) {
    const p = stack.pop()!;
    out.push(p);
    stack.push(...(kids.get(p.pid) ?? []));
  }
  return out;
}

export interface TreeRssResult {
  command: string;
  exitCode: number | null;
  wallSec: number;
  /** Peak of the summed RSS of the tree, MiB. */
  peakTreeMiB: number;
  /** Each process name's own peak RSS, MiB. */
  peakByProcessMiB: Record<string, number>;
  /** Seconds from start until the mark appeared in the mark file (null: never). */
  markSec: number | null;
  /** Summed RSS of the tree when the mark was seen, MiB. */
  markTreeMiB: number | null;
  /** Load average (1 min) at the start and at the end. */
  load: [number, number];
}

export async function treeRss(cmd: string[], o: { everyMs: number; markFile?: string; mark?: string }): Promise<TreeRssResult> {
  const load1 = () => Number(fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  const loadStart = load1();
  const t0 = performance.now();
  const child = spawn(cmd[0]!, cmd.slice(1), { stdio: 'inherit' });
  let peakTree = 0;
  const peakBy: Record<string, number> = {};
  let markSec: number | null = null;
  let markTree: number | null = null;
  const sample = () => {
    if (child.pid === undefined) return;
    const procs = tree(child.pid);
    const sum = procs.reduce((a, p) => a + p.rssKb, 0);
    peakTree = Math.max(peakTree, sum);
    for (const p of procs) peakBy[p.name] = Math.max(peakBy[p.name] ?? 0, p.rssKb);
    if (markSec === null && o.markFile && o.mark && fs.existsSync(o.markFile) && fs.readFileSync(o.markFile, 'utf8').includes(o.mark)) {
      markSec = (performance.now() - t0) / 1000;
      markTree = sum;
    }
  };
  const timer = setInterval(sample, o.everyMs);
  const exitCode = await new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  clearInterval(timer);
  const mib = (kb: number) => Math.round(kb / 1024);
  return {
    command: cmd.join(' '),
    exitCode,
    wallSec: Math.round((performance.now() - t0) / 100) / 10,
    peakTreeMiB: mib(peakTree),
    peakByProcessMiB: Object.fromEntries(Object.entries(peakBy).map(([k, v]) => [k, mib(v)])),
    markSec: markSec === null ? null : Math.round((markSec as number) * 10) / 10,
    markTreeMiB: markTree === null ? null : mib(markTree),
    load: [loadStart, load1()],
  };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const dash = argv.indexOf('--');
  if (dash < 0 || dash === argv.length - 1) {
    process.stderr.write('usage: node --import tsx bench/tree-rss.ts [--every MS] [--mark-file F --mark S] -- CMD ARGS…\n');
    process.exitCode = 2;
    return;
  }
  const opts = argv.slice(0, dash);
  const get = (k: string) => {
    const i = opts.indexOf(k);
    return i >= 0 ? opts[i + 1] : undefined;
  };
  const markFile = get('--mark-file');
  const mark = get('--mark');
  const r = await treeRss(argv.slice(dash + 1), {
    everyMs: Number(get('--every') ?? 200),
    ...(markFile ? { markFile } : {}),
    ...(mark ? { mark } : {}),
  });
  process.stderr.write(`tree-rss: ${JSON.stringify(r)}\n`);
  process.exitCode = r.exitCode ?? 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) void main();
