// ResMLP's cross-patch (cross-token) linear sublayer (arXiv 2105.03404 §2, Eq. 1): A (N×N) mixes the
// token axis, shared by all channels: out[b] = A · x[b] + bias[:, None] for x (B, N, d). timm calls it
// `linear_tokens = nn.Linear(N, N)` and applies it as linear_tokens(x.transpose(1,2)).transpose(1,2);
// we keep its parameter names and (out, in) layout but skip both transposes: A times each sample is a
// batched matmul with A broadcast over the batch.
// Options: `causal` (translation decoders): A is masked to its lower triangle, so position i never
// sees j > i, in the forward pass and in gradients (masked entries get exactly zero gradient).
// Length slicing: a batch of length L ≤ N uses A[:L, :L] and bias[:L] (left-aligned positions).
// Causal layers also decode incrementally (`step`): out_t = Σ_{s≤t} A[t,s]·x_s + b_t from the
// cached inputs x_s of past positions, O(t·d) per step.
import * as tf from '@tensorflow/tfjs';
import { customGrad } from './custom-grad.js';
import { initTensor, type Resettable } from './init.js';
import { assignInit } from './linear.js';
import { Module } from './module.js';
import { checkInt, resolveConfig } from '../util/config.js';
import type { RandomSource } from './rng.js';

/**
 * out[b] = w · x[b] (+ bias[:, None]): w (P, Q), x (B, Q, d), bias (P) → (B, P, d).
 * tfjs's BatchMatMul gradient does not reduce over a broadcast batch dim (it would return a
 * (B, P, Q) gradient for w), so this op defines its own: dx = wᵀ·dy (broadcast), dw = Σ_b dy[b]·x[b]ᵀ,
 * dbias = Σ_{b,c} dy.
 */
export function tokenMix(x: tf.Tensor3D, w: tf.Tensor2D, bias?: tf.Tensor1D | null): tf.Tensor3D {
  const [, Q] = [x.shape[0], x.shape[1]];
  const [P, Qw] = w.shape;
  if (Q !== Qw) throw new Error(`tokenMix: token axis of x is ${Q} but the mixing matrix is (${P}, ${Qw}); x shape [${x.shape}]`);
  const forward = (xs: tf.Tensor3D, ws: tf.Tensor2D) => tf.matMul(tf.reshape(ws, [1, P, Q]), xs); // (B, P, d)
  const gradXW = (dy: tf.Tensor3D, xs: tf.Tensor3D, ws: tf.Tensor2D) => [
    tf.matMul(tf.reshape(ws, [1, P, Q]), dy, true, false), // dx (B, Q, d)
    tf.sum(tf.matMul(dy, xs, false, true), 0), // dw (P, Q)
  ];
  if (bias) {
    const f = customGrad((xs: tf.Tensor, ws: tf.Tensor, bs: tf.Tensor, save: tf.GradSaveFunc) => {
      save([xs, ws]);
      return {
        value: tf.add(forward(xs as tf.Tensor3D, ws as tf.Tensor2D), tf.reshape(bs, [P, 1])), // (B, P, d)
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [
          ...gradXW(dy as tf.Tensor3D, saved[0] as tf.Tensor3D, saved[1] as tf.Tensor2D),
          tf.sum(dy, [0, 2]), // dbias (P)
        ],
      };
    });
    return f(x, w, bias) as tf.Tensor3D;
  }
  const f = customGrad((xs: tf.Tensor, ws: tf.Tensor, save: tf.GradSaveFunc) => {
    save([xs, ws]);
    return {
      value: forward(xs as tf.Tensor3D, ws as tf.Tensor2D),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => gradXW(dy as tf.Tensor3D, saved[0] as tf.Tensor3D, saved[1] as tf.Tensor2D),
    };
  });
  return f(x, w) as tf.Tensor3D;
}

export interface CrossTokenConfig {
  /** Maximum number of tokens N (required): A is N×N. */
  seqLen: number;
  /** Lower-triangular A: token i only mixes tokens j ≤ i. Default false. */
  causal: boolean;
  /** Learn a per-position bias (N). Default true (timm's nn.Linear). */
  bias: boolean;
}

export const DEFAULT_CROSS_TOKEN: Omit<CrossTokenConfig, 'seqLen'> = { causal: false, bias: true };

export function resolveCrossTokenConfig(c: Partial<CrossTokenConfig>): CrossTokenConfig {
  const r = resolveConfig('CrossTokenConfig', DEFAULT_CROSS_TOKEN as CrossTokenConfig, c, ['seqLen']);
  checkInt('CrossTokenConfig', 'seqLen', r.seqLen);
  return r;
}

/** Lower-triangular ones (n, n): mask[i][j] = 1 iff j ≤ i. */
export function causalMask(n: number): tf.Tensor2D {
  const m = new Float32Array(n * n);
  for (let i = 0; i < n; i++) m.fill(1, i * n, i * n + i + 1);
  return tf.tensor2d(m, [n, n]);
}

/** Parameters `weight` (N, N) (out token, in token) and `bias` (N), as timm's linear_tokens. */
export class CrossToken extends Module implements Resettable {
  readonly config: CrossTokenConfig;
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | null;
  private readonly mask: tf.Tensor2D | null;

  constructor(config: Partial<CrossTokenConfig>, rng: RandomSource) {
    super();
    this.config = resolveCrossTokenConfig(config);
    const N = this.config.seqLen;
    this.mask = this.config.causal ? this.registerBuffer('mask', causalMask(N)) : null;
    this.weight = this.registerParameter('weight', this.drawWeight(rng));
    // timm: xavier-uniform weight; bias zero (the module name has no 'mlp')
    this.bias = this.config.bias ? this.registerParameter('bias', tf.zeros([N])) : null;
  }

