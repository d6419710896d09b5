// The serve config's per-model `precision` (src/server/config.ts, applied by loadModels in
// src/server/models.ts): validated with the key's path; 'int8' loads the pair's model with int8
// linear layers (said in the load line) and it still translates; absent, an fp32 checkpoint serves
// in fp32. On the tiny random checkpoint of test/mt/translator-fixture.ts.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { int8Support } from '../../src/backend/native.js';
import { Linear } from '../../src/core/linear.js';
import type { Module } from '../../src/core/module.js';
import { resolveServeConfig } from '../../src/server/config.js';
import { loadModels, ModelRegistry } from '../../src/server/models.js';
import type { TranslatorEngine } from '../../src/server/engine.js';
import { useTestBackend } from '../helpers/backend.js';
import { type Fixture, translatorFixture } from '../mt/translator-fixture.js';

const support = int8Support();
let fx: Fixture;

before(async () => {
  assert.equal(await useTestBackend(), 'native');
  fx = await translatorFixture();
});

/** For each Linear of the served en-de model, whether it runs in int8. */
function int8Layers(registry: ModelRegistry): boolean[] {
  const engine = registry.get('en', 'de')!.engine as TranslatorEngine;
  const model = engine.translator.model as unknown as Module;
  return [...model.namedModules().values()].filter((m) => m instanceof Linear).map((l) => (l as Linear).kernel !== null);
}

describe('serve config: precision per model', () => {
  test('is fp32 or int8, refused otherwise with its key path', () => {
    const ok = resolveServeConfig({ models: { 'en-de': { checkpoint: 'x', precision: 'int8' } } });
    assert.equal(ok.models['en-de']!.precision, 'int8');
    assert.equal(resolveServeConfig({ models: { 'en-de': { checkpoint: 'x' } } }).models['en-de']!.precision, undefined);
    assert.throws(() => resolveServeConfig({ models: { 'en-de': { checkpoint: 'x', precision: 'fp16' } } }), /models\.en-de\.precision: /);
  });

  test("'int8' serves the model with int8 linear layers and says so; absent, fp32", {
    skip: support.available ? false : `int8 unavailable here: ${support.reason}`,
  }, async () => {
    for (const precision of ['int8', undefined] as const) {
      const registry = new ModelRegistry();
      const lines: string[] = [];
      try {
        await loadModels(
          resolveServeConfig({ models: { 'en-de': { checkpoint: fx.checkpoint, ...(precision ? { precision } : {}) } } }),
          registry,
          (l) => lines.push(l),
        );
        const layers = int8Layers(registry);
        assert.ok(layers.length > 0 && layers.every((x) => x === (precision === 'int8')));
        assert.match(
          lines.join('\n'),
          precision === 'int8' ? /\[serve\] en-de: .*; precision: int8 \(oneDNN/ : /\[serve\] en-de: .*; precision: fp32$/,
        );
        const engine = registry.get('en', 'de')!.engine as TranslatorEngine;
        const [r] = await engine.translator.translate([fx.lines[0]!], { maxLenA: 0, maxLenB: 4 });
        assert.ok(r!.hypotheses.length > 0);
      } finally {
        registry.dispose();
      }
    }
  });
});
