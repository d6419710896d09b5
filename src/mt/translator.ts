// The translation front end shared by `resmlp mt translate`, `resmlp mt eval`, the server and the
// decoding benchmark: text in, n-best text out. It does what fairseq-interactive does around its
// SequenceGenerator (fairseq_cli/interactive.py: encode_fn, make_batches, decode_fn):
//   1. clean each line exactly as the training data was cleaned (src/mt/data/clean.ts
//      normalizeLine), SentencePiece-encode it and append EOS (the `appendSrcEos` convention of
//      src/mt/data/batching.ts, as fairseq);
//   2. refuse a sentence longer than the model's maxLen − 1 tokens (SentenceTooLongError, a
//      TranslationInputError the server maps to HTTP 400) — or skip it when asked;
//   3. batch by tokens: sort by source length, cut into chunks whose padded source size
//      n · max(len) stays within `maxTokens` (fairseq's --max-tokens at generation), run the
//      generator (src/mt/decoding) on each chunk, put the results back in input order;
//   4. detokenise every hypothesis (tokens keep their final EOS, as fairseq's records, and
//      positionalScores[i] is the log-prob of tokens[i]).
// A step-callback adapter turns the generator's beams into `{sentence, step, beams: [{text,
// tokens, score}]}` (partial text decoded from the tokens so far) for streaming.
// `translateDocuments` takes texts of any length instead of single sentences: each is cut into
// units (src/mt/text: sentences, and pieces of sentences too long for the model), all units are
// translated together, and each text is put back together with its own whitespace.
// `translate` may be called with any batch, concurrently too (each call has its own decoder
// state); it leaves no tensor behind (the generator frees encoder output and state, even on
// errors and aborts).
import { resolveConfig } from '../util/config.js';
import { type ErrorKind, UserError } from '../util/errors.js';
import { normalizeLine } from './data/clean.js';
import { assemble, planText, unitTokenLimit } from './text/document.js';
import { joinNBest } from './text/nbest.js';
import { type GenerationConfig, resolveGenerationConfig } from './decoding/config.js';
import { SequenceGenerator } from './decoding/generator.js';
import type { Hypothesis, StepEvent } from './decoding/hypotheses.js';
import type { DecoderModel } from './decoding/types.js';
import type { Seq2SeqConfig } from './model/config.js';

/** What the translator needs from a subword model (SentencePiece satisfies it). */
export interface TextCodec {
  /** Subword ids of an already-normalised line (no BOS/EOS). */
  encode(text: string): number[];
  /** Text of ids; control symbols (pad/bos/eos) decode to nothing. */
  decode(ids: ArrayLike<number>): string;
  readonly vocabSize?: number;
}

/** An input the user can fix (the server answers 400). */
export class TranslationInputError extends UserError {
  constructor(message: string, kind: ErrorKind = 'invalid_input') {
    super(message, kind);
  }
}

/** A sentence with more subword tokens than the model accepts. */
export class SentenceTooLongError extends TranslationInputError {
  constructor(
    /** Index of the sentence in the `texts` given to translate(). */
    readonly sentence: number,
    /** Its SentencePiece tokens (EOS not counted). */
    readonly length: number,
    /** Most tokens the model accepts (maxLen − 1; EOS takes the last position). */
    readonly limit: number,
    /** How many sentences of the call are too long in all. */
    readonly count = 1,
  ) {
    super(
      `sentence ${sentence} has ${length} SentencePiece tokens but the model accepts at most ${limit} (its maxLen ${limit + 1} minus one position for EOS)` +
        (count > 1 ? `; ${count - 1} other sentence(s) of this request are too long too` : '') +
        '; split or shorten it',
      'over_limit',
    );
  }
}

/** Generation options that are not valid (unknown key, beam < 1, nbest > beam …). */
export class TranslationOptionsError extends TranslationInputError {}

export interface TranslatorOptions {
  /**
   * Budget of padded source tokens per internal batch: n · max(len + 1) ≤ maxTokens (fairseq's
   * --max-tokens at generation; rows are beamSize times that). Must be ≥ the model's maxLen so
   * every accepted sentence fits. Default 4096.
   */
  maxTokens: number;
  /** At most this many sentences per internal batch; 0 = no limit. Default 0. */
  maxSentences: number;
  /** Generation defaults of this translator (overrides of DEFAULT_GENERATION). Default {}. */
  generation: Partial<GenerationConfig>;
}

