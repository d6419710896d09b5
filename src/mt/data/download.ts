// Resumable HTTP(S) downloads with checksums, for the corpus fetchers (sources.ts).
//
// - A transfer writes `<file>.part`; an interrupted transfer (or a later run) continues it with an
//   HTTP Range request (`Range: bytes=<size>-`). A server that ignores Range (200 instead of 206)
//   restarts the file from zero. Up to `retries` automatic resumes per file.
// - Integrity: if the source publishes a checksum (sha256 or md5, `DownloadSpec`), the finished
//   file must match it. If none is published, the sha256 measured after the first download is
//   recorded in `<dir>/downloads.json` and every later reuse must match it (trust on first use).
//   A mismatch is an error; the bad file is moved to `<file>.corrupt` and never used.
// - Redirects (301/302/303/307/308) are followed, up to 5.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as http from 'node:http';
import * as https from 'node:https';
import * as crypto from 'node:crypto';
import { writeTextAtomic } from '../../util/atomic-write.js';
import { UserError } from '../../util/errors.js';

export class DownloadError extends UserError {
  constructor(message: string) {
    super(message, 'download');
  }
}

export interface DownloadSpec {
  url: string;
  /** File name in the download folder. */
  file: string;
  /** Published checksums, if any (hex). */
  sha256?: string;
  md5?: string;
  /** Where the published checksum comes from (shown on a mismatch). */
  checksumSource?: string;
  /** Expected size in bytes, if known. */
  bytes?: number;
}

export interface DownloadRecord {
  url: string;
  sha256: string;
  bytes: number;
  /** 'published': checked against the source's checksum; 'recorded': our first-download record. */
  verifiedBy: 'published' | 'recorded';
  recordedAt: string;
}

export interface DownloadOptions {
  /** Automatic resumes after a broken transfer. Default 5. */
  retries?: number;
  /** Socket inactivity timeout in ms. Default 60000. */
  timeoutMs?: number;
  log?: (line: string) => void;
}

export const DOWNLOAD_RECORDS = 'downloads.json';

function readRecords(dir: string): Record<string, DownloadRecord> {
  const f = path.join(dir, DOWNLOAD_RECORDS);
  if (!fs.existsSync(f)) return {};
  try {
    return JSON.parse(fs.readFileSync(f, 'utf8')) as Record<string, DownloadRecord>;
  } catch (e) {
    throw new DownloadError(`${f} is not valid JSON (${(e as Error).message}); delete it to re-record checksums`);
  }
}

function writeRecord(dir: string, file: string, rec: DownloadRecord): void {
  const all = readRecords(dir);
  all[file] = rec;
  writeTextAtomic(path.join(dir, DOWNLOAD_RECORDS), JSON.stringify(all, null, 2) + '\n');
}

/** sha256 and md5 (hex) of a file, streamed. */
export async function hashFile(file: string): Promise<{ sha256: string; md5: string; bytes: number }> {
  const s = crypto.createHash('sha256');
  const m = crypto.createHash('md5');
  let bytes = 0;
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) {
    s.update(chunk as Buffer);
    m.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: s.digest('hex'), md5: m.digest('hex'), bytes };
}

interface Attempt {
  /** Bytes now in the .part file. */
  size: number;
  /** Total size if the server told us. */
  total: number | null;
  complete: boolean;
}

