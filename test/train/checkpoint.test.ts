// updateCheckpointConfig: a new config in the metadata, every tensor kept with its stored type
// (an int8 checkpoint's I8 weights stay I8, not I32), written atomically.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readSafetensors, writeSafetensors } from '../../src/io/safetensors.js';
import { updateCheckpointConfig } from '../../src/train/checkpoint.js';

test('updateCheckpointConfig keeps every tensor and its dtype', () => {
  const f = join(mkdtempSync(join(tmpdir(), 'resmlp-ckpt-')), 'c.safetensors');
  writeSafetensors(
    f,
    {
      w: { dtype: 'I8', shape: [2, 2], data: Int8Array.of(-127, 3, 0, 127) },
      s: { shape: [2], data: Float32Array.of(0.5, 0.25) },
      n: { shape: [1], data: Int32Array.of(7) },
    },
    { config: JSON.stringify({ generation: { lenpen: 1 } }) },
  );
  const next = updateCheckpointConfig<{ generation: { lenpen: number } }>(f, (c) => ({ ...c, generation: { lenpen: 1.4 } }));
  assert.equal(next.generation.lenpen, 1.4);
  const r = readSafetensors(f);
  assert.equal(JSON.parse(r.metadata.config!).generation.lenpen, 1.4);
  assert.deepEqual(Object.fromEntries([...r.tensors].map(([k, t]) => [k, [t.dtype, Array.from(t.data)]])), {
    w: ['I8', [-127, 3, 0, 127]],
    s: ['F32', [0.5, 0.25]],
    n: ['I32', [7]],
  });
});
