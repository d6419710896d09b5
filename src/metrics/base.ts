// The metric skeleton of sacreBLEU 2.x (sacrebleu/metrics/base.py): a `Score` that formats
// itself as text or JSON, a `Signature` that makes a score reproducible, and a `Metric` base that
// splits preprocessing, reference statistics, segment statistics and the score from statistics;
// corpus and sentence scores are built on those four steps.
import { pyFixed, pyFloatRepr } from './pystr.js';
import { sumOfLists } from './helpers.js';
import { packageVersion } from './version.js';

/** A metric result. `format()` prints like sacreBLEU: `NAME|signature = score verbose`. */
export class Score {
  /** Extra text printed after the score (BLEU's precisions and brevity penalty). */
  protected verbose = '';

  constructor(
    readonly name: string,
    readonly score: number,
  ) {}

  /** The text after the score, e.g. `65.3/40.1/... (BP = ...)`; '' for chrF and TER. */
  get verboseScore(): string {
    return this.verbose;
  }

  /**
   * sacreBLEU's `Score.format`: `width` decimals, only the score when `scoreOnly`, a JSON
   * object (indent 1, the signature split into fields) when `isJson`.
   */
  format(width = 2, scoreOnly = false, signature = '', isJson = false): string {
    const sc = pyFixed(this.score, width);
    const fields: Array<[string, string]> = [
      ['name', JSON.stringify(this.name)],
      ['score', pyFloatRepr(Number(sc))],
      ['signature', JSON.stringify(signature)],
    ];
    let full = signature ? `${this.name}|${signature}` : this.name;
    full = `${full} = ${sc}`;
    if (this.verbose) {
      full += ` ${this.verbose}`;
      fields.push(['verbose_score', JSON.stringify(this.verbose)]);
    }
    if (scoreOnly) return sc;
    if (isJson) {
      if (signature) {
        for (const param of signature.split('|')) {
          const i = param.indexOf(':');
          const key = i < 0 ? param : param.slice(0, i);
          const value = i < 0 ? '' : param.slice(i + 1);
          const at = fields.findIndex(([k]) => k === key);
          if (at >= 0) fields[at] = [key, JSON.stringify(value)];
          else fields.push([key, JSON.stringify(value)]);
        }
      }
      return `{\n${fields.map(([k, v]) => ` ${JSON.stringify(k)}: ${v}`).join(',\n')}\n}`;
    }
    return full;
  }

  toString(): string {
    return this.format();
  }
}

export type SignatureValue = string | number | boolean | null | undefined;

/** sacreBLEU's reproducibility signature: `key:value` pairs joined by '|', version last. */
export class Signature {
  protected readonly abbr: Record<string, string> = {
    version: 'v',
    nrefs: '#',
    test: 't',
    lang: 'l',
    subset: 'S',
    origlang: 'o',
    bs: 'bs',
    ar: 'ar',
    seed: 'rs',
  };
  /** Ordered fields; null/undefined ones are left out of `format()`. */
  readonly info: Record<string, SignatureValue>;

  constructor(numRefs: number) {
    this.info = {
      version: packageVersion(),
      nrefs: numRefs === -1 ? 'var' : numRefs,
      bs: null,
      ar: null,
      seed: null,
      test: null,
      lang: null,
      origlang: null,
      subset: null,
    };
  }

  /** `nrefs:1|case:mixed|...|version:x`; with `short`, abbreviated keys (`#:1|c:mixed|...`). */
  format(short = false): string {
    const keys = Object.keys(this.info).filter((k) => k !== 'version');
    keys.push('version');
    const pairs: string[] = [];
    for (const name of keys) {
      let value = this.info[name];
      if (value === null || value === undefined) continue;
      if (typeof value === 'boolean') value = value ? 'yes' : 'no';
      const finalName = short ? (this.abbr[name] ?? name) : name;
      pairs.push(`${finalName}:${value}`);
    }
    return pairs.join('|');
  }

  update(key: string, value: SignatureValue): void {
    this.info[key] = value;
  }

  toString(): string {
    return this.format();
  }
}

/**
 * Base of BLEU, chrF and TER. Subclasses implement the four steps; `corpusScore` and
 * `sentenceScore` are the same for all. References are streams as in sacreBLEU:
 * `refs[k][i]` is the k-th reference of segment i; '' marks a missing reference.
 */
