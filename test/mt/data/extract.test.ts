// Archive and SGML handling: WMT SGML → plain lines with entities unescaped; tar members;
// gzip; concatenation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { parseSgml, sgmlToText, unescapeEntities, extractTar, listTar, gunzipFile, concatFiles } from '../../../src/mt/data/extract.js';
import { tempDir } from './helpers.js';

let dir = '';
before(() => {
  dir = tempDir('extract');
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const SGML = `<srcset setid="newstest2014" srclang="any">
<doc sysid="ref" docid="1012-bbc" genre="news" origlang="en">
<p>
<seg id="1">Gutach: Increased safety for pedestrians</seg>
<seg id="2">They are not even 100 metres apart: On Tuesday, the new B 33 pedestrian lights in Dorfparkplatz in Gutach became operational - within view of the existing Town Hall traffic lights.</seg>
</p>
</doc>
<doc sysid="ref" docid="2" genre="news" origlang="de">
<seg id="3">Tom &amp; Jerry say &quot;hi&quot; &lt;3 &#233;t&#xE9; &apos;ok&apos; &unknown;</seg>
<seg id="4">  spaced   out  </seg>
<seg id="5"></seg>
</doc>
</srcset>
`;

test('SGML segments become plain lines in order, entities unescaped', () => {
  const segs = parseSgml(SGML);
  assert.equal(segs.length, 5);
  assert.equal(segs[0], 'Gutach: Increased safety for pedestrians');
  assert.ok(segs[1]!.startsWith('They are not even 100 metres apart'));
  assert.equal(segs[2], 'Tom & Jerry say "hi" <3 été \'ok\' &unknown;');
  assert.equal(segs[3], 'spaced out');
  assert.equal(segs[4], '');
  const f = path.join(dir, 't.sgm');
  fs.writeFileSync(f, SGML);
  const out = path.join(dir, 't.txt');
  assert.equal(sgmlToText(f, out), 5);
  assert.equal(fs.readFileSync(out, 'utf8').split('\n').length, 6);
  assert.throws(() => parseSgml('<doc>no segments</doc>', 'x.sgm'), /x\.sgm holds no <seg> elements/);
  assert.equal(unescapeEntities('&amp;amp; &#0x41; &#65;'), '&amp; &#0x41; A');
});

test('tar members are extracted; a missing member lists similar entries', () => {
  const src = path.join(dir, 'tree');
  fs.mkdirSync(path.join(src, 'training'), { recursive: true });
  fs.writeFileSync(path.join(src, 'training', 'europarl-v7.de-en.de'), 'Hallo\n');
  fs.writeFileSync(path.join(src, 'training', 'europarl-v7.de-en.en'), 'Hello\n');
  const tgz = path.join(dir, 'a.tgz');
  assert.equal(spawnSync('tar', ['-czf', tgz, '-C', src, 'training']).status, 0);
  assert.ok(listTar(tgz).includes('training/europarl-v7.de-en.de'));
  const dest = path.join(dir, 'x');
  extractTar(tgz, dest, ['training/europarl-v7.de-en.en']);
  assert.equal(fs.readFileSync(path.join(dest, 'training', 'europarl-v7.de-en.en'), 'utf8'), 'Hello\n');
  assert.ok(!fs.existsSync(path.join(dest, 'training', 'europarl-v7.de-en.de')));
  assert.throws(
    () => extractTar(tgz, dest, ['training/europarl-v7.fr-en.fr']),
    /has no training\/europarl-v7\.fr-en\.fr; similar entries: .*europarl-v7\.de-en/,
  );
  assert.throws(() => extractTar(path.join(dir, 'none.tgz'), dest), /does not exist/);
});

test('gunzip and concatenation (a missing final newline is added)', async () => {
  const gz = path.join(dir, 'a.gz');
  fs.writeFileSync(gz, zlib.gzipSync(Buffer.from('one\ntwo')));
  const a = path.join(dir, 'a.txt');
  await gunzipFile(gz, a);
  assert.equal(fs.readFileSync(a, 'utf8'), 'one\ntwo');
  const b = path.join(dir, 'b.txt');
  fs.writeFileSync(b, 'three\n');
  const c = path.join(dir, 'c.txt');
  await concatFiles([a, b], c);
  assert.equal(fs.readFileSync(c, 'utf8'), 'one\ntwo\nthree\n');
  fs.writeFileSync(path.join(dir, 'bad.gz'), 'not gzip');
  await assert.rejects(gunzipFile(path.join(dir, 'bad.gz'), path.join(dir, 'bad.txt')), /cannot decompress/);
});
