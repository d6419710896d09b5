// Log-prob processors: small classes applied in order to each step's (rows, V) log-probs before
// the search, as transformers.js' LogitsProcessorList. The built-ins reproduce the edits in
// fairseq's SequenceGenerator._generate: pad banned, unk penalty, EOS banned before min_len,
// everything but EOS banned at max_len (a forced EOS wins over min_len).

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
  constructor(readonly unkId: number, readonly penalty: number) {}
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