  private drawWeight(rng: RandomSource): tf.Tensor {
    const N = this.config.seqLen;
    const w = initTensor([N, N], { kind: 'xavier_uniform' }, rng);
    if (!this.mask) return w;
    // keep the masked entries at exactly 0 so checkpoints show the structure (they never train)
    const masked = tf.mul(w, this.mask);
    w.dispose();
    return masked;
  }

  resetParameters(rng: RandomSource): void {
    const w = this.drawWeight(rng);
    this.weight.assign(w);
    w.dispose();
    if (this.bias) assignInit(this.bias, [this.config.seqLen], { kind: 'zeros' }, rng);
  }

  /** The effective mixing matrix for length L: A[:L, :L] (⊙ lower-triangular mask if causal). */
  matrix(L: number): tf.Tensor2D {
    const N = this.config.seqLen;
    if (L > N) {
      throw new Error(`CrossToken: input has ${L} tokens but the layer was built for at most seqLen=${N}`);
    }
    return tf.tidy(() => {
      let w = this.weight as tf.Tensor2D;
      let mask = this.mask;
      if (L < N) {
        w = tf.slice(w, [0, 0], [L, L]); // (L, L)
        if (mask) mask = tf.slice(mask, [0, 0], [L, L]);
      }
      return mask ? tf.mul(w, mask) : w.clone();
    });
  }

  /** x (B, L, d) with L ≤ N → (B, L, d). */
  forward(x: tf.Tensor3D): tf.Tensor3D {
    if (x.rank !== 3) throw new Error(`CrossToken: expected input (B, L, d), got shape [${x.shape}]`);
    const L = x.shape[1];
    return tf.tidy(() => {
      const A = this.matrix(L); // (L, L)
      const b = this.bias ? (L < this.config.seqLen ? tf.slice(this.bias, [0], [L]) : this.bias) : null; // (L)
      return tokenMix(x, A, b as tf.Tensor1D | null);
    });
  }

  /**
   * Incremental decoding (causal only): position t of every row, x (R, 1, d), given `past`
   * (R, t, d), the inputs of positions < t (null at t = 0). Returns the output (R, 1, d) and the
   * inputs of positions ≤ t (R, t+1, d) as the next cache (`past` is not disposed: the caller owns it).
   * With per-row positions `t` (Int32Array, step-level batching) `past` is right-aligned (see
   * StepPositions in block.ts): row r mixes its last t_r + 1 entries with row t_r of A.
   */
  step(x: tf.Tensor3D, past: tf.Tensor3D | null, t: number | Int32Array): { y: tf.Tensor3D; cache: tf.Tensor3D } {
    if (!this.config.causal) throw new Error('CrossToken.step: only a causal layer decodes incrementally');
    if (typeof t !== 'number') return this.stepRows(x, past, t);
    if (t >= this.config.seqLen) throw new Error(`CrossToken.step: position ${t} is beyond seqLen=${this.config.seqLen}`);
    const out = tf.tidy(() => {
      const all = past === null ? x : (tf.concat([past, x], 1) as tf.Tensor3D); // (R, t+1, d)
      const a = tf.reshape(tf.slice(this.weight, [t, 0], [1, t + 1]), [1, 1, t + 1]); // row t of A, (1, 1, t+1)
      let y = tf.matMul(a, all) as tf.Tensor3D; // (R, 1, d) = Σ_{s≤t} A[t,s]·x_s
      if (this.bias) y = tf.add(y, tf.slice(this.bias, [t], [1])); // + b_t
      return { y, cache: all };
    });
    return out;
  }

  /** step() with each row at its own position `pos[r]` (right-aligned cache). */
  private stepRows(x: tf.Tensor3D, past: tf.Tensor3D | null, pos: Int32Array): { y: tf.Tensor3D; cache: tf.Tensor3D } {
    const N = this.config.seqLen;
    const R = x.shape[0];
    if (pos.length !== R) throw new Error(`CrossToken.step: ${pos.length} positions for ${R} rows`);
    const L = (past?.shape[1] ?? 0) + 1; // entries after appending x
    let longest = 0;
    for (const p of pos) {
      if (p >= N) throw new Error(`CrossToken.step: position ${p} is beyond seqLen=${N}`);
      if (p + 1 > L) throw new Error(`CrossToken.step: a row at position ${p} needs ${p + 1} cached entries, the cache holds ${L}`);
      longest = Math.max(longest, p + 1);
    }
    // coefficient of entry j for row r: A[p_r, j − (L − 1 − p_r)], 0 before the row's first entry
    const zero = N * N;
    const idx = new Int32Array(R * L).fill(zero);
    for (let r = 0; r < R; r++) {
      const p = pos[r]!;
      const first = L - 1 - p;
      for (let s = 0; s <= p; s++) idx[r * L + first + s] = p * N + s;
    }
    return tf.tidy(() => {
      const all = past === null ? x : (tf.concat([past, x], 1) as tf.Tensor3D); // (R, L, d)
      const flat = tf.concat([tf.reshape(this.weight, [N * N]), tf.zeros([1])]); // A row-major, then a 0
      const w = tf.reshape(tf.gather(flat, tf.tensor1d(idx, 'int32')), [R, 1, L]); // (R, 1, L)
      let y = tf.matMul(w, all) as tf.Tensor3D; // (R, 1, d) = Σ_{s≤p_r} A[p_r,s]·x_s
      if (this.bias) y = tf.add(y, tf.reshape(tf.gather(this.bias, tf.tensor1d(pos, 'int32')), [R, 1, 1])); // + b_{p_r}
      const cache = longest < L ? (tf.slice(all, [0, L - longest, 0], [R, longest, all.shape[2]]) as tf.Tensor3D) : all; // trim the padding no row reads
      return { y, cache };
    });
  }
}
