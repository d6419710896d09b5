// `resmlp mt quantize` and `--precision` on `mt translate` / `mt eval`, in process on the tiny
// random checkpoint of test/mt/translator-fixture.ts: the int8 checkpoint is written beside its
// source and decodes in int8 by default, exactly as `--precision int8` on the fp32 checkpoint;
// a bad --precision is a usage error; and on a CPU oneDNN is told lacks VNNI (DNNL_MAX_CPU_ISA,
// in a child process) `--precision int8` decodes in fp32 — the same translations as fp32 — and
// says why on stderr, even with --quiet.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { int8Support } from '../../src/backend/native.js';
import { command as quantizeCommand, defaultInt8Path } from '../../src/cli/mt-quantize.js';
import { command as translateCommand } from '../../src/cli/mt-translate.js';
import { useTestBackend } from '../helpers/backend.js';
import { input, runCli } from '../helpers/cli.js';
import { type Fixture, translatorFixture } from '../mt/translator-fixture.js';

const support = int8Support();
const skip = support.available ? false : `int8 unavailable here: ${support.reason}`;
const repo = fileURLToPath(new URL('../..', import.meta.url));
let fx: Fixture;

before(async () => {
  assert.equal(await useTestBackend(), 'native');
  fx = await translatorFixture();
});

const translate = (checkpoint: string, extra: string[]) =>
  runCli(translateCommand, ['--checkpoint', checkpoint, '--backend', 'native', '--max-len-b', '5', ...extra], input(fx.lines.slice(0, 6)));

describe('resmlp mt quantize', () => {
  it('writes the int8 checkpoint beside its source; it decodes in int8 by default, as --precision int8 on the fp32 one', {
    skip,
  }, async () => {
    const q = await runCli(quantizeCommand, ['--checkpoint', fx.checkpoint]);
    assert.equal(q.code, 0, q.stderr);
    const out = defaultInt8Path(fx.checkpoint);
    assert.match(out, /checkpoint_best_int8\.safetensors$/);
    assert.ok(existsSync(out));
    assert.match(
      q.stdout,
      /^wrote .*checkpoint_best_int8\.safetensors: \d+ linear layers in int8 \(weights [\d.]+ MB → [\d.]+ MB, [\d.]+× smaller\)/,
    );

    const int8 = await translate(out, []);
    assert.equal(int8.code, 0, int8.stderr);
    assert.match(int8.stderr, /\[resmlp\] precision: int8 \(oneDNN/);
    const asked = await translate(fx.checkpoint, ['--precision', 'int8']);
    assert.equal(asked.stdout, int8.stdout);
    const quiet = await translate(out, ['--quiet']);
    assert.equal(quiet.stderr, '', '--quiet: no precision line for int8 as asked');
    const fp32 = await translate(out, ['--precision', 'fp32']);
    assert.equal(fp32.code, 0);
    assert.doesNotMatch(fp32.stderr, /precision/, 'plain fp32 goes without saying');
  });

  it('rejects a bad --precision as a usage error, and a missing --checkpoint', async () => {
    const r = await translate(fx.checkpoint, ['--precision', 'fp16']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--precision: expected one of fp32, int8, found "fp16"/);
    const q = await runCli(quantizeCommand, []);
    assert.equal(q.code, 2);
    assert.match(q.stderr, /--checkpoint is required/);
  });

  it('on a CPU without VNNI (forced), --precision int8 decodes in fp32, says why, and translates as fp32', async () => {
    const fp32 = await translate(fx.checkpoint, ['--precision', 'fp32']);
    const args = [
      '--import',
      'tsx',
      'src/cli/main.ts',
      'mt',
      'translate',
      '--checkpoint',
      fx.checkpoint,
      '--backend',
      'native',
      '--max-len-b',
      '5',
      '--quiet',
      '--precision',
      'int8',
    ];
    const child = spawnSync(process.execPath, args, {
      cwd: repo,
      input: fx.lines
        .slice(0, 6)
        .map((l) => l + '\n')
        .join(''),
      encoding: 'utf8',
      env: { ...process.env, DNNL_MAX_CPU_ISA: 'AVX512_CORE' },
    });
    assert.equal(child.status, 0, child.stderr);
    assert.match(
      child.stderr,
      /\[resmlp\] precision: fp32 \(int8 requested, but (this CPU has no VNNI int8 instructions|this build of the native addon has no oneDNN)/,
    );
    assert.equal(child.stdout, fp32.stdout);
  });
});
