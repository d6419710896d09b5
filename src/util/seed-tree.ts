// A reseedable tree of random generators: the one dropout scheme of the project. Parameter init
// may draw from the root; every module that forks a generator (dropout masks) gets a child.
// `reseed(key)` gives every node a fresh generator derived from (key, its path in the tree), so
// the dropout masks of a training batch are a pure function of (run seed, epoch, batch): an
// interrupted run resumes with bit-identical masks without saving any generator state (the
// translation model and the image classifier both reseed per batch). Fork paths carry a
// per-parent counter, so two modules forking the same label ('drop1' in every layer) get
// different streams.
import type { RandomSource } from '../core/rng.js';
import { Rng } from './rng.js';

export class SeedTree implements RandomSource {
  private rng: Rng;
  private readonly children: SeedTree[] = [];

  constructor(
    seed: number | string,
    readonly path = 'root',
  ) {
    this.rng = new Rng(typeof seed === 'number' ? seed : `${seed}|${path}`);
  }

  next(): number {
    return this.rng.next();
  }

  uniform(): number {
    return this.rng.uniform();
  }

  normal(mean = 0, std = 1): number {
    return this.rng.normal(mean, std);
  }

  fork(label: string): SeedTree {
    const path = `${this.path}/${label}#${this.children.length}`;
    const child = new SeedTree(`${this.rng.next()}`, path);
    this.children.push(child);
    return child;
  }

  /** Resets this node and every descendant to a generator seeded by (key, path). */
  reseed(key: string): void {
    this.rng = new Rng(`${key}|${this.path}`);
    for (const c of this.children) c.reseed(key);
  }
}