export const DEFAULT_TRANSLATOR: Readonly<TranslatorOptions> = Object.freeze({ maxTokens: 4096, maxSentences: 0, generation: {} });

/** `o` over DEFAULT_TRANSLATOR; unknown keys and bad values (generation defaults too) are errors naming them. */
export function resolveTranslatorOptions(o: Partial<TranslatorOptions> = {}): TranslatorOptions {
  const r = resolveConfig('TranslatorOptions', DEFAULT_TRANSLATOR, o, {
    nested: {
      generation: (g) => {
        resolveGenerationConfig(g); // bad generation defaults fail now, not at the first request
        return { ...g }; // kept as overrides of DEFAULT_GENERATION
      },
    },
  });
  if (!Number.isInteger(r.maxTokens) || r.maxTokens < 1)
    throw new Error(`TranslatorOptions.maxTokens: expected a positive integer, got ${JSON.stringify(r.maxTokens)}`);
  if (!Number.isInteger(r.maxSentences) || r.maxSentences < 0)
    throw new Error(`TranslatorOptions.maxSentences: expected an integer >= 0, got ${JSON.stringify(r.maxSentences)}`);
  return r;
}

/** One hypothesis of a sentence. */
export interface TranslationHypothesis {
  /** Detokenised text. */
  text: string;
  /** Target ids without BOS, ending in EOS (fairseq's record). */
  tokens: number[];
  /** Σ positionalScores / tokens.length ** lenpen (when scores are normalised). */
  score: number;
  /** Log-prob of each token of `tokens` (EOS included). */
  positionalScores: number[];
}

export interface TranslationResult {
  /** Best hypothesis' text; '' for an empty or skipped sentence (or one aborted before any hypothesis finished). */
  text: string;
  /** Up to nbest hypotheses, best first. Empty for skipped sentences. */
  hypotheses: TranslationHypothesis[];
  /** Source tokens given to the model, EOS not counted (after cleaning + SentencePiece). */
  srcTokens: number;
  /** 'empty': nothing left after cleaning (no decoding, text ''); 'too-long': skipped with onTooLong 'skip'. */
  skipped?: 'empty' | 'too-long';
  /** The sentence's AbortSignal fired before it finished. */
  aborted: boolean;
}

/** A streaming event: the beams of one sentence after one decoding step. */
export interface TranslationStepEvent {
  /** Index in the `texts` given to translate(). */
  sentence: number;
  /** Decoding step t: beams hold t + 1 tokens. */
  step: number;
  /** Unfinished beams, best first: partial text, tokens so far (no EOS), cumulative log-prob. */
  beams: { text: string; tokens: number[]; score: number }[];
  /** True at the sentence's last event (beams is then empty; its result is final). */
  done: boolean;
}

export interface TranslateOptions extends Partial<GenerationConfig> {
  /** Streaming: one event per sentence per step (see TranslationStepEvent). Errors reject. */
  onStep?: (e: TranslationStepEvent) => void;
  /** Cancels the whole call (rejects with signal.reason, tensors freed). */
  signal?: AbortSignal;
  /** Per-sentence cancellation, indexed like `texts`: the sentence stops, its result has aborted: true. */
  signals?: readonly (AbortSignal | undefined)[];
  /** Over-length sentences: 'error' (default) throws SentenceTooLongError; 'skip' returns skipped: 'too-long'. */
  onTooLong?: 'error' | 'skip';
}

export interface DocumentOptions extends Omit<TranslateOptions, 'onStep' | 'signals' | 'onTooLong'> {
  /** Cut each text into sentences (true), or only cut what is too long for the model (false). Default true. */
  sentences?: boolean;
  /** Source language for the sentence rules. Default: the checkpoint's, else 'en'. */
  lang?: string;
}

/** A text translated unit by unit. */
export interface DocumentResult {
  /** The best translation, with the text's whitespace between its units. */
  text: string;
  /** Up to nbest whole-text hypotheses (src/mt/text/nbest.ts); tokens end each unit with EOS. */
  hypotheses: TranslationHypothesis[];
  /** Units translated (sentences and pieces). */
  units: number;
  /** Sentences cut into pieces because they were too long for the model. */
  cutSentences: number;
  /** Source tokens of all units, EOS not counted. */
  srcTokens: number;
  /** 'empty': nothing to translate (no hypotheses; the text comes back as it is, or '' if blank). */
  skipped?: 'empty';
  aborted: boolean;
}

