// Data-parallel training on this machine (issue 21), measured side by side in one run:
//   mpiScaling2     training tokens/s of 2 ranks × 1 thread (mpirun -np 2, updateFreq 1) ÷ 1 process
//                   × 2 threads (updateFreq 2): the same 2 batches per update, the same model. Below
//                   1 means the two cores do more as one process's 2 OpenMP threads than as 2 ranks.
//   allreduceGBps   the model's gradients (its parameters' shapes) summed over 2 ranks by
//                   src/train/distributed/allreduce.ts, in GB of gradient per second, against a raw
//                   MPI_Allreduce of the same bytes in one buffer (allreduceVsRaw, target ≥ 0.9).
// Each process is bench/mpi-rank.ts. Needs mpirun (Open MPI) and the MPI addon; as root it passes
// OMPI_ALLOW_RUN_AS_ROOT. Standalone: node --import tsx bench/mpi.ts [--config F] [--updates N]
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const RANK = fileURLToPath(new URL('./mpi-rank.ts', import.meta.url));
const ENV = { ...process.env, OMPI_ALLOW_RUN_AS_ROOT: '1', OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: '1' };

export interface MpiBenchResult {
  config: string;
  params: number;
  /** One process, 2 threads, updateFreq 2. */
  oneRank: { tokensPerSec: number; updateSec: number[] };
  /** mpirun -np 2, 1 thread each, updateFreq 1. */
  twoRanks: { tokensPerSec: number; updateSec: number[]; allreduceSecPerUpdate: number };
  mpiScaling2: number;
  /** Fraction of a 2-rank update spent summing gradients (what overlapping it with the backward pass could win at most). */
  allreduceShareOfUpdate: number;
  gradientBytes: number;
  allreduceGBps: number;
  allreduceRawGBps: number;
  allreduceVsRaw: number;
}

function runJson(cmd: string, args: string[], env: NodeJS.ProcessEnv, log: (s: string) => void): Record<string, unknown> {
  log(`mpi bench: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  const line = r.stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .pop();
  if (r.status !== 0 || !line)
    throw new Error(`mpi bench: ${cmd} ${args.join(' ')} failed (status ${r.status}):\n${r.stderr.slice(-3000)}`);
  return JSON.parse(line) as Record<string, unknown>;
}

export async function mpiBench(
  opts: { config?: string; updates?: number; reps?: number; log?: (s: string) => void } = {},
): Promise<MpiBenchResult> {
  const log = opts.log ?? (() => {});
  const config = opts.config ?? 'configs/mt/wmt14-en-de-resmlp6.json';
  const updates = String(opts.updates ?? 5);
  if (spawnSync('mpirun', ['--version']).status !== 0)
    throw new Error('mpirun not found: install Open MPI (apt-get install openmpi-bin libopenmpi-dev) and rebuild: node native/build.mjs');
  const node = [process.execPath, '--import', 'tsx', RANK];
  const two = runJson(
    'mpirun',
    ['--oversubscribe', '-np', '2', ...node, 'train', '--config', config, '--freq', '1', '--updates', updates],
    { ...ENV, RESMLP_THREADS: '1' },
    log,
  );
  const one = runJson(
    node[0]!,
    [...node.slice(1), 'train', '--config', config, '--freq', '2', '--updates', updates],
    { ...ENV, RESMLP_THREADS: '2' },
    log,
  );
  const ar = runJson(
    'mpirun',
    ['--oversubscribe', '-np', '2', ...node, 'allreduce', '--config', config, '--reps', String(opts.reps ?? 10)],
    { ...ENV, RESMLP_THREADS: '1' },
    log,
  );
  const twoTps = two.tokensPerSec as number;
  const oneTps = one.tokensPerSec as number;
  const twoUpdates = (two.updateSec as number[]).slice(1).sort((a, b) => a - b);
  const medianUpdate = twoUpdates[Math.floor(twoUpdates.length / 2)]!;
  return {
    config,
    params: two.params as number,
    oneRank: { tokensPerSec: oneTps, updateSec: one.updateSec as number[] },
    twoRanks: { tokensPerSec: twoTps, updateSec: two.updateSec as number[], allreduceSecPerUpdate: two.allreduceSecPerUpdate as number },
    mpiScaling2: twoTps / oneTps,
    allreduceShareOfUpdate: (two.allreduceSecPerUpdate as number) / medianUpdate,
    gradientBytes: ar.bytes as number,
    allreduceGBps: ar.allreduceGBps as number,
    allreduceRawGBps: ar.allreduceRawGBps as number,
    allreduceVsRaw: (ar.allreduceGBps as number) / (ar.allreduceRawGBps as number),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const arg = (k: string) => {
    const i = process.argv.indexOf(k);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const r = await mpiBench({
    config: arg('--config'),
    updates: arg('--updates') ? Number(arg('--updates')) : undefined,
    log: (s) => process.stderr.write(s + '\n'),
  });
  console.log(JSON.stringify(r, null, 2));
}
