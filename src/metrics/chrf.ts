// chrF (Popović 2015) and chrF++ (Popović 2017) as computed by sacreBLEU 2.x
// (sacrebleu/metrics/chrf.py): character n-grams 1..6 (whitespace removed) plus, for chrF++,
// word n-grams 1..2; an F-beta score (beta 2) over averaged precision and recall. Statistics are
// [hyp, ref, match] per order; with several references the one with the best F wins per segment.
import { resolveConfig } from '../util/config.js';
import { Metric, Score, Signature } from './base.js';
import { extractAllCharNgrams, extractWordNgrams, type Counter } from './helpers.js';
import { pySplit } from './pystr.js';

export interface CHRFOptions {
  /** Character n-gram order. Default 6. */
  charOrder: number;
  /** Word n-gram order; 2 gives chrF++. Default 0. */
  wordOrder: number;
  /** Weight of recall w.r.t. precision. Default 2. */
  beta: number;
  /** Case-insensitive. Default false. */
  lowercase: boolean;
  /** Keep whitespace in character n-grams. Default false. */
  whitespace: boolean;
  /** chrF++.py-style epsilon smoothing instead of effective-order averaging. Default false. */
  epsSmoothing: boolean;
  /** References to pre-compute and cache. */
  references: readonly (readonly string[])[] | null;
}

export const DEFAULT_CHRF_OPTIONS: Readonly<CHRFOptions> = {
  charOrder: 6,
  wordOrder: 0,
  beta: 2,
  lowercase: false,
  whitespace: false,
  epsSmoothing: false,
  references: null,
};

/** `string.punctuation`, the characters chrF++ separates from word starts and ends. */
const PUNCTS = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');

export class CHRFScore extends Score {
  constructor(
    score: number,
    readonly charOrder: number,
    readonly wordOrder: number,
    readonly beta: number,
  ) {
    // '+' per word order: chrF2 (chrF), chrF2++ (chrF++)
    super(`chrF${beta}${'+'.repeat(wordOrder)}`, score);
  }
}

export class CHRFSignature extends Signature {
  constructor(
    numRefs: number,
    o: { lowercase: boolean; epsSmoothing: boolean; charOrder: number; wordOrder: number; whitespace: boolean },
  ) {
    super(numRefs);
    Object.assign(this.abbr, { case: 'c', eff: 'e', nc: 'nc', nw: 'nw', space: 's' });
    this.info.case = o.lowercase ? 'lc' : 'mixed';
    this.info.eff = o.epsSmoothing ? 'no' : 'yes';
    this.info.nc = o.charOrder;
    this.info.nw = o.wordOrder;
    this.info.space = o.whitespace ? 'yes' : 'no';
  }
}

interface CHRFRefInfo {
  /** Per reference: one Counter per order (char orders, then word orders). */
  ngrams: Counter[][];
}

export class CHRF extends Metric<CHRFScore, CHRFRefInfo> {
  readonly charOrder: number;
  readonly wordOrder: number;
  readonly beta: number;
  readonly order: number;
  readonly lowercase: boolean;
  readonly whitespace: boolean;
  readonly epsSmoothing: boolean;

  constructor(options?: Partial<CHRFOptions>) {
    super();
    const o = resolveConfig('CHRF', DEFAULT_CHRF_OPTIONS, options);
    for (const k of ['charOrder', 'wordOrder'] as const) {
      if (!Number.isInteger(o[k]) || o[k] < 0) throw new Error(`CHRF: ${k} must be a non-negative integer, got ${o[k]}`);
    }
    this.charOrder = o.charOrder;
    this.wordOrder = o.wordOrder;
    this.beta = o.beta;
    this.order = o.charOrder + o.wordOrder;
    this.lowercase = o.lowercase;
    this.whitespace = o.whitespace;
    this.epsSmoothing = o.epsSmoothing;
    if (o.references) this.refCache = this.cacheReferences(o.references);
  }

