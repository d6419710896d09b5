// Open MPI for data-parallel training: whether mpirun started this process (its OMPI_COMM_WORLD_*
// variables), the MPI addon (native/mpi/) loaded only then, joining MPI_COMM_WORLD once, and
// leaving it — MPI_Finalize on a clean exit, MPI_Abort after a line naming the rank on a failing
// one, so a rank that raises ends the job instead of leaving the others waiting in a collective
// (what Horovod and mpi4py do with an unhandled error). Also the threads of a rank when
// RESMLP_THREADS is unset: the cores mpirun bound it to, or the host's cores shared by its ranks.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The functions of native/mpi/build/Release/resmlp_mpi.node (native/mpi/src/). */
export interface MpiAddon {
  init(): { rank: number; size: number; localRank: number; localSize: number; host: string; library: string; threadLevel: number };
  abort(code: number): void;
  finalize(): void;
  wtime(): number;
  /** x ← Σ over ranks of x, in place. */
  allreduce(x: Float32Array): void;
  /** Rank 0's bytes to every rank (blocking). */
  bcastBulk(buf: ArrayBufferView): void;
  /** Rank 0 gathers every rank's bytes; returns the ranks that did not answer within timeoutSec. */
  gatherTimed(send: ArrayBufferView, recv: ArrayBufferView | null, timeoutSec: number, tag: number): number[];
  /** Rank 0's bytes to every rank, in place; returns the ranks that did not answer within timeoutSec. */
  bcastTimed(buf: ArrayBufferView, timeoutSec: number, tag: number): number[];
  /** Seconds of each of `iters` MPI_Allreduce calls on one buffer of `floats` floats (the bench's reference). */
  rawAllreduce(floats: number, iters: number): Float64Array;
}

/** This process's place in the job. */
export interface World {
  rank: number;
  size: number;
  /** Ranks on this host, and this one's index among them. */
  localRank: number;
  localSize: number;
  host: string;
  /** "Open MPI v4.1.4", or "none" outside mpirun. */
  library: string;
  /** Rank 0: the one that validates, logs, draws progress and writes checkpoints. */
  lead: boolean;
  /** "rank 1 of 2 (host vm, pid 4242)", for messages. */
  label: string;
  /** null outside mpirun. */
  addon: MpiAddon | null;
}

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const addonPath = join(repoRoot, 'native', 'mpi', 'build', 'Release', 'resmlp_mpi.node');
export const MPI_INSTALL = 'apt-get install openmpi-bin libopenmpi-dev && node native/build.mjs';

/** Whether mpirun (Open MPI) started this process. */
export function underMpirun(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.OMPI_COMM_WORLD_SIZE !== undefined && env.OMPI_COMM_WORLD_SIZE !== '';
}

/** This process's rank as mpirun set it (0 outside mpirun); needs no MPI. */
export function envRank(env: NodeJS.ProcessEnv = process.env): number {
  return underMpirun(env) ? Number(env.OMPI_COMM_WORLD_RANK ?? 0) : 0;
}

/** Whether this process is rank 0 (or not under mpirun): the one that writes files and reports. */
export function isLeadRank(env: NodeJS.ProcessEnv = process.env): boolean {
  return envRank(env) === 0;
}

/**
 * Threads for a rank whose RESMLP_THREADS is unset: the CPUs it is bound to when mpirun bound it
 * (its default for ≤ 2 ranks binds each to one core), else the host's CPUs shared out among the
 * host's ranks, at least 1.
 */
export function defaultRankThreads(cpus: number, allowed: number, localSize: number): number {
  if (allowed < cpus) return Math.max(1, allowed);
  return Math.max(1, Math.floor(cpus / Math.max(1, localSize)));
}

let world: World | null = null;
let cleanStop = false;

function single(): World {
  return {
    rank: 0,
    size: 1,
    localRank: 0,
    localSize: 1,
    host: os.hostname(),
    library: 'none',
    lead: true,
    label: `the only process (pid ${process.pid})`,
    addon: null,
  };
}

