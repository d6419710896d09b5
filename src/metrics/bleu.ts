// BLEU (Papineni et al., 2002) as computed by sacreBLEU 2.x (sacrebleu/metrics/bleu.py): corpus
// statistics are summed over segments, the closest reference length gives the brevity penalty,
// and `exp`/`floor`/`add-k`/`none` smoothing (Chen & Cherry, WMT 2014) handle zero counts.
import { resolveConfig } from '../util/config.js';
import { Metric, Score, Signature } from './base.js';
import { extractAllWordNgrams, myLog, type Counter } from './helpers.js';
import { pyFixed, pyRstrip } from './pystr.js';
import { getTokenizer, type Tokenizer } from './tokenizers/index.js';

/** The default maximum n-gram order. */
export const MAX_NGRAM_ORDER = 4;

export type SmoothMethod = 'none' | 'floor' | 'add-k' | 'exp';

/** Default smoothing values (Chen & Cherry 2014); null = the method takes none. */
export const SMOOTH_DEFAULTS: Readonly<Record<SmoothMethod, number | null>> = {
  none: null,
  floor: 0.1,
  'add-k': 1,
  exp: null,
};

export interface BLEUOptions {
  /** Lowercase hypotheses and references. Default false (signature `case:mixed`). */
  lowercase: boolean;
  /** Accepted for sacreBLEU parity: it only silences the "looks tokenized" warning. Default false. */
  force: boolean;
  /** Tokenizer name: '13a' (default), 'intl', 'zh', 'char' or 'none'. */
  tokenize: string;
  /** Smoothing method. Default 'exp'. */
  smoothMethod: SmoothMethod;
  /** Value for 'floor' (default 0.1) and 'add-k' (default 1); null = the default. */
  smoothValue: number | null;
  /** Highest n-gram order. Default 4. */
  maxNgramOrder: number;
  /** Leave out orders with no n-grams (for sentence BLEU). Default false. */
  effectiveOrder: boolean;
  /** References to pre-compute and cache (`refs[k][i]`); then `corpusScore(hyps, null)`. */
  references: readonly (readonly string[])[] | null;
}

export const DEFAULT_BLEU_OPTIONS: Readonly<BLEUOptions> = {
  lowercase: false,
  force: false,
  tokenize: '13a',
  smoothMethod: 'exp',
  smoothValue: null,
  maxNgramOrder: MAX_NGRAM_ORDER,
  effectiveOrder: false,
  references: null,
};

/** A BLEU result: score in [0, 100], matched/total n-gram counts, precisions and brevity penalty. */
export class BLEUScore extends Score {
  readonly precisions: number[];
  readonly ratio: number;
  readonly precStr: string;

  constructor(
    score: number,
    readonly counts: number[],
    readonly totals: number[],
    precisions: number[],
    readonly bp: number,
    readonly sysLen: number,
    readonly refLen: number,
    name = 'BLEU',
  ) {
    super(name, score);
    this.precisions = precisions;
    this.precStr = precisions.map((p) => pyFixed(p, 1)).join('/');
    this.ratio = refLen ? sysLen / refLen : 0;
    this.verbose =
      `${this.precStr} (BP = ${pyFixed(bp, 3)} ratio = ${pyFixed(this.ratio, 3)} ` + `hyp_len = ${sysLen} ref_len = ${refLen})`;
  }
}

/** BLEU's signature fields: case, eff, tok, smooth (with the value in brackets when it has one). */
export class BLEUSignature extends Signature {
  constructor(
    numRefs: number,
    opts: {
      lowercase: boolean;
      effectiveOrder: boolean;
      tokenizerSignature: string;
      smoothMethod: SmoothMethod;
      smoothValue: number | null;
    },
  ) {
    super(numRefs);
    Object.assign(this.abbr, { case: 'c', eff: 'e', tok: 'tok', smooth: 's' });
    let smooth: string = opts.smoothMethod;
    const def = SMOOTH_DEFAULTS[opts.smoothMethod];
    if (def !== null) smooth += `[${pyFixed(opts.smoothValue ?? def, 2)}]`;
    this.info.case = opts.lowercase ? 'lc' : 'mixed';
    this.info.eff = opts.effectiveOrder ? 'yes' : 'no';
    this.info.tok = opts.tokenizerSignature;
    this.info.smooth = smooth;
  }
}

