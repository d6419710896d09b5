// Tests of the seq2seq ResMLP / Transformer translation model on tiny configs: shapes, padding
// invariance (encoder output and decoder logits), causality, over-length refusal, incremental ==
// full decoding through the real generator (beam search with reorders and dropped sentences), and
// no tensor leaks across encode/decode.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useTestBackend } from '../../helpers/backend.js';
import { SequenceTooLongError, resolveSeq2SeqConfig } from '../../../src/mt/model/index.js';
import { SequenceGenerator, incrementalFullCheck } from '../../../src/mt/decoding/index.js';
import { V, tinySeq2Seq } from './tiny-seq2seq.js';
import { maxAbsDiff } from '../../helpers/arrays.js';

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

const ids = (xs: number[]) => tf.tensor2d(xs, [1, xs.length], 'int32');

before(async () => {
  await useTestBackend();
});

describe('Seq2SeqConfig', () => {
  it('rejects unknown keys and bad values, naming them', () => {
    assert.throws(() => resolveSeq2SeqConfig({ vocabSize: 10, maxLen: 8, layers: 3 } as never), /unknown config key 'layers'/);
    assert.throws(() => resolveSeq2SeqConfig({ vocabSize: 10, maxLen: 8, dim: 10, heads: 3 }), /divisible/);
    assert.throws(() => resolveSeq2SeqConfig({ vocabSize: 10, maxLen: 8, arch: 'rnn' as never }), /'arch'/);
    assert.throws(() => resolveSeq2SeqConfig({ vocabSize: 10 } as never), /Seq2SeqConfig: missing required config key 'maxLen'/);
  });
});

