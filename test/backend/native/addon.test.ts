// The addon's exports are matched by name, never by position (src/backend/native/addon.ts,
// native/src/ops.h): the built addon's op table covers every op the TypeScript side names, a
// mismatched addon fails at load with a message naming what is missing, the C++ side refuses an
// op code it does not know, and the kernels use the code the table gives for their name (shown by
// running them against a table whose codes are permuted).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { nativeAddon, nativeAvailable, registerNativeBackend } from '../../../src/backend/native.js';
import {
  ADDON_FUNCTIONS,
  checkAddon,
  OP_NAMES,
  type LoadedAddon,
  type NativeAddon,
  type OpFamily,
} from '../../../src/backend/native/addon.js';
import type { Backend, KernelTable, TensorInfo } from '../../../src/backend/native/kernel.js';
import { elementwiseKernels } from '../../../src/backend/native/kernels-elementwise.js';
import { matmulKernels } from '../../../src/backend/native/kernels-matmul.js';
import { reduceKernels } from '../../../src/backend/native/kernels-reduce.js';
import { affineKernels } from '../../../src/backend/native/kernels-affine.js';
import { FUSED_KERNELS } from '../../../src/backend/fused.js';

before(() => {
  const ok = nativeAvailable();
  assert.ok(ok.ok, `native addon unavailable: ${ok.reason}`);
  registerNativeBackend();
});

/** The real addon's exports with some replaced (a stand-in for an addon built from other sources). */
function doctored(
  change: (exports: Record<string, unknown>, ops: Record<string, Record<string, number>>) => void,
): Record<string, unknown> {
  const real = nativeAddon() as unknown as Record<string, unknown>;
  const ops = Object.fromEntries(Object.entries(real.ops as Record<string, Record<string, number>>).map(([f, c]) => [f, { ...c }]));
  const exports = { ...real, ops };
  change(exports, ops);
  return exports;
}

test('the built addon exports every function and op the TypeScript side names, each family with distinct codes', () => {
  const { ops } = checkAddon(nativeAddon(), 'under test');
  for (const [family, names] of Object.entries(OP_NAMES)) {
    const codes = names.map((n) => (ops[family as OpFamily] as Record<string, number>)[n]!);
    assert.equal(new Set(codes).size, names.length, `${family}: distinct codes`);
  }
  for (const f of ADDON_FUNCTIONS) assert.equal(typeof (nativeAddon() as unknown as Record<string, unknown>)[f], 'function', f);
  assert.ok(Object.isFrozen(nativeAddon().ops), 'the op table is frozen');
});

test('a mismatched addon fails the check with a message naming each missing op and function', () => {
  const at = '/some/resmlp_native.node';
  assert.throws(
    () =>
      checkAddon(
        doctored((_, ops) => {
          delete ops.unary!.Gelu;
          delete ops.binary!.Prelu;
        }),
        at,
      ),
    (e: Error) =>
      /native addon \/some\/resmlp_native\.node does not match/.test(e.message) &&
      /no unary op Gelu/.test(e.message) &&
      /no binary op Prelu/.test(e.message) &&
      /node native\/build\.mjs/.test(e.message),
  );
  // each change alone fails the check with the message naming it
  const mismatches: [Parameters<typeof doctored>[0], RegExp][] = [
    [
      (x) => {
        delete x.adamStep;
      },
      /no function adamStep/,
    ],
    [
      (x) => {
        delete x.ops;
      },
      /no op table \(`ops`\)/,
    ],
    [
      (_, ops) => {
        delete ops.reduce;
      },
      /no reduce ops in its op table/,
    ],
    [
      (_, ops) => {
        ops.reduce!.Max = ops.reduce!.Sum!;
      },
      /reduce ops Sum and Max share the code/,
    ],
    [
      (_, ops) => {
        ops.activation!.relu = -1;
      },
      /no activation op relu/,
    ],
  ];
  for (const [change, message] of mismatches) assert.throws(() => checkAddon(doctored(change), at), message);
  // an addon with more ops or functions than we use is fine
  assert.doesNotThrow(() =>
    checkAddon(
      doctored((x, ops) => {
        ops.unary!.Cbrt = 99;
        x.extra = () => 0;
      }),
      at,
    ),
  );
});

