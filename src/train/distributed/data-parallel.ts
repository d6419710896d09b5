// Data parallelism as the training loop (src/train/loop.ts) sees it: one object that answers "which
// batches are mine, what do the ranks' gradients and losses sum to, what did rank 0 decide". One
// process is the trivial case (everything is its own); under mpirun the ranks follow PyTorch DDP and
// Horovod: every rank starts from rank 0's weights, optimizer and trainer state (broadcast after
// the ranks' configs and data are checked to be the same), sums gradients with an fp32 bucketed
// allreduce (allreduce.ts) and so applies the same optimizer step. Rank 0 alone validates and
// writes checkpoints, so what ends or re-plans the run is its decision, broadcast after every update.
// The ranks' side is mpi-data-parallel.ts.
import type * as tf from '@tensorflow/tfjs';
import type { TrainerState } from '../checkpoint.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { AllreduceStats } from './allreduce.js';
import type { Fingerprint } from './fingerprint.js';
import { joinWorld, type World } from './mpi.js';
import { MpiDataParallel } from './mpi-data-parallel.js';

/** An update's sums over the ranks. */
export interface UpdateSums {
  /** Sum of the batch losses (the loop divides by the update's batches). */
  loss: number;
  /** Units trained (tokens, images). */
  units: number;
  /** Some rank was interrupted (Ctrl-C): the run stops after this update. */
  interrupted: boolean;
}

/** What `start` makes the same on every rank. */
export interface StartState {
  params: Map<string, tf.Variable>;
  optimizer: Optimizer;
  /** Rank 0's trainer state (resumed or fresh); the other ranks' is replaced by it. */
  state: TrainerState;
  /** Config, data manifest, …: compared with rank 0's; the job is refused when they differ. */
  fingerprint: Fingerprint;
  /** For the log line: batches per rank per update. */
  updateFreq: number;
}

export interface DataParallel {
  readonly world: World;
  /** Makes every rank hold rank 0's parameters, optimizer state and trainer state; returns the state. */
  start(s: StartState): TrainerState;
  /** Sums the update's scalars over the ranks (and checks every rank is at update `update`). */
  checkIn(update: number, local: UpdateSums): UpdateSums;
  /** Sums the gradients over the ranks (in place where possible; see allreduce.ts). */
  sumGradients(grads: tf.Tensor[]): tf.Tensor[];
  /** Rank 0's `value` on every rank (what the others pass is ignored). */
  agree<T>(update: number, value: T): T;
  /** Checks the ranks' parameters are still the same; re-sends rank 0's (and the optimizer's) when not. */
  checkParams(update: number, params: Map<string, tf.Variable>, optimizer: Optimizer): void;
  /** One line for the log: ranks, threads, hosts (empty for one process). */
  readonly description: string;
  /** The last gradient sum's timing. */
  readonly allreduceStats: AllreduceStats | null;
}

/** One process: its batches are all the batches, its sums are its own, its decisions final. */
export class SingleProcess implements DataParallel {
  readonly description = '';
  readonly allreduceStats = null;
  constructor(readonly world: World) {}
  start(s: StartState): TrainerState {
    return s.state;
  }
  checkIn(_update: number, local: UpdateSums): UpdateSums {
    return local;
  }
  sumGradients(grads: tf.Tensor[]): tf.Tensor[] {
    return grads;
  }
  agree<T>(_update: number, value: T): T {
    return value;
  }
  checkParams(): void {}
}

/** The data parallelism of this process: one process, or the ranks of the mpirun job it belongs to. */
export function dataParallelFromEnv(): DataParallel {
  const world = joinWorld();
  return world.addon ? new MpiDataParallel(world) : new SingleProcess(world);
}
