// Loading a trained translation model from a checkpoint of `resmlp mt train`: the checkpoint's
// metadata holds the full model config and a reference to the SentencePiece model copied into
// the run folder (file name + sha256), so translate/serve need only the checkpoint path; a
// checkpoint derived from another (averaged, tuned) gets those files copied beside it.
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { isInt8Checkpoint, loadInt8Checkpoint } from '../../quant/int8-checkpoint.js';
import { loadCheckpoint, readCheckpointConfig } from '../../train/checkpoint.js';
import { SentencePiece } from '../data/spm.js';
import type { GenerationConfig } from '../decoding/config.js';
import type { GenerationTuning } from '../train/tune.js';
import type { Seq2SeqConfig } from './config.js';
import { Seq2Seq } from './seq2seq.js';
import { UserError } from '../../util/errors.js';

export const MT_CHECKPOINT_KIND = 'resmlp-mt';

/** The `config` metadata of a translation checkpoint. */
export interface MtCheckpointConfig {
  kind: typeof MT_CHECKPOINT_KIND;
  model: Seq2SeqConfig;
  /** SentencePiece files, relative to the checkpoint's folder, and the model's sha256. */
  spm: { model: string; vocab: string; sha256: string };
  langs: { src: string; tgt: string };
  /** Generation defaults of the run (beam 4 …), and the lenpen `resmlp mt tune` chose. */
  generation: Partial<GenerationConfig>;
  /** How the generation defaults were tuned, when they were (src/mt/train/tune.ts). */
  tuning?: GenerationTuning;
}

export function sha256Of(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** Reads and checks the translation config of a checkpoint. */
export function readMtCheckpointConfig(path: string): MtCheckpointConfig {
  const c = readCheckpointConfig<MtCheckpointConfig>(path);
  if (c.kind !== MT_CHECKPOINT_KIND)
    throw new Error(
      `checkpoint ${path}: config kind ${JSON.stringify(c.kind)}, expected '${MT_CHECKPOINT_KIND}' (is it a translation checkpoint?)`,
    );
  return c;
}

/**
 * Before a checkpoint derived from `from` (averaged, tuned) is written to `to` in another folder:
 * copies the SentencePiece files `config` names there, unless the same model is already there;
 * a different one there is an error (the new checkpoint could not load).
 */
export function copySentencePieceBeside(from: string, to: string, config: MtCheckpointConfig = readMtCheckpointConfig(from)): boolean {
  const src = dirname(resolve(from));
  const dst = dirname(resolve(to));
  if (src === dst) return false;
  if (!existsSync(dst)) throw new UserError(`cannot write ${to}: folder ${dst} does not exist`, 'not_found');
  const model = join(dst, config.spm.model);
  if (existsSync(model)) {
    if (sha256Of(model) !== config.spm.sha256)
      throw new UserError(
        `cannot write ${to}: ${model} is another SentencePiece model than ${from}'s; write it beside ${from} or into another folder`,
        'invalid_data',
      );
    return false;
  }
  copyFileSync(join(src, config.spm.model), model);
  copyFileSync(join(src, config.spm.vocab), join(dst, config.spm.vocab));
  return true;
}

/** Builds the model of checkpoint `path` (eval mode), loads its weights and its SentencePiece model. */
export async function loadTranslationCheckpoint(path: string): Promise<{ model: Seq2Seq; spm: SentencePiece; config: MtCheckpointConfig }> {
  const config = readMtCheckpointConfig(path);
  const dir = dirname(resolve(path));
  const spmPath = resolve(dir, config.spm.model);
  if (!existsSync(spmPath))
    throw new Error(`checkpoint ${path}: its SentencePiece model ${spmPath} is missing (it must stay next to the checkpoint)`);
  const sha = sha256Of(spmPath);
  if (sha !== config.spm.sha256)
    throw new Error(`checkpoint ${path}: ${spmPath} has sha256 ${sha}, but the model was trained with ${config.spm.sha256}`);
  const spm = await SentencePiece.load(spmPath, resolve(dir, config.spm.vocab));
  if (spm.vocabSize !== config.model.vocabSize)
    throw new Error(`checkpoint ${path}: SentencePiece has ${spm.vocabSize} pieces, the model ${config.model.vocabSize}`);
  return { model: loadSeq2Seq(path, config), spm, config };
}

/** The model alone: built from the checkpoint's config, its weights loaded by name, eval mode. */
export function loadSeq2Seq(path: string, config: MtCheckpointConfig = readMtCheckpointConfig(path)): Seq2Seq {
  const model = new Seq2Seq(config.model);
  try {
    if (isInt8Checkpoint(config))
      loadInt8Checkpoint(path, model); // weights dequantised, int8 kept (src/quant)
    else loadCheckpoint(path, model.namedParameters());
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model.eval();
}
