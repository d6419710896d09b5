// Corpus fetchers end to end against a local HTTP server: Multi30k (.gz files, --from), and
// WMT14 En-De / Fr-En from tiny archives laid out like the real ones (same member names).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { DownloadError } from '../../../src/mt/data/download.js';
import { fetchMulti30k, fetchWmt14, WMT14_ARCHIVES, type Wmt14Archive } from '../../../src/mt/data/sources.js';
import { tempDir, localServer, staticHandler } from './helpers.js';

const quiet = () => {};
let dir = '';
before(() => {
  dir = tempDir('sources');
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('Multi30k: downloads .gz files, unpacks, reuses; --from takes local files', async () => {
  const files = new Map<string, Buffer>();
  const text: Record<string, string> = {};
  for (const stem of ['train', 'val', 'test_2016_flickr']) {
    for (const lang of ['en', 'de', 'fr']) {
      text[`${stem}.${lang}`] = `${stem} ${lang} one\n${stem} ${lang} two\n`;
      files.set(`/raw/${stem}.${lang}.gz`, zlib.gzipSync(text[`${stem}.${lang}`]!));
    }
  }
  const log: string[] = [];
  const srv = await localServer(staticHandler(files, log));
  try {
    const raw = path.join(dir, 'm30k-raw');
    const inp = await fetchMulti30k(raw, { src: 'en', tgt: 'fr', baseUrl: `${srv.url}/raw`, log: quiet });
    assert.equal(fs.readFileSync(inp.train.src, 'utf8'), text['train.en']);
    assert.equal(fs.readFileSync(inp.test!.tgt, 'utf8'), text['test_2016_flickr.fr']);
    assert.equal(fs.readFileSync(inp.valid!.src, 'utf8'), text['val.en']);
    assert.equal(log.length, 6);
    await fetchMulti30k(raw, { src: 'en', tgt: 'fr', baseUrl: `${srv.url}/raw`, log: quiet });
    assert.equal(log.length, 6, 'second run downloads nothing');
    assert.ok(fs.existsSync(path.join(raw, 'downloads', 'downloads.json')));
  } finally {
    await srv.close();
  }
  const local = path.join(dir, 'local');
  fs.mkdirSync(local);
  for (const [k, v] of Object.entries(text)) fs.writeFileSync(path.join(local, k), v);
  const inp = await fetchMulti30k(path.join(dir, 'unused'), { src: 'de', tgt: 'en', from: local, log: quiet });
  assert.equal(inp.train.src, path.join(local, 'train.de'));
  assert.equal(inp.srcLang, 'de');
  await assert.rejects(fetchMulti30k(dir, { src: 'en', tgt: 'cs', from: local }), /target language "cs" is not available/);
  fs.rmSync(path.join(local, 'val.de'));
  await assert.rejects(fetchMulti30k(dir, { src: 'en', tgt: 'de', from: local }), /neither .*val\.de nor .*val\.de\.gz exists/);
});

test('Multi30k: when the download fails after its retries, the error says how to give local files', async () => {
  const srv = await localServer((req) => req.socket.destroy()); // offline: no answer, ever
  const log: string[] = [];
  try {
    await assert.rejects(
      fetchMulti30k(path.join(dir, 'offline'), { src: 'en', tgt: 'de', baseUrl: srv.url, log: (l) => log.push(l) }),
      (e: Error) => {
        assert.ok(e instanceof DownloadError, String(e));
        assert.match(e.message, /cannot download .*train\.en\.gz after 6 attempts/);
        assert.match(e.message, /pass --from DIR: a folder with train, val and test_2016_flickr/);
        assert.match(e.message, /MULTI30K_FROM=DIR bash scripts\/quickstart\.sh/);
        return true;
      },
    );
    assert.equal(log.filter((l) => /resuming \(attempt \d of 6\)/.test(l)).length, 5, log.join('\n'));
  } finally {
    await srv.close();
  }
});

/** Builds archive `name` holding `members` (path → text) under `root`, tar-compressed if .tgz. */
function makeArchive(root: string, name: string, members: Record<string, string | Buffer>): Buffer {
  const tree = path.join(root, `tree-${name}`);
  for (const [m, content] of Object.entries(members)) {
    fs.mkdirSync(path.dirname(path.join(tree, m)), { recursive: true });
    fs.writeFileSync(path.join(tree, m), content);
  }
  const out = path.join(root, name);
  const r = spawnSync('tar', [name.endsWith('.tgz') ? '-czf' : '-cf', out, '-C', tree, ...Object.keys(members)]);
  assert.equal(r.status, 0, String(r.stderr));
  return fs.readFileSync(out);
}

const sgm = (lines: string[]) =>
  `<refset><doc docid="d">\n${lines.map((l, i) => `<seg id="${i + 1}">${l}</seg>`).join('\n')}\n</doc></refset>\n`;

test('WMT14: en→de and fr→en from archives with the real layout', async () => {
  const root = path.join(dir, 'wmt');
  fs.mkdirSync(root);
  const files = new Map<string, Buffer>();
  const add = (k: Wmt14Archive, members: Record<string, string | Buffer>) =>
    files.set(`/${WMT14_ARCHIVES[k].file}`, makeArchive(root, WMT14_ARCHIVES[k].file, members));
  add('europarl_v7', {
    'training/europarl-v7.de-en.de': 'ep de 1\nep de 2\n',
    'training/europarl-v7.de-en.en': 'ep en 1\nep en 2\n',
    'training/europarl-v7.fr-en.fr': 'ep fr 1\n',
    'training/europarl-v7.fr-en.en': 'ep enf 1\n',
  });
  add('commoncrawl', {
    'commoncrawl.de-en.de': 'cc de 1\n',
    'commoncrawl.de-en.en': 'cc en 1\n',
    'commoncrawl.fr-en.fr': 'cc fr 1\n',
    'commoncrawl.fr-en.en': 'cc enf 1\n',
  });
  add('news_commentary_v9', {
    'training/news-commentary-v9.de-en.de': 'nc de 1', // no final newline
    'training/news-commentary-v9.de-en.en': 'nc en 1',
    'training/news-commentary-v9.fr-en.fr': 'nc fr 1\n',
    'training/news-commentary-v9.fr-en.en': 'nc enf 1\n',
  });
  add('un', { 'un/undoc.2000.fr-en.fr': 'un fr 1\n', 'un/undoc.2000.fr-en.en': 'un enf 1\n' });
  add('giga_fren', {
    'giga-fren.release2.fixed.fr.gz': zlib.gzipSync('giga fr 1\ngiga fr 2\n'),
    'giga-fren.release2.fixed.en.gz': zlib.gzipSync('giga enf 1\ngiga enf 2\n'),
  });
  add('dev', {
    'dev/newstest2013-src.en.sgm': sgm(['dev en 1', 'dev en &amp; 2']),
    'dev/newstest2013-ref.de.sgm': sgm(['dev de 1', 'dev de 2']),
    'dev/newstest2013-src.fr.sgm': sgm(['dev fr 1']),
    'dev/newstest2013-ref.en.sgm': sgm(['dev en 1']),
  });
  add('test', {
    'test-full/newstest2014-deen-src.en.sgm': sgm(['t en 1', 't en 2', 't en 3']),
    'test-full/newstest2014-deen-ref.de.sgm': sgm(['t de 1', 't de 2', 't de 3']),
    'test-full/newstest2014-fren-src.fr.sgm': sgm(['t fr 1']),
    'test-full/newstest2014-fren-ref.en.sgm': sgm(['t enf 1']),
  });
  const srv = await localServer(staticHandler(files));
  try {
    // the local archives are not the real ones: point the table at the server, drop published checksums
    const archives = Object.fromEntries(
      (Object.keys(WMT14_ARCHIVES) as Wmt14Archive[]).map((k) => [
        k,
        { url: `${srv.url}/${WMT14_ARCHIVES[k].file}`, sha256: undefined, md5: undefined },
      ]),
    );
    const de = await fetchWmt14(path.join(dir, 'ende'), { src: 'en', tgt: 'de', archives, log: quiet });
    assert.equal(fs.readFileSync(de.train.src, 'utf8'), 'ep en 1\nep en 2\ncc en 1\nnc en 1\n');
    assert.equal(fs.readFileSync(de.train.tgt, 'utf8'), 'ep de 1\nep de 2\ncc de 1\nnc de 1\n');
    assert.equal(fs.readFileSync(de.valid!.src, 'utf8'), 'dev en 1\ndev en & 2\n');
    assert.equal(fs.readFileSync(de.test!.tgt, 'utf8'), 't de 1\nt de 2\nt de 3\n');
    const fr = await fetchWmt14(path.join(dir, 'fren'), { src: 'fr', tgt: 'en', archives, log: quiet });
    assert.equal(fs.readFileSync(fr.train.src, 'utf8'), 'ep fr 1\ncc fr 1\nnc fr 1\nun fr 1\ngiga fr 1\ngiga fr 2\n');
    assert.equal(fs.readFileSync(fr.train.tgt, 'utf8'), 'ep enf 1\ncc enf 1\nnc enf 1\nun enf 1\ngiga enf 1\ngiga enf 2\n');
    assert.equal(fs.readFileSync(fr.test!.src, 'utf8'), 't fr 1\n');
    assert.equal(fs.readFileSync(fr.valid!.tgt, 'utf8'), 'dev en 1\n');
    await assert.rejects(fetchWmt14(dir, { src: 'de', tgt: 'fr', archives, log: quiet }), /en-de and en-fr .*got de→fr/);
  } finally {
    await srv.close();
  }
});
