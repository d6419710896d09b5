// Language-identification bench: which npm identifier should place the source text of
// `source: "auto"` and POST /detect among the languages the server serves (en, de, fr here)?
// Measures, on the En/De/Fr Multi30k lines (test_2016_flickr + val), for eld, tinyld, franc and
// cld3-asm: accuracy restricted to {en, de, fr} (each library's own restriction), unrestricted
// top-1 accuracy, the same on short inputs (first 3 words, first 20 characters), sentences/s
// (single thread, after warm-up), load time and RSS growth in a fresh process, and the package's
// size on disk with its dependencies. Then it evaluates the server's own LanguageDetector
// (src/server/detect.ts): what it answers, how often it abstains, and how its confidence
// matches its hit rate. docs/langid.md holds a dated run.
//
//   node --import tsx bench/langid.ts [--json] [--limit N] [--seconds S] [--skip-detector]
// With --json the last stdout line is one JSON object with every number printed.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { formatHelp, parseArgs, type FlagSpec } from '../src/cli/args.js';

const SPEC: Record<string, FlagSpec> = {
  json: { type: 'boolean', help: 'print one JSON object with the results as the last line' },
  limit: { type: 'int', help: 'use only the first N lines of each file (default: all)' },
  seconds: { type: 'number', default: 1, help: 'timed seconds per library for sentences/s (after one warm-up pass)' },
  'load-runs': { type: 'int', default: 3, help: 'fresh processes per library for load time (median)' },
  'skip-detector': { type: 'boolean', help: 'measure the libraries only, not the server detector (src/server/detect.ts)' },
};

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MULTI30K = path.resolve(ROOT, '..', 'shared', 'data', 'multi30k');
const LANGS = ['en', 'de', 'fr'] as const;
const SPLITS = ['test_2016_flickr', 'val'];

interface Sample {
  text: string;
  lang: string;
  split: string;
}

/** The En/De/Fr lines of the Multi30k splits, each tagged with its language. */
function readSamples(limit?: number): Sample[] {
  const out: Sample[] = [];
  for (const split of SPLITS) {
    for (const lang of LANGS) {
      const file = path.join(MULTI30K, `${split}.${lang}`);
      if (!existsSync(file)) {
        throw new Error(
          `langid bench needs ${file} (Multi30k ${split}.${lang}, in ../shared/data/multi30k beside the repo); it is missing`,
        );
      }
      const lines = readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.trim().length > 0);
      for (const text of lines.slice(0, limit ?? lines.length)) out.push({ text, lang, split });
    }
  }
  return out;
}

/** The short-input variants of a line. */
const firstWords = (s: string, n: number) => s.trim().split(/\s+/).slice(0, n).join(' ');
const firstChars = (s: string, n: number) => Array.from(s).slice(0, n).join('');

/** One library (and data size) behind a common face: top-1 unrestricted, best among candidates. */
interface Adapter {
  name: string;
  /** npm package whose size (with dependencies) is reported. */
  pkg: string;
  /** How the candidate restriction is done. */
  restriction: string;
  /** Plain-ESM snippet for a fresh `node` process: load, detect once (defines nothing else). */
  loadSnippet: string;
  /** Top-1 over every language the library knows (ISO 639-1), or null when it does not answer. */
  top1(text: string): string | null;
  /** Best candidate among LANGS, or null. */
  restricted(text: string): string | null;
}

const ISO3_TO_1: Record<string, string> = { eng: 'en', deu: 'de', fra: 'fr' };

