// A tiny module system in the spirit of torch.nn.Module: named parameters held as tf.Variables,
// recursive children, dotted timm-style names (`blocks.0.linear_tokens.weight`), train/eval mode,
// state-dict load/export with shape checks, dispose.
// Parameters keep PyTorch's layout (Linear weight (out, in), Affine alpha (1, 1, d)) so timm
// checkpoints load by name with no transposes; see linear.ts for how the matmul reads (out, in).
import * as tf from '@tensorflow/tfjs';

export abstract class Module {
  /** Training mode (dropout, drop-path active). PyTorch modules start in training mode too. */
  training = true;
  private readonly params = new Map<string, tf.Variable>();
  private readonly children = new Map<string, Module>();
  /** Non-trainable tensors owned by the module (e.g. a causal mask), disposed with it. */
  private readonly buffers = new Map<string, tf.Tensor>();
  private disposed = false;

  /**
   * Registers `value` as a trainable parameter named `name` (no dots). The module takes ownership
   * of `value` (it becomes the variable's storage, or is disposed if the variable copies it).
   */
  protected registerParameter(name: string, value: tf.Tensor): tf.Variable {
    this.checkName(name);
    // Unnamed (auto id), so two models may hold the same dotted names. The variable shares the
    // data of `value` and holds its own reference to it, so `value` itself is released.
    const v = tf.variable(value, true);
    value.dispose();
    this.params.set(name, v);
    return v;
  }

  /** Registers a child module under `name`; its parameters appear as `name.<param>`. */
  protected registerModule<M extends Module>(name: string, module: M): M {
    this.checkName(name);
    this.children.set(name, module);
    return module;
  }

  /** Registers a non-trainable tensor owned (kept and later disposed) by this module. */
  protected registerBuffer<T extends tf.Tensor>(name: string, value: T): T {
    if (this.buffers.has(name)) throw new Error(`buffer '${name}' is already registered in ${this.constructor.name}`);
    tf.keep(value);
    this.buffers.set(name, value);
    return value;
  }

  private checkName(name: string): void {
    if (name.length === 0 || name.includes('.')) {
      throw new Error(`${this.constructor.name}: parameter/module name must be non-empty without dots, got '${name}'`);
    }
    if (this.params.has(name) || this.children.has(name)) {
      throw new Error(`${this.constructor.name}: '${name}' is already registered`);
    }
  }

  /** Direct children, in registration order. */
  namedChildren(): Map<string, Module> {
    return new Map(this.children);
  }

  /** This module and every descendant with dotted names ('' for this one), depth-first pre-order. */
  namedModules(prefix = ''): Map<string, Module> {
    const out = new Map<string, Module>([[prefix, this]]);
    for (const [name, child] of this.children) {
      for (const [n, m] of child.namedModules(prefix ? `${prefix}.${name}` : name)) out.set(n, m);
    }
    return out;
  }

  /**
   * Every parameter with its dotted name. Order as PyTorch's named_parameters(): own parameters in
   * registration order, then each child's, recursively (stable across runs).
   */
  namedParameters(prefix = ''): Map<string, tf.Variable> {
    const out = new Map<string, tf.Variable>();
    for (const [name, p] of this.params) out.set(prefix ? `${prefix}.${name}` : name, p);
    for (const [name, child] of this.children) {
      for (const [n, p] of child.namedParameters(prefix ? `${prefix}.${name}` : name)) out.set(n, p);
    }
    return out;
  }

  /** Parameters in namedParameters() order. */
  parameters(): tf.Variable[] {
    return [...this.namedParameters().values()];
  }

  /** Total number of scalar parameters. */
  numParameters(): number {
    let n = 0;
    for (const p of this.namedParameters().values()) n += p.size;
    return n;
  }

  /** Sets training mode on this module and all descendants; returns this. */
  train(mode = true): this {
    this.training = mode;
    for (const child of this.children.values()) child.train(mode);
    return this;
  }

  /** Evaluation mode (dropout and drop-path off); returns this. */
  eval(): this {
    return this.train(false);
  }

  /** A snapshot of the parameters by dotted name (the variables themselves, not copies). */
  stateDict(): Map<string, tf.Variable> {
    return this.namedParameters();
  }

  /**
   * Assigns parameters from `state` by dotted name. Shapes must match exactly. With `strict`
   * (default) every parameter must be present and no extra key allowed; errors name the keys.
   * The caller keeps ownership of the tensors in `state`.
   */
  loadStateDict(
    state: Map<string, tf.Tensor> | Record<string, tf.Tensor>,
    opts: { strict?: boolean } = {},
  ): { missing: string[]; unexpected: string[] } {
    const strict = opts.strict ?? true;
    const entries = state instanceof Map ? state : new Map(Object.entries(state));
    const own = this.namedParameters();
    const missing = [...own.keys()].filter((k) => !entries.has(k));
    const unexpected = [...entries.keys()].filter((k) => !own.has(k));
    if (strict && (missing.length > 0 || unexpected.length > 0)) {
      throw new Error(
        `loadStateDict(${this.constructor.name}): missing keys [${missing.join(', ')}], unexpected keys [${unexpected.join(', ')}]`,
      );
    }
    const mismatched: string[] = [];
    for (const [k, t] of entries) {
      const p = own.get(k);
      if (p && !tf.util.arraysEqual(p.shape, t.shape)) mismatched.push(`${k}: expected [${p.shape}], got [${t.shape}]`);
    }
    if (mismatched.length > 0) throw new Error(`loadStateDict(${this.constructor.name}): shape mismatch: ${mismatched.join('; ')}`);
    for (const [k, t] of entries) {
      const p = own.get(k);
      if (p) p.assign(t.dtype === p.dtype ? t : tf.tidy(() => tf.cast(t, p.dtype)));
    }
    return { missing, unexpected };
  }

  /** Frees every parameter and buffer of this module and its descendants. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const p of this.params.values()) p.dispose();
    for (const b of this.buffers.values()) b.dispose();
    for (const child of this.children.values()) child.dispose();
  }
}

/**
 * An indexed list of modules (torch.nn.ModuleList / the `blocks` nn.Sequential of timm): children
 * are named '0', '1', ... so parameters read `blocks.3.mlp_channels.fc1.weight`.
 */
export class ModuleList<M extends Module> extends Module {
  private readonly items: M[] = [];

  constructor(items: Iterable<M> = []) {
    super();
    for (const m of items) this.append(m);
  }

  append(module: M): M {
    this.items.push(this.registerModule(String(this.items.length), module));
    return module;
  }

  get length(): number {
    return this.items.length;
  }

  at(i: number): M {
    const m = this.items[i];
    if (!m) throw new Error(`ModuleList: index ${i} out of range [0, ${this.items.length})`);
    return m;
  }

  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }
}
