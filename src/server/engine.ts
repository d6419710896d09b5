// What the server needs from a translation model, and nothing else: the `TranslationEngine`
// interface (one engine per language pair), and `TranslatorEngine`, which satisfies it with the
// project's Translator (src/mt/translator.ts: cleaning, SentencePiece, source EOS, the batched
// SequenceGenerator of src/mt/decoding; decoding is not re-implemented here). The data path:
// batcher → engine.translate → Translator.translateEncoded → SequenceGenerator.generate → model.
// Sources travel encoded (engine.encode: tokens + EOS, once per sentence); hypotheses are the
// translator's one record, TranslationHypothesis (tokens and positional scores end with EOS).
// The batcher already bounds a batch, so the Translator is built with an unbounded token budget
// (one batcher batch = one generate call). With step-level batching (the default scheduler),
// `decode` hands one sentence to the engine's running decode loop instead
// (src/mt/decoding/continuous.ts: one loop per beam size, sentences join between steps).
import { ContinuousGenerator } from '../mt/decoding/continuous.js';
import type { BeamView } from '../mt/decoding/hypotheses.js';
import { type ContinuousDecoderModel, isContinuous } from '../mt/decoding/types.js';
import type { TranslationHypothesis, Translator } from '../mt/translator.js';

export type { TranslationHypothesis };

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

export interface DecodeOptions {
  /** Cancels the sentence: it leaves the loop before the next step (result: whatever finished). */
  signal?: AbortSignal;
  onStep?: (e: Omit<EngineStep, 'sentence'>) => void;
  /** Most live rows (sentences × beam) of the decode loop it joins. */
  maxRows: number;
  /** Steps an arrival may wait to join a running loop with others (ContinuousOptions.joinWaitSteps). */
  joinWaitSteps?: number;
  /** Live sentences of every step of the loop (metrics); taken when the loop is created. */
  observeStep?: (sentences: number) => void;
}

/** A translation model for one language pair. */
export interface TranslationEngine {
  /** Source tokens (EOS excluded) the model accepts per sentence. */
  readonly maxInputTokens: number;
  /** Longest output the model can produce (tokens before EOS). */
  readonly maxOutputTokens: number;
  /** Source ids of `text` as the model reads them: tokens then EOS (length 1 if nothing is left after cleaning). */
  encode(text: string): Int32Array;
  /**
   * n-best hypotheses per source (encode()), best first. A sentence whose signal fired gets
   * whatever was finished so far (possibly nothing): the caller knows from its own signal.
   */
  translate(srcs: readonly Int32Array[], opts: TranslateOptions): Promise<TranslationHypothesis[][]>;
  /** The model's own generation defaults (a checkpoint's, e.g. a tuned length penalty). */
  readonly generationDefaults?: { beamSize: number; lenpen: number };
  /** True if `decode` is available (the model's rows can sit at different positions). Default false. */
  readonly continuous?: boolean;
  /**
   * Step-level batching: `src` (encode()) joins the engine's running decode loop between two
   * steps and leaves it when done; resolves with its n-best, best first.
   */
  decode?(src: Int32Array, settings: DecodeSettings, opts: DecodeOptions): Promise<TranslationHypothesis[]>;
  /** Sentences handed to `decode` that wait for room in a loop. */
  readonly waiting?: number;
  /** Live sentences of every model step of the decode loops so far (for metrics and benches). */
  stepSentences?(): number[];
  /** Frees the model. */
  dispose?(): void;
}

/** A Translator (src/mt/translator.ts) as a TranslationEngine. */
export class TranslatorEngine implements TranslationEngine {
  readonly maxInputTokens: number;
  readonly maxOutputTokens: number;

  readonly continuous: boolean;
  readonly generationDefaults: { beamSize: number; lenpen: number };
  /** One decode loop per beam size. */
  private readonly loops = new Map<number, ContinuousGenerator>();

  constructor(readonly translator: Translator) {
    this.maxInputTokens = translator.maxSourceTokens;
    this.maxOutputTokens = translator.model.maxPositions - 1;
    this.continuous = isContinuous(translator.model);
    this.generationDefaults = { beamSize: translator.generation.beamSize, lenpen: translator.generation.lenpen };
  }

  get waiting(): number {
    let n = 0;
    for (const g of this.loops.values()) n += g.waiting;
    return n;
  }

  stepSentences(): number[] {
    return [...this.loops.values()].flatMap((g) => g.stats.sentencesPerStep);
  }

  async decode(src: Int32Array, settings: DecodeSettings, opts: DecodeOptions): Promise<TranslationHypothesis[]> {
    const t = this.translator;
    if (!this.continuous)
      throw new Error('TranslatorEngine.decode: the model cannot decode rows at different positions (no concatStates/stepRows)');
    let loop = this.loops.get(settings.beamSize);
    if (!loop) {
      loop = new ContinuousGenerator(
        t.model as ContinuousDecoderModel,
        t.generationConfig({ beamSize: settings.beamSize, nbest: settings.beamSize }),
        {
          maxRows: Math.max(opts.maxRows, settings.beamSize),
          ...(opts.joinWaitSteps === undefined ? {} : { joinWaitSteps: opts.joinWaitSteps }),
          onStep: opts.observeStep,
        },
      );
      this.loops.set(settings.beamSize, loop);
    }
    const onStep = opts.onStep;
    const r = await loop.add(
      src,
      { nbest: settings.nbest, lenpen: settings.lenpen, maxLen: Math.min(settings.maxLength, this.maxOutputTokens) },
      {
        signal: opts.signal,
        onStep:
          onStep &&
          ((e) =>
            onStep({
              step: e.step,
              beams: e.beams.map((b: BeamView) => ({ text: t.detokenize(b.tokens), tokens: Array.from(b.tokens), score: b.score })),
            })),
      },
    );
    return r.hypos.map((h) => t.toHypothesis(h));
  }

  encode(text: string): Int32Array {
    return this.translator.encode(text);
  }

  async translate(srcs: readonly Int32Array[], opts: TranslateOptions): Promise<TranslationHypothesis[][]> {
    const onStep = opts.onStep;
    const results = await this.translator.translateEncoded(srcs, {
      beamSize: opts.beamSize,
      nbest: opts.nbest,
      lenpen: opts.lenpen,
      maxLenA: 0,
      maxLenB: opts.maxLength,
      signals: opts.signals,
      onStep: onStep && ((e) => onStep({ sentence: e.sentence, step: e.step, beams: e.beams })),
    });
    return results.map((r) => r.hypotheses);
  }

  dispose(): void {
    this.translator.dispose();
  }
}

/** Token budget given to a server's Translator: never split a batch the batcher formed. */
export const UNBOUNDED_TRANSLATOR_TOKENS = 2 ** 30;