async function adapters(): Promise<Adapter[]> {
  const out: Adapter[] = [];
  for (const size of ['large', 'medium', 'small', 'extrasmall'] as const) {
    const mod = (await import(`eld/${size}`)) as typeof import('eld');
    const all = mod.eld.newInstance();
    const sub = mod.eld.newInstance();
    sub.setLanguageSubset([...LANGS]);
    out.push({
      name: `eld ${size}`,
      pkg: 'eld',
      restriction: 'setLanguageSubset',
      loadSnippet: `const { eld } = await import('eld/${size}'); eld.detect('A man sleeping on a couch.');`,
      top1: (t) => all.detect(t).language || null,
      restricted: (t) => sub.detect(t).language || null,
    });
  }
  for (const variant of ['normal', 'heavy'] as const) {
    const spec = variant === 'normal' ? 'tinyld' : 'tinyld/heavy';
    const mod = (await import(spec)) as typeof import('tinyld');
    out.push({
      name: `tinyld ${variant}`,
      pkg: 'tinyld',
      restriction: 'only',
      loadSnippet: `const { detectAll } = await import('${spec}'); detectAll('A man sleeping on a couch.');`,
      top1: (t) => mod.detectAll(t)[0]?.lang ?? null,
      restricted: (t) => mod.detectAll(t, { only: [...LANGS] })[0]?.lang ?? null,
    });
  }
  {
    const { francAll } = await import('franc');
    // minLength 1: franc's default (10) answers `und` below 10 characters; abstaining is the
    // server detector's rule to make, so every library is asked to answer every input.
    const only = Object.keys(ISO3_TO_1);
    out.push({
      name: 'franc',
      pkg: 'franc',
      restriction: 'only (ISO 639-3)',
      loadSnippet: `const { francAll } = await import('franc'); francAll('A man sleeping on a couch.');`,
      top1: (t) => {
        const c = francAll(t, { minLength: 1 })[0]![0];
        return c === 'und' ? null : (ISO3_TO_1[c] ?? c);
      },
      restricted: (t) => {
        const c = francAll(t, { minLength: 1, only })[0]![0];
        return c === 'und' ? null : (ISO3_TO_1[c] ?? c);
      },
    });
  }
  {
    const { loadModule } = await import('cld3-asm');
    // minBytes 0: the default (140) answers `und` for every caption.
    const cld = (await loadModule()).create(0, 1000);
    out.push({
      name: 'cld3-asm',
      pkg: 'cld3-asm',
      restriction: 'first candidate of top-3 (no option)',
      loadSnippet: `const { loadModule } = await import('cld3-asm'); (await loadModule()).create(0, 1000).findLanguage('A man sleeping on a couch.');`,
      top1: (t) => {
        const l = cld.findLanguage(t).language as string;
        return l === 'und' ? null : l;
      },
      // cld3-asm exposes no per-language scores: findMostFrequentLanguages lists the languages of
      // the text's script spans, so for one sentence it is usually just the top-1.
      restricted: (t) => {
        for (const r of cld.findMostFrequentLanguages(t, 3)) if ((LANGS as readonly string[]).includes(r.language)) return r.language;
        return null;
      },
    });
  }
  return out;
}

const INPUTS: { key: string; label: string; map: (s: string) => string }[] = [
  { key: 'full', label: 'full line', map: (s) => s },
  { key: 'words3', label: 'first 3 words', map: (s) => firstWords(s, 3) },
  { key: 'chars20', label: 'first 20 chars', map: (s) => firstChars(s, 20) },
];

type Accuracy = Record<string, { restricted: number; unrestricted: number }>;

function accuracy(a: Adapter, samples: Sample[]): Accuracy {
  const out: Accuracy = {};
  for (const inp of INPUTS) {
    let r = 0;
    let u = 0;
    for (const s of samples) {
      const t = inp.map(s.text);
      if (a.restricted(t) === s.lang) r++;
      if (a.top1(t) === s.lang) u++;
    }
    out[inp.key] = { restricted: r / samples.length, unrestricted: u / samples.length };
  }
  return out;
}

/** Restricted detections per second on full lines: one warm-up pass, then passes until `seconds`. */
function speed(a: Adapter, texts: string[], seconds: number): number {
  for (const t of texts) a.restricted(t);
  let n = 0;
  const t0 = performance.now();
  do {
    for (const t of texts) a.restricted(t);
    n += texts.length;
  } while (performance.now() - t0 < seconds * 1000);
  return n / ((performance.now() - t0) / 1000);
}

/** Median load time (import + first detection) and RSS growth, each in a fresh process. */
function loadCost(a: Adapter, runs: number): { loadMs: number; rssMb: number } {
  const code = `const r0 = process.memoryUsage().rss; const t0 = performance.now(); ${a.loadSnippet} const ms = performance.now() - t0; console.log(JSON.stringify({ ms, rss: process.memoryUsage().rss - r0 }));`;
  const ms: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`loading ${a.name} in a fresh node process failed (exit ${r.status}): ${r.stderr.trim()}`);
    const j = JSON.parse(r.stdout.trim().split('\n').pop()!) as { ms: number; rss: number };
    ms.push(j.ms);
    rss.push(j.rss / 2 ** 20);
  }
  const median = (v: number[]) => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)]!;
  return { loadMs: median(ms), rssMb: median(rss) };
}

function dirBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) n += dirBytes(p);
    else if (e.isFile()) n += statSync(p).size;
  }
  return n;
}