function requestOnce(url: string, headers: Record<string, string>, timeoutMs: number): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const mod = u.protocol === 'https:' ? https : u.protocol === 'http:' ? http : null;
    if (!mod) return reject(new DownloadError(`unsupported URL scheme in ${url} (http and https only)`));
    const req = mod.get(u, { headers: { 'user-agent': 'resmlp-data/1', ...headers } }, resolve);
    req.setTimeout(timeoutMs, () => req.destroy(new DownloadError(`no data from ${url} for ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** One HTTP transfer into `part`, continuing from its current size. */
async function transfer(url: string, part: string, timeoutMs: number, log: (s: string) => void): Promise<Attempt> {
  let size = fs.existsSync(part) ? fs.statSync(part).size : 0;
  let target = url;
  let res: http.IncomingMessage | null = null;
  for (let hop = 0; hop <= 5; hop++) {
    res = await requestOnce(target, size > 0 ? { range: `bytes=${size}-` } : {}, timeoutMs);
    const code = res.statusCode ?? 0;
    if ([301, 302, 303, 307, 308].includes(code) && res.headers.location) {
      res.resume();
      target = new URL(res.headers.location, target).toString();
      res = null;
      continue;
    }
    break;
  }
  if (!res) throw new DownloadError(`too many redirects for ${url}`);
  const code = res.statusCode ?? 0;
  if (code === 416 && size > 0) {
    // nothing left to send: the part is already complete (the checksum decides)
    res.resume();
    return { size, total: size, complete: true };
  }
  let append: boolean;
  let total: number | null = null;
  if (code === 206) {
    const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(String(res.headers['content-range'] ?? ''));
    if (!m || Number(m[1]) !== size) {
      res.resume();
      throw new DownloadError(
        `${target} answered a range request for bytes ${size}- with Content-Range ${JSON.stringify(res.headers['content-range'])}`,
      );
    }
    append = true;
    total = m[3] === '*' ? null : Number(m[3]);
    log(`resuming ${path.basename(part, '.part')} at ${(size / 1e6).toFixed(1)} MB`);
  } else if (code === 200) {
    if (size > 0) log(`${target} ignored the range request: restarting ${path.basename(part, '.part')} from 0`);
    append = false;
    size = 0;
    const len = res.headers['content-length'];
    total = len !== undefined ? Number(len) : null;
  } else {
    res.resume();
    throw new DownloadError(`GET ${target} failed: HTTP ${code} ${res.statusMessage ?? ''}`.trim());
  }
  const out = fs.createWriteStream(part, { flags: append ? 'a' : 'w' });
  let last = Date.now();
  let received = 0;
  const t0 = Date.now();
  try {
    await new Promise<void>((resolve, reject) => {
      res!.on('data', (chunk: Buffer) => {
        received += chunk.length;
        const now = Date.now();
        if (now - last > 5000) {
          last = now;
          const have = size + received;
          const pct = total ? ` (${((100 * have) / total).toFixed(1)}%)` : '';
          log(
            `downloading ${path.basename(part, '.part')}: ${(have / 1e6).toFixed(1)} MB${pct}, ${(received / 1e6 / ((now - t0) / 1000)).toFixed(1)} MB/s`,
          );
        }
      });
      res!.on('aborted', () => reject(new DownloadError(`transfer of ${target} was interrupted`)));
      res!.on('error', reject);
      out.on('error', reject);
      out.on('finish', resolve);
      res!.pipe(out);
    });
  } catch (e) {
    out.destroy();
    await new Promise<void>((r) => out.on('close', () => r()));
    throw e;
  }
  const now = fs.statSync(part).size;
  if (total !== null && now < total) throw new DownloadError(`transfer of ${target} ended early: ${now} of ${total} bytes`);
  return { size: now, total, complete: true };
}

function verify(
  spec: DownloadSpec,
  h: { sha256: string; md5: string },
  recorded: DownloadRecord | undefined,
): { ok: boolean; detail: string; by: 'published' | 'recorded' | null } {
  if (spec.sha256)
    return { ok: h.sha256 === spec.sha256.toLowerCase(), detail: `sha256 expected ${spec.sha256}, got ${h.sha256}`, by: 'published' };
  if (spec.md5) return { ok: h.md5 === spec.md5.toLowerCase(), detail: `md5 expected ${spec.md5}, got ${h.md5}`, by: 'published' };
  if (recorded)
    return {
      ok: h.sha256 === recorded.sha256,
      detail: `sha256 recorded at first download ${recorded.sha256}, got ${h.sha256}`,
      by: 'recorded',
    };
  return { ok: true, detail: '', by: null };
}

/**
 * Ensures `<dir>/<spec.file>` holds the verified content of `spec.url`; downloads or resumes it
 * as needed. Returns the path and the file's record.
 */
export async function download(
  spec: DownloadSpec,
  dir: string,
  opts: DownloadOptions = {},
): Promise<{ path: string; record: DownloadRecord; downloaded: boolean }> {
  const log = opts.log ?? ((s: string) => process.stderr.write(s + '\n'));
  const retries = opts.retries ?? 5;
  const timeoutMs = opts.timeoutMs ?? 60000;
  fs.mkdirSync(dir, { recursive: true });
  const dest = path.join(dir, spec.file);
  const part = `${dest}.part`;
  const records = readRecords(dir);
  const recorded = records[spec.file]?.url === spec.url ? records[spec.file] : undefined;

  const finish = async (file: string, downloaded: boolean) => {
    const h = await hashFile(file);
    const v = verify(spec, h, recorded);
    if (spec.bytes !== undefined && h.bytes !== spec.bytes && v.ok) {
      v.ok = false;
      v.detail = `size expected ${spec.bytes} bytes, got ${h.bytes}`;
    }
    if (!v.ok) {
      const bad = `${dest}.corrupt`;
      fs.renameSync(file, bad);
      const src = v.by === 'published' && spec.checksumSource ? ` (published checksum from ${spec.checksumSource})` : '';
      throw new DownloadError(
        `checksum mismatch for ${spec.url}: ${v.detail}${src}; the file was moved to ${bad}; run again to download it afresh`,
      );
    }
    if (file !== dest) fs.renameSync(file, dest);
    const rec: DownloadRecord = {
      url: spec.url,
      sha256: h.sha256,
      bytes: h.bytes,
      verifiedBy: v.by ?? 'recorded',
      recordedAt: recorded?.recordedAt ?? new Date().toISOString(),
    };
    if (!v.by)
      log(
        `${spec.file}: no published checksum; recorded sha256 ${h.sha256} in ${path.join(dir, DOWNLOAD_RECORDS)} (later runs verify against it)`,
      );
    writeRecord(dir, spec.file, rec);
    return { path: dest, record: rec, downloaded };
  };

  if (fs.existsSync(dest)) return finish(dest, false);

  let lastErr: unknown = null;
  for (let attempt = 0; attempt <= retries; attempt++) {
    try {
      if (attempt === 0) log(`downloading ${spec.url}${fs.existsSync(part) ? ' (resuming a partial file)' : ''}`);
      await transfer(spec.url, part, timeoutMs, log);
      return await finish(part, true);
    } catch (e) {
      if (e instanceof DownloadError && /checksum mismatch|HTTP \d|unsupported URL/.test(e.message)) throw e;
      lastErr = e;
      if (attempt < retries) log(`${spec.file}: ${(e as Error).message}; resuming (attempt ${attempt + 2} of ${retries + 1})`);
    }
  }
  throw new DownloadError(
    `cannot download ${spec.url} after ${retries + 1} attempts: ${(lastErr as Error)?.message}; the partial file ${part} is kept, run again to resume`,
  );
}
