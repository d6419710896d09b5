// The optimizer contract shared by the training loop: named parameters in, an update applied in
// place, and a state that round-trips through a checkpoint exactly (slots as named tensors,
// counters as JSON), so `--resume` continues bit for bit.
import * as tf from '@tensorflow/tfjs';

export interface OptimizerState {
  /** Slot tensors by name, e.g. `exp_avg.blocks.0.fc1.weight`. */
  slots: Map<string, tf.Tensor>;
  /** Scalars (step counts, hyperparameters in force). */
  scalars: Record<string, number>;
}

export abstract class Optimizer {
  protected readonly slots = new Map<string, tf.Variable>();
  protected stepCount = 0;

  constructor(protected readonly params: Map<string, tf.Variable>) {}

  /** Applies one update with learning rate `lr`. `grads` has one entry per trainable parameter. */
  step(grads: Map<string, tf.Tensor>, lr: number): void {
    this.stepCount++;
    for (const [name, p] of this.params) {
      const g = grads.get(name);
      if (g === undefined) continue; // frozen or unused this step (e.g. masked parameters)
      this.update(name, p, g, lr);
    }
  }

  protected abstract update(name: string, p: tf.Variable, g: tf.Tensor, lr: number): void;

  /** A zero-initialised slot variable for parameter `name`. */
  protected slot(kind: string, name: string, like: tf.Variable, init = 0): tf.Variable {
    const key = `${kind}.${name}`;
    let v = this.slots.get(key);
    if (v === undefined) {
      const zeros = tf.fill(like.shape, init);
      v = tf.variable(zeros, false, undefined, 'float32'); // shares zeros' data, holding its own reference
      zeros.dispose();
      this.slots.set(key, v);
    }
    return v;
  }

  get steps(): number {
    return this.stepCount;
  }

  getState(): OptimizerState {
    return { slots: new Map(this.slots), scalars: { step: this.stepCount } };
  }

  /** Restores a state from getState() or a checkpoint; shapes must match the parameters. */
  setState(state: OptimizerState): void {
    this.stepCount = state.scalars.step ?? 0;
    for (const [key, t] of state.slots) {
      const existing = this.slots.get(key);
      const dot = key.indexOf('.');
      const paramName = key.slice(dot + 1);
      const p = this.params.get(paramName);
      if (p === undefined) throw new Error(`optimizer state: slot '${key}' names no parameter '${paramName}'`);
      if (t.shape.join(',') !== p.shape.join(','))
        throw new Error(`optimizer state: slot '${key}' has shape [${t.shape}] but parameter '${paramName}' is [${p.shape}]`);
      if (existing) existing.assign(t);
      else {
        const copy = t.clone();
        this.slots.set(key, tf.variable(copy, false));
        copy.dispose();
      }
    }
  }

  dispose(): void {
    for (const v of this.slots.values()) v.dispose();
    this.slots.clear();
  }
}

/** Global L2 norm of the gradients; scales them in place of the map to max norm when it exceeds maxNorm (> 0). */
export function clipGradNorm(grads: Map<string, tf.Tensor>, maxNorm: number): number {
  const norm = tf.tidy(() => {
    const sq = [...grads.values()].map((g) => tf.sum(tf.square(g)));
    return tf.sqrt(tf.addN(sq));
  });
  const n = norm.dataSync()[0]!;
  norm.dispose();
  if (maxNorm > 0 && n > maxNorm) {
    const scale = maxNorm / (n + 1e-6);
    for (const [k, g] of grads) {
      grads.set(k, tf.mul(g, scale));
      g.dispose();
    }
  }
  return n;
}