/** Bytes on disk of an installed package and its runtime dependencies (each counted once). */
function packageBytes(pkg: string, from = path.join(ROOT, 'node_modules'), seen = new Set<string>()): number {
  // Resolve like node: nested node_modules first, then the top level.
  const dir = [path.join(from, pkg), path.join(ROOT, 'node_modules', pkg)].find((d) => existsSync(path.join(d, 'package.json')));
  if (!dir) throw new Error(`package ${pkg} is not installed under ${from} or ${path.join(ROOT, 'node_modules')}; run npm install`);
  if (seen.has(dir)) return 0;
  seen.add(dir);
  let n = dirBytes(dir);
  // The dir's own nested node_modules were counted with it; walk dependencies for the hoisted ones.
  const deps = Object.keys(
    (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> }).dependencies ?? {},
  );
  for (const d of deps) if (!existsSync(path.join(dir, 'node_modules', d))) n += packageBytes(d, path.join(dir, 'node_modules'), seen);
  return n;
}

function version(pkg: string): string {
  return (JSON.parse(readFileSync(path.join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
}

/** Inputs of the server-detector section: the table's three, and one and two words. */
const DETECTOR_INPUTS = [
  ...INPUTS,
  { key: 'words2', label: 'first 2 words', map: (s: string) => firstWords(s, 2) },
  { key: 'words1', label: 'first word', map: (s: string) => firstWords(s, 1) },
];

/**
 * The softmax temperature over eld's candidate scores that minimises the negative log-likelihood
 * of the true language on `samples` (every DETECTOR_INPUTS variant), among the texts eld places
 * reliably: how src/server/detect.ts's TEMPERATURE was chosen.
 */
async function fitTemperature(samples: Sample[]): Promise<{ temperature: number; nll: number; texts: number }> {
  const { eld } = await import('eld/small');
  const d = eld.newInstance();
  d.setLanguageSubset([...LANGS]);
  d.enableTextCleanup(true);
  const rows: { scores: number[]; truth: number }[] = [];
  for (const s of samples) {
    for (const inp of DETECTOR_INPUTS) {
      const r = d.detect(inp.map(s.text));
      if (r.language === '' || !r.isReliable()) continue;
      const sc = r.getScores();
      rows.push({ scores: LANGS.map((l) => sc[l] ?? 0), truth: LANGS.indexOf(s.lang as (typeof LANGS)[number]) });
    }
  }
  let best = { temperature: NaN, nll: Infinity, texts: rows.length };
  for (let i = 0; i <= 300; i++) {
    const t = 0.002 * 250 ** (i / 300); // 0.002 .. 0.5, log-spaced
    let nll = 0;
    for (const { scores, truth } of rows) {
      const m = Math.max(...scores);
      const z = scores.reduce((a, x) => a + Math.exp((x - m) / t), 0);
      nll -= (scores[truth]! - m) / t - Math.log(z);
    }
    nll /= rows.length;
    if (nll < best.nll) best = { temperature: t, nll, texts: rows.length };
  }
  return best;
}

/** The server's detector: what it answers, how often it abstains, and confidence vs hit rate. */
async function evaluateDetector(samples: Sample[]) {
  const { LanguageDetector, TEMPERATURE, MIN_CONFIDENCE } = await import('../src/server/detect.js');
  const det = await LanguageDetector.create([...LANGS]);
  // The same detector without rule 3, to show how answers below the threshold would fare.
  const all = await LanguageDetector.create([...LANGS], { minConfidence: 0 });
  const perInput: Record<string, { answered: number; correctOfAnswered: number; correctOfAll: number; meanConfidence: number }> = {};
  const edges = [0, 50, MIN_CONFIDENCE, 70, 80, 90, 99, 100.01];
  const bins = edges.slice(0, -1).map((lo, i) => ({ lo, hi: edges[i + 1]!, n: 0, hits: 0, conf: 0 }));
  for (const inp of DETECTOR_INPUTS) {
    let answered = 0;
    let hits = 0;
    let conf = 0;
    for (const s of samples) {
      const text = inp.map(s.text);
      const a = all.detect(text);
      if (a.length > 0) {
        const b = bins.find((x) => a[0]!.confidence >= x.lo && a[0]!.confidence < x.hi)!;
        b.n++;
        b.conf += a[0]!.confidence;
        if (a[0]!.language === s.lang) b.hits++;
      }
      const d = det.detect(text);
      if (d.length === 0) continue;
      answered++;
      if (d[0]!.language === s.lang) hits++;
      conf += d[0]!.confidence;
    }
    perInput[inp.key] = {
      answered: answered / samples.length,
      correctOfAnswered: hits / Math.max(1, answered),
      correctOfAll: hits / samples.length,
      meanConfidence: conf / Math.max(1, answered),
    };
  }
  const texts = samples.map((s) => s.text);
  for (const t of texts) det.detect(t);
  const t0 = performance.now();
  for (const t of texts) det.detect(t);
  const perSecond = texts.length / ((performance.now() - t0) / 1000);
  const range = (b: (typeof bins)[number]) => (b.hi > 100 ? `[${b.lo}, 100]` : `[${b.lo}, ${b.hi})`);
  return {
    temperature: TEMPERATURE,
    minConfidence: MIN_CONFIDENCE,
    perInput,
    bins: bins.map((b) => ({ range: range(b), n: b.n, hitRate: b.n ? b.hits / b.n : null, meanConfidence: b.n ? b.conf / b.n : null })),
    perSecond,
  };
}

const pct = (x: number) => `${(100 * x).toFixed(1)}`;

async function main(): Promise<void> {
  const { flags, help } = parseArgs(process.argv.slice(2), SPEC);
  if (help) {
    process.stdout.write(formatHelp('usage: node --import tsx bench/langid.ts [options]', SPEC));
    return;
  }
  const samples = readSamples(flags.limit as number | undefined);
  const seconds = flags.seconds as number;
  console.log(
    `langid bench: ${samples.length} lines (Multi30k ${SPLITS.join(' + ')}, ${LANGS.join('/')}); node ${process.version}; candidates {${LANGS.join(', ')}}`,
  );
  console.log('accuracy in % (restricted to the candidates / unrestricted top-1); speed on full lines, restricted\n');
  console.log(
    '| library | version | restriction | full: restr. | full: top-1 | 3 words: restr. | 3 words: top-1 | 20 chars: restr. | 20 chars: top-1 | sentences/s | load ms | RSS +MB | package MB |',
  );
  console.log('| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  const rows = [];
  for (const a of await adapters()) {
    const acc = accuracy(a, samples);
    const sps = speed(
      a,
      samples.map((s) => s.text),
      seconds,
    );
    const load = loadCost(a, flags['load-runs'] as number);
    const mb = packageBytes(a.pkg) / 1e6;
    const row = {
      library: a.name,
      version: version(a.pkg),
      restriction: a.restriction,
      accuracy: acc,
      sentencesPerSecond: sps,
      ...load,
      packageMb: mb,
    };
    rows.push(row);
    const cells = INPUTS.flatMap((i) => [pct(acc[i.key]!.restricted), pct(acc[i.key]!.unrestricted)]);
    console.log(
      `| ${a.name} | ${row.version} | ${a.restriction} | ${cells.join(' | ')} | ${Math.round(sps)} | ${load.loadMs.toFixed(0)} | ${load.rssMb.toFixed(0)} | ${mb.toFixed(1)} |`,
    );
  }

  if (flags['skip-detector']) {
    if (flags.json) console.log(JSON.stringify({ lines: samples.length, node: process.version, libraries: rows }));
    return;
  }
  const fit = await fitTemperature(samples.filter((s) => s.split === 'val'));
  const test = samples.filter((s) => s.split === 'test_2016_flickr');
  const det = await evaluateDetector(test);
  console.log(
    `\nserver detector (src/server/detect.ts: eld small, candidates {en, de, fr}, temperature ${det.temperature}, answers [] below confidence ${det.minConfidence})`,
  );
  console.log(
    `temperature fit on val (${fit.texts} reliably placed inputs, all five kinds): NLL-optimal ${fit.temperature.toFixed(4)} (NLL ${fit.nll.toFixed(4)})`,
  );
  console.log(`on test_2016_flickr (${test.length} lines, held out from the fit):\n`);
  console.log('| input | answered % | right of answered % | right of all % | mean confidence |');
  console.log('| --- | ---: | ---: | ---: | ---: |');
  for (const inp of DETECTOR_INPUTS) {
    const p = det.perInput[inp.key]!;
    console.log(
      `| ${inp.label} | ${pct(p.answered)} | ${pct(p.correctOfAnswered)} | ${pct(p.correctOfAll)} | ${p.meanConfidence.toFixed(1)} |`,
    );
  }
  console.log(
    `\nconfidence of the top answer vs how often it is right, without the threshold (test, all five inputs pooled; [] below ${det.minConfidence})\n`,
  );
  console.log('| confidence | answers | right % | mean confidence |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const b of det.bins)
    console.log(
      `| ${b.range} | ${b.n} | ${b.hitRate === null ? '–' : pct(b.hitRate)} | ${b.meanConfidence === null ? '–' : b.meanConfidence.toFixed(1)} |`,
    );
  console.log(`\nserver detector speed: ${Math.round(det.perSecond)} sentences/s (full lines, one pass after warm-up)`);

  if (flags.json)
    console.log(JSON.stringify({ lines: samples.length, node: process.version, libraries: rows, temperatureFit: fit, detector: det }));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
  });
}
