// In-process tests of `resmlp mt tune` on the tiny random translation checkpoint of
// test/mt/translator-fixture.ts: it prints one row per length penalty and the best, stores the
// best with the beam in the checkpoint (read back by Translator.load, which mt eval, mt translate
// and the server use), --json reports the trials, --dry-run stores nothing, usage errors exit 2.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { command as tuneCommand } from '../../src/cli/mt-tune.js';
import { readMtCheckpointConfig } from '../../src/mt/model/load.js';
import { Translator } from '../../src/mt/translator.js';
import { useTranslatorFixture } from '../mt/translator-fixture.js';

let src: string;
let ref: string;

const env = useTranslatorFixture('resmlp-mt-tune-', ({ fx, tmp }) => {
  src = join(tmp, 'val.en');
  ref = join(tmp, 'val.de');
  writeFileSync(src, fx.lines.slice(0, 4).join('\n') + '\n');
  writeFileSync(ref, ['ein Hund läuft', 'zwei Kinder spielen', 'eine Frau liest', 'ein Mann kocht'].join('\n') + '\n');
});

const call = (argv: string[]) => runCli(tuneCommand, argv);
/** `mt tune` of checkpoint `ckpt` on the validation pair, on the test backend, with `extra` flags. */
const tuneOn = (ckpt: string, extra: string[]) =>
  call(['--checkpoint', ckpt, '--src', src, '--ref', ref, ...extra, '--backend', env.backend]);

function copyRun(name: string): string {
  const run = join(env.tmp, name);
  mkdirSync(run);
  for (const f of ['checkpoint_best.safetensors', 'spm.model', 'spm.vocab']) copyFileSync(join(env.fx.checkpoint, '..', f), join(run, f));
  return join(run, 'checkpoint_best.safetensors');
}

describe('resmlp mt tune', () => {
  it('prints a row per lenpen, stores the best with the beam, and Translator.load reads it', async () => {
    const ckpt = copyRun('a');
    const r = await tuneOn(ckpt, ['--lenpen', '0.5,2', '--beam', '2', '--max-len-b', '4']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^decoding 4 sentences .* beam 2 for each of 2 length penalties\nlenpen +BLEU +BP +ratio +seconds\n0\.5 .*\n2 .*\nbest: lenpen (0\.5|2) \(BLEU [\d.]+, BP [\d.]+\), beam 2; BLEU\|nrefs:1\|/,
    );
    const best = Number(/best: lenpen ([\d.]+)/.exec(r.stdout)![1]);
    assert.match(r.stdout, /stored in .* \(generation\.lenpen [\d.]+, beamSize 2; the file was replaced atomically, weights unchanged\)/);
    const t = await Translator.load(ckpt);
    try {
      assert.equal(t.generation.lenpen, best);
      assert.equal(t.generation.beamSize, 2);
    } finally {
      t.dispose();
    }
    assert.equal(readMtCheckpointConfig(ckpt).tuning!.trials.length, 2);
  });

  it('--json reports the trials; --dry-run stores nothing', async () => {
    const ckpt = copyRun('b');
    const r = await tuneOn(ckpt, ['--lenpen', '1,1.5', '--max-len-b', '3', '--json', '--dry-run']);
    assert.equal(r.code, 0, r.stderr);
    const o = JSON.parse(r.stdout) as {
      trials: { lenpen: number; bleu: number; bp: number }[];
      best: { lenpen: number };
      beamSize: number;
      stored: string | null;
    };
    assert.deepEqual(
      o.trials.map((x) => x.lenpen),
      [1, 1.5],
    );
    assert.equal(o.beamSize, 2, "the checkpoint's beam");
    assert.equal(o.stored, null);
    assert.equal(readMtCheckpointConfig(ckpt).generation.lenpen, undefined);
  });

  it('rejects bad usage with exit 2', async () => {
    assert.equal((await call(['--checkpoint', env.fx.checkpoint, '--ref', ref])).code, 2);
    const r = await call(['--checkpoint', env.fx.checkpoint, '--src', src, '--ref', ref, '--lenpen', '1,x']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--lenpen expects comma-separated numbers/);
    assert.equal((await call(['--checkpoint', env.fx.checkpoint, '--src', src, '--ref', ref, '--dry-run', '--out', 'x'])).code, 2);
  });
});