  /** [hyp count (0 if the reference has none), ref count, matches] for one order. */
  private static matchStatistics(hyp: Counter, ref: Counter): [number, number, number] {
    let match = 0;
    let hypCount = 0;
    for (const [g, c] of hyp) {
      hypCount += c;
      const r = ref.get(g);
      if (r !== undefined) match += Math.min(c, r);
    }
    let refCount = 0;
    for (const c of ref.values()) refCount += c;
    return [ref.size > 0 ? hypCount : 0, refCount, match];
  }

  /** Splits punctuation off word ends (else starts), as chrF++.py; '(hi)' -> '(hi', ')'. */
  private static removePunctuation(sent: string): string[] {
    const out: string[] = [];
    for (const w of pySplit(sent)) {
      const cps = Array.from(w);
      if (cps.length === 1) {
        out.push(w);
      } else if (PUNCTS.has(cps[cps.length - 1])) {
        out.push(cps.slice(0, -1).join(''), cps[cps.length - 1]);
      } else if (PUNCTS.has(cps[0])) {
        out.push(cps[0], cps.slice(1).join(''));
      } else {
        out.push(w);
      }
    }
    return out;
  }

  protected preprocessSegment(sent: string): string {
    return this.lowercase ? sent.toLowerCase() : sent;
  }

  /** The F-beta score in [0, 100] from [hyp, ref, match] triples per order. */
  computeFScore(stats: readonly number[]): number {
    const eps = 1e-16;
    let score = 0.0;
    let effectiveOrder = 0;
    const factor = this.beta ** 2;
    let avgPrec = 0.0;
    let avgRec = 0.0;
    for (let i = 0; i < this.order; i++) {
      const nHyp = stats[3 * i];
      const nRef = stats[3 * i + 1];
      const nMatch = stats[3 * i + 2];
      // chrF++.py style EPS smoothing (also used by Moses and NLTK)
      const prec = nHyp > 0 ? nMatch / nHyp : eps;
      const rec = nRef > 0 ? nMatch / nRef : eps;
      const denom = factor * prec + rec;
      score += denom > 0 ? ((1 + factor) * prec * rec) / denom : eps;
      // sacreBLEU < 2.0 style effective order smoothing
      if (nHyp > 0 && nRef > 0) {
        avgPrec += prec;
        avgRec += rec;
        effectiveOrder += 1;
      }
    }
    if (this.epsSmoothing) return (100 * score) / this.order;
    if (effectiveOrder === 0) {
      avgPrec = 0.0;
      avgRec = 0.0;
    } else {
      avgPrec /= effectiveOrder;
      avgRec /= effectiveOrder;
    }
    if (avgPrec + avgRec) {
      score = (1 + factor) * avgPrec * avgRec;
      score /= factor * avgPrec + avgRec;
      return 100 * score;
    }
    return 0.0;
  }

  computeScoreFromStats(stats: number[]): CHRFScore {
    return new CHRFScore(this.computeFScore(stats), this.charOrder, this.wordOrder, this.beta);
  }

  private allNgrams(sent: string): Counter[] {
    const grams = extractAllCharNgrams(sent, this.charOrder, this.whitespace);
    if (this.wordOrder > 0) {
      const words = CHRF.removePunctuation(sent);
      for (let n = 1; n <= this.wordOrder; n++) grams.push(extractWordNgrams(words, n));
    }
    return grams;
  }

  protected extractReferenceInfo(refs: string[]): CHRFRefInfo {
    return { ngrams: refs.map((r) => this.allNgrams(r)) };
  }

  protected computeSegmentStatistics(hyp: string, ref: CHRFRefInfo): number[] {
    let best: number[] = [];
    let bestF = -1.0;
    const hypNgrams = this.allNgrams(hyp);
    for (const refNgrams of ref.ngrams) {
      const stats: number[] = [];
      const n = Math.min(hypNgrams.length, refNgrams.length);
      for (let i = 0; i < n; i++) stats.push(...CHRF.matchStatistics(hypNgrams[i], refNgrams[i]));
      const f = this.computeFScore(stats);
      if (f > bestF) {
        bestF = f;
        best = stats;
      }
    }
    return best;
  }

  getSignature(): CHRFSignature {
    if (this.numRefs === null) throw new Error('CHRF: number of references unknown, evaluate the metric first');
    return new CHRFSignature(this.numRefs, this);
  }
}