/**
 * BLEU from sufficient statistics with smoothing (sacreBLEU's `BLEU.compute_bleu`).
 * `correct`/`total` are per-order counts; they are copied, not modified.
 */
export function computeBleu(
  correctIn: readonly number[],
  totalIn: readonly number[],
  sysLen: number,
  refLen: number,
  smoothMethod: SmoothMethod = 'none',
  smoothValue: number | null = null,
  effectiveOrder = false,
  maxNgramOrder = MAX_NGRAM_ORDER,
  name = 'BLEU',
): BLEUScore {
  if (!Object.hasOwn(SMOOTH_DEFAULTS, smoothMethod)) {
    throw new Error(`unknown smooth method ${JSON.stringify(smoothMethod)}: expected one of ${Object.keys(SMOOTH_DEFAULTS).join(', ')}`);
  }
  const correct = correctIn.slice();
  const total = totalIn.slice();
  const value = smoothValue ?? SMOOTH_DEFAULTS[smoothMethod] ?? 0;

  // Brevity penalty
  let bp: number;
  if (sysLen < refLen) bp = sysLen > 0 ? Math.exp(1 - refLen / sysLen) : 0.0;
  else bp = 1.0;

  const precisions = new Array<number>(maxNgramOrder).fill(0.0);

  // Early stop if there are no matches (sacrebleu #141)
  if (!correct.some((c) => c !== 0)) {
    return new BLEUScore(0.0, correct, total, precisions, bp, sysLen, refLen, name);
  }

  let smoothMteval = 1.0;
  let effOrder = maxNgramOrder;
  for (let n = 1; n <= precisions.length; n++) {
    if (smoothMethod === 'add-k' && n > 1) {
      correct[n - 1] += value;
      total[n - 1] += value;
    }
    if (total[n - 1] === 0) break;
    // Scale the order down to the highest order the system produced any n-gram of.
    if (effectiveOrder) effOrder = n;
    if (correct[n - 1] === 0) {
      if (smoothMethod === 'exp') {
        smoothMteval *= 2;
        precisions[n - 1] = 100.0 / (smoothMteval * total[n - 1]);
      } else if (smoothMethod === 'floor') {
        precisions[n - 1] = (100.0 * value) / total[n - 1];
      }
    } else {
      precisions[n - 1] = (100.0 * correct[n - 1]) / total[n - 1];
    }
  }

  let logSum = 0;
  for (let i = 0; i < effOrder; i++) logSum += myLog(precisions[i]);
  const score = bp * Math.exp(logSum / effOrder);
  return new BLEUScore(score, correct, total, precisions, bp, sysLen, refLen, name);
}

interface BLEURefInfo {
  /** Per order: the maximum count of each n-gram over the references. */
  ngrams: Counter[];
  lens: number[];
}

/** sacreBLEU's `BLEU` metric class. */
export class BLEU extends Metric<BLEUScore, BLEURefInfo> {
  readonly lowercase: boolean;
  readonly smoothMethod: SmoothMethod;
  readonly smoothValue: number | null;
  readonly maxNgramOrder: number;
  readonly effectiveOrder: boolean;
  readonly force: boolean;
  readonly tokenizer: Tokenizer;
  readonly tokenizerSignature: string;
  /** Printed name of the score ('BLEU'; 'tokenized BLEU' for the paper-style variant). */
  protected scoreName = 'BLEU';

