// Log-prob processors: small classes applied in order to each step's (rows, V) log-probs before
// the search, as transformers.js' LogitsProcessorList. The built-ins reproduce the edits in
// fairseq's SequenceGenerator._generate: pad banned, unk penalty, EOS banned before min_len,
// everything but EOS banned at max_len (a forced EOS wins over min_len), and fairseq's
// --no-repeat-ngram-size blocking.

/** What a processor may read about the current step. */
export interface StepContext {
  /** Decoding step t: the scores are for the token at position t + 1. */
  step: number;
  rows: number;
  vocabSize: number;
  /** Original sentence index of each row. */
  rowSentence: Int32Array;
  /** Max tokens before EOS, per original sentence (EOS is forced at that step). */
  maxLen: Int32Array;
  eosId: number;
  /** Tokens fed so far to row `row`: BOS then the generated tokens (length step + 1). O(step). */
  prefix(row: number): Int32Array;
}

export interface LogitsProcessor {
  /** Edit `lprobs` (rows, V) in place. */
  process(lprobs: Float32Array, ctx: StepContext): void;
}

/** Never generate these ids (pad; optionally BOS). */
export class BanTokensProcessor implements LogitsProcessor {
  constructor(readonly ids: readonly number[]) {}
  process(lprobs: Float32Array, ctx: StepContext): void {
    const V = ctx.vocabSize;
    for (let r = 0; r < ctx.rows; r++) for (const id of this.ids) lprobs[r * V + id] = -Infinity;
  }
}

/** fairseq --unkpen: subtract `penalty` from the unk log-prob. */
export class UnkPenaltyProcessor implements LogitsProcessor {
  constructor(
    readonly unkId: number,
    readonly penalty: number,
  ) {}
  process(lprobs: Float32Array, ctx: StepContext): void {
    const V = ctx.vocabSize;
    for (let r = 0; r < ctx.rows; r++) lprobs[r * V + this.unkId] -= this.penalty;
  }
}

/**
 * fairseq --min-len: EOS forbidden while step < minLen, except on rows at their max length,
 * where EOS is forced (fairseq would ban everything there and fail its `step < max_len` assert).
 */
export class MinLengthProcessor implements LogitsProcessor {
  constructor(readonly minLen: number) {}
  process(lprobs: Float32Array, ctx: StepContext): void {
    if (ctx.step >= this.minLen) return;
    const V = ctx.vocabSize;
    for (let r = 0; r < ctx.rows; r++) {
      if (ctx.step >= ctx.maxLen[ctx.rowSentence[r]]) continue;
      lprobs[r * V + ctx.eosId] = -Infinity;
    }
  }
}

/** At step ≥ the sentence's max length only EOS is allowed (fairseq: `if step >= max_len`). */
export class ForceEosAtMaxLenProcessor implements LogitsProcessor {
  process(lprobs: Float32Array, ctx: StepContext): void {
    const V = ctx.vocabSize;
    const eos = ctx.eosId;
    for (let r = 0; r < ctx.rows; r++) {
      if (ctx.step < ctx.maxLen[ctx.rowSentence[r]]) continue;
      const base = r * V;
      const keep = lprobs[base + eos];
      lprobs.fill(-Infinity, base, base + V);
      lprobs[base + eos] = keep;
    }
  }
}

/**
 * fairseq --no-repeat-ngram-size (NGramRepeatBlock): ban every token that would complete an
 * n-gram already present in the row's tokens (BOS included, as fairseq).
 */
export class NoRepeatNgramProcessor implements LogitsProcessor {
  constructor(readonly n: number) {
    if (!Number.isInteger(n) || n < 1) throw new Error(`NoRepeatNgramProcessor: n must be an integer >= 1, got ${n}`);
  }
  process(lprobs: Float32Array, ctx: StepContext): void {
    const n = this.n;
    if (ctx.step + 2 - n < 0) return;
    const V = ctx.vocabSize;
    for (let r = 0; r < ctx.rows; r++) {
      const toks = ctx.prefix(r); // (step + 1)
      const L = toks.length;
      // The last n − 1 tokens; any earlier occurrence of them bans the token that followed.
      for (let i = 0; i + n - 1 < L; i++) {
        let match = true;
        for (let j = 0; j < n - 1; j++) {
          if (toks[i + j] !== toks[L - n + 1 + j]) {
            match = false;
            break;
          }
        }
        if (match) lprobs[r * V + toks[i + n - 1]] = -Infinity;
      }
    }
  }
}
