// Seeded pseudo-random numbers for everything stochastic outside tfjs (shuffling, augmentation,
// init helpers, data splits). xoshiro128** (Blackman & Vigna, "Scrambled linear pseudorandom
// number generators", 2018): 128-bit state, period 2^128 − 1, 32-bit outputs, fast in JS.
// Seeds (numbers or strings) are expanded to the state with splitmix32, as the authors advise.
// The whole state (including the spare normal of Box–Muller) is a small JSON value, so a
// training run can save it in a checkpoint and resume bit-for-bit.

/** JSON-serialisable generator state: four uint32 words and the cached second normal, if any. */
export interface RngState {
  s: [number, number, number, number];
  spare: number | null;
}

/** A seed is a number (any finite value; its 64-bit pattern is used) or a string. */
export type Seed = number | string;

function splitmix32(x: number): () => number {
  let state = x >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** FNV-1a over UTF-16 code units, then mixed: a 32-bit hash of a string. */
function hashString(text: string, h = 0x811c9dc5): number {
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

function seedWords(seed: Seed): [number, number] {
  if (typeof seed === 'string') return [hashString(seed), hashString(seed, 0x2545f491)];
  if (!Number.isFinite(seed)) throw new Error(`Rng seed must be a finite number or a string, got ${seed}`);
  if (Number.isInteger(seed) && Math.abs(seed) <= 0xffffffff) return [seed >>> 0, seed < 0 ? 1 : 0];
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, seed);
  return [view.getUint32(0), view.getUint32(4)];
}

function checkState(state: unknown): RngState {
  const st = state as RngState;
  const ok =
    st !== null &&
    typeof st === 'object' &&
    Array.isArray(st.s) &&
    st.s.length === 4 &&
    st.s.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff) &&
    (st.spare === null || typeof st.spare === 'number');
  if (!ok) throw new Error(`invalid Rng state: expected {s: [4 uint32 words], spare: number|null}, got ${JSON.stringify(state)}`);
  if (st.s.every((w) => w === 0)) throw new Error('invalid Rng state: all-zero words (xoshiro cannot leave this state)');
  return st;
}

export class Rng {
  private a = 0;
  private b = 0;
  private c = 0;
  private d = 0;
  private spare: number | null = null;

  constructor(seed: Seed = 0) {
    const [lo, hi] = seedWords(seed);
    const sm = splitmix32((lo ^ Math.imul(hi, 0x9e3779b1)) >>> 0);
    // mix hi again so that seeds differing only in the high word give different streams
    const sm2 = splitmix32(hi);
    this.a = sm();
    this.b = sm() ^ sm2();
    this.c = sm();
    this.d = sm();
    if ((this.a | this.b | this.c | this.d) === 0) this.d = 1;
  }

  /** A generator restored from a saved state. */
  static fromState(state: RngState): Rng {
    const r = new Rng(0);
    r.setState(state);
    return r;
  }

  /** Next 32-bit unsigned integer (xoshiro128**). */
  next(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** Uniform float in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.next() >>> 5; // 27 bits
    const lo = this.next() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform float in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.uniform();
  }

  /** Unbiased uniform integer in [0, n), 1 ≤ n ≤ 2^32 (rejection of the biased top range). */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 0x100000000) throw new Error(`Rng.int(n) needs an integer 1 ≤ n ≤ 2^32, got ${n}`);
    const limit = Math.floor(0x100000000 / n) * n; // largest multiple of n ≤ 2^32
    for (;;) {
      const x = this.next();
      if (x < limit) return x % n;
    }
  }

  /** Bernoulli(p). */
  bernoulli(p: number): boolean {
    return this.uniform() < p;
  }

  /** Standard normal (Box–Muller; the second value is cached in the state). */
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

  /** Fisher–Yates shuffle in place; returns the same array. */
  shuffle<T extends { length: number; [i: number]: any }>(array: T): T {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = array[i];
      array[i] = array[j];
      array[j] = tmp;
    }
    return array;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }

  /**
   * An independent generator derived from this one's current state and a label. Does not advance
   * this generator: the same state and label always give the same child, and different labels
   * give unrelated streams (e.g. `rng.fork('epoch-3')`, `rng.fork('augment')`).
   */
  fork(label: string): Rng {
    let h = hashString(label);
    h = hashString(`${this.a},${this.b},${this.c},${this.d}`, h);
    const child = new Rng(0);
    const sm = splitmix32(h);
    child.a = (this.a ^ sm()) >>> 0;
    child.b = (this.b ^ sm()) >>> 0;
    child.c = (this.c ^ sm()) >>> 0;
    child.d = (this.d ^ sm()) >>> 0;
    if ((child.a | child.b | child.c | child.d) === 0) child.d = 1;
    // run a few steps so that nearby children decorrelate fully
    for (let i = 0; i < 8; i++) child.next();
    return child;
  }

  /** A copy of the state (JSON-serialisable). */
  getState(): RngState {
    return { s: [this.a >>> 0, this.b >>> 0, this.c >>> 0, this.d >>> 0], spare: this.spare };
  }

  /** Restore a state from getState() (e.g. after JSON round trip). */
  setState(state: RngState): void {
    const st = checkState(state);
    [this.a, this.b, this.c, this.d] = st.s;
    this.spare = st.spare;
  }

  /** An independent copy with the same state. */
  clone(): Rng {
    return Rng.fromState(this.getState());
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
