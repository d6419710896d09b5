// Comparisons of plain number arrays (logits read back, recorded reference values); the tensor
// versions are in grad-check.ts.
import assert from 'node:assert/strict';

/** Max |a[i] − b[i]|; the arrays must have the same length. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