export abstract class Metric<S extends Score, RefInfo> {
  /** Pre-computed reference statistics (when references were given to the constructor). */
  protected refCache: RefInfo[] | null = null;
  /** Number of references per segment, -1 when it varies; known after references were read. */
  numRefs: number | null = null;

  /** Lowercasing/tokenization applied to hypotheses and references. */
  protected abstract preprocessSegment(sent: string): string;
  /** Statistics of one segment's (preprocessed) references. */
  protected abstract extractReferenceInfo(refs: string[]): RefInfo;
  /** Statistics of one (preprocessed) hypothesis against its reference info. */
  protected abstract computeSegmentStatistics(hyp: string, refInfo: RefInfo): number[];
  /** The score from summed statistics. */
  abstract computeScoreFromStats(stats: number[]): S;
  /** The signature of this metric with its current settings. */
  abstract getSignature(): Signature;

  /** Sums segment statistics and computes the score from them. */
  aggregateAndCompute(stats: readonly (readonly number[])[]): S {
    return this.computeScoreFromStats(sumOfLists(stats));
  }

  /** Reference statistics for every segment; sets `numRefs`. */
  protected cacheReferences(references: readonly (readonly string[])[]): RefInfo[] {
    if (references.length === 0) throw new Error(`${this.constructor.name}: no reference streams given`);
    const n = references[0].length;
    references.forEach((stream, k) => {
      if (stream.length !== n) {
        throw new Error(
          `${this.constructor.name}: reference stream ${k + 1} has ${stream.length} segments, ` + `reference stream 1 has ${n}`,
        );
      }
    });
    const cache: RefInfo[] = [];
    const counts = new Set<number>();
    for (let i = 0; i < n; i++) {
      const lines: string[] = [];
      for (const stream of references) {
        const x = stream[i];
        if (x !== undefined && x !== null && x !== '') lines.push(x);
      }
      if (lines.length === 0) {
        throw new Error(`${this.constructor.name}: empty reference sentence at segment ${i + 1} (line ${i + 1})`);
      }
      counts.add(lines.length);
      cache.push(this.extractReferenceInfo(lines.map((x) => this.preprocessSegment(x))));
    }
    this.numRefs = counts.size === 1 ? [...counts][0] : -1;
    return cache;
  }

  /** Per-segment statistics of a corpus (the input of significance tests too). */
  extractCorpusStatistics(hyps: readonly string[], refs: readonly (readonly string[])[] | null): number[][] {
    let cache: RefInfo[];
    if (refs && refs.length > 0) cache = this.cacheReferences(refs);
    else if (this.refCache) cache = this.refCache;
    else throw new Error(`${this.constructor.name}: no references given and none cached`);
    if (hyps.length !== cache.length) {
      throw new Error(`${this.constructor.name}: ${hyps.length} hypotheses but ${cache.length} reference segments`);
    }
    const stats: number[][] = [];
    for (let i = 0; i < hyps.length; i++) {
      const hyp = hyps[i];
      if (typeof hyp !== 'string') throw new Error(`${this.constructor.name}: hypothesis ${i + 1} is not a string`);
      stats.push(this.computeSegmentStatistics(this.preprocessSegment(hyp), cache[i]));
    }
    return stats;
  }

  /** Score of one hypothesis against one or more references. */
  sentenceScore(hyp: string, refs: readonly string[]): S {
    if (typeof hyp !== 'string') throw new Error(`${this.constructor.name}: the hypothesis should be a string`);
    if (!Array.isArray(refs) || refs.length === 0 || typeof refs[0] !== 'string') {
      throw new Error(`${this.constructor.name}: the references should be a non-empty array of strings`);
    }
    return this.aggregateAndCompute(
      this.extractCorpusStatistics(
        [hyp],
        refs.map((r) => [r]),
      ),
    );
  }

  /** Corpus score; `refs` = null uses references given to the constructor. */
  corpusScore(hyps: readonly string[], refs: readonly (readonly string[])[] | null): S {
    if (!Array.isArray(hyps) || hyps.length === 0) {
      throw new Error(`${this.constructor.name}: the hypotheses should be a non-empty array of strings`);
    }
    return this.aggregateAndCompute(this.extractCorpusStatistics(hyps, refs));
  }
}
