// The package entry point as a user imports it: `import … from 'resmlp'` resolves (through
// package.json "exports", Node's self-reference) to the built dist/index.js, which must load and
// expose working pieces of every part of the system. `npm test` builds first.
import { test } from 'node:test';
import assert from 'node:assert/strict';

test("import 'resmlp' loads the built package and its pieces work", async () => {
  const m = await import('resmlp');
  for (const name of ['initBackend', 'Translator', 'loadClassifier', 'ResMlp', 'Seq2Seq', 'ResBlock', 'train', 'buildApp', 'corpusBleu']) {
    assert.equal(typeof (m as Record<string, unknown>)[name], 'function', `resmlp exports ${name}`);
  }
  // Vision registry counts come from the real model code (timm's numbers).
  assert.equal(m.countParameters(m.modelConfig('resmlp_12_224')), 15_350_872);
  // Metrics: a perfect hypothesis scores 100 with sacreBLEU's signature; a partial one less.
  const perfect = m.corpusBleu(['the cat sat on the mat'], [['the cat sat on the mat']]);
  assert.ok(Math.abs(perfect.score - 100) < 1e-9, `perfect hypothesis scored ${perfect.score}`);
  assert.match(perfect.signature, /^nrefs:1\|case:mixed\|eff:no\|tok:13a\|smooth:exp\|version:/);
  assert.ok(m.corpusBleu(['the cat sat on a hat'], [['the cat sat on the mat']]).score < 100);
  assert.equal(typeof m.metrics.TER, 'function');
});
