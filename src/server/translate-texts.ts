// From the texts of a request to the sentences the batcher decodes, and back. Each text is cut
// into units (src/mt/text: its sentences, long ones split further so that every unit and its
// translation fit the model, and the unit fits the batch; for format "html", the sentences of each block of src/mt/text/html.ts);
// every unit is one batcher item, so a paragraph's sentences decode together; identical units of
// a request are decoded once; the translation cache answers units it has seen. The answer puts
// the translations back with the text's own whitespace, line breaks and markup.
//
// The n-best of a text cut into several units joins the units' (src/mt/text/nbest.ts), so
// `alternatives` stay whole texts as in LibreTranslate.
import { normalizeLine } from '../mt/data/clean.js';
import { assemble, planText, unitTokenLimit } from '../mt/text/document.js';
import { type BlockTranslation, htmlBlocks, translateHtml } from '../mt/text/html.js';
import { joinNBest } from '../mt/text/nbest.js';
import type { TextRange } from '../mt/text/sentences.js';
import { TranslationCache } from './cache.js';
import type { ServerContext } from './context.js';
import type { TranslationHypothesis, EngineStep } from './engine.js';
import { badRequest } from './errors.js';
import { type Plan, textNames } from './plan.js';

export type TextFormat = 'text' | 'html';

export interface TranslateTextsOptions {
  format: TextFormat;
  /** Look units up in the translation cache and store new ones (ignored when streaming). */
  cache: boolean;
  signal?: AbortSignal;
  /** Names of the texts in error messages (default "q" / "q[i]"). */
  names?: readonly string[];
  /** Streaming: the units of each text, once, before decoding starts. */
  onUnits?: (text: number, units: string[]) => void;
  /** Streaming: every decoding step of every unit. */
  onStep?: (text: number, unit: number, e: Omit<EngineStep, 'sentence'>) => void;
}

/** A text cut into units, and how to put translations of its units back together. */
export interface PlannedText {
  units: string[];
  build(pick: (unit: number) => string): Promise<string>;
}

/**
 * Cuts `text` into the units the model of `plan` translates. Plain text: sentences; HTML: the
 * sentences of each block. A plain text with nothing left after cleaning is refused (400).
 */
export function planUnits(text: string, format: TextFormat, plan: Plan, maxBatchTokens: number, where: string): PlannedText {
  const { engine } = plan;
  const maxTokens = Math.min(unitTokenLimit(engine.maxInputTokens, engine.maxOutputTokens), maxBatchTokens - 1);
  const opts = { lang: plan.source, sentences: true, countTokens: (s: string) => engine.encode(s).length - 1, maxTokens };
  if (opts.maxTokens < 1) throw new Error(`maxBatchTokens ${maxBatchTokens} leaves no room for a sentence`);
  if (format === 'text') {
    const ranges = planText(text, opts);
    if (ranges.length === 0 && normalizeLine(text) === '')
      throw badRequest(`${where} has nothing to translate after cleaning (control characters and whitespace only)`);
    return {
      units: ranges.map((r) => text.slice(r.start, r.end)),
      build: async (pick) =>
        assemble(
          text,
          ranges,
          ranges.map((_, i) => pick(i)),
        ).text,
    };
  }
  const blocks = htmlBlocks(text);
  const perBlock: TextRange[][] = blocks.map((b) => planText(b, opts));
  const first: number[] = [];
  const units: string[] = [];
  perBlock.forEach((ranges, j) => {
    first.push(units.length);
    for (const r of ranges) units.push(blocks[j]!.slice(r.start, r.end));
  });
  return {
    units,
    build: (pick) =>
      translateHtml(text, async (got: string[]): Promise<BlockTranslation[]> => {
        if (got.length !== blocks.length) throw new Error(`translateHtml asked for ${got.length} blocks; htmlBlocks gave ${blocks.length}`);
        return got.map((b, j) =>
          assemble(
            b,
            perBlock[j]!,
            perBlock[j]!.map((_, k) => pick(first[j]! + k)),
          ),
        );
      }),
  };
}

/**
 * Translates `texts` (all of the plan's pair) and returns the n-best of each text, best first, as
 * whole texts (see the file comment).
 */
export async function translateTexts(
  ctx: ServerContext,
  plan: Plan,
  texts: readonly string[],
  opts: TranslateTextsOptions,
): Promise<TranslationHypothesis[][]> {
  const names = opts.names ?? textNames(texts.length);
  const planned = texts.map((t, i) => planUnits(t, opts.format, plan, ctx.settings.maxBatchTokens, names[i]!));
  const total = planned.reduce((n, p) => n + p.units.length, 0);
  if (total > ctx.settings.maxQueueSentences) {
    throw badRequest(
      `the texts hold ${total} sentences; the limit is maxQueueSentences ${ctx.settings.maxQueueSentences} per request`,
      'over_limit',
    );
  }
  planned.forEach((p, i) => opts.onUnits?.(i, p.units));
  const streaming = opts.onStep !== undefined;
  const useCache = opts.cache && !streaming && ctx.cache.enabled;

  // unique units (streaming keeps every unit: each has its own step stream)
  const where: { text: number; unit: number }[] = [];
  const uniq: string[] = [];
  const slot = new Map<string, number>();
  const unitSlot: number[][] = planned.map((p, i) =>
    p.units.map((u, k) => {
      const key = streaming ? null : normalizeLine(u);
      const seen = key === null ? undefined : slot.get(key);
      if (seen !== undefined) return seen;
      if (key !== null) slot.set(key, uniq.length);
      where.push({ text: i, unit: k });
      uniq.push(u);
      return uniq.length - 1;
    }),
  );

  const results: (TranslationHypothesis[] | undefined)[] = new Array(uniq.length);
  const keys = uniq.map((u) => TranslationCache.key(plan.pair, plan.settings, normalizeLine(u)));
  if (useCache) uniq.forEach((_, j) => (results[j] = ctx.cache.get(keys[j]!)));
  const todo = uniq.map((_, j) => j).filter((j) => results[j] === undefined);
  if (todo.length > 0) {
    const got = await ctx.batcher.submit(
      plan.engine,
      plan.pair,
      todo.map((j) => plan.engine.encode(uniq[j]!)), // each unit encoded once, here
      plan.settings,
      {
        signal: opts.signal,
        onStep: opts.onStep && ((m, e) => opts.onStep!(where[todo[m]!]!.text, where[todo[m]!]!.unit, e)),
      },
    );
    todo.forEach((j, m) => {
      results[j] = got[m]!;
      if (useCache) ctx.cache.set(keys[j]!, got[m]!);
    });
  }
  ctx.metrics.sentences.inc({ pair: plan.pair }, total);

  return Promise.all(
    planned.map((p, i) => {
      const hyps = unitSlot[i]!.map((j) => results[j]!);
      hyps.forEach((h, k) => {
        if (h.length === 0) throw new Error(`no hypothesis reached EOS for sentence ${k} of ${names[i]}`);
      });
      return joinNBest(hyps, plan.settings.nbest, plan.settings.lenpen, p.build);
    }),
  );
}