/** What Translator.load knows about the model (for a server's /languages or /health). */
export interface TranslatorMeta {
  checkpoint: string;
  langs: { src: string; tgt: string };
  model: Seq2SeqConfig;
}

const TRANSLATE_ONLY_KEYS = ['onStep', 'signal', 'signals', 'onTooLong'];

/** A source sentence ready for the model. */
interface Prepared {
  index: number;
  /** tokens + EOS */
  src: Int32Array;
}

export class Translator {
  readonly options: TranslatorOptions;
  /** Generation defaults (resolved). */
  readonly generation: GenerationConfig;

  /** Where the model came from (set by Translator.load): checkpoint path, languages, model config. */
  readonly meta: TranslatorMeta | null;
  private readonly onDispose: () => void;

  /**
   * @param model the translation model (incremental, or full: recomputes every prefix)
   * @param codec the SentencePiece model it was trained with
   * @param extra.onDispose called by dispose() (Translator.load passes the model's disposal)
   */
  constructor(
    readonly model: DecoderModel<any, any>,
    readonly codec: TextCodec,
    options: Partial<TranslatorOptions> = {},
    extra: { onDispose?: () => void; meta?: TranslatorMeta } = {},
  ) {
    this.onDispose = extra.onDispose ?? (() => {});
    this.meta = extra.meta ?? null;
    this.options = resolveTranslatorOptions(options);
    this.generation = resolveGenerationConfig(this.options.generation);
    if (codec.vocabSize !== undefined && codec.vocabSize !== model.vocabSize) {
      throw new Error(
        `Translator: the SentencePiece model has ${codec.vocabSize} pieces but the translation model's vocabulary has ${model.vocabSize}`,
      );
    }
    if (this.options.maxTokens < model.maxPositions) {
      throw new Error(
        `Translator: maxTokens ${this.options.maxTokens} is below the model's maxLen ${model.maxPositions}; the longest accepted sentence would not fit a batch`,
      );
    }
  }

  /**
   * Loads a `resmlp mt train` checkpoint (model + the SentencePiece model beside it). Generation
   * defaults: the checkpoint's (e.g. beam 4), then `overrides.generation`.
   */
  static async load(checkpointPath: string, overrides: Partial<TranslatorOptions> = {}): Promise<Translator> {
    const { loadTranslationCheckpoint } = await import('./model/load.js');
    const { model, spm, config } = await loadTranslationCheckpoint(checkpointPath);
    try {
      return new Translator(
        model,
        spm,
        { ...overrides, generation: { ...config.generation, ...overrides.generation } },
        {
          onDispose: () => model.dispose(),
          meta: { checkpoint: checkpointPath, langs: { ...config.langs }, model: { ...config.model } },
        },
      );
    } catch (e) {
      model.dispose();
      throw e;
    }
  }

  /** Most source tokens (EOS not counted) a sentence may have. */
  get maxSourceTokens(): number {
    return this.model.maxPositions - 1;
  }

  /** Subword ids of a line after the training-time cleaning (no EOS). */
  tokenize(text: string): number[] {
    const clean = normalizeLine(text);
    return clean === '' ? [] : this.codec.encode(clean);
  }

  /** Text of target ids (a trailing EOS or any control symbol decodes to nothing). */
  detokenize(ids: ArrayLike<number>): string {
    return this.codec.decode(ids);
  }

  /** The generation config of a call: this translator's defaults overridden by `opts`. */
  generationConfig(opts: TranslateOptions = {}): GenerationConfig {
    const over: Record<string, unknown> = { ...this.generation };
    for (const [k, v] of Object.entries(opts)) if (!TRANSLATE_ONLY_KEYS.includes(k) && v !== undefined) over[k] = v;
    try {
      return resolveGenerationConfig(over);
    } catch (e) {
      throw new TranslationOptionsError((e as Error).message);
    }
  }

  /** Translates `texts`; results in input order (see the file comment). */
  async translate(texts: readonly string[], opts: TranslateOptions = {}): Promise<TranslationResult[]> {
    const onTooLong = opts.onTooLong ?? 'error';
    if (onTooLong !== 'error' && onTooLong !== 'skip')
      throw new TranslationOptionsError(`onTooLong: expected 'error' or 'skip', got ${JSON.stringify(onTooLong)}`);
    if (opts.signals !== undefined && opts.signals.length !== texts.length) {
      throw new TranslationOptionsError(`signals has ${opts.signals.length} entries for ${texts.length} sentences`);
    }
    const { results, todo } = this.prepare(texts, onTooLong);
    return this.decodePrepared(results, todo, opts);
  }

