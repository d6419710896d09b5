// `resmlp mt quantize --checkpoint C [--out F]`: writes the int8 checkpoint of a translation
// checkpoint (its linear layers' weights in int8 with per-output-channel scales, about 4× smaller;
// decodes in int8 by default, in fp32 where int8 cannot run). The work lives in
// src/quant/int8-checkpoint.ts. Parsing and output only.
import { statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { usageError, type FlagSpec } from './args.js';
import { defineCommand, type CommandContext } from './command.js';
import { listed } from './commands.js';
import { UserError } from '../util/errors.js';

const FLAGS: Record<string, FlagSpec> = {
  checkpoint: { type: 'string', alias: 'c', help: 'fp32 checkpoint of `resmlp mt train` (its spm.model beside it)' },
  out: { type: 'string', alias: 'o', help: 'int8 checkpoint to write (default: <checkpoint>_int8.safetensors beside it)' },
};

/** `<dir>/<name>_int8.safetensors` for `<dir>/<name>.safetensors`. */
export function defaultInt8Path(checkpoint: string): string {
  return join(dirname(checkpoint), `${basename(checkpoint).replace(/\.safetensors$/, '')}_int8.safetensors`);
}

async function quantize({ flags, io }: CommandContext): Promise<number> {
  const src = flags.checkpoint as string | undefined;
  if (src === undefined) throw usageError('--checkpoint is required');
  const out = (flags.out as string | undefined) ?? defaultInt8Path(src);
  const { initBackend } = await import('../backend/choose.js');
  await initBackend(); // the model is built once to list its layers
  const { readMtCheckpointConfig } = await import('../mt/model/load.js');
  const { writeInt8Checkpoint } = await import('../quant/int8-checkpoint.js');
  let config: ReturnType<typeof readMtCheckpointConfig>;
  try {
    config = readMtCheckpointConfig(src);
  } catch (e) {
    throw new UserError((e as Error).message, 'invalid_data');
  }
  const r = writeInt8Checkpoint(src, config, out);
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MB`;
  io.stdout.write(
    `wrote ${out}: ${r.layers} linear layers in int8 (weights ${mb(r.fp32Bytes)} → ${mb(r.int8Bytes)}, ${(r.fp32Bytes / r.int8Bytes).toFixed(2)}× smaller); ` +
      `file ${mb(statSync(src).size)} → ${mb(statSync(out).size)} (weights only: no optimizer state)\n`,
  );
  return 0;
}

export const command = defineCommand({
  ...listed('mt quantize'),
  usage: '--checkpoint FILE [--out FILE]',
  flags: FLAGS,
  run: quantize,
});
