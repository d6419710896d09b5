// The translation cache: an LRU (lru-cache) of finished sentences, keyed by pair, decoding
// settings and the sentence as the model sees it (after cleaning), bounded in bytes
// (`cacheMaxBytes`; 0 turns it off). Requests that repeat sentences — a paragraph sent twice, a
// page re-translated, the same boilerplate in many documents — are answered without decoding.
// Streaming requests skip it (their beams are the point), and so does `cache: false`. Hits and
// misses are counted in /metrics.
import { LRUCache } from 'lru-cache';
import type { DecodeSettings, TranslationHypothesis } from './engine.js';
import type { ServerMetrics } from './metrics.js';

/** Rough bytes of a cached entry: the key's and texts' UTF-16 code units, 8 per number, overhead. */
function entryBytes(hyps: TranslationHypothesis[], key: string): number {
  let n = 2 * key.length + 64;
  for (const h of hyps) n += 2 * h.text.length + 8 * (h.tokens.length + h.positionalScores.length) + 64;
  return n;
}

export class TranslationCache {
  private readonly lru: LRUCache<string, TranslationHypothesis[]> | null;

  constructor(
    readonly maxBytes: number,
    private readonly metrics?: ServerMetrics,
  ) {
    this.lru =
      maxBytes > 0
        ? new LRUCache<string, TranslationHypothesis[]>({ maxSize: maxBytes, sizeCalculation: (v, k) => entryBytes(v, k) })
        : null;
  }

  get enabled(): boolean {
    return this.lru !== null;
  }

  /** Bytes held now. */
  get bytes(): number {
    return this.lru?.calculatedSize ?? 0;
  }

  static key(pair: string, s: DecodeSettings, sentence: string): string {
    return `${pair}\u0000${s.beamSize}\u0000${s.nbest}\u0000${s.lenpen}\u0000${s.maxLength}\u0000${sentence}`;
  }

  get(key: string): TranslationHypothesis[] | undefined {
    if (!this.lru) return undefined;
    const v = this.lru.get(key);
    if (v === undefined) this.metrics?.cacheMisses.inc();
    else this.metrics?.cacheHits.inc();
    return v;
  }

  set(key: string, hyps: TranslationHypothesis[]): void {
    if (!this.lru || hyps.length === 0) return;
    if (entryBytes(hyps, key) > this.maxBytes) return; // lru-cache would refuse it anyway
    this.lru.set(key, hyps);
    this.metrics?.cacheBytes.set(this.lru.calculatedSize);
  }
}
