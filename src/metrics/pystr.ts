// Python string semantics that sacreBLEU's numbers depend on (sacrebleu 2.x runs on CPython 3):
// str.split()/strip()/rstrip() whitespace, code-point indexing, code-point string order and
// `f'{x:.{w}f}'` / float repr formatting. JS differs from Python in each of these on some inputs.

/** Characters for which Python's `str.isspace()` is true (what `str.split()` splits on). */
const PY_WS_CLASS = '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_WS_RUN = new RegExp(`[${PY_WS_CLASS}]+`, 'g');
const PY_WS_LEFT = new RegExp(`^[${PY_WS_CLASS}]+`);
const PY_WS_RIGHT = new RegExp(`[${PY_WS_CLASS}]+$`);

/** The whitespace class as a regex source fragment (for use inside `[...]`). */
export const PY_WHITESPACE_CLASS = PY_WS_CLASS;

/** Python `s.split()`: split on runs of whitespace, no empty strings. */
export function pySplit(s: string): string[] {
  const parts = s.split(PY_WS_RUN);
  const out: string[] = [];
  for (const p of parts) if (p !== '') out.push(p);
  return out;
}

/** Python `' '.join(s.split())`. */
export function pyNormSpace(s: string): string {
  return pySplit(s).join(' ');
}

/** Python `s.strip()`. */
export function pyStrip(s: string): string {
  return s.replace(PY_WS_LEFT, '').replace(PY_WS_RIGHT, '');
}

/** Python `s.rstrip()`. */
export function pyRstrip(s: string): string {
  return s.replace(PY_WS_RIGHT, '');
}

/** Code points of `s` (Python's view of a str as a sequence). */
export function codePoints(s: string): string[] {
  return Array.from(s);
}

/** Python `len(s)`: number of code points. */
export function pyLen(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

// Map a UTF-16 code unit so that unit order equals code-point order: surrogates (D800-DFFF,
// i.e. code points >= 0x10000) go above E000-FFFF.
function fixUnit(c: number): number {
  if (c >= 0xe000) return c - 0x800;
  if (c >= 0xd800) return c + 0x2000;
  return c;
}

/** Python string comparison (code-point order): negative, 0 or positive. */
export function pyCompareStr(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return fixUnit(x) - fixUnit(y);
  }
  return a.length - b.length;
}

/** Python list-of-str comparison (lexicographic). */
export function pyCompareStrList(a: readonly string[], b: readonly string[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = pyCompareStr(a[i], b[i]);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

/**
 * Python `f'{x:.{w}f}'`. JS `toFixed` rounds exact binary ties away from zero; Python rounds
 * them half-to-even (e.g. 0.125 -> '0.12' in Python, '0.13' in JS). Also keeps Python's '-0.00'.
 */
export function pyFixed(x: number, w: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf';
  const neg = x < 0 || Object.is(x, -0);
  const a = Math.abs(x);
  let s = a.toFixed(w);
  if (a < 1e21) {
    // Exact decimal expansion far enough to see whether the dropped part is exactly one half.
    const ext = a.toFixed(Math.min(100, w + 60));
    const dot = ext.indexOf('.');
    const tail = dot < 0 ? '' : ext.slice(dot + 1 + w);
    if (/^50*$/.test(tail)) {
      // Exact tie: round half to even on the truncated digits.
      const kept = w === 0 ? ext.slice(0, dot < 0 ? ext.length : dot) : ext.slice(0, dot + 1 + w);
      const last = Number(kept[kept.length - 1]);
      if (last % 2 === 0) s = kept;
    }
  }
  return neg ? `-${s}` : s;
}

/** Python `repr(float)` for finite values (used for JSON output, e.g. 0.0 and 34.2). */
export function pyFloatRepr(x: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'NaN' : x > 0 ? 'Infinity' : '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const a = Math.abs(x);
  if (a >= 1e16 || a < 1e-4) {
    // Python switches to exponent notation outside [1e-4, 1e16) and pads the exponent to 2 digits.
    const [mant, exp] = x.toExponential().split('e');
    const sign = exp[0] === '-' ? '-' : '+';
    const digits = exp.replace(/^[+-]/, '').padStart(2, '0');
    return `${mant}e${sign}${digits}`;
  }
  const s = String(x);
  return Number.isInteger(x) ? `${s}.0` : s;
}
