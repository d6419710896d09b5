// Request bodies as bytes → a value: the bytes must be valid UTF-8 (checked before any parsing,
// so no replacement characters ever reach the model), then JSON — or a form, as LibreTranslate
// also accepts application/x-www-form-urlencoded.
import { badRequest } from './errors.js';
import { formToObject } from './schemas/translate.js';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** Decodes bytes as UTF-8 or throws 400 naming the first bad byte offset. */
export function decodeUtf8(bytes: Uint8Array, what = 'request body'): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw badRequest(`${what} is not valid UTF-8 (first bad byte at offset ${firstInvalidUtf8(bytes)})`, 'invalid_utf8');
  }
}

/** Offset of the first byte that breaks UTF-8 (for the error message). */
function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    const n = c < 0x80 ? 1 : c >= 0xc2 && c < 0xe0 ? 2 : c >= 0xe0 && c < 0xf0 ? 3 : c >= 0xf0 && c < 0xf5 ? 4 : 0;
    if (n === 0 || i + n > b.length) return i;
    try {
      utf8.decode(b.subarray(i, i + n));
    } catch {
      return i;
    }
    i += n;
  }
  return i;
}

/** Parses a body by its content type: JSON (default) or a URL-encoded form. */
export function parseBody(bytes: unknown, contentType: string | undefined): unknown {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.alloc(0);
  if (buf.length === 0) throw badRequest('request body is empty; expected JSON such as {"q": "Hello", "source": "en", "target": "de"}');
  const text = decodeUtf8(buf);
  const type = (contentType ?? '').toLowerCase();
  if (type.startsWith('application/x-www-form-urlencoded')) return formToObject(text);
  if (type.startsWith('multipart/'))
    throw badRequest(`content type ${type.split(';')[0]} is not supported; send application/json or application/x-www-form-urlencoded`);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(`request body is not valid JSON: ${(e as Error).message}`);
  }
}
