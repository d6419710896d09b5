#!/usr/bin/env node
// The `resmlp` command: dispatches to one module per command (src/cli/<command>.ts). Parsing only
// lives in those modules; the work lives in src/.
import { readFileSync } from 'node:fs';

type Runner = (argv: string[]) => Promise<number>;

/** Commands: name → lazy loader (so `resmlp bleu` never loads TensorFlow.js). */
const COMMANDS: Record<string, { help: string; load: () => Promise<Runner> }> = {
  vision: { help: 'image classifiers: train | eval | predict | tune | inspect', load: async () => (await import('./vision.js')).run },
  'mt train': { help: 'train a translation model (resumes automatically from the run folder)', load: async () => (await import('./mt-train.js')).run },
  serve: { help: 'HTTP + WebSocket translation server with dynamic batching and a demo page', load: async () => (await import('./serve.js')).run },
  bleu: { help: 'BLEU / chrF / TER with sacreBLEU\'s numbers, signatures and flags', load: async () => (await import('./bleu.js')).run },
  'mt prepare': { help: 'clean parallel text, learn SentencePiece, write a binary dataset', load: async () => (await import('./mt-prepare.js')).run },
  'mt multi30k': { help: 'download (or --from DIR) Multi30k task 1 and prepare it', load: async () => (await import('./mt-prepare.js')).runMulti30k },
  'mt translate': { help: 'translate stdin to stdout with a trained checkpoint (beam search, n-best, --json)', load: async () => (await import('./mt-translate.js')).run },
  'mt eval': { help: 'translate a test set and print sacreBLEU BLEU and chrF with signatures', load: async () => (await import('./mt-eval.js')).run },
  'mt wmt14': { help: 'download WMT14 En-De / En-Fr (resumable, checksummed) and prepare it', load: async () => (await import('./mt-prepare.js')).runWmt14 },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(22)} ${c.help}`);
  return ['usage: resmlp <command> [options]', '', 'commands:', ...lines, '', 'resmlp <command> --help for its options'].join('\n');
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export async function main(argv: string[]): Promise<number> {
  const [first, second, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(usage() + '\n');
    return first === undefined ? 1 : 0;
  }
  if (first === '--version' || first === '-V') {
    process.stdout.write(version() + '\n');
    return 0;
  }
  // Two-word commands first ("vision train"), then one-word ones ("bleu").
  const two = second !== undefined ? `${first} ${second}` : '';
  const cmd = COMMANDS[two] ?? COMMANDS[first];
  if (cmd === undefined) {
    process.stderr.write(`resmlp: unknown command '${[first, second].filter(Boolean).join(' ')}'\n\n${usage()}\n`);
    return 2;
  }
  const args = COMMANDS[two] ? rest : argv.slice(1);
  const run = await cmd.load();
  return run(args);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`resmlp: ${err instanceof Error ? err.message : String(err)}\n`);
    if (process.env.RESMLP_DEBUG) console.error(err);
    process.exitCode = 1;
  },
);
