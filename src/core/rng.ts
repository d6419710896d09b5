// What src/core needs from a seeded generator (parameter init, dropout, drop-path): values are
// drawn in JS, then uploaded, so runs are deterministic across backends. The project's one
// generator, src/util/rng.ts's Rng (xoshiro128**, resumable state), implements it.

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

/** A uint32 seed drawn from `rng` (for tf ops that take a seed, e.g. one dropout mask). */
export function drawSeed(rng: RandomSource): number {
  return rng.next();
}
