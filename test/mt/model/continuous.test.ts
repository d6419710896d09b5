// Seq2Seq as a ContinuousDecoderModel (step-level batching): rows that joined a running state at
// different steps get, per row, the log-probs they get alone (causal cross-token / self-attention
// over their own past only, cross-attention over their own source, padded to the longest), and
// the ContinuousGenerator gives every sentence its one-by-one result, for both architectures and
// both norms, with sentences joining mid-decode; no tensor is left behind.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { ContinuousGenerator, SequenceGenerator } from '../../../src/mt/decoding/index.js';
import type { Seq2SeqArch } from '../../../src/mt/model/index.js';
import { useTestBackend } from '../../helpers/backend.js';
import { maxAbsDiff } from '../../helpers/arrays.js';
import { V, tinySeq2Seq } from './tiny-seq2seq.js';

const EOS = 2;
const tiny = (arch: Seq2SeqArch, norm: 'affine' | 'layernorm' = 'affine') => tinySeq2Seq(arch, { norm, maxLen: 16, seed: 11 });
const src = (...ids: number[]) => Int32Array.from([...ids, EOS]);
const SOURCES = [src(5, 6, 7), src(8, 9, 10, 11, 12, 13, 14), src(4), src(15, 16, 7, 9, 20)];

before(async () => {
  await useTestBackend();
});

for (const arch of ['resmlp', 'transformer'] as const) {
  describe(`${arch}: rows at different positions`, () => {
    it('a sentence joining at step 3 reads the same log-probs as alone, and so does the running one', () => {
      const m = tiny(arch);
      const before = tf.memory().numTensors;
      // alone: A for 5 steps, B for 2 steps
      const feedA = [1, 9, 4, 6, 12];
      const feedB = [1, 7];
      const aloneRun = (s: Int32Array, feed: number[]) => {
        const enc = m.encode([s]);
        let st = m.initState(enc);
        st = m.reorderState(st, Int32Array.of(0, 0)); // two rows (a beam of 2), as the generator's layout
        const out: Float32Array[] = [];
        feed.forEach((tok, t) => out.push(m.step(Int32Array.of(tok, tok), st, t).slice()));
        m.disposeState(st);
        m.disposeEnc(enc);
        return out;
      };
      const wantA = aloneRun(SOURCES[1]!, feedA);
      const wantB = aloneRun(SOURCES[0]!, feedB);
      // together: A runs 3 steps, then B joins (shorter source: A's cross keys padded, B's too)
      const encA = m.encode([SOURCES[1]!]);
      let st = m.reorderState(m.initState(encA), Int32Array.of(0, 0));
      m.disposeEnc(encA);
      for (let t = 0; t < 3; t++)
        assert.ok(maxAbsDiff(m.stepRows(Int32Array.of(feedA[t]!, feedA[t]!), st, Int32Array.of(t, t)), wantA[t]!) < 1e-5);
      const encB = m.encode([SOURCES[0]!]);
      const stB = m.reorderState(m.initState(encB), Int32Array.of(0, 0));
      m.disposeEnc(encB);
      st = m.concatStates(st, stB);
      assert.equal(st.rows, 4);
      assert.deepEqual(Array.from(st.pos), [3, 3, 0, 0]);
      for (let k = 0; k < 2; k++) {
        const tA = 3 + k;
        const out = m.stepRows(Int32Array.of(feedA[tA]!, feedA[tA]!, feedB[k]!, feedB[k]!), st, Int32Array.of(tA, tA, k, k));
        const dA = maxAbsDiff(out.subarray(0, 2 * V), wantA[tA]!);
        const dB = maxAbsDiff(out.subarray(2 * V), wantB[k]!);
        assert.ok(dA < 1e-4 && dB < 1e-4, `step ${k} after the join: running ${dA}, joined ${dB}`);
      }
      // A leaves: B's rows alone, the padding trimmed away
      st = m.reorderState(st, Int32Array.of(2, 3));
      assert.deepEqual(Array.from(st.pos), [2, 2]);
      m.disposeState(st);
      assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
    });

    for (const norm of ['affine', 'layernorm'] as const) {
      it(`ContinuousGenerator (${norm}): every sentence gets its one-by-one result, joining mid-decode`, async () => {
        const m = tiny(arch, norm);
        const cfg = { beamSize: 3, nbest: 3, maxLenB: 10 };
        const alone: { tokens: Int32Array; score: number }[][] = [];
        for (const s of SOURCES) alone.push((await new SequenceGenerator(m, cfg).generate([s])).results[0]!.hypos);
        const before = tf.memory().numTensors;
        const gen = new ContinuousGenerator(m, cfg);
        const later: Promise<{ hypos: { tokens: Int32Array; score: number }[] }>[] = [];
        const first = gen.add(
          SOURCES[0]!,
          { nbest: 3, lenpen: 1 },
          {
            onStep: (e) => {
              if (e.step === 1) later.push(gen.add(SOURCES[1]!, { nbest: 3, lenpen: 1 }), gen.add(SOURCES[2]!, { nbest: 3, lenpen: 1 }));
              if (e.step === 3) later.push(gen.add(SOURCES[3]!, { nbest: 3, lenpen: 1 }));
            },
          },
        );
        const got = [await first, ...(await Promise.all(later))];
        assert.equal(got.length, 4);
        got.forEach((r, i) => {
          assert.equal(r.hypos.length, alone[i]!.length, `sentence ${i}`);
          r.hypos.forEach((h, k) => {
            assert.deepEqual(Array.from(h.tokens), Array.from(alone[i]![k]!.tokens), `sentence ${i} hypothesis ${k}`);
            assert.ok(
              Math.abs(h.score - alone[i]![k]!.score) < 1e-4,
              `sentence ${i} hypothesis ${k}: ${h.score} vs ${alone[i]![k]!.score}`,
            );
          });
        });
        assert.ok(
          gen.stats.sentencesPerStep.some((n) => n >= 3),
          'sentences shared steps',
        );
        assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
      });
    }
  });
}
