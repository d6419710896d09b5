// Decoding precision of a translation model (src/quant) on the tiny random checkpoint of
// test/mt/translator-fixture.ts: int8 covers every linear layer and the tied output projection,
// its log-probs stay near fp32's, fp32 comes back exactly, and disposing the model leaves no
// tensor; an int8 checkpoint of `resmlp mt quantize` is ~4× smaller in its quantised layers, loads
// dequantised (so it decodes in fp32 anywhere) and decodes in int8 bit for bit as the fp32
// checkpoint quantised at load; where int8 cannot run the model decodes in fp32 and the report says
// why — forced here on another backend, and (test/cli/mt-quantize.test.ts) on a CPU oneDNN is told
// lacks VNNI.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { int8Support } from '../../src/backend/native.js';
import { Linear } from '../../src/core/linear.js';
import { loadSeq2Seq, readMtCheckpointConfig, type Seq2Seq } from '../../src/mt/model/index.js';
import {
  applyPrecision,
  choosePrecision,
  int8Layers,
  isInt8Checkpoint,
  precisionLine,
  writeInt8Checkpoint,
} from '../../src/quant/index.js';
import { useTranslatorFixture } from '../mt/translator-fixture.js';

const support = int8Support();
const skip = support.available ? false : `int8 unavailable here: ${support.reason}`;

const env = useTranslatorFixture('resmlp-quant-', (t) => assert.equal(t.backend, 'native'));

/** Log-probs of the first two decoding steps for a few sources (steps fed token 4 then 5). */
function stepLogProbs(model: Seq2Seq): Float32Array[] {
  const srcs = [Int32Array.of(5, 6, 7, 3), Int32Array.of(8, 3), Int32Array.of(9, 10, 11, 12, 13, 3)];
  const enc = model.encode(srcs);
  const state = model.initState(enc);
  try {
    const out: Float32Array[] = [];
    for (const [t, tok] of [
      [0, model.bosId],
      [1, 4],
      [2, 5],
    ] as const)
      out.push(Float32Array.from(model.step(new Int32Array(srcs.length).fill(tok), state, t)));
    return out;
  } finally {
    model.disposeState(state);
    model.disposeEnc(enc);
  }
}

function maxAbsDiff(a: Float32Array[], b: Float32Array[]): number {
  let m = 0;
  a.forEach((x, i) => x.forEach((v, j) => (m = Math.max(m, Math.abs(v - b[i]![j]!)))));
  return m;
}

describe('applyPrecision', () => {
  it('int8: every Linear and the output projection, log-probs near fp32; fp32 again gives the fp32 bits; no tensor left', { skip }, () => {
    const before = tf.memory().numTensors;
    const model = loadSeq2Seq(env.fx.checkpoint);
    try {
      const fp32 = stepLogProbs(model);
      const report = applyPrecision(model, 'int8');
      assert.equal(report.precision, 'int8');
      const layers = int8Layers(model);
      assert.equal(report.layers, layers.length);
      const linears = [...model.namedModules().values()].filter((m) => m instanceof Linear) as Linear[];
      assert.ok(linears.length > 0 && linears.every((l) => l.kernel !== null), 'every Linear has an int8 kernel');
      assert.ok(model.embed_tokens.projectionKernel !== null, 'the output projection is int8');
      assert.match(precisionLine(report), /^precision: int8 \(oneDNN .+\): \d+ layers, weights [\d.]+ → [\d.]+ MB$/);
      const int8 = stepLogProbs(model);
      const d = maxAbsDiff(fp32, int8);
      assert.ok(d > 0 && d < 0.2, `int8 log-probs differ from fp32 by ${d}`);
      applyPrecision(model, 'fp32');
      assert.ok(linears.every((l) => l.kernel === null) && model.embed_tokens.projectionKernel === null);
      assert.deepEqual(stepLogProbs(model), fp32);
      applyPrecision(model, 'int8');
    } finally {
      model.dispose();
    }
    assert.equal(tf.memory().numTensors, before, 'tensors left after disposing an int8 model');
  });

  it('on another backend than native, int8 falls back to fp32 and says why', async () => {
    await tf.setBackend('cpu');
    try {
      const c = choosePrecision('int8');
      assert.equal(c.precision, 'fp32');
      assert.match(c.fallback, /int8 runs on the native backend only \(the backend is cpu\)/);
    } finally {
      await tf.setBackend('native');
    }
    assert.equal(choosePrecision('fp32').fallback, '');
  });
});

describe('int8 checkpoints', () => {
  it('are ~4× smaller in their quantised layers, load dequantised, and decode as the fp32 checkpoint quantised at load', { skip }, () => {
    const out = join(env.tmp, 'other', 'tiny_int8.safetensors');
    assert.throws(() => writeInt8Checkpoint(env.fx.checkpoint, readMtCheckpointConfig(env.fx.checkpoint), out), /folder .* does not exist/);
    rmSync(join(env.tmp, 'other'), { recursive: true, force: true });
    const outDir = mkdtempSync(join(env.tmp, 'q-'));
    const path = join(outDir, 'tiny_int8.safetensors');
    const r = writeInt8Checkpoint(env.fx.checkpoint, readMtCheckpointConfig(env.fx.checkpoint), path);
    const K = env.fx.modelConfig.dim;
    assert.ok(r.fp32Bytes / r.int8Bytes > (4 * K) / (K + 4) - 0.5, `layers ${r.fp32Bytes} → ${r.int8Bytes} bytes`);
    assert.ok(existsSync(join(outDir, 'spm.model')), 'the SentencePiece model is copied beside it');
    const config = readMtCheckpointConfig(path);
    assert.ok(isInt8Checkpoint(config));
    assert.throws(() => writeInt8Checkpoint(path, config, join(outDir, 'again.safetensors')), /already an int8 checkpoint/);

    const fromFp32 = loadSeq2Seq(env.fx.checkpoint);
    const fromInt8 = loadSeq2Seq(path);
    try {
      // in fp32, the int8 checkpoint is the model with its weights dequantised: close to the original
      const d = maxAbsDiff(stepLogProbs(fromFp32), stepLogProbs(fromInt8));
      assert.ok(d < 0.2, `dequantised fp32 differs by ${d}`);
      applyPrecision(fromFp32, 'int8');
      applyPrecision(fromInt8, 'int8');
      assert.deepEqual(stepLogProbs(fromInt8), stepLogProbs(fromFp32), 'the same int8 model either way');
    } finally {
      fromFp32.dispose();
      fromInt8.dispose();
    }
  });
});
