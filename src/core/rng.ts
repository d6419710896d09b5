// Seeded random numbers for parameter init, dropout and drop-path in src/core: deterministic across
// runs and backends (values are drawn in JS, then uploaded). sfc32 (Chris Doty-Humphrey's "small
// fast counting" generator, PractRand-clean) seeded through splitmix32; Box–Muller for normals.
// The method names follow src/util/rng.ts (next, uniform, normal, fork) so either can be passed.

/** What src/core needs from a generator. */
export interface RandomSource {
  /** Next uint32. */
  next(): number;
  /** Uniform in [0, 1). */
  uniform(): number;
  /** Normal(mean, std). */
  normal(mean?: number, std?: number): number;
  /** An independent child generator for `label`; does not advance this one. */
  fork(label: string): RandomSource;
}

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

function hashString(text: string, h = 0x811c9dc5): number {
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export class CoreRng implements RandomSource {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | null = null;

  /** `seed`: a uint32 (other numbers are truncated with `>>> 0`) or a string (hashed). */
  constructor(seed: number | string = 0) {
    const sm = splitmix32(typeof seed === 'string' ? hashString(seed) : seed >>> 0);
    this.a = sm();
    this.b = sm();
    this.c = sm();
    this.d = 1; // counter
    for (let i = 0; i < 12; i++) this.next();
  }

  next(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  uniform(): number {
    return this.next() / 4294967296;
  }

  normal(mean = 0, std = 1): number {
    if (this.spare !== null) {
      const z = this.spare;
      this.spare = null;
      return mean + std * z;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return mean + std * r * Math.cos(2 * Math.PI * v);
  }

  fork(label: string): CoreRng {
    const h = hashString(`${this.a},${this.b},${this.c},${this.d}`, hashString(label));
    return new CoreRng(h);
  }
}

/** A uint32 seed drawn from `rng` (for tf ops that take a seed, e.g. one dropout mask). */
export function drawSeed(rng: RandomSource): number {
  return rng.next();
}
