// Tests of the backend chooser (src/backend/choose.ts): the auto order, explicit requests, the
// reasons logged for skipped candidates, RESMLP_BACKEND, and the real loaders on this machine
// (tfjs-node absent, native built, wasm and cpu available). Loaders are injected to simulate
// tfjs-node present, absent or throwing.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend, setThreads, AUTO_ORDER, type Loader } from '../../src/backend/choose.js';

const absent =
  (pkg: string): Loader =>
  async () => {
    throw new Error(`Cannot find package '${pkg}' imported from choose.ts`);
  };
// A stand-in for tfjs-node: registers nothing new, activates the cpu backend.
const present: Loader = async () => ({ tfName: 'cpu', threads: 7 });

after(async () => {
  await tf.setBackend('cpu');
});

test('auto tries tfjs-node-gpu, tfjs-node, native, wasm, cpu in that order', () => {
  assert.deepEqual(AUTO_ORDER, ['tensorflow-gpu', 'tensorflow', 'native', 'wasm', 'cpu']);
});

test('auto picks tfjs-node when present and logs why tfjs-node-gpu was skipped', async () => {
  const lines: string[] = [];
  const info = await initBackend('auto', {
    loaders: { 'tensorflow-gpu': absent('@tensorflow/tfjs-node-gpu'), tensorflow: present },
    log: (l) => lines.push(l),
  });
  assert.equal(info.name, 'tensorflow');
  assert.equal(info.threads, 7);
  assert.deepEqual(
    info.skipped.map((s) => s.name),
    ['tensorflow-gpu'],
  );
  assert.match(info.skipped[0]!.reason, /Cannot find package '@tensorflow\/tfjs-node-gpu'/);
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /tensorflow-gpu skipped: Cannot find package/);
  assert.match(lines[1]!, /backend: tensorflow \(7 threads, auto\)/);
});

test('auto falls through absent and throwing candidates, each with its reason', async () => {
  const lines: string[] = [];
  const info = await initBackend('auto', {
    loaders: {
      'tensorflow-gpu': absent('@tensorflow/tfjs-node-gpu'),
      tensorflow: async () => {
        throw new Error('libtensorflow.so: cannot open shared object file\nmore detail');
      },
      native: async () => {
        throw new Error('native addon not built: g++ missing');
      },
      wasm: async () => ({ tfName: 'no-such-backend', threads: 1 }),
    },
    log: (l) => lines.push(l),
  });
  assert.equal(info.name, 'cpu');
  assert.deepEqual(
    info.skipped.map((s) => s.name),
    ['tensorflow-gpu', 'tensorflow', 'native', 'wasm'],
  );
  assert.equal(info.skipped[1]!.reason, 'libtensorflow.so: cannot open shared object file');
  assert.match(info.skipped[2]!.reason, /g\+\+ missing/);
  assert.match(info.skipped[3]!.reason, /could not initialise backend 'no-such-backend'/);
  assert.equal(lines.length, 5);
  assert.equal(tf.getBackend(), 'cpu');
});

test('an explicit request that fails throws with the reason, no fallback', async () => {
  await tf.setBackend('cpu');
  await assert.rejects(
    initBackend('tensorflow', { loaders: { tensorflow: absent('@tensorflow/tfjs-node') }, log: () => {} }),
    /backend 'tensorflow' was requested but is unavailable: Cannot find package '@tensorflow\/tfjs-node'/,
  );
  assert.equal(tf.getBackend(), 'cpu');
  await assert.rejects(initBackend('gpu-please', { log: () => {} }), /unknown backend "gpu-please": expected one of auto, tensorflow-gpu/);
});

test('RESMLP_BACKEND selects the backend when no name is passed', async () => {
  const old = process.env.RESMLP_BACKEND;
  process.env.RESMLP_BACKEND = 'cpu';
  try {
    const info = await initBackend(undefined, { log: () => {} });
    assert.equal(info.name, 'cpu');
    assert.equal(tf.getBackend(), 'cpu');
  } finally {
    if (old === undefined) delete process.env.RESMLP_BACKEND;
    else process.env.RESMLP_BACKEND = old;
  }
});

test('on this machine: tfjs-node is absent, auto picks native, and wasm and cpu work when asked', async () => {
  const lines: string[] = [];
  const info = await initBackend('auto', { log: (l) => lines.push(l) });
  assert.equal(info.name, 'native', `auto chose ${info.name}; skipped: ${JSON.stringify(info.skipped)}`);
  assert.deepEqual(
    info.skipped.map((s) => s.name),
    ['tensorflow-gpu', 'tensorflow'],
  );
  assert.equal(tf.getBackend(), 'native');
  assert.ok(info.threads >= 1);
  await assert.rejects(initBackend('tensorflow', { log: () => {} }), /requested but is unavailable/);
  const wasm = await initBackend('wasm', { log: () => {} });
  assert.equal(wasm.name, 'wasm');
  assert.deepEqual(Array.from(tf.matMul(tf.ones([2, 3]), tf.ones([3, 2])).dataSync()), [3, 3, 3, 3]);
  const cpu = await initBackend('cpu', { log: () => {} });
  assert.equal(cpu.name, 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
});

test('setThreads applies to the native backend and rejects bad counts', async () => {
  const info = await initBackend('native', { log: () => {} });
  const before = info.threads;
  assert.equal(await setThreads(1), 1);
  assert.equal((await initBackend('native', { log: () => {} })).threads, 1);
  await setThreads(before);
  await assert.rejects(setThreads(0), /positive integer/);
});
