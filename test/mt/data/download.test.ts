// Resumable downloads against a local HTTP server (127.0.0.1, random port): an interrupted
// transfer resumes with a Range request, a leftover .part resumes, a server ignoring Range
// restarts, published and recorded checksums are enforced.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as crypto from 'node:crypto';
import { download, DOWNLOAD_RECORDS } from '../../../src/mt/data/download.js';
import { tempDir, withLocalServer, staticHandler } from './helpers.js';

const quiet = { log: () => {} };
const body = crypto.randomBytes(300_000);
const sha = crypto.createHash('sha256').update(body).digest('hex');
const md5 = crypto.createHash('md5').update(body).digest('hex');
let dir = '';

before(() => {
  dir = tempDir('download');
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('an interrupted transfer resumes with a Range request and verifies', async () => {
  const log: string[] = [];
  let calls = 0;
  const files = new Map([['/f.bin', body]]);
  const serve = staticHandler(files, log);
  await withLocalServer(
    (req, res) => {
      calls++;
      if (calls === 1) {
        // send the headers and a third of the body, then cut the connection
        log.push(`${req.url} (cut)`);
        res.writeHead(200, { 'content-length': body.length });
        res.write(body.subarray(0, 100_000), () => setTimeout(() => res.destroy(), 20));
        return;
      }
      serve(req, res);
    },
    async (url) => {
      const d = path.join(dir, 'a');
      const r = await download({ url: `${url}/f.bin`, file: 'f.bin', sha256: sha }, d, quiet);
      assert.ok(fs.readFileSync(r.path).equals(body));
      assert.equal(r.record.verifiedBy, 'published');
      assert.match(log[1]!, /^\/f\.bin bytes=\d+-$/);
      assert.ok(Number(/bytes=(\d+)-/.exec(log[1]!)![1]) > 0);
      assert.ok(!fs.existsSync(path.join(d, 'f.bin.part')));
    },
  );
});

test('a leftover .part from an earlier run resumes; md5 is checked', async () => {
  const log: string[] = [];
  await withLocalServer(staticHandler(new Map([['/f.bin', body]]), log), async (url) => {
    const d = path.join(dir, 'b');
    fs.mkdirSync(d);
    fs.writeFileSync(path.join(d, 'f.bin.part'), body.subarray(0, 123_456));
    const r = await download({ url: `${url}/f.bin`, file: 'f.bin', md5 }, d, quiet);
    assert.deepEqual(log, ['/f.bin bytes=123456-']);
    assert.ok(fs.readFileSync(r.path).equals(body));
  });
});

test('a server that ignores Range restarts the file', async () => {
  await withLocalServer(
    (_req, res) => {
      res.writeHead(200, { 'content-length': body.length });
      res.end(body);
    },
    async (url) => {
      const d = path.join(dir, 'c');
      fs.mkdirSync(d);
      fs.writeFileSync(path.join(d, 'f.bin.part'), Buffer.from('garbage that is not a prefix'));
      const r = await download({ url: `${url}/f.bin`, file: 'f.bin', sha256: sha }, d, quiet);
      assert.ok(fs.readFileSync(r.path).equals(body));
    },
  );
});

test('a checksum mismatch is an error and the file is set aside', async () => {
  await withLocalServer(staticHandler(new Map([['/f.bin', body]])), async (url) => {
    const d = path.join(dir, 'd');
    await assert.rejects(
      download({ url: `${url}/f.bin`, file: 'f.bin', sha256: '0'.repeat(64), checksumSource: 'test table' }, d, quiet),
      (e: Error) =>
        /checksum mismatch/.test(e.message) &&
        e.message.includes(`got ${sha}`) &&
        e.message.includes('test table') &&
        e.message.includes('f.bin.corrupt'),
    );
    assert.ok(!fs.existsSync(path.join(d, 'f.bin')));
    assert.ok(fs.existsSync(path.join(d, 'f.bin.corrupt')));
  });
});

test('without a published checksum: recorded at first download, verified on reuse', async () => {
  const log: string[] = [];
  await withLocalServer(staticHandler(new Map([['/f.bin', body]]), log), async (url) => {
    const d = path.join(dir, 'e');
    const msgs: string[] = [];
    const r = await download({ url: `${url}/f.bin`, file: 'f.bin' }, d, { log: (s) => msgs.push(s) });
    assert.equal(r.downloaded, true);
    assert.equal(r.record.verifiedBy, 'recorded');
    assert.ok(msgs.some((m) => m.includes('no published checksum; recorded sha256')));
    const rec = JSON.parse(fs.readFileSync(path.join(d, DOWNLOAD_RECORDS), 'utf8'));
    assert.equal(rec['f.bin'].sha256, sha);
    // reuse: no request, verified against the record
    const again = await download({ url: `${url}/f.bin`, file: 'f.bin' }, d, quiet);
    assert.equal(again.downloaded, false);
    assert.equal(log.length, 1);
    // a changed file on disk no longer matches the record
    const p = path.join(d, 'f.bin');
    const changed = Buffer.from(body);
    changed[1000] ^= 0xff;
    fs.writeFileSync(p, changed);
    await assert.rejects(download({ url: `${url}/f.bin`, file: 'f.bin' }, d, quiet), /checksum mismatch .*recorded at first download/);
  });
});

test('HTTP errors are reported with the status', async () => {
  await withLocalServer(staticHandler(new Map()), async (url) => {
    await assert.rejects(
      download({ url: `${url}/missing.gz`, file: 'm.gz' }, path.join(dir, 'f'), quiet),
      /GET .*missing\.gz failed: HTTP 404/,
    );
  });
});
