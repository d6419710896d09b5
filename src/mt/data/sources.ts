// Public corpora: where they live, what is inside, and fetchers that turn them into plain
// line-aligned files (train/valid/test × src/tgt) for prepare.ts.
//
// Multi30k task 1 (Elliott et al. 2016): the multi30k/dataset GitHub repository,
//   data/task1/raw/{train,val,test_2016_flickr}.{en,de,fr}.gz (29,000 / 1,014 / 1,000 lines).
//   No checksums are published: the sha256 of the first download is recorded and checked later.
//   Offline, the download fails after its retries with a message that says how to give local
//   files instead (--from DIR; the quick start's MULTI30K_FROM).
//
// WMT14 (Bojar et al. 2014, statmt.org/wmt14/translation-task.html), the data of fairseq's
// prepare-wmt14en2de.sh / prepare-wmt14en2fr.sh:
//   train En-De: Europarl v7 + Common Crawl + News Commentary v9 (~4.5M pairs)
//   train En-Fr: the same + UN (undoc.2000) + 10^9 French-English (giga-fren) (~36M pairs)
//   valid: newstest2013 (dev.tgz, SGML)   test: newstest2014 (test-full.tgz, SGML, 3003 lines)
// Published checksums we found (third-party, by the URL below): Europarl v7 and Common Crawl
// sha256 (download scripts of independent projects, the Europarl one in two of them),
// test-full.tgz md5 (sacrebleu's dataset table). None for News Commentary v9, UN, giga-fren and
// dev.tgz: their sha256 is recorded at first download and verified on every reuse.
// WMT14_DEFAULTS: the preparation options of those recipes (40k joint subwords, ratio 1.5).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { download, DownloadError, type DownloadSpec } from './download.js';
import { extractTar, gunzipFile, sgmlToText, concatFiles } from './extract.js';
import { countLines } from './text-io.js';
import type { PrepareInputs, PrepareOptions } from './prepare.js';
import { UserError } from '../../util/errors.js';

export class SourceError extends UserError {
  constructor(message: string) {
    super(message, 'invalid_data');
  }
}

type Log = (line: string) => void;
const stderrLog: Log = (s) => process.stderr.write(s + '\n');

// ---------------------------------------------------------------------------------------------
// Multi30k

export const MULTI30K_BASE_URL = 'https://raw.githubusercontent.com/multi30k/dataset/master/data/task1/raw';
export const MULTI30K_LANGS = ['en', 'de', 'fr'] as const;
/** Our split name → the file stem in the repository. */
export const MULTI30K_SPLITS = { train: 'train', valid: 'val', test: 'test_2016_flickr' } as const;

export interface Multi30kOptions {
  src: string;
  tgt: string;
  /** Use local files instead of downloading: `<from>/<stem>.<lang>` or `<stem>.<lang>.gz`. */
  from?: string;
  /** Download base URL (default MULTI30K_BASE_URL). */
  baseUrl?: string;
  log?: Log;
}

/** What a failed Multi30k download adds: how to give the files instead (offline, behind a proxy). */
export const MULTI30K_LOCAL_HINT =
  'to use local files instead, pass --from DIR: a folder with train, val and test_2016_flickr .en/.de/.fr files (or .gz), ' +
  'e.g. data/task1/raw of a clone of github.com/multi30k/dataset; the quick start takes it as MULTI30K_FROM=DIR bash scripts/quickstart.sh';

function checkLang(lang: string, allowed: readonly string[], what: string): void {
  if (!allowed.includes(lang))
    throw new SourceError(`${what} language ${JSON.stringify(lang)} is not available; choose one of ${allowed.join(', ')}`);
}

