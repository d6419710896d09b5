// `resmlp mt eval --checkpoint C --src test.en --ref test.de [--beam 4] [--tokenized-bleu]
// [--out hyp.txt]`: translate a test set with the Translator (src/mt/translator.ts) and score it
// with our sacreBLEU port (src/metrics): BLEU (13a) and chrF with their signatures, as
// `sacrebleu ref -i hyp -m bleu chrf` prints them; with --tokenized-bleu also the paper-style
// tokenized BLEU (Moses + compound split), labelled as such since it is not comparable with
// sacreBLEU. Reports decoding time and sentences/s. Parsing and I/O only.
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { usageError, type FlagSpec } from './args.js';
import { defineCommand, type CommandContext } from './command.js';
import { listed } from './commands.js';
import { MODEL_FLAGS, checkModelFlags, loadTranslator } from './mt-translate.js';
import type { Translator } from '../mt/translator.js';
import { UserError } from '../util/errors.js';

const FLAGS: Record<string, FlagSpec> = {
  ...MODEL_FLAGS,
  src: { type: 'string', help: 'source sentences, one a line' },
  ref: { type: 'string', help: 'reference translations, one a line (same count as --src)' },
  out: { type: 'string', alias: 'o', help: 'write the hypotheses (best of each) here, one a line' },
  'tokenized-bleu': { type: 'boolean', help: "also print tokenized BLEU (Moses + compound split; NOT sacreBLEU, papers' number)" },
  'tgt-lang': { type: 'string', help: "Moses language of the tokenized BLEU (default: the checkpoint's target language)" },
  limit: { type: 'int', help: 'only the first N sentences (0 = all)', default: 0 },
  'split-sentences': {
    type: 'boolean',
    help: 'translate each line sentence by sentence (default: a line is one unit, cut into pieces only when too long for the model)',
    default: false,
  },
  json: { type: 'boolean', help: 'print one JSON object with every score, signature and timing' },
  width: { type: 'int', alias: 'w', help: 'decimals of printed scores', default: 1 },
};

/** Lines of a text file (the last newline ends the last line; '\r\n' accepted). */
function readLines(path: string, role: string): string[] {
  if (!existsSync(path)) throw new UserError(`${role} file not found: ${path}`);
  if (statSync(path).isDirectory()) throw new UserError(`${role} path is a directory, expected a text file: ${path}`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(readFileSync(path));
  } catch {
    throw new UserError(`${role} file ${path} is not valid UTF-8`);
  }
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

async function evaluate({ flags, io }: CommandContext): Promise<number> {
  checkModelFlags(flags);
  if (typeof flags.src !== 'string') throw usageError('--src is required');
  if (typeof flags.ref !== 'string') throw usageError('--ref is required');
  if ((flags.limit as number) < 0) throw usageError(`--limit must be ≥ 0, got ${flags.limit}`);
  if ((flags.width as number) < 0) throw usageError(`--width must be ≥ 0, got ${flags.width}`);

  let translator: Translator | null = null;
  try {
    let src = readLines(flags.src as string, 'source');
    let ref = readLines(flags.ref as string, 'reference');
    if (src.length !== ref.length)
      throw new UserError(`${flags.src} has ${src.length} lines but ${flags.ref} has ${ref.length}; they must be parallel`);
    if (src.length === 0) throw new UserError(`${flags.src} is empty`);
    const limit = flags.limit as number;
    if (limit > 0) {
      src = src.slice(0, limit);
      ref = ref.slice(0, limit);
    }
    const { MOSES_LANGS, corpusBleu, corpusChrf, tokenizedBleu } = await import('../metrics/index.js');
    const { readMtCheckpointConfig } = await import('../mt/model/load.js');
    let tgtLang: string | undefined;
    if (flags['tokenized-bleu'] === true) {
      tgtLang =
        typeof flags['tgt-lang'] === 'string'
          ? flags['tgt-lang']
          : existsSync(flags.checkpoint as string)
            ? readMtCheckpointConfig(flags.checkpoint as string).langs.tgt
            : undefined;
      if (tgtLang !== undefined && !(MOSES_LANGS as readonly string[]).includes(tgtLang)) {
        throw new UserError(`tokenized BLEU: no Moses rules for language '${tgtLang}' (known: ${MOSES_LANGS.join(', ')}); pass --tgt-lang`);
      }
    }

    translator = await loadTranslator(flags, (l) => io.stderr.write(`[resmlp] ${l}\n`));
    const t0 = performance.now();
    const results = await translator.translateDocuments(src, { sentences: flags['split-sentences'] === true });
    const sec = (performance.now() - t0) / 1000;
    const hyps = results.map((r) => r.text);
    const cut = results.reduce((n, r) => n + r.cutSentences, 0);
    if (typeof flags.out === 'string') writeFileSync(flags.out, hyps.map((h) => h + '\n').join(''));

    const w = flags.width as number;
    const bleu = corpusBleu(hyps, [ref]);
    const chrf = corpusChrf(hyps, [ref]);
    const tok = tgtLang !== undefined ? tokenizedBleu(hyps, [ref], { lang: tgtLang as never }) : null;
    const g = translator.generation;
    const timing = {
      sentences: src.length,
      seconds: sec,
      sentencesPerSec: src.length / Math.max(sec, 1e-9),
      beam: g.beamSize,
      lenpen: g.lenpen,
      maxLenA: g.maxLenA,
      maxLenB: g.maxLenB,
    };
    if (flags.json === true) {
      const o: Record<string, unknown> = {
        bleu: { score: bleu.score, signature: bleu.signature, verbose: bleu.verboseScore },
        chrf: { score: chrf.score, signature: chrf.signature },
        ...(tok
          ? {
              tokenizedBleu: {
                score: tok.score,
                signature: tok.signature,
                note: 'Moses-tokenized + compound split; not comparable with sacreBLEU',
              },
            }
          : {}),
        cutTooLong: cut,
        ...timing,
      };
      io.stdout.write(JSON.stringify(o) + '\n');
    } else {
      io.stdout.write(bleu.format(w, false, bleu.signature) + '\n');
      io.stdout.write(chrf.format(w, false, chrf.signature) + '\n');
      if (tok)
        io.stdout.write(
          `${tok.format(w, false, tok.signature)}   (Moses-tokenized + compound split, as papers report; not comparable with sacreBLEU)\n`,
        );
      if (cut > 0)
        io.stdout.write(`note: ${cut} source sentence(s) too long for the model were translated in pieces (cut at clauses or words)\n`);
      io.stdout.write(
        `decoded ${src.length} sentences in ${sec.toFixed(1)} s (${timing.sentencesPerSec.toFixed(2)} sentences/s); beam ${g.beamSize}, lenpen ${g.lenpen}, max len ${g.maxLenA}·|src| + ${g.maxLenB}\n`,
      );
    }
    return 0;
  } finally {
    translator?.dispose();
  }
}

export const command = defineCommand({
  ...listed('mt eval'),
  usage: '--checkpoint FILE --src SRC --ref REF [--beam N] [--tokenized-bleu] [--out HYP] [--json]',
  flags: FLAGS,
  run: evaluate,
});
