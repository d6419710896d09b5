// TER (Snover et al., 2006) as computed by sacreBLEU 2.x (sacrebleu/metrics/ter.py): Tercom
// tokenization, then per segment the fewest edits (insertions, deletions, substitutions and
// phrase shifts) over the references divided by the average reference length; score in [0, 100+].
import { resolveConfig } from '../util/config.js';
import { Metric, Score, Signature } from './base.js';
import { translationEditRate } from './lib-ter.js';
import { pyRstrip, pySplit } from './pystr.js';
import { TercomTokenizer } from './tokenizers/tokenizer-ter.js';

export interface TEROptions {
  /** Tercom normalization and punctuation tokenization. Default false. */
  normalized: boolean;
  /** Remove punctuation. Default false. */
  noPunct: boolean;
  /** CJK handling for `normalized`/`noPunct`. Default false. */
  asianSupport: boolean;
  /** Keep case (TER lowercases by default). Default false. */
  caseSensitive: boolean;
  /** References to pre-compute and cache. */
  references: readonly (readonly string[])[] | null;
}

export const DEFAULT_TER_OPTIONS: Readonly<TEROptions> = {
  normalized: false,
  noPunct: false,
  asianSupport: false,
  caseSensitive: false,
  references: null,
};

export class TERScore extends Score {
  readonly numEdits: number;
  constructor(
    score: number,
    numEdits: number,
    /** Sum over segments of the average reference length. */
    readonly refLength: number,
  ) {
    super('TER', score);
    this.numEdits = Math.trunc(numEdits);
  }
}

export class TERSignature extends Signature {
  constructor(
    numRefs: number,
    o: { caseSensitive: boolean; tokenizerSignature: string; normalized: boolean; noPunct: boolean; asianSupport: boolean },
  ) {
    super(numRefs);
    Object.assign(this.abbr, { case: 'c', tok: 't', norm: 'nr', punct: 'pn', asian: 'as' });
    this.info.case = o.caseSensitive ? 'mixed' : 'lc';
    this.info.tok = o.tokenizerSignature;
    this.info.norm = o.normalized;
    this.info.punct = !o.noPunct;
    this.info.asian = o.asianSupport;
  }
}

interface TERRefInfo {
  refWords: string[][];
}

export class TER extends Metric<TERScore, TERRefInfo> {
  readonly normalized: boolean;
  readonly noPunct: boolean;
  readonly asianSupport: boolean;
  readonly caseSensitive: boolean;
  readonly tokenizer: TercomTokenizer;
  readonly tokenizerSignature: string;

  constructor(options?: Partial<TEROptions>) {
    super();
    const o = resolveConfig('TER', DEFAULT_TER_OPTIONS, options);
    this.normalized = o.normalized;
    this.noPunct = o.noPunct;
    this.asianSupport = o.asianSupport;
    this.caseSensitive = o.caseSensitive;
    this.tokenizer = new TercomTokenizer(o);
    this.tokenizerSignature = this.tokenizer.signature();
    if (o.references) this.refCache = this.cacheReferences(o.references);
  }

  protected preprocessSegment(sent: string): string {
    return this.tokenizer.tokenize(pyRstrip(sent));
  }

  computeScoreFromStats(stats: number[]): TERScore {
    const [totalEdits, sumRefLengths] = stats;
    let score: number;
    if (sumRefLengths > 0) score = totalEdits / sumRefLengths;
    else if (totalEdits > 0)
      score = 1.0; // empty reference(s) and non-empty hypothesis
    else score = 0.0; // both empty
    return new TERScore(100 * score, totalEdits, sumRefLengths);
  }

  /** [fewest edits over the references, average reference length]. */
  protected computeSegmentStatistics(hyp: string, ref: TERRefInfo): number[] {
    let refLengths = 0;
    let best = 1e16;
    const wordsHyp = pySplit(hyp);
    for (const wordsRef of ref.refWords) {
      const [edits, len] = translationEditRate(wordsHyp, wordsRef);
      refLengths += len;
      if (edits < best) best = edits;
    }
    return [best, refLengths / ref.refWords.length];
  }

  protected extractReferenceInfo(refs: string[]): TERRefInfo {
    // sacreBLEU preprocesses references twice (cache, then here); kept for identical results
    // when the tokenizer is not idempotent.
    return { refWords: refs.map((r) => pySplit(this.preprocessSegment(r))) };
  }

  getSignature(): TERSignature {
    if (this.numRefs === null) throw new Error('TER: number of references unknown, evaluate the metric first');
    return new TERSignature(this.numRefs, this);
  }
}