/** The addon, or an error that says how to get it. */
function loadMpiAddon(env: NodeJS.ProcessEnv): MpiAddon {
  const started = `this process was started by mpirun (OMPI_COMM_WORLD_SIZE=${env.OMPI_COMM_WORLD_SIZE})`;
  if (!existsSync(addonPath)) {
    const buildDir = join(repoRoot, 'native', 'mpi', 'build');
    const note = ['BUILD_SKIPPED.txt', 'BUILD_FAILED.txt'].map((f) => join(buildDir, f)).find((f) => existsSync(f));
    const why = note ? readFileSync(note, 'utf8').split('\n')[0]!.trim() : 'it was never built';
    throw new Error(`${started}, but the MPI addon ${addonPath} is missing: ${why}. Install Open MPI and rebuild: ${MPI_INSTALL}`);
  }
  try {
    return createRequire(import.meta.url)(addonPath) as MpiAddon;
  } catch (e) {
    throw new Error(`${started}, but the MPI addon ${addonPath} failed to load: ${(e as Error).message}. Rebuild it: ${MPI_INSTALL}`);
  }
}

/**
 * This process's world: one process outside mpirun; under mpirun, MPI_COMM_WORLD (joined on the
 * first call, after setting RESMLP_THREADS for the rank when it is unset — call this before the
 * backend loads). Under mpirun a missing MPI addon is an error, never a silent single process.
 */
export function joinWorld(env: NodeJS.ProcessEnv = process.env): World {
  if (world) return world;
  if (!underMpirun(env)) return (world = single());
  const localSize = Number(env.OMPI_COMM_WORLD_LOCAL_SIZE ?? 1);
  if (env.RESMLP_THREADS === undefined || env.RESMLP_THREADS === '') {
    env.RESMLP_THREADS = String(defaultRankThreads(os.cpus().length, os.availableParallelism(), localSize));
  }
  // Open MPI's shared-memory transport moves large messages by default with one copy through the
  // peer's memory (CMA, process_vm_readv); on the VMs here that summed a model's gradients 1.3–1.7×
  // slower than its copy through the shared segment (docs/distributed.md), and containers often
  // forbid it. A value the user set is kept.
  env.OMPI_MCA_btl_vader_single_copy_mechanism ??= 'none';
  const addon = loadMpiAddon(env);
  const w = addon.init();
  const label = `rank ${w.rank} of ${w.size} (host ${w.host}, pid ${process.pid})`;
  world = { ...w, lead: w.rank === 0, label, addon };
  // mpirun ends the job at once on Ctrl-C but forwards SIGUSR2: `kill -USR2 <mpirun>` is every
  // rank's Ctrl-C, so the ranks agree to stop after the update and rank 0 saves checkpoint_last
  process.on('SIGUSR2', () => process.emit('SIGINT', 'SIGINT'));
  // an error nobody caught is printed before the exit handler aborts (the default print can come too late)
  process.on('uncaughtExceptionMonitor', (err) => {
    process.stderr.write(`resmlp: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  });
  process.on('exit', (code) => {
    if (code === 0 || cleanStop) {
      addon.finalize();
      return;
    }
    process.stderr.write(`resmlp: ${label} exited with code ${code} before the job ended; MPI_Abort stops its other ranks\n`);
    addon.abort(code);
  });
  return world;
}

/** Marks the end of training agreed by every rank: a non-zero exit after it (e.g. an interrupted run's 130) finalizes instead of aborting. */
export function markCleanStop(): void {
  cleanStop = true;
}

/** Seconds a rank waits for the others in a check-in or for rank 0's decision: RESMLP_MPI_TIMEOUT (default 1800; 0 = forever). */
export function mpiTimeoutSec(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.RESMLP_MPI_TIMEOUT;
  if (raw === undefined || raw === '') return 1800;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`RESMLP_MPI_TIMEOUT must be a number of seconds ≥ 0 (0 = no limit), got '${raw}'`);
  return n;
}
