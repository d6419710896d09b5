// Averaging translation checkpoints (`resmlp mt average`): src/train/average.ts (fairseq's
// average_checkpoints.py) on checkpoints of `resmlp mt train`, plus what a translation checkpoint
// needs beside it: its SentencePiece files, copied next to the output when it goes to another
// folder (the checkpoint names them relative to its own folder, with their sha256).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { averageCheckpoints, type AverageResult } from '../../train/average.js';
import { UserError } from '../../util/errors.js';
import { copySentencePieceBeside, readMtCheckpointConfig } from '../model/load.js';

/** Where `resmlp mt average --run DIR --last N` writes by default (not a numbered name, so pruning never deletes it). */
export function defaultAveragePath(runDir: string, n: number): string {
  return join(runDir, `checkpoint_avg${n}.safetensors`);
}

/** Averages the translation checkpoints `inputs` into `out` (see src/train/average.ts); copies spm.model/spm.vocab beside it when needed. */
export function averageTranslationCheckpoints(inputs: readonly string[], out: string): AverageResult & { spmCopied: boolean } {
  if (inputs.length === 0) throw new UserError('no checkpoint to average', 'usage');
  for (const p of inputs) if (!existsSync(p)) throw new UserError(`checkpoint ${p}: file not found`, 'not_found');
  const spmCopied = copySentencePieceBeside(inputs[0]!, out, readMtCheckpointConfig(inputs[0]!));
  return { ...averageCheckpoints(inputs, out), spmCopied };
}