  /**
   * Source ids of a text as the model reads them: the training-time cleaning, SentencePiece, then
   * EOS. Encode once and hand the ids to translateEncoded (the server does).
   */
  encode(text: string): Int32Array {
    const ids = this.tokenize(text);
    const src = new Int32Array(ids.length + 1); // tokens + EOS (appendSrcEos)
    src.set(ids);
    src[ids.length] = this.model.eosId;
    return src;
  }

  /**
   * translate() for sources already encoded (encode()); a source longer than the model accepts
   * is a SentenceTooLongError. Results in input order.
   */
  async translateEncoded(srcs: readonly Int32Array[], opts: Omit<TranslateOptions, 'onTooLong'> = {}): Promise<TranslationResult[]> {
    if (opts.signals !== undefined && opts.signals.length !== srcs.length) {
      throw new TranslationOptionsError(`signals has ${opts.signals.length} entries for ${srcs.length} sentences`);
    }
    const limit = this.maxSourceTokens;
    const results: TranslationResult[] = new Array(srcs.length);
    const todo: Prepared[] = [];
    srcs.forEach((src, index) => {
      if (src.length - 1 > limit) throw new SentenceTooLongError(index, src.length - 1, limit);
      if (src.length <= 1) results[index] = { text: '', hypotheses: [], srcTokens: 0, skipped: 'empty', aborted: false };
      else todo.push({ index, src });
    });
    return this.decodePrepared(results, todo, opts);
  }

  private async decodePrepared(results: TranslationResult[], todo: Prepared[], opts: TranslateOptions): Promise<TranslationResult[]> {
    const cfg = this.generationConfig(opts);
    const { onStep, signal, signals } = opts;
    signal?.throwIfAborted();
    const gen = new SequenceGenerator(this.model, cfg);
    for (const chunk of this.chunks(todo)) {
      const stepAdapter = onStep === undefined ? undefined : (e: StepEvent) => onStep(this.stepEvent(e, chunk));
      const out = await gen.generate(
        chunk.map((p) => p.src),
        {
          onStep: stepAdapter,
          signal,
          signals: signals === undefined ? undefined : chunk.map((p) => signals[p.index]),
        },
      );
      out.results.forEach((r, j) => {
        const p = chunk[j]!;
        const hypotheses = r.hypos.map((h) => this.toHypothesis(h));
        results[p.index] = { text: hypotheses[0]?.text ?? '', hypotheses, srcTokens: p.src.length - 1, aborted: r.aborted };
      });
    }
    return results;
  }

  /**
   * Translates texts of any length (see the file comment): no text is refused for its length.
   * Results in input order.
   */
  async translateDocuments(texts: readonly string[], opts: DocumentOptions = {}): Promise<DocumentResult[]> {
    const { sentences = true, lang = this.meta?.langs.src ?? 'en', ...rest } = opts;
    for (const k of ['onStep', 'signals', 'onTooLong']) {
      if (k in opts) throw new TranslationOptionsError(`translateDocuments: ${k} is not supported (use translate for single sentences)`);
    }
    const cfg = this.generationConfig(rest);
    const count = (t: string) => this.tokenize(t).length;
    const maxTokens = unitTokenLimit(this.maxSourceTokens, this.model.maxPositions - 1);
    const plans = texts.map((t, i) => {
      if (typeof t !== 'string') throw new TranslationInputError(`text ${i}: expected a string, got ${t === null ? 'null' : typeof t}`);
      return planText(t, { lang, sentences, countTokens: count, maxTokens });
    });
    const units = plans.flatMap((p, i) => p.map((u) => texts[i]!.slice(u.start, u.end)));
    const results = await this.translate(units, rest);
    let at = 0;
    return Promise.all(
      plans.map(async (p, i) => {
        const mine = results.slice(at, (at += p.length));
        if (p.length === 0) {
          // nothing to translate: punctuation or symbols come back as they are, blank lines empty
          const text = normalizeLine(texts[i]!) === '' ? '' : texts[i]!;
          return { text, hypotheses: [], units: 0, cutSentences: 0, srcTokens: 0, skipped: 'empty', aborted: false };
        }
        const hypotheses = await joinNBest(
          mine.map((r) => r.hypotheses),
          cfg.nbest,
          cfg.lenpen,
          (pick) =>
            assemble(
              texts[i]!,
              p,
              p.map((_, k) => pick(k)),
            ).text,
        );
        const r: DocumentResult = {
          text: hypotheses[0]!.text,
          hypotheses,
          units: p.length,
          cutSentences: new Set(p.filter((u) => u.cut).map((u) => u.sentence)).size,
          srcTokens: mine.reduce((n, x) => n + x.srcTokens, 0),
          aborted: mine.some((x) => x.aborted),
        };
        return r;
      }),
    );
  }

