// `resmlp mt average --run DIR --last N [--out F]` or `--inputs A B C --out F`: the mean of the
// weights of translation checkpoints (fairseq's scripts/average_checkpoints.py; the work lives in
// src/mt/train/average.ts and src/train/average.ts). Parsing and output only.
import { usageError, type FlagSpec } from './args.js';
import { defineCommand, type CommandContext } from './command.js';
import { listed } from './commands.js';

const FLAGS: Record<string, FlagSpec> = {
  run: {
    type: 'string',
    help: 'run folder of `resmlp mt train`: average its newest numbered checkpoints (checkpoint_<update>.safetensors)',
  },
  last: { type: 'int', help: 'how many of them (the run keeps trainer.keepLast)' },
  inputs: { type: 'strings', help: 'checkpoints to average instead of --run/--last' },
  out: { type: 'string', alias: 'o', help: 'output checkpoint (default with --run: <run>/checkpoint_avg<N>.safetensors)' },
};

async function average({ flags, io }: CommandContext): Promise<number> {
  const { averageTranslationCheckpoints, defaultAveragePath } = await import('../mt/train/average.js');
  const { lastCheckpoints } = await import('../train/average.js');
  const inputs = flags.inputs as string[] | undefined;
  const run = flags.run as string | undefined;
  const last = flags.last as number | undefined;
  let files: string[];
  let out = flags.out as string | undefined;
  if (inputs !== undefined) {
    if (run !== undefined || last !== undefined) throw usageError('give either --inputs or --run with --last, not both');
    if (out === undefined) throw usageError('--out is required with --inputs');
    files = inputs;
  } else {
    if (run === undefined || last === undefined) throw usageError('give --run DIR --last N, or --inputs A B … --out F');
    if (last < 1) throw usageError(`--last must be ≥ 1, got ${last}`);
    files = lastCheckpoints(run, last);
    out ??= defaultAveragePath(run, last);
  }
  const r = averageTranslationCheckpoints(files, out);
  io.stdout.write(`averaged ${r.inputs.length} checkpoint(s): ${r.inputs.join(', ')}\n`);
  io.stdout.write(
    `wrote ${r.out}: ${r.tensors} tensors, ${r.parameters.toLocaleString('en-US')} parameters (weights only: evaluates and serves, does not resume)${r.spmCopied ? '; copied spm.model/spm.vocab beside it' : ''}\n`,
  );
  return 0;
}

export const command = defineCommand({
  ...listed('mt average'),
  usage: '--run DIR --last N [--out FILE] | --inputs A B … --out FILE',
  flags: FLAGS,
  run: average,
});