for (const arch of ['resmlp', 'transformer'] as const) {
  describe(`Seq2Seq (${arch})`, () => {
    it('forward gives (B, T, V) finite logits; parameter names follow the fairseq/timm layout', () => {
      const m = tinySeq2Seq(arch);
      const names = [...m.namedParameters().keys()];
      assert.ok(names.includes('embed_tokens.weight'));
      if (arch === 'resmlp') {
        assert.ok(names.includes('encoder.layers.0.linear_tokens.weight'));
        assert.ok(names.includes('decoder.layers.1.linear_tokens.weight'));
        assert.ok(!names.some((n) => n.includes('self_attn')));
      } else assert.ok(names.includes('decoder.layers.1.self_attn.q_proj.weight'));
      assert.ok(names.includes('decoder.layers.0.cross_attn.k_proj.weight'));
      assert.ok(names.includes('decoder.layers.0.ls_cross'));
      const logits = m.forward(
        tf.tensor2d(
          [
            [5, 6, 7, 3],
            [8, 3, 0, 0],
          ],
          [2, 4],
          'int32',
        ),
        tf.tensor2d(
          [
            [2, 9, 10],
            [2, 11, 0],
          ],
          [2, 3],
          'int32',
        ),
      );
      assert.deepEqual(logits.shape, [2, 3, V]);
      assert.ok(logits.dataSync().every(Number.isFinite));
      logits.dispose();
      m.dispose();
    });

    it('padding invariance: a sentence alone and inside a padded batch give the same encoder output and logits', () => {
      const m = tinySeq2Seq(arch);
      const src = [5, 6, 7, 3];
      const tgt = [2, 9, 10];
      const aloneEnc = m.encodeTensor(ids(src));
      const alone = m.forward(ids(src), ids(tgt));
      // batch with a longer sentence (so ours is padded on both sides)
      const S = 9;
      const T = 7;
      const srcB = tf.tensor2d([...src, 0, 0, 0, 0, 0, 8, 9, 10, 11, 12, 13, 14, 15, 3], [2, S], 'int32');
      const tgtB = tf.tensor2d([...tgt, 0, 0, 0, 0, 2, 4, 5, 6, 7, 8, 9], [2, T], 'int32');
      const batchEnc = m.encodeTensor(srcB);
      const batch = m.forward(srcB, tgtB);
      // Tolerance relative to the values' scale: OpenBLAS may sum a 1-row and a 2-row product in a
      // different order (its edge kernels), which moves float32 logits of size ~16 by ~1e-5 (seen
      // on AMD EPYC with the Haswell kernels); a padding leak moves them by orders more.
      const encRow = tf.slice(batchEnc.out, [0, 0, 0], [1, src.length, 16]);
      const encAlone = aloneEnc.out.dataSync();
      const encDiff = maxAbsDiff(encAlone, encRow.dataSync());
      assert.ok(encDiff <= 1e-5 * Math.max(1, maxAbs(encAlone)), `encoder output differs by ${encDiff}`);
      const logitRow = tf.slice(batch, [0, 0, 0], [1, tgt.length, V]);
      const logitsAlone = alone.dataSync();
      const logitDiff = maxAbsDiff(logitsAlone, logitRow.dataSync());
      assert.ok(
        logitDiff <= 1e-5 * Math.max(1, maxAbs(logitsAlone)),
        `decoder logits differ by ${logitDiff} (max |logit| ${maxAbs(logitsAlone)})`,
      );
      tf.dispose([aloneEnc.out, aloneEnc.bias, alone, batchEnc.out, batchEnc.bias, batch, encRow, logitRow, srcB, tgtB]);
      m.dispose();
    });

    it('causality: decoder output at i is unchanged when tokens after i change, and changes when token i does', () => {
      const m = tinySeq2Seq(arch);
      const src = ids([5, 6, 7, 3]);
      const a = m.forward(src, ids([2, 9, 10, 11, 12]));
      const b = m.forward(src, ids([2, 9, 10, 17, 4]));
      const first = (x: tf.Tensor) => tf.slice(x, [0, 0, 0], [1, 3, V]).dataSync();
      assert.ok(maxAbsDiff(first(a), first(b)) < 1e-6);
      const at3 = (x: tf.Tensor) => tf.slice(x, [0, 3, 0], [1, 1, V]).dataSync();
      assert.ok(maxAbsDiff(at3(a), at3(b)) > 1e-4, 'position 3 should see its own changed token');
      tf.dispose([src, a, b]);
      m.dispose();
    });

    it('refuses sentences longer than N − 1 tokens with a clear error', () => {
      const m = tinySeq2Seq(arch);
      assert.throws(
        () => m.sourceIds(new Int32Array(12).fill(5)),
        (e: Error) => e instanceof SequenceTooLongError && /at most 11 tokens/.test(e.message),
      );
      assert.equal(m.sourceIds(new Int32Array(11).fill(5)).length, 12);
      assert.throws(() => m.encode([new Int32Array(13).fill(5)]), SequenceTooLongError);
      m.dispose();
    });

    it('incremental decoding equals full decoding within 1e-4 under beam search, and leaks no tensors', async () => {
      const m = tinySeq2Seq(arch, { maxLen: 16 });
      const src = [
        [5, 6, 7, 8, 3],
        [9, 3],
        [10, 11, 12, 13, 14, 15, 3],
        [4, 4, 3],
      ].map((s) => Int32Array.from(s));
      const before = tf.memory().numTensors;
      const { model, report } = incrementalFullCheck(m, m.asFull());
      const gen = new SequenceGenerator(model, { beamSize: 3, maxLenB: 10, nbest: 2 });
      const out = await gen.generate(src);
      assert.equal(out.results.length, 4);
      assert.ok(report.steps >= 5, `only ${report.steps} steps compared`);
      assert.deepEqual(out.stats.rowsPerStep.slice(0, 2), [4, 12], 'one row per sentence at step 0, then beam 3 each');
      assert.ok(report.maxAbsDiff < 1e-4, `max |incremental − full| = ${report.maxAbsDiff} at ${JSON.stringify(report.worst)}`);
      assert.equal(tf.memory().numTensors, before, 'tensors leaked by decoding');
      // greedy through the incremental path alone gives the same best hypothesis as the full path
      const inc = await new SequenceGenerator(m, { beamSize: 1, maxLenB: 10 }).generate(src);
      const full = await new SequenceGenerator(m.asFull(), { beamSize: 1, maxLenB: 10 }).generate(src);
      for (let i = 0; i < src.length; i++) {
        assert.deepEqual([...inc.results[i]!.hypos[0]!.tokens], [...full.results[i]!.hypos[0]!.tokens]);
        assert.ok(Math.abs(inc.results[i]!.hypos[0]!.score - full.results[i]!.hypos[0]!.score) < 1e-4);
      }
      assert.equal(tf.memory().numTensors, before, 'tensors leaked by decoding');
      m.dispose();
    });

    it('arbitrary reorders (rows not grouped per sentence, sentences dropped) still match the full path', () => {
      const m = tinySeq2Seq(arch, { maxLen: 16, norm: 'layernorm' });
      const src = [
        [5, 6, 7, 3],
        [9, 3],
        [10, 11, 12, 3],
      ].map((s) => Int32Array.from(s));
      const before = tf.memory().numTensors;
      const enc = m.encode(src);
      let st = m.initState(enc);
      const bos = m.bosId;
      m.step(Int32Array.from([bos, bos, bos]), st, 0);
      const order = Int32Array.from([2, 0, 0, 2, 2]); // sentence 1 dropped, uneven rows per sentence
      st = m.reorderState(st, order);
      const tok1 = Int32Array.from([7, 8, 9, 10, 11]);
      const inc = m.step(tok1, st, 1);
      const prefixes = Int32Array.from([bos, 7, bos, 8, bos, 9, bos, 10, bos, 11]);
      const full = m.fullStep(enc, order, prefixes, 2);
      assert.ok(maxAbsDiff(inc, full) < 1e-4, `max diff ${maxAbsDiff(inc, full)}`);
      st = m.reorderState(st, Int32Array.from([4, 3])); // only sentence 2 left, two rows
      const inc2 = m.step(Int32Array.from([12, 13]), st, 2);
      const full2 = m.fullStep(enc, Int32Array.from([2, 2]), Int32Array.from([bos, 11, 12, bos, 10, 13]), 3);
      assert.ok(maxAbsDiff(inc2, full2) < 1e-4, `max diff ${maxAbsDiff(inc2, full2)}`);
      m.disposeState(st);
      m.disposeEnc(enc);
      assert.equal(tf.memory().numTensors, before, 'tensors leaked');
      m.dispose();
    });
  });
}