test('loading a mismatched addon leaves the backend unavailable with the reason, naming the op', () => {
  // A child process whose require() of the addon returns its exports without unary Gelu.
  const dir = mkdtempSync(join(tmpdir(), 'resmlp-addon-'));
  const hook = join(dir, 'drop-gelu.cjs');
  writeFileSync(
    hook,
    `const Module = require('node:module');
const load = Module._load;
Module._load = function (request, ...rest) {
  const m = load.call(this, request, ...rest);
  if (!String(request).endsWith('resmlp_native.node')) return m;
  const unary = { ...m.ops.unary };
  delete unary.Gelu;
  return { ...m, ops: { ...m.ops, unary } };
};
`,
  );
  const script =
    "import { nativeAvailable, registerNativeBackend } from './src/backend/native.ts'; const r = nativeAvailable(); " +
    'let thrown = ""; try { registerNativeBackend(); } catch (e) { thrown = e.message; } console.log(JSON.stringify({ ...r, thrown }));';
  const r = spawnSync(process.execPath, ['--require', hook, '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { ok: boolean; reason: string; thrown: string };
  assert.equal(out.ok, false);
  assert.match(out.reason, /does not match src\/backend\/native: no unary op Gelu\. Rebuild it with: node native\/build\.mjs/);
  assert.equal(out.thrown, out.reason);
});

test('the C++ side refuses an op code outside its table, naming the kernel', () => {
  const a = nativeAddon();
  const x = new Float32Array(8),
    y = new Float32Array(8);
  const one = Int32Array.of(8),
    unit = Int32Array.of(1);
  assert.throws(() => a.unary(a.ops.unary!.Round! + 1, x, y), /unary: 26 is not one of this build's unary op codes \(0\.\.25\)/);
  assert.throws(() => a.unary(-1, x, y), /unary: -1 is not one of this build's unary op codes/);
  assert.throws(() => a.binary(99, x, x, y, one, unit, unit), /binary: 99 is not one of this build's binary op codes/);
  assert.throws(() => a.reduce(5, x, y, 1, 8, 1), /reduce: 5 is not one of this build's reduce op codes/);
  assert.throws(() => a.biasAct(y, null, 8, 6, 0), /biasAct: 6 is not one of this build's activation codes/);
  assert.throws(() => a.channelScale(x, x, x, y, 8, 2), /channelScale: 2 is not one of this build's channel-scale mode codes/);
});

/**
 * The real addon behind an op table whose codes are reversed within each family: kernels that
 * numbered ops themselves, or by position, would run the wrong op here.
 */
function permuted(): LoadedAddon {
  const real = nativeAddon();
  const toReal = new Map<string, Map<number, number>>();
  const ops: Record<string, Record<string, number>> = {};
  for (const [family, codes] of Object.entries(real.ops)) {
    const names = Object.keys(codes);
    const back = new Map<number, number>();
    ops[family] = {};
    names.forEach((n, i) => {
      const fake = names.length - 1 - i;
      ops[family]![n] = fake;
      back.set(fake, codes[n]!);
    });
    toReal.set(family, back);
  }
  const r = (family: string, code: number) => toReal.get(family)!.get(code)!;
  const addon: NativeAddon = Object.create(real);
  addon.unary = (op, ...rest) => real.unary(r('unary', op), ...rest);
  addon.binary = (op, ...rest) => real.binary(r('binary', op), ...rest);
  addon.reduce = (op, ...rest) => real.reduce(r('reduce', op), ...rest);
  addon.biasAct = (y, bias, cols, act, alpha) => real.biasAct(y, bias, cols, r('activation', act), alpha);
  addon.channelScale = (x, s, add, y, d, mode) => real.channelScale(x, s, add, y, d, r('channelScaleMode', mode));
  return checkAddon(Object.assign(addon, { ops }), 'permuted');
}

test('kernels look their op codes up by name: a permuted op table gives the same results', async () => {
  await tf.setBackend('native');
  const backend = tf.backend() as unknown as Backend;
  const p = permuted();
  const table: KernelTable = { ...elementwiseKernels(p), ...reduceKernels(p), ...matmulKernels(p), ...affineKernels(p) };
  const run = (name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown> = {}) => {
    const out = table[name]!({ inputs: inputs as unknown as tf.NamedTensorInfoMap, backend, attrs: attrs as tf.NamedAttrMap });
    assert.ok(out && !Array.isArray(out), `${name} ran natively`);
    const info = out as TensorInfo;
    const values = Array.from(backend.readSync(info.dataId) as Float32Array);
    backend.disposeIntermediateTensorInfo(info);
    return values;
  };
  const close = (got: number[], want: Float32Array | Int32Array | Uint8Array, what: string) => {
    assert.equal(got.length, want.length, what);
    got.forEach((g, i) => assert.ok(Math.abs(g - want[i]!) <= 1e-5 * (1 + Math.abs(want[i]!)), `${what}[${i}]: ${g} vs ${want[i]}`));
  };
  tf.tidy(() => {
    const x = tf.tensor2d([
        [-1.5, 0.25, 2],
        [3, -0.5, 0.75],
      ]),
      w = tf.tensor2d([
        [0.5, -1],
        [2, 0.25],
        [-0.75, 1.5],
      ]);
    const b = tf.tensor1d([0.1, -0.2]),
      s = tf.tensor1d([2, -1, 0.5]),
      h = tf.tensor2d([
        [1, 2, 3],
        [4, 5, 6],
      ]);
    close(run('Exp', { x }), tf.exp(x).dataSync(), 'Exp');
    close(run('Relu', { x }), tf.relu(x).dataSync(), 'Relu');
    close(run(FUSED_KERNELS.gelu, { x }), tf.mul(x, tf.mul(0.5, tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))))).dataSync(), 'Gelu');
    close(run('Sub', { a: x, b: h }), tf.sub(x, h).dataSync(), 'Sub');
    close(run('Maximum', { a: x, b: h }), tf.maximum(x, h).dataSync(), 'Maximum');
    close(run('Sum', { x }, { axis: [1], keepDims: false }), tf.sum(x, 1).dataSync(), 'Sum');
    close(run('Max', { x }, { reductionIndices: [0], keepDims: false }), tf.max(x, 0).dataSync(), 'Max');
    close(
      run('_FusedMatMul', { a: x, b: w, bias: b }, { activation: 'relu' }),
      tf.relu(tf.add(tf.matMul(x, w), b)).dataSync(),
      'matmul+bias+relu',
    );
    close(run('_FusedMatMul', { a: x, b: w }, { activation: 'sigmoid' }), tf.sigmoid(tf.matMul(x, w)).dataSync(), 'matmul+sigmoid');
    close(run(FUSED_KERNELS.scaleShift, { x, scale: s, shift: s }), tf.add(tf.mul(x, s), s).dataSync(), 'scaleShift');
    close(run(FUSED_KERNELS.addScaled, { t: x, scale: s, h }), tf.add(h, tf.mul(x, s)).dataSync(), 'addScaled');
  });
});
