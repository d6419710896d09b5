// What the server needs from a translation model, and nothing else: the `TranslationEngine`
// interface (one engine per language pair), and `TranslatorEngine`, which satisfies it with the
// project's Translator (src/mt/translator.ts: cleaning, SentencePiece, source EOS, the batched
// SequenceGenerator of src/mt/decoding; decoding is not re-implemented here). The data path:
// batcher → engine.translate → Translator.translate → SequenceGenerator.generate → model.
// The batcher already bounds a batch, so the Translator is built with an unbounded token budget
// (one batcher batch = one generate call).
import type { Translator } from '../mt/translator.js';

/** Decoding settings a request may choose; requests with equal settings share a generate call. */
export interface DecodeSettings {
  /** Hypotheses kept per sentence. */
  beamSize: number;
  /** Hypotheses returned per sentence (≤ beamSize). */
  nbest: number;
  /** Length penalty: score = Σ log-prob / len ** lenpen. */
  lenpen: number;
  /** Max output tokens before EOS (EOS forced there), capped by the model. */
  maxLength: number;
}

/** One finished hypothesis. */
export interface EngineHypothesis {
  text: string;
  /** Output token ids without BOS, EOS excluded. */
  tokens: number[];
  /** Length-normalised total log-prob (see DecodeSettings.lenpen). */
  score: number;
  /** Log-prob of every token, EOS included (one more entry than `tokens`). */
  positionalScores: number[];
}

/** One unfinished beam at a decoding step. */
export interface EngineBeam {
  text: string;
  tokens: number[];
  /** Cumulative log-prob (not normalised). */
  score: number;
}

/** A decoding step of one sentence of the batch. */
export interface EngineStep {
  /** Index into the `texts` given to translate. */
  sentence: number;
  step: number;
  /** Live beams after this step, best first; empty once the sentence is done. */
  beams: EngineBeam[];
}

export interface TranslateOptions extends DecodeSettings {
  onStep?: (e: EngineStep) => void;
  /** Per-sentence cancellation (same indexing as texts): the sentence drops out of the batch. */
  signals?: readonly (AbortSignal | undefined)[];
}

/** A translation model for one language pair. */
export interface TranslationEngine {
  /** Source tokens (EOS excluded) the model accepts per sentence. */
  readonly maxInputTokens: number;
  /** Longest output the model can produce (tokens before EOS). */
  readonly maxOutputTokens: number;
  /** Source tokens of `text` as the model sees them (EOS excluded; 0 if nothing is left after cleaning). */
  countTokens(text: string): number;
  /**
   * n-best hypotheses per text, best first. A sentence whose signal fired gets whatever was
   * finished so far (possibly nothing): the caller knows from its own signal.
   */
  translate(texts: readonly string[], opts: TranslateOptions): Promise<EngineHypothesis[][]>;
  /** Frees the model. */
  dispose?(): void;
}

/** A Translator (src/mt/translator.ts) as a TranslationEngine. */
export class TranslatorEngine implements TranslationEngine {
  readonly maxInputTokens: number;
  readonly maxOutputTokens: number;

  constructor(readonly translator: Translator) {
    this.maxInputTokens = translator.maxSourceTokens;
    this.maxOutputTokens = translator.model.maxPositions - 1;
  }

  countTokens(text: string): number {
    return this.translator.tokenize(text).length;
  }

  async translate(texts: readonly string[], opts: TranslateOptions): Promise<EngineHypothesis[][]> {
    const eos = this.translator.model.eosId;
    const onStep = opts.onStep;
    const results = await this.translator.translate(texts, {
      beamSize: opts.beamSize,
      nbest: opts.nbest,
      lenpen: opts.lenpen,
      maxLenA: 0,
      maxLenB: opts.maxLength,
      signals: opts.signals,
      onStep: onStep && ((e) => onStep({ sentence: e.sentence, step: e.step, beams: e.beams })),
    });
    return results.map((r) =>
      r.hypotheses.map((h) => ({
        text: h.text,
        tokens: h.tokens.length > 0 && h.tokens[h.tokens.length - 1] === eos ? h.tokens.slice(0, -1) : h.tokens,
        score: h.score,
        positionalScores: h.positionalScores,
      })),
    );
  }

  dispose(): void {
    this.translator.dispose();
  }
}

/** Token budget given to a server's Translator: never split a batch the batcher formed. */
export const UNBOUNDED_TRANSLATOR_TOKENS = 2 ** 30;
