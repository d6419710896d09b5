// ModelRegistry: a pair's decoding defaults are the serve config's, and where the config is
// silent, the model's own (a checkpoint's generation defaults, e.g. the length penalty that
// `resmlp mt tune` stored); beam 5 and lenpen 1 only when neither says.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DecodingDefaultsSchema } from '../../src/server/config.js';
import { Translator } from '../../src/mt/translator.js';
import { type TranslationEngine, TranslatorEngine, UNBOUNDED_TRANSLATOR_TOKENS } from '../../src/server/engine.js';
import { ModelRegistry } from '../../src/server/models.js';
import { CharTokenizer, FakeSeqModel } from './helpers.js';

test("decoding defaults: the config's, else the checkpoint's, else beam 5 and lenpen 1", () => {
  const tok = new CharTokenizer();
  // a translator whose generation defaults came from a tuned checkpoint (Translator.load merges them)
  const tuned = () =>
    new TranslatorEngine(
      new Translator(new FakeSeqModel(tok.vocabSize), tok, {
        maxTokens: UNBOUNDED_TRANSLATOR_TOKENS,
        generation: { beamSize: 6, lenpen: 1.4 },
      }),
    );
  const r = new ModelRegistry();
  r.add('en-de', tuned(), DecodingDefaultsSchema.parse({}));
  r.add('en-fr', tuned(), DecodingDefaultsSchema.parse({ lenpen: 0.8 }));
  const bare: TranslationEngine = { maxInputTokens: 10, maxOutputTokens: 10, encode: () => new Int32Array(1), translate: async () => [] };
  r.add('de-en', bare, DecodingDefaultsSchema.parse({}));
  assert.deepEqual([r.get('en', 'de')!.decoding.beamSize, r.get('en', 'de')!.decoding.lenpen], [6, 1.4]);
  assert.deepEqual([r.get('en', 'fr')!.decoding.beamSize, r.get('en', 'fr')!.decoding.lenpen], [6, 0.8], 'the config wins');
  assert.deepEqual([r.get('de', 'en')!.decoding.beamSize, r.get('de', 'en')!.decoding.lenpen], [5, 1]);
});
