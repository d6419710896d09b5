// How two ranks' configs and data differ (src/train/distributed/fingerprint.ts): equal values in any
// key order are equal, and a difference names its dotted key with both values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeDifference, fingerprintHash, stableJson } from '../../../src/train/distributed/fingerprint.js';

test('stableJson and fingerprintHash ignore key order and undefined keys', () => {
  assert.equal(stableJson({ b: 1, a: [1, { d: 2, c: 3 }], u: undefined }), '{"a":[1,{"c":3,"d":2}],"b":1}');
  assert.equal(fingerprintHash({ x: 1, y: 2 }), fingerprintHash({ y: 2, x: 1, z: undefined }));
  assert.notEqual(fingerprintHash({ x: 1 }), fingerprintHash({ x: 2 }));
});

test('describeDifference: empty when equal, else the differing keys with both values', () => {
  const lead = { config: { trainer: { schedule: { lr: 0.003 }, updateFreq: 1 } }, data: { splits: { train: { pairs: 200 } } } };
  assert.equal(describeDifference(structuredClone(lead), lead), '');
  const mine = { config: { trainer: { schedule: { lr: 0.001 }, updateFreq: 1 } }, data: { splits: { train: { pairs: 199 } } } };
  assert.equal(
    describeDifference(mine, lead),
    'config: trainer.schedule.lr is 0.001 here, 0.003 on rank 0 | data: splits.train.pairs is 199 here, 200 on rank 0',
  );
  assert.equal(
    describeDifference({ params: { a: [2, 3] } }, { params: { a: [2, 3], b: [4] } }),
    'params: b.0 is (absent) here, 4 on rank 0',
  );
  const many = describeDifference({ c: { a: 1, b: 1, c: 1, d: 1, e: 1, f: 1 } }, { c: { a: 2, b: 2, c: 2, d: 2, e: 2, f: 2 } }, 2);
  assert.match(many, /^c: a is 1 here, 2 on rank 0; b is 1 here, 2 on rank 0; 4 more$/);
});
