// Translation checkpoints written by older code still load and compute the same thing: the tiny
// ResMLP and Transformer checkpoints of test/fixtures/checkpoints (written by its make.ts before the
// layers were rebuilt on the shared block) load by name with strict key and shape checks, and give
// the logits and incremental log-probs recorded when they were written, to 1e-5.
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { loadSeq2Seq, readMtCheckpointConfig } from '../../../src/mt/model/index.js';
import { fixturePath } from '../../fixtures/paths.js';
import { useTestBackend } from '../../helpers/backend.js';
import { maxAbsDiff } from '../../helpers/arrays.js';

const fixture = (name: string) => fixturePath('checkpoints', name);

interface Recorded {
  file: string;
  logitsShape: number[];
  logits: number[];
  steps: number[][];
}
const expected = JSON.parse(readFileSync(fixture('expected.json'), 'utf8')) as {
  mt: { sources: number[][]; targetsIn: number[][]; stepTokens: number[][]; resmlp: Recorded; transformer: Recorded };
};

before(async () => {
  await useTestBackend();
});

for (const arch of ['resmlp', 'transformer'] as const) {
  describe(`a ${arch} translation checkpoint written before the shared block`, () => {
    const rec = expected.mt[arch];
    const path = fixture(rec.file);

    it('keeps its config and loads every key (strict names and shapes)', () => {
      const config = readMtCheckpointConfig(path);
      assert.equal(config.model.arch, arch);
      const m = loadSeq2Seq(path, config); // throws listing missing/unexpected/mis-shaped keys
      assert.equal(m.training, false);
      const names = [...m.namedParameters().keys()];
      assert.ok(names.includes(arch === 'resmlp' ? 'decoder.layers.0.linear_tokens.weight' : 'decoder.layers.0.self_attn.q_proj.weight'));
      assert.ok(
        names.includes('decoder.layers.0.ls_cross') &&
          names.includes('decoder.layers.0.norm_cross.' + (arch === 'resmlp' ? 'alpha' : 'weight')),
      );
      m.dispose();
    });

    it('gives the recorded logits and incremental log-probs to 1e-5, without leaking tensors', () => {
      const m = loadSeq2Seq(path);
      const before = tf.memory().numTensors;
      const src = m.padBatch(expected.mt.sources, 'src');
      const tgt = m.padBatch(expected.mt.targetsIn, 'tgt');
      const logits = m.forward(src, tgt); // (B, T, V)
      assert.deepEqual(logits.shape, rec.logitsShape);
      const d = maxAbsDiff(logits.dataSync(), rec.logits);
      assert.ok(d <= 1e-5, `forward logits differ by ${d}`);
      tf.dispose([src, tgt, logits]);
      const enc = m.encode(expected.mt.sources.map((s) => Int32Array.from(s)));
      const state = m.initState(enc);
      expected.mt.stepTokens.forEach((toks, t) => {
        const logp = m.step(Int32Array.from(toks), state, t); // (B·V)
        const ds = maxAbsDiff(logp, rec.steps[t]!);
        assert.ok(ds <= 1e-5, `step ${t} log-probs differ by ${ds}`);
      });
      m.disposeState(state);
      m.disposeEnc(enc);
      assert.equal(tf.memory().numTensors, before, 'tensors leaked');
      m.dispose();
    });
  });
}
