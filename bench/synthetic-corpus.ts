// A synthetic parallel corpus of WMT14 size, for measuring the data path at scale (issue 21;
// results in docs/wmt14-scale.md): each pair joins k ∈ {1, …, maxJoin} random Multi30k training
// pairs (source sides joined with a space, target sides likewise, so every pair is still a
// translation), k uniform. With maxJoin 3 a pair averages about 2 captions, ~24 words a side,
// near WMT14 En-De's mean sentence length. Deterministic in the seed; written line by line (the
// 29,000 Multi30k pairs are the only thing held in memory). Reads ../shared/data/multi30k, which
// is never committed; the output goes wherever --out says (under /tmp or the git-ignored data/).
// Standalone: node --import tsx bench/synthetic-corpus.ts --pairs 4500000 --out DIR
//             [--src en --tgt de] [--max-join 3] [--seed 1]
// Writes DIR/train.<src>, DIR/train.<tgt> (and prints their line count and bytes).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatHelp, parseArgs, type FlagSpec } from '../src/cli/args.js';
import { LineWriter, readLines } from '../src/mt/data/text-io.js';
import { Rng } from '../src/util/rng.js';
import { sharedPath } from '../src/util/paths.js';

export interface SyntheticCorpusOptions {
  /** Pairs to write. */
  pairs: number;
  /** Output folder (created). */
  out: string;
  /** Language codes: Multi30k's train.<src> / train.<tgt>. Default en, de. */
  src: string;
  tgt: string;
  /** Largest number of Multi30k pairs joined into one. Default 3. */
  maxJoin: number;
  /** Seed of the choices. Default 1. */
  seed: number;
  /** Folder of the Multi30k files (default ../shared/data/multi30k). */
  from?: string;
}

function readAll(file: string): string[] {
  const lines: string[] = [];
  for (const l of readLines(file)) lines.push(l.text);
  return lines;
}

/** Writes the corpus; returns the files and their sizes. */
export function writeSyntheticCorpus(o: SyntheticCorpusOptions): { src: string; tgt: string; bytes: number } {
  if (!Number.isInteger(o.pairs) || o.pairs < 1) throw new Error(`--pairs must be a positive integer, got ${o.pairs}`);
  if (!Number.isInteger(o.maxJoin) || o.maxJoin < 1) throw new Error(`--max-join must be a positive integer, got ${o.maxJoin}`);
  const file = (lang: string) => (o.from ? path.join(o.from, `train.${lang}`) : sharedPath('data', 'multi30k', `train.${lang}`));
  const srcLines = readAll(file(o.src));
  const tgtLines = readAll(file(o.tgt));
  if (srcLines.length !== tgtLines.length)
    throw new Error(`${file(o.src)} has ${srcLines.length} lines, ${file(o.tgt)} ${tgtLines.length}`);
  const n = srcLines.length;
  fs.mkdirSync(o.out, { recursive: true });
  const srcOut = path.join(o.out, `train.${o.src}`);
  const tgtOut = path.join(o.out, `train.${o.tgt}`);
  const ws = new LineWriter(srcOut);
  const wt = new LineWriter(tgtOut);
  const rng = new Rng(o.seed);
  const s: string[] = [];
  const t: string[] = [];
  try {
    for (let p = 0; p < o.pairs; p++) {
      const k = 1 + rng.int(o.maxJoin);
      s.length = 0;
      t.length = 0;
      for (let j = 0; j < k; j++) {
        const i = rng.int(n);
        s.push(srcLines[i]!);
        t.push(tgtLines[i]!);
      }
      ws.write(s.join(' '));
      wt.write(t.join(' '));
    }
  } finally {
    ws.close();
    wt.close();
  }
  return { src: srcOut, tgt: tgtOut, bytes: fs.statSync(srcOut).size + fs.statSync(tgtOut).size };
}

const SPEC: Record<string, FlagSpec> = {
  pairs: { type: 'int', help: 'pairs to write', default: 4_500_000 },
  out: { type: 'string', help: 'output folder (train.<src>, train.<tgt>)' },
  src: { type: 'string', help: 'source language of Multi30k', default: 'en' },
  tgt: { type: 'string', help: 'target language of Multi30k', default: 'de' },
  'max-join': { type: 'int', help: 'join 1..N Multi30k pairs into one', default: 3 },
  seed: { type: 'int', help: 'seed of the choices', default: 1 },
  from: { type: 'string', help: 'folder of Multi30k train.<lang> files (default ../shared/data/multi30k)' },
};
const USAGE = 'usage: node --import tsx bench/synthetic-corpus.ts --pairs 4500000 --out DIR [options]';

function main(): void {
  const { flags, help, positionals } = parseArgs(process.argv.slice(2), SPEC);
  if (help) {
    process.stdout.write(formatHelp(USAGE, SPEC));
    return;
  }
  if (positionals.length > 0 || typeof flags.out !== 'string') {
    process.stderr.write(`error: --out is required\n\n${formatHelp(USAGE, SPEC)}`);
    process.exitCode = 2;
    return;
  }
  const t0 = Date.now();
  const r = writeSyntheticCorpus({
    pairs: flags.pairs as number,
    out: flags.out,
    src: flags.src as string,
    tgt: flags.tgt as string,
    maxJoin: flags['max-join'] as number,
    seed: flags.seed as number,
    ...(typeof flags.from === 'string' ? { from: flags.from } : {}),
  });
  process.stdout.write(
    `wrote ${(flags.pairs as number).toLocaleString('en-US')} pairs to ${r.src} and ${r.tgt} ` +
      `(${(r.bytes / 2 ** 20).toFixed(0)} MiB) in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`,
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
