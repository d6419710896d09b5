// `resmlp mt train --config configs/mt/….json [--key value]`: parsing only; the run lives in
// src/mt/train/run.ts. Named flags cover the usual knobs; any other `--a.b.c value` sets that
// dotted key of the config (value parsed as JSON when it parses, else a string), and the config
// resolver rejects unknown keys. Ctrl-C stops at the next update and saves checkpoint_last.
import { applyOverrides, readConfigFile, setPath } from '../util/config.js';
import { parseArgs, usageError, type FlagSpec, type FlagValues } from './args.js';
import { defineCommand, interruptible, type CommandContext } from './command.js';
import { listed } from './commands.js';

const FLAGS: Record<string, FlagSpec> = {
  config: { type: 'string', alias: 'c', help: 'JSON config (configs/mt/*.json); flags override it' },
  data: { type: 'string', help: 'prepared dataset folder (data.dir)' },
  out: { type: 'string', alias: 'o', help: 'run folder: checkpoints, metrics.jsonl, plots/ (out)' },
  'max-tokens': { type: 'int', help: 'padded tokens per batch (data.maxTokens)' },
  'update-freq': { type: 'int', help: 'batches accumulated per update (trainer.updateFreq)' },
  optimizer: { type: 'string', help: 'adagrad | adam | adamw | lamb (trainer.optimizer)' },
  lr: { type: 'number', help: 'peak learning rate (trainer.schedule.lr)' },
  warmup: { type: 'int', help: 'linear warmup updates (trainer.schedule.warmupSteps)' },
  schedule: { type: 'string', help: 'inverse-sqrt | cosine | constant (trainer.schedule.name)' },
  'clip-norm': { type: 'number', help: 'gradient-norm clipping, 0 = off (trainer.clipNorm)' },
  epochs: { type: 'int', help: 'epochs (trainer.epochs)' },
  'max-updates': { type: 'int', help: 'stop after this many updates (trainer.maxUpdates)' },
  'max-time': { type: 'number', help: 'stop after this many seconds, saving a checkpoint (trainer.maxTimeSec)' },
  'time-budget': {
    type: 'number',
    help: 'fit the number of updates and the LR schedule to this many seconds, planned from the first epochs (trainer.timeBudgetSec)',
  },
  'validate-every': { type: 'int', help: 'validate every N updates, 0 = each epoch (trainer.validateEvery)' },
  'checkpoint-every': { type: 'int', help: 'numbered checkpoint every N updates, 0 = each epoch (trainer.checkpointEvery)' },
  'keep-last': { type: 'int', help: 'numbered checkpoints kept (trainer.keepLast)' },
  patience: { type: 'int', help: 'early stop after N validations without improvement (trainer.patience)' },
  'best-metric': { type: 'string', help: "'bleu' or 'loss' (trainer.bestMetric; sets maximize)" },
  'bleu-sentences': { type: 'int', help: 'validation sentences decoded for BLEU, 0 = all (validation.bleuSentences)' },
  'no-bleu': { type: 'boolean', help: 'validation loss/perplexity only (best by loss)' },
  seed: { type: 'int', help: 'data order and dropout seed (seed)' },
  backend: { type: 'string', help: 'auto | native | wasm | cpu | tensorflow (default: RESMLP_BACKEND or auto)' },
  fresh: { type: 'boolean', help: 'do not resume from checkpoint_last in --out (it is overwritten)' },
};

/** Flag → dotted config path. */
const PATHS: Record<string, string> = {
  data: 'data.dir',
  out: 'out',
  'max-tokens': 'data.maxTokens',
  'update-freq': 'trainer.updateFreq',
  optimizer: 'trainer.optimizer',
  lr: 'trainer.schedule.lr',
  warmup: 'trainer.schedule.warmupSteps',
  schedule: 'trainer.schedule.name',
  'clip-norm': 'trainer.clipNorm',
  epochs: 'trainer.epochs',
  'max-updates': 'trainer.maxUpdates',
  'max-time': 'trainer.maxTimeSec',
  'time-budget': 'trainer.timeBudgetSec',
  'validate-every': 'trainer.validateEvery',
  'checkpoint-every': 'trainer.checkpointEvery',
  'keep-last': 'trainer.keepLast',
  patience: 'trainer.patience',
  'bleu-sentences': 'validation.bleuSentences',
  seed: 'seed',
};