  /**
   * Source token counts (EOS not counted) of `texts` after cleaning; throws SentenceTooLongError
   * (or TranslationInputError for a non-string) exactly as translate() would. A server that
   * merges requests into one batch validates each request first, so that one bad request cannot
   * fail the others.
   */
  validate(texts: readonly string[]): number[] {
    const { results, todo } = this.prepare(texts, 'error');
    const n = Array.from(results, (r) => r?.srcTokens ?? 0);
    for (const p of todo) n[p.index] = p.src.length - 1;
    return n;
  }

  /** Cleans and tokenises; results already filled for empty and (skipped) over-length sentences. */
  private prepare(texts: readonly string[], onTooLong: 'error' | 'skip'): { results: TranslationResult[]; todo: Prepared[] } {
    const results: TranslationResult[] = new Array(texts.length);
    const todo: Prepared[] = [];
    const limit = this.maxSourceTokens;
    let tooLong: { index: number; length: number } | null = null;
    let tooLongCount = 0;
    texts.forEach((text, index) => {
      if (typeof text !== 'string')
        throw new TranslationInputError(`sentence ${index}: expected a string, got ${text === null ? 'null' : typeof text}`);
      const ids = this.tokenize(text);
      if (ids.length === 0) {
        results[index] = { text: '', hypotheses: [], srcTokens: 0, skipped: 'empty', aborted: false };
      } else if (ids.length > limit) {
        tooLongCount++;
        tooLong ??= { index, length: ids.length };
        results[index] = { text: '', hypotheses: [], srcTokens: ids.length, skipped: 'too-long', aborted: false };
      } else {
        const src = new Int32Array(ids.length + 1); // tokens + EOS (appendSrcEos)
        src.set(ids);
        src[ids.length] = this.model.eosId;
        todo.push({ index, src });
      }
    });
    if (tooLong !== null && onTooLong === 'error') {
      const t: { index: number; length: number } = tooLong;
      throw new SentenceTooLongError(t.index, t.length, limit, tooLongCount);
    }
    return { results, todo };
  }

  /** Frees the model if this translator owns it (Translator.load). */
  dispose(): void {
    this.onDispose();
  }

  /** Sorted by source length (stable), cut so that n · max(len) ≤ maxTokens (and n ≤ maxSentences). */
  private chunks(todo: Prepared[]): Prepared[][] {
    const sorted = todo.slice().sort((a, b) => a.src.length - b.src.length || a.index - b.index);
    const { maxTokens, maxSentences } = this.options;
    const out: Prepared[][] = [];
    let cur: Prepared[] = [];
    for (const p of sorted) {
      const width = p.src.length; // sorted: the widest so far
      if (cur.length > 0 && ((cur.length + 1) * width > maxTokens || (maxSentences > 0 && cur.length >= maxSentences))) {
        out.push(cur);
        cur = [];
      }
      cur.push(p);
    }
    if (cur.length > 0) out.push(cur);
    return out;
  }

  /** The generator's record with its text (tokens and positional scores keep their EOS). */
  toHypothesis(h: Hypothesis): TranslationHypothesis {
    const eos = this.model.eosId;
    const n = h.tokens.length > 0 && h.tokens[h.tokens.length - 1] === eos ? h.tokens.length - 1 : h.tokens.length;
    return {
      text: this.detokenize(h.tokens.subarray(0, n)),
      tokens: Array.from(h.tokens),
      score: h.score,
      positionalScores: Array.from(h.positionalScores),
    };
  }

  private stepEvent(e: StepEvent, chunk: Prepared[]): TranslationStepEvent {
    return {
      sentence: chunk[e.sentence]!.index,
      step: e.step,
      beams: e.beams.map((b) => ({ text: this.detokenize(b.tokens), tokens: Array.from(b.tokens), score: b.score })),
      done: e.done,
    };
  }
}
