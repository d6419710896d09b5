// Every config file under configs/ resolves, through the reader and resolver its command uses, to
// exactly the object recorded in test/fixtures/configs/resolved.json (written by snapshot.ts
// beside it): a config rewritten to extend another, or a changed default, cannot silently change
// what a run gets. A config meant to change is re-recorded with the script, in its own commit.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { test } from 'node:test';
import { configFiles, resolveShipped, SNAPSHOT } from './fixtures/configs/snapshot.js';

const recorded = JSON.parse(fs.readFileSync(SNAPSHOT, 'utf8')) as Record<string, unknown>;

test('the recorded set is the shipped set of config files', () => {
  assert.deepEqual(configFiles(), Object.keys(recorded).sort());
});

for (const rel of configFiles()) {
  test(`configs/${rel} resolves to its recorded config`, () => {
    assert.deepStrictEqual(resolveShipped(rel), recorded[rel]);
  });
}