/**
 * The raw (unresolved) config: the --config file (with its `extends`), then the named flags, then
 * `--a.b.c value` overrides. The resolver (mt/train/config.ts) checks it.
 */
function rawConfig(flags: FlagValues, overrides: Record<string, string>): Record<string, unknown> {
  const raw = typeof flags.config === 'string' ? readConfigFile(flags.config) : {};
  for (const [flag, p] of Object.entries(PATHS)) if (flags[flag] !== undefined) setPath(raw, p, flags[flag], `--${flag}`);
  let bestMetric = flags['best-metric'];
  if (flags['no-bleu'] === true) {
    setPath(raw, 'validation.bleu', false, '--no-bleu');
    bestMetric ??= 'loss';
  }
  if (bestMetric !== undefined) {
    if (bestMetric !== 'bleu' && bestMetric !== 'loss')
      throw usageError(`--best-metric must be 'bleu' or 'loss', got '${String(bestMetric)}'`);
    setPath(raw, 'trainer.bestMetric', bestMetric, '--best-metric');
    setPath(raw, 'trainer.maximize', bestMetric === 'bleu', '--best-metric');
  }
  return applyOverrides(raw, overrides);
}

async function train({ flags, overrides, io }: CommandContext): Promise<number> {
  const { resolveMtTrainConfig } = await import('../mt/train/config.js');
  const cfg = resolveMtTrainConfig(rawConfig(flags, overrides));
  // under mpirun: join the job first (it sets each rank's default RESMLP_THREADS before the backend loads)
  const world = (await import('../train/distributed/mpi.js')).joinWorld();
  const { initBackend } = await import('../backend/choose.js');
  await initBackend(typeof flags.backend === 'string' ? flags.backend : undefined);
  const { runMtTraining } = await import('../mt/train/run.js');
  return interruptible(io, async (signal) => {
    const r = await runMtTraining(cfg, { signal, resume: flags.fresh !== true });
    const lv = r.lastValidation
      ? Object.entries(r.lastValidation)
          .map(([k, v]) => `${k} ${v.toFixed(k === 'bleu' ? 2 : 4)}`)
          .join(', ')
      : 'none';
    if (world.lead)
      io.stdout.write(
        `${r.stoppedBy}: ${r.updates} updates, ${r.epochsDone} epochs in ${(r.elapsedSec / 60).toFixed(1)} min; last validation: ${lv}; ` +
          `best ${r.best ? `${cfg.trainer.bestMetric} ${r.best.score.toFixed(4)} at update ${r.best.update}` : 'none'}; checkpoints in ${r.outDir}\n`,
      );
    return r.stoppedBy === 'interrupt' ? 130 : 0;
  });
}

export const command = defineCommand({
  ...listed('mt train'),
  usage: '--config FILE [--data DIR] [--out DIR] [options] [--a.b.c value ...]',
  flags: FLAGS,
  overrides: true,
  run: train,
});

/** The parsed flags (overrides under `__extra`) and the --config file's raw object, as the command sees them; for tests. */
export function configFromArgv(argv: string[]): { raw: Record<string, unknown>; flags: Record<string, unknown>; help: boolean } {
  const { flags, positionals, help, extra } = parseArgs(argv, FLAGS, { allowUnknown: true });
  if (help) return { raw: {}, flags, help };
  if (positionals.length > 0) throw usageError(`unexpected argument(s) ${positionals.join(' ')}`);
  const raw = typeof flags.config === 'string' ? readConfigFile(flags.config) : {};
  return { raw, flags: { ...flags, __extra: extra }, help };
}