/** Multi30k as plain files in `rawDir` (or straight from `from`), ready for prepareDataset. */
export async function fetchMulti30k(rawDir: string, opt: Multi30kOptions): Promise<PrepareInputs> {
  const log = opt.log ?? stderrLog;
  checkLang(opt.src, MULTI30K_LANGS, 'source');
  checkLang(opt.tgt, MULTI30K_LANGS, 'target');
  if (opt.src === opt.tgt) throw new SourceError(`source and target language are both ${opt.src}`);
  fs.mkdirSync(rawDir, { recursive: true });
  const file = async (stem: string, lang: string): Promise<string> => {
    const name = `${stem}.${lang}`;
    if (opt.from) {
      const plain = path.join(opt.from, name);
      if (fs.existsSync(plain)) return plain;
      const gz = `${plain}.gz`;
      if (fs.existsSync(gz)) {
        const out = path.join(rawDir, name);
        if (!fs.existsSync(out)) await gunzipFile(gz, out);
        return out;
      }
      throw new SourceError(`--from ${opt.from}: neither ${plain} nor ${gz} exists`);
    }
    const out = path.join(rawDir, name);
    const spec: DownloadSpec = { url: `${opt.baseUrl ?? MULTI30K_BASE_URL}/${name}.gz`, file: `${name}.gz` };
    let got: Awaited<ReturnType<typeof download>>;
    try {
      got = await download(spec, path.join(rawDir, 'downloads'), { log });
    } catch (e) {
      if (e instanceof DownloadError) throw new DownloadError(`${e.message}\n${MULTI30K_LOCAL_HINT}`);
      throw e;
    }
    if (got.downloaded || !fs.existsSync(out)) await gunzipFile(got.path, out);
    return out;
  };
  const pair = async (stem: string) => ({ src: await file(stem, opt.src), tgt: await file(stem, opt.tgt) });
  return {
    train: await pair(MULTI30K_SPLITS.train),
    valid: await pair(MULTI30K_SPLITS.valid),
    test: await pair(MULTI30K_SPLITS.test),
    srcLang: opt.src,
    tgtLang: opt.tgt,
  };
}

// ---------------------------------------------------------------------------------------------
// WMT14

export type Wmt14Archive = 'europarl_v7' | 'commoncrawl' | 'news_commentary_v9' | 'un' | 'giga_fren' | 'dev' | 'test';

export interface ArchiveInfo extends DownloadSpec {
  /** Members to extract for foreign language x ∈ {de, fr}: [x-side, en-side] (train) or by direction (dev/test). */
  members: (x: string, src: string, tgt: string) => [string, string];
  /** Members are gzip files (giga-fren). */
  gzMembers?: boolean;
}

const EUROPARL_SHA = '0224c7c710c8a063dfd893b0cc0830202d61f4c75c17eb8e31836103d27d96e7';
const COMMONCRAWL_SHA = 'c7a74e2ea01ac6c920123108627e35278d4ccb5701e15428ffa34de86fa3a9e5';

export const WMT14_ARCHIVES: Record<Wmt14Archive, ArchiveInfo> = {
  europarl_v7: {
    url: 'http://www.statmt.org/wmt13/training-parallel-europarl-v7.tgz',
    file: 'training-parallel-europarl-v7.tgz',
    sha256: EUROPARL_SHA,
    checksumSource: 'third-party download scripts (e.g. pylightnix-based WMT fetchers)',
    members: (x) => [`training/europarl-v7.${x}-en.${x}`, `training/europarl-v7.${x}-en.en`],
  },
  commoncrawl: {
    url: 'http://www.statmt.org/wmt13/training-parallel-commoncrawl.tgz',
    file: 'training-parallel-commoncrawl.tgz',
    sha256: COMMONCRAWL_SHA,
    checksumSource: 'a third-party download script (pylightnix-based WMT fetcher)',
    members: (x) => [`commoncrawl.${x}-en.${x}`, `commoncrawl.${x}-en.en`],
  },
  news_commentary_v9: {
    url: 'http://www.statmt.org/wmt14/training-parallel-nc-v9.tgz',
    file: 'training-parallel-nc-v9.tgz',
    members: (x) => [`training/news-commentary-v9.${x}-en.${x}`, `training/news-commentary-v9.${x}-en.en`],
  },
  un: {
    url: 'http://www.statmt.org/wmt13/training-parallel-un.tgz',
    file: 'training-parallel-un.tgz',
    members: (x) => [`un/undoc.2000.${x}-en.${x}`, `un/undoc.2000.${x}-en.en`],
  },
  giga_fren: {
    url: 'http://www.statmt.org/wmt10/training-giga-fren.tar',
    file: 'training-giga-fren.tar',
    members: () => ['giga-fren.release2.fixed.fr.gz', 'giga-fren.release2.fixed.en.gz'],
    gzMembers: true,
  },
  dev: {
    url: 'http://www.statmt.org/wmt14/dev.tgz',
    file: 'dev.tgz',
    members: (_x, src, tgt) => [`dev/newstest2013-src.${src}.sgm`, `dev/newstest2013-ref.${tgt}.sgm`],
  },
  test: {
    url: 'http://www.statmt.org/wmt14/test-full.tgz',
    file: 'test-full.tgz',
    md5: 'a8cd784e006feb32ac6f3d9ec7eb389a',
    checksumSource: "sacrebleu's dataset table (wmt14/full)",
    members: (x, src, tgt) => [`test-full/newstest2014-${x}en-src.${src}.sgm`, `test-full/newstest2014-${x}en-ref.${tgt}.sgm`],
  },
};

