// `source: "auto"` and POST /detect: which served language a text is in. The candidates are the
// languages served as a source into the requested target, plus the target itself (a text already
// in the target language is recognised and returned as it is, rather than forced through a model
// of another language); POST /detect places a text among all served source languages. Detectors
// (src/server/detect.ts) are built once per candidate set. A text the detector cannot place falls
// back on what the request's texts say together (LibreTranslate does the same for short texts);
// when that fails too, the answer is 400 and names the text.
import type { ServerContext } from './context.js';
import { type Detection, LanguageDetector } from './detect.js';
import { badRequest } from './errors.js';

const detectors = new WeakMap<ServerContext, Map<string, Promise<LanguageDetector>>>();

/** The detector for `candidates` (built on first use, then shared). */
export function detectorFor(ctx: ServerContext, candidates: readonly string[]): Promise<LanguageDetector> {
  let byKey = detectors.get(ctx);
  if (!byKey) detectors.set(ctx, (byKey = new Map()));
  const key = [...candidates].sort().join(',');
  let d = byKey.get(key);
  if (!d) {
    d = LanguageDetector.create(candidates);
    byKey.set(key, d);
    d.catch(() => byKey.delete(key)); // an error is answered, not cached
  }
  return d;
}

/**
 * The detected source of each text (its language and confidence, LibreTranslate's
 * `detectedLanguage`), among the languages that translate into `target` and `target` itself.
 */
export async function resolveAutoSource(
  ctx: ServerContext,
  texts: readonly string[],
  target: string,
  names: readonly string[],
): Promise<Detection[]> {
  const sources = ctx.registry.sources(target);
  if (sources.length === 0)
    throw badRequest(
      `no model translates into ${JSON.stringify(target)}; pairs served: ${ctx.registry.pairNames().join(', ')}`,
      'unknown_pair',
    );
  let detector: LanguageDetector;
  try {
    detector = await detectorFor(ctx, [...new Set([...sources, target])]);
  } catch {
    // the target is not a language the detector knows: place texts among the sources only
    try {
      detector = await detectorFor(ctx, sources);
    } catch (e) {
      throw badRequest(`source "auto" is not available for ${target}: ${(e as Error).message}; give the source language`, 'unknown_pair');
    }
  }
  const each = texts.map((t) => detector.detect(t)[0]);
  let together: Detection | undefined;
  return each.map((d, i) => {
    if (d) return d;
    together ??= detector.detectBatch([...texts])[0];
    if (together) return together;
    throw badRequest(
      `could not detect the language of ${names[i]} (${JSON.stringify(texts[i]!.slice(0, 40))}${texts[i]!.length > 40 ? '…' : ''}); give "source" (one of ${sources.join(', ')})`,
      'undetected_language',
    );
  });
}

/** POST /detect: candidates best first among the served source languages; 400 if none fits. */
export async function detectLanguage(ctx: ServerContext, texts: readonly string[], field = 'q'): Promise<Detection[]> {
  const detector = await detectorFor(ctx, ctx.registry.sources());
  const found = texts.length === 1 ? detector.detect(texts[0]!) : detector.detectBatch([...texts]);
  if (found.length === 0)
    throw badRequest(
      `could not detect the language of ${field}: too short, or no letters of ${ctx.registry.sources().join(', ')}`,
      'undetected_language',
    );
  return found;
}
