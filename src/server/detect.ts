// Language identification for `source: "auto"` and POST /detect: places a text among the source
// languages the server serves, answering like LibreTranslate ([{language, confidence 0-100}],
// best first). Built on eld (Nito-ELD, byte n-grams), chosen by bench/langid.ts; docs/langid.md
// has the measurements behind the library, the temperature and the threshold below.
//
// Reliability rule: a text is not placed (the answer is []) when
//   1. it has no letter (empty, blank, digits and punctuation), or eld matches none of its
//      n-grams in any candidate language (URLs, e-mails and numbers are removed first);
//   2. eld calls the result unreliable: fewer than 3 distinct n-grams (about one short word) or a
//      top score under 0.75 of that language's average score on correct detections. (eld 2.1.0
//      also means to require a 0.01 gap to the runner-up, but compares a score with a language
//      index there, so that check never fires; rule 3 covers ambiguity instead);
//   3. the top confidence is under MIN_CONFIDENCE (60): on the bench, answers below it were
//      right about half the time (a coin toss between two candidates), above it far more often.
// Confidence: softmax of eld's candidate scores (each in [0, 1)) at TEMPERATURE, fitted on the
// Multi30k val lines, so that an answer at confidence c is right about c% of the time.

/** One candidate language and how sure the detector is, on LibreTranslate's 0-100 scale. */
export interface Detection {
  language: string;
  confidence: number;
}

/** Softmax temperature over eld scores: the NLL-optimal one on Multi30k val (bench/langid.ts). */
export const TEMPERATURE = 0.024;
/** Below this top confidence a text is too ambiguous to place (rule 3 above). */
export const MIN_CONFIDENCE = 60;

export interface DetectorOptions {
  /** Top confidence (0-100) under which a text is not placed. Default MIN_CONFIDENCE; the bench uses 0. */
  minConfidence: number;
}

export const DEFAULT_DETECTOR_OPTIONS: DetectorOptions = { minConfidence: MIN_CONFIDENCE };
/** eld reads about the first 350 bytes of a text: letters beyond are no extra evidence in a batch. */
const MAX_WEIGHT = 350;

const LIBRARY = 'eld';

/** The part of an eld instance this module uses (the package's own types, narrowed). */
interface Eld {
  detect(text: string): { language: string; getScores(): Record<string, number>; isReliable(): boolean };
  setLanguageSubset(languages: string[] | boolean): Record<number, string>;
  enableTextCleanup(flag: boolean): void;
  info(): { Languages: Record<number, string> };
}

const HAS_LETTER = /\p{L}/u;

export class LanguageDetector {
  /**
   * Loads eld's n-gram table (its time and memory: docs/langid.md) and restricts it to
   * `candidates`: ISO 639-1 codes, optionally with a region or script subtag (`pt-BR` is placed
   * as eld's `pt`). Throws if a candidate is not one eld knows, or two candidates share a base.
   */
  static async create(candidates: readonly string[], options: Partial<DetectorOptions> = {}): Promise<LanguageDetector> {
    const unknown = Object.keys(options).filter((k) => !(k in DEFAULT_DETECTOR_OPTIONS));
    if (unknown.length > 0)
      throw new Error(
        `language detection: unknown option(s) ${unknown.join(', ')}; expected ${Object.keys(DEFAULT_DETECTOR_OPTIONS).join(', ')}`,
      );
    const opts = { ...DEFAULT_DETECTOR_OPTIONS, ...options };
    if (!(opts.minConfidence >= 0 && opts.minConfidence <= 100))
      throw new Error(`language detection: minConfidence must be within 0-100, got ${opts.minConfidence}`);
    // The small n-gram table places en/de/fr as well as the medium and large ones (docs/langid.md).
    const { eld } = (await import('eld/small')) as { eld: Eld & { newInstance(): Eld } };
    return new LanguageDetector(eld.newInstance(), candidates, opts.minConfidence);
  }

  /** Served code for each eld code. */
  private readonly served = new Map<string, string>();

  private constructor(
    private readonly eld: Eld,
    candidates: readonly string[],
    private readonly minConfidence: number,
  ) {
    if (candidates.length === 0) throw new Error(`language detection needs at least one candidate language; got none`);
    const known = new Set(Object.values(eld.info().Languages));
    for (const code of new Set(candidates)) {
      const base = code.split('-')[0]!.toLowerCase();
      if (!known.has(base)) {
        throw new Error(
          `language detection: candidate language '${code}' is not supported by ${LIBRARY} (it places ${[...known].sort().join(', ')}); ` +
            `serve '${code}' only with an explicit source, or drop it from the candidates`,
        );
      }
      const other = this.served.get(base);
      if (other !== undefined)
        throw new Error(
          `language detection: candidates '${other}' and '${code}' are both '${base}' to ${LIBRARY}, which cannot tell them apart`,
        );
      this.served.set(base, code);
    }
    eld.setLanguageSubset([...this.served.keys()]);
    eld.enableTextCleanup(true);
  }

  /** The candidate languages, as given. */
  get candidates(): string[] {
    return [...this.served.values()];
  }

  /** Candidates for `text`, best first, confidences summing to about 100; [] if it cannot be placed. */
  detect(text: string): Detection[] {
    if (!HAS_LETTER.test(text)) return [];
    const r = this.eld.detect(text);
    if (r.language === '' || !r.isReliable()) return [];
    const scores = r.getScores();
    const codes = [...this.served.keys()];
    const logits = codes.map((c) => (scores[c] ?? 0) / TEMPERATURE);
    const max = Math.max(...logits);
    const exps = logits.map((l) => Math.exp(l - max));
    const sum = exps.reduce((a, b) => a + b, 0);
    const out = codes
      .map((c, i) => ({ language: this.served.get(c)!, confidence: round1((100 * exps[i]!) / sum) }))
      .filter((d) => d.confidence > 0)
      .sort((a, b) => b.confidence - a.confidence);
    return out[0]!.confidence < this.minConfidence ? [] : out;
  }

  /**
   * Places the texts of one request together: each placed text's confidences, weighted by its
   * letters (up to the MAX_WEIGHT eld reads), averaged per language over the placed texts
   * (LibreTranslate averages unweighted). Texts that cannot be placed do not vote; [] if none can.
   */
  detectBatch(texts: readonly string[]): Detection[] {
    const total = new Map<string, number>();
    let weights = 0;
    for (const text of texts) {
      const d = this.detect(text);
      if (d.length === 0) continue;
      const w = Math.min(MAX_WEIGHT, countLetters(text));
      weights += w;
      for (const { language, confidence } of d) total.set(language, (total.get(language) ?? 0) + w * confidence);
    }
    if (weights === 0) return [];
    return [...total]
      .map(([language, sum]) => ({ language, confidence: round1(sum / weights) }))
      .filter((d) => d.confidence > 0)
      .sort((a, b) => b.confidence - a.confidence);
  }
}

const round1 = (x: number) => Math.round(10 * x) / 10;

/** Letters of `text`, counting up to MAX_WEIGHT. */
function countLetters(text: string): number {
  let n = 0;
  for (const ch of text) if (HAS_LETTER.test(ch) && ++n === MAX_WEIGHT) break;
  return n;
}
