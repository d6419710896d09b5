// Generation options: one typed config with documented defaults (transformers.js'
// GenerationConfig habit), defaults taken from fairseq's `generate` (beam 5, max_len_a 0,
// max_len_b 200, lenpen 1, min_len 1, unkpen 0, nbest 1,
// no_repeat_ngram_size 0), and a resolver that rejects unknown
// keys (src/util/config.ts) and values out of range.
import { resolveConfig } from '../../util/config.js';

export type SearchName = 'auto' | 'beam' | 'greedy';

export interface GenerationConfig {
  /** Hypotheses kept per sentence. Default 5 (fairseq --beam). */
  beamSize: number;
  /** Best hypotheses returned per sentence, ≤ beamSize. Default 1 (fairseq --nbest). */
  nbest: number;
  /**
   * Length penalty: finalized score = Σ log-prob / len ** lenpen, len counting the EOS.
   * < 1 favours short, > 1 long hypotheses. Default 1 (fairseq --lenpen).
   */
  lenpen: number;
  /** Divide scores by len ** lenpen at all. Default true (fairseq: unless --unnormalized). */
  normalizeScores: boolean;
  /**
   * Max tokens before EOS (fairseq's max_len; EOS is forced at that step):
   * floor(maxLenA · |src| + maxLenB), capped at maxPositions − 1; |src| is the length of the source array given to the model (EOS
   * included, as fairseq's src_len) — per sentence here, not the padded batch width.
   * Default 0 (fairseq --max-len-a).
   */
  maxLenA: number;
  /** See maxLenA. Default 200 (fairseq --max-len-b). */
  maxLenB: number;
  /** EOS is forbidden at steps < minLen, i.e. at least minLen tokens before EOS. Default 1. */
  minLen: number;
  /** Subtracted from the unk log-prob (needs model.unkId). Default 0 (fairseq --unkpen). */
  unkPenalty: number;
  /** Never repeat an n-gram of this size within a hypothesis; 0 = off. Default 0 (fairseq). */
  noRepeatNgramSize: number;
  /**
   * Search strategy: 'beam' (fairseq BeamSearch), 'greedy' (argmax, needs beamSize 1), or
   * 'auto' = greedy when beamSize is 1 else beam (same results, greedy is faster). Default 'auto'.
   */
  search: SearchName;
}

export const DEFAULT_GENERATION: Readonly<GenerationConfig> = Object.freeze({
  beamSize: 5,
  nbest: 1,
  lenpen: 1,
  normalizeScores: true,
  maxLenA: 0,
  maxLenB: 200,
  minLen: 1,
  unkPenalty: 0,
  noRepeatNgramSize: 0,
  search: 'auto',
});

/**
 * Defaults overridden by `overrides`. Throws on unknown keys (naming them and the known
 * ones) and on values of the wrong type or out of range.
 */
export function resolveGenerationConfig(overrides: Partial<GenerationConfig> | Record<string, unknown> = {}): GenerationConfig {
  const cfg: GenerationConfig = resolveConfig('GenerationConfig', DEFAULT_GENERATION, overrides);
  const bad = (key: string, want: string, got: unknown): never => {
    throw new Error(`GenerationConfig.${key}: expected ${want}, got ${JSON.stringify(got)}`);
  };
  const int = (key: keyof GenerationConfig, min: number) => {
    const v = cfg[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) bad(key, `an integer >= ${min}`, v);
  };
  const finite = (key: keyof GenerationConfig, min = -Infinity) => {
    const v = cfg[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min) bad(key, `a finite number >= ${min}`, v);
  };
  int('beamSize', 1);
  int('nbest', 1);
  if (cfg.nbest > cfg.beamSize) bad('nbest', `at most beamSize (${cfg.beamSize})`, cfg.nbest);
  finite('lenpen');
  if (typeof cfg.normalizeScores !== 'boolean') bad('normalizeScores', 'a boolean', cfg.normalizeScores);
  finite('maxLenA', 0);
  finite('maxLenB', 0);
  int('minLen', 0);
  finite('unkPenalty');
  int('noRepeatNgramSize', 0);
  if (!['auto', 'beam', 'greedy'].includes(cfg.search)) bad('search', "'auto' | 'beam' | 'greedy'", cfg.search);
  if (cfg.search === 'greedy' && cfg.beamSize !== 1) bad('beamSize', "1 with search 'greedy'", cfg.beamSize);
  return cfg;
}

/** Max tokens before EOS (EOS is forced at this step) for a source of length `srcLen`, as fairseq's `max_len`. */
export function maxLength(cfg: Pick<GenerationConfig, 'maxLenA' | 'maxLenB'>, srcLen: number, maxPositions: number): number {
  return Math.max(0, Math.min(Math.trunc(cfg.maxLenA * srcLen + cfg.maxLenB), maxPositions - 1));
}
