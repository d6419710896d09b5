// `resmlp mt tune --checkpoint C --src val.en --ref val.de [--lenpen 0.6,0.8,1,1.2,1.5,2] [--beam 4]
// [--out F | --dry-run]`: decode the validation set once per length penalty with the Translator
// (as `mt eval` does), print BLEU and BP for each, and store the best as the checkpoint's
// generation default (in place, replaced atomically; or a new checkpoint with --out). The work
// lives in src/mt/train/tune.ts. Parsing and output only.
import { usageError, type FlagSpec } from './args.js';
import { defineCommand, type CommandContext } from './command.js';
import { listed } from './commands.js';
import { MODEL_FLAGS, checkModelFlags, loadTranslator } from './mt-translate.js';
import type { Translator } from '../mt/translator.js';
import { UserError } from '../util/errors.js';

export const DEFAULT_LENPENS = '0.6,0.8,1,1.2,1.5,2';

const FLAGS: Record<string, FlagSpec> = {
  checkpoint: MODEL_FLAGS.checkpoint!,
  src: { type: 'string', help: 'validation source sentences, one a line' },
  ref: { type: 'string', help: 'their reference translations, one a line' },
  lenpen: { type: 'string', help: 'length penalties to try, comma-separated', default: DEFAULT_LENPENS },
  beam: { type: 'int', help: "beam size to tune for, stored with the lenpen (default: the checkpoint's)" },
  limit: { type: 'int', help: 'only the first N sentences (0 = all)', default: 0 },
  out: { type: 'string', alias: 'o', help: 'write the tuned checkpoint here instead of updating --checkpoint in place' },
  'dry-run': { type: 'boolean', help: 'print the table and the best value, store nothing' },
  json: { type: 'boolean', help: 'print one JSON object (trials, best, signature, where it was stored)' },
  'max-len-a': MODEL_FLAGS['max-len-a']!,
  'max-len-b': MODEL_FLAGS['max-len-b']!,
  'max-tokens': MODEL_FLAGS['max-tokens']!,
  backend: MODEL_FLAGS.backend!,
  threads: MODEL_FLAGS.threads!,
};

async function tune({ flags, io }: CommandContext): Promise<number> {
  checkModelFlags(flags);
  if (typeof flags.src !== 'string') throw usageError('--src is required');
  if (typeof flags.ref !== 'string') throw usageError('--ref is required');
  if ((flags.limit as number) < 0) throw usageError(`--limit must be ≥ 0, got ${flags.limit}`);
  if (flags['dry-run'] === true && flags.out !== undefined) throw usageError('--dry-run stores nothing; leave out --out');
  const { parseLenpens, storeTunedGeneration, tuneLenpen } = await import('../mt/train/tune.js');
  const { readLines } = await import('../mt/data/text-io.js');
  const lenpens = parseLenpens(flags.lenpen as string);
  const lines = (f: string) => Array.from(readLines(f), (l) => l.text);
  let src = lines(flags.src);
  let ref = lines(flags.ref);
  if (src.length !== ref.length)
    throw new UserError(`${flags.src} has ${src.length} lines but ${flags.ref} has ${ref.length}; they must be parallel`);
  const limit = flags.limit as number;
  if (limit > 0) {
    src = src.slice(0, limit);
    ref = ref.slice(0, limit);
  }
  if (src.length === 0) throw new UserError(`${flags.src} is empty`);

  let translator: Translator | null = null;
  try {
    translator = await loadTranslator({ ...flags, lenpen: undefined });
    const t = translator;
    const beamSize = t.generation.beamSize;
    const json = flags.json === true;
    if (!json)
      io.stdout.write(
        `decoding ${src.length} sentences of ${flags.src} with beam ${beamSize} for each of ${lenpens.length} length penalties\nlenpen    BLEU      BP   ratio   seconds\n`,
      );
    let t0 = performance.now();
    const r = await tuneLenpen(
      lenpens,
      async (lenpen) => (await t.translateDocuments(src, { lenpen, sentences: false })).map((d) => d.text),
      ref,
      {
        onTrial: (x) => {
          if (!json)
            io.stdout.write(
              `${String(x.lenpen).padEnd(6)} ${x.bleu.toFixed(2).padStart(7)} ${x.bp.toFixed(3).padStart(7)} ${x.ratio.toFixed(3).padStart(7)} ${((performance.now() - t0) / 1000).toFixed(1).padStart(9)}\n`,
            );
          t0 = performance.now();
        },
      },
    );
    const ckpt = flags.checkpoint as string;
    const out = (flags.out as string | undefined) ?? ckpt;
    const stored = flags['dry-run'] !== true;
    if (stored) {
      const tuning = {
        src: flags.src,
        ref: flags.ref,
        sentences: src.length,
        beamSize,
        trials: r.trials,
        signature: r.signature,
        date: new Date().toISOString(),
      };
      storeTunedGeneration(ckpt, { lenpen: r.best.lenpen, beamSize }, tuning, out);
    }
    if (json) {
      io.stdout.write(
        JSON.stringify({
          trials: r.trials,
          best: r.best,
          beamSize,
          sentences: src.length,
          signature: r.signature,
          stored: stored ? out : null,
        }) + '\n',
      );
    } else {
      io.stdout.write(
        `best: lenpen ${r.best.lenpen} (BLEU ${r.best.bleu.toFixed(2)}, BP ${r.best.bp.toFixed(3)}), beam ${beamSize}; BLEU|${r.signature}\n`,
      );
      if (!stored) io.stdout.write('dry run: nothing stored\n');
      else if (out === ckpt)
        io.stdout.write(
          `stored in ${ckpt} (generation.lenpen ${r.best.lenpen}, beamSize ${beamSize}; the file was replaced atomically, weights unchanged)\n`,
        );
      else io.stdout.write(`wrote ${out}: ${ckpt} with generation.lenpen ${r.best.lenpen}, beamSize ${beamSize}\n`);
    }
    return 0;
  } finally {
    translator?.dispose();
  }
}

export const command = defineCommand({
  ...listed('mt tune'),
  usage: '--checkpoint FILE --src SRC --ref REF [--lenpen 0.6,0.8,1,1.2,1.5,2] [--beam N] [--out FILE | --dry-run]',
  flags: FLAGS,
  run: tune,
});
