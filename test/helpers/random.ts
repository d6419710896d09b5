// A small seeded generator for test inputs that must be the same on every run (random tensors,
// HTML soups, search inputs). mulberry32 (Tommy Ettinger's 32-bit state generator).

/** Uniform numbers in [0, 1) from `seed`, the same sequence on every run. */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