  constructor(options?: Partial<BLEUOptions>, tokenizer?: Tokenizer) {
    super();
    const o = resolveConfig('BLEU', DEFAULT_BLEU_OPTIONS, options);
    if (!Object.hasOwn(SMOOTH_DEFAULTS, o.smoothMethod)) {
      throw new Error(
        `BLEU: unknown smoothMethod ${JSON.stringify(o.smoothMethod)}: expected one of ${Object.keys(SMOOTH_DEFAULTS).join(', ')}`,
      );
    }
    if (!Number.isInteger(o.maxNgramOrder) || o.maxNgramOrder < 1) {
      throw new Error(`BLEU: maxNgramOrder must be a positive integer, got ${o.maxNgramOrder}`);
    }
    this.lowercase = o.lowercase;
    this.force = o.force;
    this.smoothMethod = o.smoothMethod;
    this.smoothValue = o.smoothValue;
    this.maxNgramOrder = o.maxNgramOrder;
    this.effectiveOrder = o.effectiveOrder;
    this.tokenizer = tokenizer ?? getTokenizer(o.tokenize);
    this.tokenizerSignature = this.tokenizer.signature();
    if (o.references) this.refCache = this.cacheReferences(o.references);
  }

  computeScoreFromStats(stats: number[]): BLEUScore {
    const k = this.maxNgramOrder;
    return computeBleu(
      stats.slice(2, 2 + k),
      stats.slice(2 + k),
      Math.trunc(stats[0]),
      Math.trunc(stats[1]),
      this.smoothMethod,
      this.smoothValue,
      this.effectiveOrder,
      k,
      this.scoreName,
    );
  }

  protected preprocessSegment(sent: string): string {
    if (this.lowercase) sent = sent.toLowerCase();
    return this.tokenizer.tokenize(pyRstrip(sent));
  }

  /** The reference length closest to `hypLen`; ties go to the shorter reference. */
  static closestRefLen(hypLen: number, refLens: readonly number[]): number {
    let closestDiff = -1;
    let closestLen = -1;
    for (const refLen of refLens) {
      const diff = Math.abs(hypLen - refLen);
      if (closestDiff === -1 || diff < closestDiff) {
        closestDiff = diff;
        closestLen = refLen;
      } else if (diff === closestDiff && refLen < closestLen) {
        closestLen = refLen;
      }
    }
    return closestLen;
  }

  protected extractReferenceInfo(refs: string[]): BLEURefInfo {
    let ngrams: Counter[] | null = null;
    const lens: number[] = [];
    for (const ref of refs) {
      const [these, len] = extractAllWordNgrams(ref, 1, this.maxNgramOrder);
      lens.push(len);
      if (ngrams === null) {
        ngrams = these;
      } else {
        // Merge counts across references: the maximum per n-gram
        for (let n = 0; n < these.length; n++) {
          const into = ngrams[n];
          for (const [g, c] of these[n]) {
            const prev = into.get(g) ?? 0;
            if (c > prev) into.set(g, c);
          }
        }
      }
    }
    return { ngrams: ngrams ?? [], lens };
  }

  /** [hyp_len, ref_len, correct_1..k, total_1..k] of one segment. */
  protected computeSegmentStatistics(hyp: string, ref: BLEURefInfo): number[] {
    const [hypNgrams, hypLen] = extractAllWordNgrams(hyp, 1, this.maxNgramOrder);
    const refLen = BLEU.closestRefLen(hypLen, ref.lens);
    const k = this.maxNgramOrder;
    const correct = new Array<number>(k).fill(0);
    const total = new Array<number>(k).fill(0);
    for (let n = 0; n < k; n++) {
      const refN = ref.ngrams[n];
      for (const [g, c] of hypNgrams[n]) {
        total[n] += c;
        const r = refN.get(g);
        if (r !== undefined) correct[n] += Math.min(c, r);
      }
    }
    return [hypLen, refLen, ...correct, ...total];
  }

  getSignature(): BLEUSignature {
    if (this.numRefs === null) throw new Error('BLEU: number of references unknown, evaluate the metric first');
    return new BLEUSignature(this.numRefs, {
      lowercase: this.lowercase,
      effectiveOrder: this.effectiveOrder,
      tokenizerSignature: this.tokenizerSignature,
      smoothMethod: this.smoothMethod,
      smoothValue: this.smoothValue,
    });
  }
}
