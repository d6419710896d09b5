// Unpacking corpus archives: .tgz/.tar through the system `tar` (GNU tar detects gzip itself),
// single .gz files through node's zlib (streamed), and WMT's SGML test sets
// (`<seg id="1">…</seg>` → one plain line per segment, entities unescaped).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { pipeline } from 'node:stream/promises';
import { UserError } from '../../util/errors.js';

export class ExtractError extends UserError {
  constructor(message: string) {
    super(message, 'invalid_data');
  }
}

function runTar(args: string[], what: string): string {
  const r = spawnSync('tar', args, { encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.error) {
    if ((r.error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new ExtractError(`tar not found on PATH (needed to ${what}); install it with \`apt-get install tar\``);
    throw new ExtractError(`cannot run tar to ${what}: ${r.error.message}`);
  }
  if (r.status !== 0)
    throw new ExtractError(`tar failed to ${what} (exit ${r.status}): ${(r.stderr || '').trim().split('\n').slice(-3).join(' | ')}`);
  return r.stdout;
}

/** Member names of a tar archive (compressed or not). */
export function listTar(archive: string): string[] {
  return runTar(['-tf', archive], `list ${archive}`)
    .split('\n')
    .filter((l) => l.length > 0);
}

/**
 * Extracts `members` (all if omitted) of `archive` into `destDir`. A missing member is an error
 * that lists the archive's entries that look closest (same base name stem).
 */
export function extractTar(archive: string, destDir: string, members?: string[]): void {
  if (!fs.existsSync(archive)) throw new ExtractError(`archive ${archive} does not exist`);
  fs.mkdirSync(destDir, { recursive: true });
  if (members && members.length > 0) {
    const have = new Set(listTar(archive));
    const missing = members.filter((m) => !have.has(m));
    if (missing.length > 0) {
      const stems = missing.map((m) => path.basename(m).split('.')[0]!);
      const near = [...have].filter((h) => stems.some((s) => h.includes(s))).slice(0, 10);
      throw new ExtractError(`${archive} has no ${missing.join(', ')}${near.length ? `; similar entries: ${near.join(', ')}` : ''}`);
    }
  }
  runTar(['-xf', archive, '-C', destDir, ...(members ?? [])], `extract ${archive}`);
}

/** Decompresses a .gz file to `dest` (streamed). */
export async function gunzipFile(src: string, dest: string): Promise<void> {
  if (!fs.existsSync(src)) throw new ExtractError(`${src} does not exist`);
  const tmp = `${dest}.tmp`;
  try {
    await pipeline(fs.createReadStream(src), zlib.createGunzip(), fs.createWriteStream(tmp));
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw new ExtractError(`cannot decompress ${src}: ${(e as Error).message}`);
  }
  fs.renameSync(tmp, dest);
}

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

/** Replaces XML/HTML entities (&amp; &lt; &gt; &quot; &apos; &nbsp; &#NN; &#xHH;); unknown ones stay. */
export function unescapeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (all, body: string) => {
    if (body[0] === '#') {
      const cp = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      return cp >= 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) ? String.fromCodePoint(cp) : all;
    }
    return NAMED[body] ?? all;
  });
}

/**
 * The segments of a WMT SGML file, in file order: the text of every `<seg …>…</seg>`, entities
 * unescaped, surrounding whitespace trimmed (as sacrebleu and Moses' input-from-sgm.perl).
 */
export function parseSgml(text: string, file = 'SGML input'): string[] {
  const out: string[] = [];
  const re = /<seg\b[^>]*>([\s\S]*?)<\/seg\s*>/gi;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) out.push(unescapeEntities(m[1]!).replace(/\s+/g, ' ').trim());
  if (out.length === 0) throw new ExtractError(`${file} holds no <seg> elements: not a WMT SGML file?`);
  return out;
}

/** Converts an SGML test set to plain text, one segment a line. Returns the segment count. */
export function sgmlToText(sgmFile: string, outFile: string): number {
  if (!fs.existsSync(sgmFile)) throw new ExtractError(`SGML file ${sgmFile} does not exist`);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let text: string;
  try {
    text = decoder.decode(fs.readFileSync(sgmFile));
  } catch {
    throw new ExtractError(`${sgmFile} is not valid UTF-8`);
  }
  const segs = parseSgml(text, sgmFile);
  fs.writeFileSync(outFile, segs.map((s) => s + '\n').join(''));
  return segs.length;
}

/** Concatenates text files (streamed) into `dest`, adding a newline after a file that lacks one. */
export async function concatFiles(files: string[], dest: string): Promise<void> {
  const tmp = `${dest}.tmp`;
  const out = fs.openSync(tmp, 'w');
  try {
    for (const f of files) {
      if (!fs.existsSync(f)) throw new ExtractError(`${f} does not exist`);
      let lastByte = 0x0a;
      let any = false;
      for await (const chunk of fs.createReadStream(f, { highWaterMark: 1 << 20 })) {
        const b = chunk as Buffer;
        let off = 0;
        while (off < b.length) off += fs.writeSync(out, b, off, b.length - off);
        if (b.length > 0) {
          lastByte = b[b.length - 1]!;
          any = true;
        }
      }
      if (any && lastByte !== 0x0a) fs.writeSync(out, '\n');
    }
  } catch (e) {
    fs.closeSync(out);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fs.closeSync(out);
  fs.renameSync(tmp, dest);
}
