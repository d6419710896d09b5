// What the server needs from a translation model, and nothing else: the `TranslationEngine`
// interface (one engine per language pair), and `Seq2SeqEngine`, which satisfies it with a
// seq2seq model of src/mt/model, a subword tokenizer (SentencePiece) and the batched
// SequenceGenerator of src/mt/decoding (fairseq's generator; decoding is not re-implemented
// here). The data path: batcher → engine.translate → SequenceGenerator.generate → model.
//
// The interface mirrors src/mt/translator.ts's `Translator` (n-best records {text, tokens, score,
// positionalScores}, step events {sentence, step, beams: [{text, tokens, score}]}, per-sentence
// AbortSignals), so either can be plugged in.
import type { GenerationConfig } from '../mt/decoding/config.js';
import { SequenceGenerator } from '../mt/decoding/generator.js';
import type { IncrementalDecoderModel } from '../mt/decoding/types.js';

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
  /** Source tokens of `text` as the model sees them (EOS excluded). */
  countTokens(text: string): number;
  /**
   * n-best hypotheses per text, best first. A sentence whose signal fired gets whatever was
   * finished so far (possibly nothing): the caller knows from its own signal.
   */
  translate(texts: readonly string[], opts: TranslateOptions): Promise<EngineHypothesis[][]>;
  /** Frees the model. */
  dispose?(): void;
}

/** A subword tokenizer: SentencePiece (src/mt/data/spm.ts) satisfies it. */
export interface Tokenizer {
  encode(text: string): number[];
  decode(ids: ArrayLike<number>): string;
}

/** A model the generator can drive, plus how it frames a source sentence. */
export interface EngineModel extends IncrementalDecoderModel<any, any> {
  /** Source ids as the encoder expects them (tokens + EOS). */
  sourceIds(tokens: ArrayLike<number>): Int32Array;
  dispose?(): void;
}

/** Base generation config of the pair (the serve config's `decoding`), minus per-request keys. */
export type EngineGenerationDefaults = Partial<Omit<GenerationConfig, 'beamSize' | 'nbest' | 'lenpen' | 'maxLenA' | 'maxLenB'>>;

/** A model + tokenizer + SequenceGenerator. */
export class Seq2SeqEngine implements TranslationEngine {
  readonly maxInputTokens: number;
  readonly maxOutputTokens: number;

  constructor(
    readonly model: EngineModel,
    readonly tokenizer: Tokenizer,
    readonly generation: EngineGenerationDefaults = {},
  ) {
    this.maxInputTokens = model.maxPositions - 1;
    this.maxOutputTokens = model.maxPositions - 1;
  }

  countTokens(text: string): number {
    return this.tokenizer.encode(text).length;
  }

  private detok(tokens: ArrayLike<number>): number[] {
    const out = Array.from(tokens);
    if (out.length > 0 && out[out.length - 1] === this.model.eosId) out.pop();
    return out;
  }

  async translate(texts: readonly string[], opts: TranslateOptions): Promise<EngineHypothesis[][]> {
    const gen = new SequenceGenerator(this.model, {
      ...this.generation,
      beamSize: opts.beamSize,
      nbest: opts.nbest,
      lenpen: opts.lenpen,
      maxLenA: 0,
      maxLenB: opts.maxLength,
    });
    const src = texts.map((t) => this.model.sourceIds(this.tokenizer.encode(t)));
    const onStep = opts.onStep;
    const out = await gen.generate(src, {
      signals: opts.signals,
      onStep:
        onStep &&
        ((e) =>
          onStep({
            sentence: e.sentence,
            step: e.step,
            beams: e.beams.map((b) => {
              const tokens = Array.from(b.tokens);
              return { text: this.tokenizer.decode(tokens), tokens, score: b.score };
            }),
          })),
    });
    return out.results.map((r) =>
      r.hypos.map((h) => {
        const tokens = this.detok(h.tokens);
        return { text: this.tokenizer.decode(tokens), tokens, score: h.score, positionalScores: Array.from(h.positionalScores) };
      }),
    );
  }

  dispose(): void {
    this.model.dispose?.();
  }
}