/** fairseq's prepare-wmt14en2de.sh: 40k joint subwords, clean-corpus-n -ratio 1.5, lengths ≤ 250. */
export const WMT14_DEFAULTS: Readonly<Partial<PrepareOptions>> = { vocabSize: 40000, maxRatio: 1.5, maxLen: 250 };

/** Training corpora per foreign language (fairseq's recipes). */
export const WMT14_TRAIN: Record<'de' | 'fr', Wmt14Archive[]> = {
  de: ['europarl_v7', 'commoncrawl', 'news_commentary_v9'],
  fr: ['europarl_v7', 'commoncrawl', 'news_commentary_v9', 'un', 'giga_fren'],
};

export interface Wmt14Options {
  /** en→de, de→en, en→fr or fr→en. */
  src: string;
  tgt: string;
  /** Replace entries of the source table (e.g. a mirror's URL; tests use a local server). */
  archives?: Partial<Record<Wmt14Archive, Partial<ArchiveInfo>>>;
  log?: Log;
}

/** WMT14 as plain line-aligned files in `rawDir` (downloads in `<rawDir>/downloads`). */
export async function fetchWmt14(rawDir: string, opt: Wmt14Options): Promise<PrepareInputs> {
  const log = opt.log ?? stderrLog;
  const { src, tgt } = opt;
  const x = src === 'en' ? tgt : src;
  if (!((src === 'en' || tgt === 'en') && (x === 'de' || x === 'fr') && src !== tgt)) {
    throw new SourceError(`WMT14 pairs here are en-de and en-fr (either direction); got ${src}→${tgt}`);
  }
  const foreign = x as 'de' | 'fr';
  const table = (k: Wmt14Archive): ArchiveInfo => ({ ...WMT14_ARCHIVES[k], ...(opt.archives?.[k] ?? {}) });
  const dl = path.join(rawDir, 'downloads');
  const ex = path.join(rawDir, 'extracted');
  fs.mkdirSync(ex, { recursive: true });

  /** Downloads and extracts one archive; returns [src-side file, tgt-side file]. */
  const get = async (k: Wmt14Archive): Promise<[string, string]> => {
    const info = table(k);
    const got = await download(info, dl, { log });
    const dir = path.join(ex, k);
    const members = info.members(foreign, src, tgt);
    const stamp = path.join(dir, '.extracted');
    const expectedStamp = `${got.record.sha256} ${members.join(' ')}`;
    if (!fs.existsSync(stamp) || fs.readFileSync(stamp, 'utf8') !== expectedStamp) {
      fs.rmSync(dir, { recursive: true, force: true });
      log(`extracting ${members.join(', ')} from ${info.file}`);
      extractTar(got.path, dir, members);
      if (info.gzMembers) for (const m of members) await gunzipFile(path.join(dir, m), path.join(dir, m.replace(/\.gz$/, '')));
      fs.writeFileSync(stamp, expectedStamp);
    }
    const files = members.map((m) => path.join(dir, info.gzMembers ? m.replace(/\.gz$/, '') : m)) as [string, string];
    if (k === 'dev' || k === 'test') return files; // already [src, tgt]
    // training members are [x-side, en-side]
    return src === 'en' ? [files[1], files[0]] : files;
  };

  const trainSrc: string[] = [];
  const trainTgt: string[] = [];
  for (const k of WMT14_TRAIN[foreign]) {
    const [s, t] = await get(k);
    const ns = countLines(s);
    const nt = countLines(t);
    if (ns !== nt) throw new SourceError(`${k}: ${s} has ${ns} lines but ${t} has ${nt}; the archive is not line-aligned`);
    log(`${k}: ${ns.toLocaleString('en-US')} pairs`);
    trainSrc.push(s);
    trainTgt.push(t);
  }
  const out = (name: string) => path.join(rawDir, name);
  log('assembling the training text');
  await concatFiles(trainSrc, out(`train.${src}`));
  await concatFiles(trainTgt, out(`train.${tgt}`));
  for (const [k, split] of [
    ['dev', 'valid'],
    ['test', 'test'],
  ] as const) {
    const [s, t] = await get(k);
    const ns = sgmlToText(s, out(`${split}.${src}`));
    const nt = sgmlToText(t, out(`${split}.${tgt}`));
    if (ns !== nt) throw new SourceError(`${k}: ${s} has ${ns} segments but ${t} has ${nt}`);
    log(`${split} (${k === 'dev' ? 'newstest2013' : 'newstest2014'}): ${ns} segments`);
  }
  return {
    train: { src: out(`train.${src}`), tgt: out(`train.${tgt}`) },
    valid: { src: out(`valid.${src}`), tgt: out(`valid.${tgt}`) },
    test: { src: out(`test.${src}`), tgt: out(`test.${tgt}`) },
    srcLang: src,
    tgtLang: tgt,
  };
}
