// Training checkpoints: one safetensors file holding the model's parameters under their own
// (timm/fairseq-style dotted) names, the optimizer's slots under `__optimizer__.<slot>.<param>`,
// and in the metadata the model config (`config`, so a checkpoint loads with nothing else), the
// trainer state (`trainer`: epoch, position in the epoch, update count, best score, RNG states)
// and a format tag. Written atomically (temp file + rename), so a crash mid-save never corrupts
// the previous checkpoint; updateCheckpointConfig rewrites the stored config alone the same way
// (`resmlp mt tune` stores the tuned generation defaults with it).
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { saveTensors, loadTensors, checkShapes, parseConfigMetadata } from '../io/checkpoint-tensors.js';
import { readSafetensors, readSafetensorsHeader, writeSafetensors, type TensorToWrite } from '../io/safetensors.js';
import type { Optimizer } from './optim/optimizer.js';

export const CHECKPOINT_FORMAT = 'resmlp-checkpoint-v1';
/** Name prefix of the optimizer slots in a checkpoint (`__optimizer__.<slot>.<param>`). */
export const OPT_PREFIX = '__optimizer__.';

/** Where a run stands; everything a resume needs besides tensors. JSON-serialisable. */
export interface TrainerState {
  /** Epoch in progress (0-based). */
  epoch: number;
  /** Batches of `epoch` already consumed. */
  batchInEpoch: number;
  /** Optimizer updates done. */
  updates: number;
  /** Best validation score so far and the update where it happened. */
  best: { score: number; update: number } | null;
  /** Validations since the best one (early stopping). */
  badValidations: number;
  /** Random generator states of the task (dropout, augmentation), as the task reports them. */
  rng: unknown;
  /** Wall time spent training before this checkpoint, seconds. */
  elapsedSec: number;
  /**
   * Epochs the run was planned to, when trainer.timeBudgetSec fitted it to a time budget (the
   * last one maybe in part): first from the first epoch's time, then after each epoch from the
   * mean time per update of epochs 2.. until half-way.
   */
  plannedEpochs?: number;
  /** Updates the run was planned to (with plannedEpochs; absent in checkpoints that planned whole epochs). */
  plannedUpdates?: number;
  /** Training seconds at the end of the first epoch (later plans time epochs 2.. from it). */
  firstEpochSec?: number;
  /** Updates at the end of the first epoch. */
  firstEpochUpdates?: number;
  /** The trainer.timeBudgetSec the plan was fitted to. */
  budgetSec?: number;
  /** The plan is final (the run reached half its planned updates). */
  planFinal?: boolean;
}

export interface CheckpointContents<C> {
  config: C;
  trainer: TrainerState | undefined;
}

/** Saves parameters (+ optimizer slots and trainer state when given) atomically to `path`. */
export async function saveCheckpoint(
  path: string,
  params: Map<string, tf.Variable>,
  config: unknown,
  opts: { optimizer?: Optimizer; trainer?: TrainerState } = {},
): Promise<void> {
  const tensors = new Map<string, tf.Tensor>(params);
  const metadata: Record<string, string> = { format: CHECKPOINT_FORMAT };
  if (opts.optimizer) {
    const st = opts.optimizer.getState();
    for (const [k, t] of st.slots) tensors.set(OPT_PREFIX + k, t);
    metadata.optimizer = JSON.stringify(st.scalars);
  }
  if (opts.trainer) metadata.trainer = JSON.stringify(opts.trainer);
  await saveTensors(path, tensors, { config, metadata });
}

/** Reads only the model config stored in a checkpoint (to build the model before loading it). */
export function readCheckpointConfig<C>(path: string): C {
  if (!existsSync(path)) throw new Error(`checkpoint ${path}: file not found`);
  // the header only: loading every tensor to read the config cost a full read of the file and
  // created the tensors on whatever backend was active (the cpu one, before a CLI picks its own)
  const config = parseConfigMetadata<C>(path, readSafetensorsHeader(path).metadata);
  if (config === undefined) throw new Error(`checkpoint ${path}: no model config in its metadata (is it a resmlp checkpoint?)`);
  return config;
}

/**
 * Loads a checkpoint into `params` (names and shapes checked: errors list every missing,
 * unexpected and mis-shaped key) and, when given, the optimizer. Returns the config and trainer state.
 */
export function loadCheckpoint<C>(
  path: string,
  params: Map<string, tf.Variable>,
  opts: { optimizer?: Optimizer } = {},
): CheckpointContents<C> {
  if (!existsSync(path)) throw new Error(`checkpoint ${path}: file not found`);
  const { tensors, config, metadata } = loadTensors<C>(path);
  try {
    const model = new Map([...tensors].filter(([k]) => !k.startsWith(OPT_PREFIX)));
    checkShapes(model, params, { where: path }); // throws listing every missing/unexpected/mis-shaped key
    for (const [name, v] of params) {
      const t = model.get(name)!;
      v.assign(t.dtype === v.dtype ? t : tf.tidy(() => tf.cast(t, v.dtype)));
    }
    if (opts.optimizer) {
      const slots = new Map([...tensors].filter(([k]) => k.startsWith(OPT_PREFIX)).map(([k, t]) => [k.slice(OPT_PREFIX.length), t]));
      if (metadata.optimizer === undefined)
        throw new Error(`checkpoint ${path}: no optimizer state (it holds weights only; start a new run from it instead of resuming)`);
      opts.optimizer.setState({ slots, scalars: JSON.parse(metadata.optimizer) as Record<string, number> });
    }
    const trainer = metadata.trainer !== undefined ? (JSON.parse(metadata.trainer) as TrainerState) : undefined;
    if (config === undefined) throw new Error(`checkpoint ${path}: no model config in its metadata`);
    return { config, trainer };
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}

/**
 * Rewrites the config stored in checkpoint `path` with `update` and writes the checkpoint to `out`
 * (default: `path` itself, replaced atomically: temp file + rename), tensors, optimizer slots and
 * trainer state unchanged. Returns the new config.
 */
export function updateCheckpointConfig<C>(path: string, update: (config: C) => C, out: string = path): C {
  if (!existsSync(path)) throw new Error(`checkpoint ${path}: file not found`);
  const { tensors, metadata } = readSafetensors(path);
  const config = parseConfigMetadata<C>(path, metadata);
  if (config === undefined) throw new Error(`checkpoint ${path}: no model config in its metadata (is it a resmlp checkpoint?)`);
  const next = update(config);
  const write = new Map<string, TensorToWrite>();
  for (const [k, t] of tensors) {
    // keep each tensor's stored type (an int8 checkpoint's I8 weights read back as Int32Array)
    const dtype = t.dtype === 'F32' || t.dtype === 'I32' || t.dtype === 'I8' ? t.dtype : undefined;
    write.set(k, { dtype, shape: t.shape, data: t.data });
  }
  writeSafetensors(out, write, { ...metadata, config: JSON.stringify(next) });
  return next;
}
