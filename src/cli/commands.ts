// The table of `resmlp` commands — name, one-line summary (the only place it is written: each
// definition takes it from here with listed()), lazy loader of its definition (so
// `resmlp bleu` never loads TensorFlow.js) — and dispatch, which finds the command named by the
// first words of argv and runs it (command.ts). A first word shared by several commands is a group
// (`resmlp vision`, `resmlp mt`): alone or with --help it lists its commands.
import { runCommand, withProcessIO, type CliIO, type Command } from './command.js';

export interface CommandEntry {
  name: string;
  summary: string;
  load: () => Promise<Command>;
}

export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'vision train',
    summary: 'train an image classifier from a JSON config (configs/vision/*.json)',
    load: async () => (await import('./vision.js')).train,
  },
  {
    name: 'vision eval',
    summary: "accuracy of a classifier checkpoint on a dataset's test set",
    load: async () => (await import('./vision.js')).evaluate,
  },
  { name: 'vision predict', summary: 'top-k classes of PNG images', load: async () => (await import('./vision.js')).predict },
  {
    name: 'vision tune',
    summary: 'learning-rate search on a held-out 20% split, then a full run with the best',
    load: async () => (await import('./vision.js')).tune,
  },
  {
    name: 'vision inspect',
    summary: 'cross-patch matrices as images (paper Fig. 2) and weight sparsity per layer (Fig. 3)',
    load: async () => (await import('./vision.js')).inspect,
  },
  {
    name: 'mt multi30k',
    summary: 'download (or --from DIR) Multi30k task 1 and prepare it',
    load: async () => (await import('./mt-prepare.js')).multi30k,
  },
  {
    name: 'mt wmt14',
    summary: 'download WMT14 En-De / En-Fr (resumable, checksummed) and prepare it',
    load: async () => (await import('./mt-prepare.js')).wmt14,
  },
  {
    name: 'mt prepare',
    summary: 'clean parallel text, learn SentencePiece, write a binary dataset',
    load: async () => (await import('./mt-prepare.js')).prepare,
  },
  {
    name: 'mt train',
    summary: 'train a translation model (resumes automatically from the run folder)',
    load: async () => (await import('./mt-train.js')).command,
  },
  {
    name: 'mt translate',
    summary: 'translate stdin to stdout with a trained checkpoint (beam search, n-best, --json)',
    load: async () => (await import('./mt-translate.js')).command,
  },
  {
    name: 'mt eval',
    summary: 'translate a test set and print sacreBLEU BLEU and chrF with signatures',
    load: async () => (await import('./mt-eval.js')).command,
  },
  {
    name: 'mt tune',
    summary: "pick the length penalty with the best validation BLEU and store it as the checkpoint's default",
    load: async () => (await import('./mt-tune.js')).command,
  },
  {
    name: 'mt average',
    summary: 'average the weights of the last N checkpoints of a run (or of given files)',
    load: async () => (await import('./mt-average.js')).command,
  },
  {
    name: 'mt quantize',
    summary: 'write the int8 checkpoint of a translation checkpoint (int8 linear layers, ~4× smaller)',
    load: async () => (await import('./mt-quantize.js')).command,
  },
  {
    name: 'serve',
    summary: 'HTTP + WebSocket translation server with dynamic batching and a demo page',
    load: async () => (await import('./serve.js')).command,
  },
  {
    name: 'bleu',
    summary: "BLEU / chrF / TER with sacreBLEU's numbers, signatures and flags",
    load: async () => (await import('./bleu.js')).command,
  },
];

/**
 * The name and summary of the command `name` as the table lists them, for its definition
 * (`defineCommand({ ...listed('mt eval'), usage, flags, run })`): the table is the one place a
 * summary is written. A name the table does not list is an error when its module loads.
 */
export function listed(name: string): { name: string; summary: string } {
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) throw new Error(`src/cli/commands.ts does not list a command '${name}'`);
  return { name: entry.name, summary: entry.summary };
}

/** The listing of `entries` under a usage line. */
function listing(usage: string, entries: readonly CommandEntry[], more: string): string {
  const w = Math.max(...entries.map((c) => c.name.length)) + 2;
  const lines = entries.map((c) => `  ${c.name.padEnd(w)} ${c.summary}`);
  return [`usage: ${usage}`, '', 'commands:', ...lines, '', more].join('\n') + '\n';
}

const isHelp = (w: string | undefined) => w === '--help' || w === '-h' || w === 'help';

/**
 * Runs the command named by the first words of `argv` with the rest; returns the exit code. Without
 * a command (or with --help) prints the list; an unknown one is a usage error (exit 2).
 */
export async function dispatch(argv: string[], io: Partial<CliIO> = {}, table: readonly CommandEntry[] = COMMANDS): Promise<number> {
  const full = withProcessIO(io);
  // the longest name that argv starts with ('mt train' rather than a group 'mt')
  const entry = [...table]
    .sort((a, b) => b.name.length - a.name.length)
    .find((c) => {
      const words = c.name.split(' ');
      return words.every((w, i) => argv[i] === w);
    });
  if (entry) return runCommand(await entry.load(), argv.slice(entry.name.split(' ').length), full);

  const [first, second] = argv;
  const group = table.filter((c) => c.name.startsWith(`${first} `));
  if (first !== undefined && group.length > 0) {
    const text = listing(`resmlp ${first} <command> [options]`, group, `resmlp ${first} <command> --help for its options`);
    if (second === undefined || isHelp(second)) {
      full.stdout.write(text);
      return second === undefined ? 2 : 0;
    }
    full.stderr.write(`resmlp ${first}: unknown subcommand '${second}'\n\n${text}`);
    return 2;
  }
  const text = listing('resmlp <command> [options]', table, 'resmlp <command> --help for its options');
  if (first === undefined || isHelp(first)) {
    full.stdout.write(text);
    return first === undefined ? 2 : 0;
  }
  full.stderr.write(`resmlp: unknown command '${first}'\n\n${text}`);
  return 2;
}
