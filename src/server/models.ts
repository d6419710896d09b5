// The models being served: one engine per language pair with its decoding defaults, and
// LibreTranslate's /languages view of them. `loadModels` builds engines from the serve config
// (checkpoints of `resmlp mt train`), each in its configured precision (src/quant); the registry
// is `ready` only once every model is loaded.
import { resolve } from 'node:path';
import type { Module } from '../core/module.js';
import { type DecodingDefaults, LANGUAGE_NAMES, type ServedDecoding, type ServeConfig, splitPair } from './config.js';
import { type TranslationEngine, TranslatorEngine, UNBOUNDED_TRANSLATOR_TOKENS } from './engine.js';

export interface ServedPair {
  pair: string;
  source: string;
  target: string;
  engine: TranslationEngine;
  decoding: ServedDecoding;
}

export interface LanguageInfo {
  code: string;
  name: string;
  targets: string[];
}

export class ModelRegistry {
  private readonly pairs = new Map<string, ServedPair>();
  private isReady = false;

  constructor(private readonly languageNames: Record<string, string> = {}) {}

  /** True once the models are loaded (GET /health answers 200). */
  get ready(): boolean {
    return this.isReady;
  }

  /** `decoding`: the serve config's; beam size and length penalty it leaves out come from the model. */
  add(pair: string, engine: TranslationEngine, decoding: DecodingDefaults): void {
    if (this.pairs.has(pair)) throw new Error(`model for ${pair} added twice`);
    const { source, target } = splitPair(pair);
    const g = engine.generationDefaults;
    const served: ServedDecoding = {
      ...decoding,
      beamSize: decoding.beamSize ?? g?.beamSize ?? 5,
      lenpen: decoding.lenpen ?? g?.lenpen ?? 1,
    };
    this.pairs.set(pair, { pair, source, target, engine, decoding: served });
  }

  markReady(): void {
    this.isReady = true;
  }

  get(source: string, target: string): ServedPair | undefined {
    return this.pairs.get(`${source}-${target}`);
  }

  pairNames(): string[] {
    return [...this.pairs.keys()].sort();
  }

  all(): ServedPair[] {
    return [...this.pairs.values()];
  }

  /**
   * LibreTranslate's GET /languages: every language served, as a source or a target, each with
   * the targets it translates into ([] for a language served only as a target). Clients such as
   * the npm `libretranslate` package check both codes of a request against this list.
   */
  languages(): LanguageInfo[] {
    const targets = new Map<string, Set<string>>();
    for (const p of this.pairs.values()) {
      targets.set(p.source, (targets.get(p.source) ?? new Set<string>()).add(p.target));
      if (!targets.has(p.target)) targets.set(p.target, new Set<string>());
    }
    return [...targets.keys()].sort().map((code) => ({ code, name: this.name(code), targets: [...targets.get(code)!].sort() }));
  }

  /** Languages served as a source (sorted); with `target`, only those with a pair into it. */
  sources(target?: string): string[] {
    const s = new Set<string>();
    for (const p of this.pairs.values()) if (target === undefined || p.target === target) s.add(p.source);
    return [...s].sort();
  }

  name(code: string): string {
    return this.languageNames[code] ?? LANGUAGE_NAMES[code] ?? code;
  }

  dispose(): void {
    for (const p of this.pairs.values()) p.engine.dispose?.();
    this.pairs.clear();
  }
}

/**
 * Loads every model of the config into `registry` (checkpoint + its SentencePiece model) and
 * marks it ready. Errors name the pair and the file.
 */
export async function loadModels(config: ServeConfig, registry: ModelRegistry, log: (line: string) => void = () => {}): Promise<void> {
  const { readMtCheckpointConfig, sha256Of } = await import('../mt/model/load.js');
  const { Translator } = await import('../mt/translator.js');
  const { applyPrecision, checkpointPrecision, precisionLine } = await import('../quant/index.js');
  for (const [pair, entry] of Object.entries(config.models)) {
    const t0 = performance.now();
    const ckpt = resolve(entry.checkpoint);
    const d = entry.decoding;
    let translator: InstanceType<typeof Translator>;
    try {
      translator = await Translator.load(ckpt, {
        maxTokens: UNBOUNDED_TRANSLATOR_TOKENS,
        generation: { noRepeatNgramSize: d.noRepeatNgramSize, unkPenalty: d.unkPenalty },
      });
    } catch (e) {
      throw new Error(`models.${pair}.checkpoint: ${(e as Error).message}`);
    }
    const { source, target } = splitPair(pair);
    const mc = translator.meta!;
    let precision = '';
    try {
      if (entry.sentencepiece !== undefined) {
        const want = readMtCheckpointConfig(ckpt).spm.sha256;
        const sha = sha256Of(resolve(entry.sentencepiece));
        if (sha !== want)
          throw new Error(
            `models.${pair}.sentencepiece: ${entry.sentencepiece} (sha256 ${sha.slice(0, 12)}…) is not the SentencePiece model ${ckpt} was trained with (${want.slice(0, 12)}…)`,
          );
      }
      if (mc.langs.src !== source || mc.langs.tgt !== target)
        throw new Error(`models.${pair}: ${ckpt} translates ${mc.langs.src}-${mc.langs.tgt}, not ${pair}`);
      precision = precisionLine(applyPrecision(translator.model as unknown as Module, entry.precision ?? checkpointPrecision(ckpt)));
    } catch (e) {
      translator.dispose();
      throw e;
    }
    registry.add(pair, new TranslatorEngine(translator), d);
    log(
      `[serve] ${pair}: ${ckpt} (${mc.model.arch}, d ${mc.model.dim}, ${mc.model.encoderLayers}+${mc.model.decoderLayers} layers, vocab ${mc.model.vocabSize}) in ${((performance.now() - t0) / 1000).toFixed(1)} s; ${precision}`,
    );
  }
  registry.markReady();
}
