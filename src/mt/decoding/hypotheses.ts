// Finished-hypothesis records and the per-step beam views handed to streamers. The record is
// fairseq's `{tokens, score, positional_scores}` (sequence_generator.py finalize_hypos):
// tokens exclude BOS and end in EOS, positionalScores[i] is the log-prob of tokens[i], and
// score is their sum divided by len^lenpen when scores are normalized (len counts the EOS).

export interface Hypothesis {
  /** Generated tokens without BOS, ending in EOS. */
  tokens: Int32Array;
  /** Sum of positionalScores, divided by tokens.length ** lenpen if normalizeScores. */
  score: number;
  /** Log-prob of each token (after logits processors such as the unk penalty). */
  positionalScores: Float32Array;
}

/** One unfinished beam as a streamer sees it. */
export interface BeamView {
  /** Tokens so far, without BOS (no EOS: unfinished). */
  tokens: Int32Array;
  /** Cumulative log-prob, not length-normalized. */
  score: number;
}

/** What the step callback receives: one event per sentence still in the batch, per step. */
export interface StepEvent {
  /** Decoding step t (0-based): the token at position t + 1 was just chosen. */
  step: number;
  /** Index of the sentence in the `src` array given to generate. */
  sentence: number;
  /** Unfinished beams after this step, best first; empty when the sentence is done. */
  beams: BeamView[];
  /** Hypotheses finalized so far, best first (normalized score). */
  finalized: readonly Hypothesis[];
  /** True when this sentence finished at this step (no further events for it). */
  done: boolean;
}

/** Result for one source sentence. */
export interface SentenceResult {
  /** Up to `nbest` hypotheses, best first. Empty only if the sentence was cancelled before
   * anything finished, or no beam could reach EOS with a finite score (e.g. the model gives EOS
   * probability 0 at the forced end, or every continuation was banned). */
  hypos: Hypothesis[];
  /** True if the sentence's AbortSignal fired before it finished. */
  aborted: boolean;
}

/**
 * Sort by score, best first. Stable, as fairseq's `sorted(..., reverse=True)`: equal scores
 * keep the order in which they were finalized (earlier step, then better candidate rank).
 */
export function sortHypotheses(h: Hypothesis[]): Hypothesis[] {
  return h
    .map((x, i) => ({ x, i }))
    .sort((a, b) => b.x.score - a.x.score || a.i - b.i)
    .map((e) => e.x);
}

/**
 * A finished hypothesis (fairseq's finalize_hypos): the tokens of history row `histRow` up to
 * step t − 1, then EOS with log-prob `eosLp`; score = cumScore / (t + 1) ** lenpen when scores
 * are normalised. Shared by SequenceGenerator and ContinuousGenerator.
 */
export function finalizeHypothesis(
  history: BeamHistory,
  t: number,
  histRow: number,
  eosId: number,
  eosLp: number,
  cumScore: number,
  normalize: boolean,
  lenpen: number,
): Hypothesis {
  let tokens: Int32Array;
  let positionalScores: Float32Array;
  if (t === 0) {
    tokens = new Int32Array(1);
    positionalScores = new Float32Array(1);
  } else {
    ({ tokens, logProbs: positionalScores } = history.trace(histRow, t - 1, 1));
  }
  tokens[t] = eosId;
  positionalScores[t] = eosLp;
  return { tokens, score: normalize ? cumScore / (t + 1) ** lenpen : cumScore, positionalScores };
}

/** A log-prob read from the model, NaN (an impossible token) as −∞. */
export function nanToNegInf(x: number): number {
  return Number.isNaN(x) ? -Infinity : x;
}

/**
 * Back-pointer history of every beam: per step, the chosen token of each row, its log-prob and
 * the row it extends at the previous step. A hypothesis is rebuilt by walking back, which costs
 * O(length) per finished hypothesis instead of copying every prefix at every step.
 */
export class BeamHistory {
  private readonly tok: Int32Array[] = [];
  private readonly lp: Float32Array[] = [];
  private readonly parent: Int32Array[] = [];

  /** Record the rows produced by step t (must be called for t = 0, 1, 2, ... in order). */
  push(tokens: Int32Array, logProbs: Float32Array, parents: Int32Array): void {
    this.tok.push(tokens);
    this.lp.push(logProbs);
    this.parent.push(parents);
  }

  get steps(): number {
    return this.tok.length;
  }

  /**
   * Tokens (and their log-probs) of row `row` as produced by step `t`, oldest first, plus
   * `extra` empty slots at the end for the caller to fill (e.g. the EOS being finalized).
   */
  trace(row: number, t: number, extra = 0): { tokens: Int32Array; logProbs: Float32Array } {
    const n = t + 1;
    const tokens = new Int32Array(n + extra);
    const logProbs = new Float32Array(n + extra);
    for (let j = t; j >= 0; j--) {
      tokens[j] = this.tok[j][row];
      logProbs[j] = this.lp[j][row];
      row = this.parent[j][row];
    }
    return { tokens, logProbs };
  }
}
