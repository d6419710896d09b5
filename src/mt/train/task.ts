// The translation TrainTask for the one training loop (src/train/loop.ts): token-bucketed batches
// from src/mt/data (a pure function of (seed, epoch, index), so resume is exact), the
// label-smoothed cross-entropy of the seq2seq model ignoring padding (arXiv 2105.03404 §3.6:
// ε = 0.1), and dropout masks reseeded per batch from (seed, epoch, index) — the model's
// SeedTree — so no generator state needs saving.
import * as tf from '@tensorflow/tfjs';
import { labelSmoothedCrossEntropy } from '../../core/loss.js';
import type { TrainTask } from '../../train/loop.js';
import type { Batch, TokenBatcher } from '../data/batching.js';
import type { Seq2Seq } from '../model/seq2seq.js';

/** Mean label-smoothed loss per target token of `batch` (padding ignored). */
export function batchLoss(model: Seq2Seq, batch: Batch, epsilon: number): tf.Scalar {
  return tf.tidy(() => {
    const { size: B, srcLen: S, tgtLen: T } = batch;
    const src = tf.tensor2d(batch.src, [B, S], 'int32'); // (B, S)
    const tgtIn = tf.tensor2d(batch.tgtIn, [B, T], 'int32'); // (B, T)
    const tgtOut = tf.tensor2d(batch.tgtOut, [B, T], 'int32'); // (B, T)
    const logits = model.forward(src, tgtIn); // (B, T, V)
    return labelSmoothedCrossEntropy(logits, tgtOut, { epsilon, ignoreIndex: model.padId });
  });
}

export interface MtTaskOptions {
  /** Run seed: dropout masks of batch (e, i) come from (seed, e, i). */
  seed: number;
  labelSmoothing: number;
  /** Stored in checkpoints (model config + SentencePiece reference). */
  modelConfig: unknown;
  validate?: () => Promise<Record<string, number>>;
}

export class MtTrainTask implements TrainTask<Batch> {
  readonly params: Map<string, tf.Variable>;
  readonly modelConfig: unknown;
  readonly validate?: () => Promise<Record<string, number>>;

  constructor(
    readonly model: Seq2Seq,
    readonly batcher: TokenBatcher,
    readonly opts: MtTaskOptions,
  ) {
    this.params = model.namedParameters();
    this.modelConfig = opts.modelConfig;
    if (opts.validate) this.validate = opts.validate;
  }

  numBatches(epoch: number): number {
    return this.batcher.numBatches(epoch);
  }

  batch(epoch: number, i: number): Batch {
    return this.batcher.batch(epoch, i);
  }

  loss(batch: Batch): tf.Scalar {
    this.model.rng.reseed(`${this.opts.seed}:${batch.epoch}:${batch.index}`);
    return batchLoss(this.model, batch, this.opts.labelSmoothing);
  }

  units(batch: Batch): number {
    return batch.tgtTokens;
  }

  disposeBatch(): void {
    // batches are plain typed arrays; their tensors live inside loss()
  }

  setTraining(training: boolean): void {
    this.model.train(training);
  }

  getRngState(): unknown {
    return { dropout: 'reseeded per batch from (seed, epoch, batch)', seed: this.opts.seed };
  }

  setRngState(state: unknown): void {
    const s = state as { seed?: unknown } | null;
    if (s && s.seed !== undefined && s.seed !== this.opts.seed) {
      throw new Error(
        `cannot resume: the checkpoint was trained with seed ${String(s.seed)}, this run has seed ${this.opts.seed}; pass --seed ${String(s.seed)} or start a new run folder`,
      );
    }
  }
}
