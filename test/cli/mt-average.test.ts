// In-process tests of `resmlp mt average` on the tiny translation checkpoint of
// test/mt/translator-fixture.ts: --run/--last finds a run's numbered checkpoints and writes
// checkpoint_avg<N> beside them, --inputs/--out to another folder copies the SentencePiece files,
// the average of identical checkpoints translates as the checkpoint does, and usage errors exit 2
// while too few checkpoints exit 1 with the reason.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { command as averageCommand } from '../../src/cli/mt-average.js';
import { Translator } from '../../src/mt/translator.js';
import { useTranslatorFixture } from '../mt/translator-fixture.js';

const env = useTranslatorFixture('resmlp-mt-average-');

const call = (argv: string[]) => runCli(averageCommand, argv);

/** A run folder holding copies of the fixture checkpoint as checkpoint_<u>.safetensors. */
function runFolder(name: string, updates: number[]): string {
  const run = join(env.tmp, name);
  mkdirSync(run);
  for (const f of ['spm.model', 'spm.vocab']) copyFileSync(join(env.fx.checkpoint, '..', f), join(run, f));
  for (const u of updates) copyFileSync(env.fx.checkpoint, join(run, `checkpoint_${u}.safetensors`));
  return run;
}

describe('resmlp mt average', () => {
  it('--run --last N averages the newest N numbered checkpoints into checkpoint_avg<N>', async () => {
    const run = runFolder('run', [200, 400, 600, 800]);
    const r = await call(['--run', run, '--last', '3']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /averaged 3 checkpoint\(s\): .*checkpoint_400\.safetensors, .*checkpoint_600\.safetensors, .*checkpoint_800\.safetensors/,
    );
    const out = join(run, 'checkpoint_avg3.safetensors');
    assert.match(r.stdout, new RegExp(`wrote ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: \\d+ tensors`));
    const [a, b] = [await Translator.load(out), await Translator.load(env.fx.checkpoint)];
    try {
      const lines = env.fx.lines.slice(0, 3);
      const opts = { maxLenB: 4 };
      assert.deepEqual(
        (await a.translate(lines, opts)).map((x) => x.text),
        (await b.translate(lines, opts)).map((x) => x.text),
      );
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  it('--inputs --out to another folder copies spm.model and spm.vocab beside the output', async () => {
    const dest = join(env.tmp, 'dest');
    mkdirSync(dest);
    const copy = join(env.tmp, 'copy.safetensors');
    copyFileSync(env.fx.checkpoint, copy);
    const r = await call(['--inputs', env.fx.checkpoint, copy, '--out', join(dest, 'avg.safetensors')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /copied spm\.model\/spm\.vocab beside it/);
    assert.ok(existsSync(join(dest, 'spm.model')));
    (await Translator.load(join(dest, 'avg.safetensors'))).dispose();
  });

  it('says why when a run keeps too few checkpoints, and rejects bad usage', async () => {
    const run = runFolder('short', [100, 200]);
    const r = await call(['--run', run, '--last', '5']);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /holds only 2 \(checkpoint_100\.safetensors, checkpoint_200\.safetensors\), fewer than the 5 to average: .*keepLast ≥ 5/,
    );
    assert.equal((await call(['--run', run])).code, 2);
    assert.equal((await call(['--inputs', env.fx.checkpoint])).code, 2);
    assert.equal((await call(['--inputs', env.fx.checkpoint, '--run', run, '--last', '1', '--out', 'x'])).code, 2);
  });
});
