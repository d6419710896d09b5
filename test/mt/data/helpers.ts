// Shared helpers of the data tests: temp folders, the full Multi30k corpus (large data, read from
// ../shared, with the reason to skip when it is absent), a local HTTP server.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { sharedDir, sharedMissing } from '../../../src/util/paths.js';

export function tempDir(tag: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `resmlp-${tag}-`));
}

/**
 * Set when the full Multi30k corpus is absent: the reason the tests that train SentencePiece
 * models of 800–2,000 pieces on thousands of its lines skip (node:test `{ skip: MULTI30K_SKIP }`).
 * Multi30k is never committed (its licence allows non-commercial research only), and the small
 * synthetic corpus in test/fixtures/synthetic is too small for those vocabularies.
 */
export const MULTI30K_SKIP: string | undefined = ['train', 'val', 'test_2016_flickr']
  .flatMap((split) => ['en', 'de', 'fr'].map((lang) => sharedMissing('data', 'multi30k', `${split}.${lang}`)))
  .find((reason) => reason !== undefined)
  ?.replace(/^needs /, 'needs the full Multi30k corpus: ');

/** A file of the full Multi30k corpus in ../shared (only in tests that skip on MULTI30K_SKIP). */
export function multi30k(name: string): string {
  return path.join(sharedDir, 'data', 'multi30k', name);
}

/** The first n lines of a file, written to dir/name; returns the path. */
export function headFile(src: string, n: number, dir: string, name: string): string {
  const lines = fs.readFileSync(src, 'utf8').split('\n').slice(0, n);
  const out = path.join(dir, name);
  fs.writeFileSync(out, lines.join('\n') + '\n');
  return out;
}

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** An HTTP server on 127.0.0.1 (random port). */
export async function localServer(handler: Handler): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Runs `use` with the URL of a local server of `handler`, then closes the server however `use` ends. */
export async function withLocalServer<T>(handler: Handler, use: (url: string) => Promise<T>): Promise<T> {
  const srv = await localServer(handler);
  try {
    return await use(srv.url);
  } finally {
    await srv.close();
  }
}

/** Serves files from a map path → bytes, honouring `Range: bytes=N-`. */
export function staticHandler(files: Map<string, Buffer>, log: string[] = []): Handler {
  return (req, res) => {
    const body = files.get(req.url ?? '');
    log.push(`${req.url} ${req.headers.range ?? ''}`.trim());
    if (!body) {
      res.writeHead(404).end('not found');
      return;
    }
    const m = /^bytes=(\d+)-$/.exec(String(req.headers.range ?? ''));
    if (m) {
      const start = Number(m[1]);
      if (start >= body.length) {
        res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
        return;
      }
      res.writeHead(206, { 'content-length': body.length - start, 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` });
      res.end(body.subarray(start));
      return;
    }
    res.writeHead(200, { 'content-length': body.length });
    res.end(body);
  };
}
