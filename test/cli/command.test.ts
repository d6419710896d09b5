// The one command definition and runner (src/cli/command.ts) and the command table with its
// dispatch (src/cli/commands.ts): help, usage errors with the help text and exit 2, user errors on
// one line with exit 1, other errors propagating; groups; every command in the table, under its own
// name in its usage line; `resmlp bleu` never loading TensorFlow.js.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { defineCommand, helpText, runCommand, usageError, type CliIO, type Command, type CommandContext } from '../../src/cli/command.js';
import { COMMANDS, dispatch, type CommandEntry } from '../../src/cli/commands.js';
import { ConfigError } from '../../src/util/config.js';
import { UserError } from '../../src/util/errors.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'resmlp-command-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Captured output of one run. */
function sink(): { io: Partial<CliIO>; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    io: { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } },
    out: () => out,
    err: () => err,
  };
}

/** A command that records what it got and does what `behave` says. */
function fake(
  behave: (ctx: CommandContext) => number | Promise<number>,
  extra: Partial<Parameters<typeof defineCommand>[0]> = {},
): Command {
  return defineCommand({
    name: 'demo run',
    summary: 'a command for tests',
    usage: '--size N [FILE ...]',
    flags: { size: { type: 'int', help: 'a size', default: 3 }, loud: { type: 'boolean', alias: 'l', help: 'louder' } },
    run: behave,
    ...extra,
  });
}

describe('runCommand', () => {
  test('--help prints usage (under the command name), summary, options and notes; exit 0; run is not called', async () => {
    let called = false;
    const s = sink();
    const cmd = fake(
      () => {
        called = true;
        return 0;
      },
      { notes: 'see also: nothing' },
    );
    assert.equal(await runCommand(cmd, ['--size', '4', '--help'], s.io), 0);
    assert.equal(called, false);
    assert.equal(s.out(), helpText(cmd));
    assert.match(s.out(), /^usage: resmlp demo run --size N \[FILE \.\.\.\]\n\na command for tests\n\noptions:\n/);
    assert.match(s.out(), /--size <int> +a size \(default: 3\)/);
    assert.match(s.out(), /see also: nothing\n$/);
    assert.equal(s.err(), '');
  });

  test('run gets flags with defaults, positionals when allowed, overrides when allowed, and its io', async () => {
    let got: CommandContext | null = null;
    const s = sink();
    const cmd = fake(
      (ctx) => {
        got = ctx;
        ctx.io.stdout.write('done\n');
        return 7;
      },
      { positionals: true, overrides: true },
    );
    assert.equal(await runCommand(cmd, ['-l', 'a.txt', '--model.dim', '8', 'b.txt'], s.io), 7);
    assert.deepEqual(got!.flags, { size: 3, loud: true });
    assert.deepEqual(got!.positionals, ['a.txt', 'b.txt']);
    assert.deepEqual(got!.overrides, { 'model.dim': '8' });
    assert.equal(s.out(), 'done\n');
    assert.match(helpText(cmd), /any other --a\.b\.c value sets that key of the config/);
  });

  test('usage errors (parsing, stray positionals, thrown by run) print the message and the help on stderr, exit 2', async () => {
    const cmd = fake(({ flags }) => {
      if ((flags.size as number) < 1) throw usageError(`--size must be ≥ 1, got ${flags.size}`);
      return 0;
    });
    const cases: [string[], string][] = [
      [['--size', 'big'], "--size expects an integer, got 'big'"],
      [['--bogus'], "unknown option '--bogus'"],
      [['x.txt'], 'unexpected argument(s) x.txt'],
      [['--size', '0'], '--size must be ≥ 1, got 0'],
    ];
    for (const [argv, message] of cases) {
      const s = sink();
      assert.equal(await runCommand(cmd, argv, s.io), 2, argv.join(' '));
      assert.equal(s.err(), `resmlp demo run: ${message}\n\n${helpText(cmd)}`);
      assert.equal(s.out(), '');
    }
    const s = sink();
    assert.equal(
      await runCommand(
        fake(() => 0, { usageExitCode: 1 }),
        ['--bogus'],
        s.io,
      ),
      1,
      'a command may keep another exit code for usage errors',
    );
  });

  test('other user errors print one line, exit with their exitCode; a ConfigError is one', async () => {
    for (const e of [
      new UserError('reference file not found: r.txt'),
      new UserError('no such pair', 'unknown_pair'),
      new ConfigError("config c.json: unknown config key 'x'"),
    ]) {
      const s = sink();
      assert.equal(
        await runCommand(
          fake(() => Promise.reject(e)),
          [],
          s.io,
        ),
        1,
      );
      assert.equal(s.err(), `resmlp demo run: ${e.message}\n`);
    }
  });

  test('anything else propagates with its stack (main.ts prints it)', async () => {
    const bug = new TypeError('x is undefined');
    await assert.rejects(
      runCommand(
        fake(() => Promise.reject(bug)),
        [],
        sink().io,
      ),
      (e) => e === bug,
    );
  });

  test('definitions are checked', () => {
    assert.throws(() => fake(() => 0, { name: 'Demo' }), /lower-case words/);
    assert.throws(() => fake(() => 0, { flags: { size: { type: 'int', help: '' } } }), /--size has no help text/);
  });
});

describe('dispatch', () => {
  const calls: string[][] = [];
  const entry = (name: string): CommandEntry => ({
    name,
    summary: `summary of ${name}`,
    load: async () =>
      defineCommand({
        name,
        summary: `summary of ${name}`,
        usage: '',
        flags: {},
        positionals: true,
        run: ({ positionals }) => {
          calls.push([name, ...positionals]);
          return 0;
        },
      }),
  });
  const table = [entry('img train'), entry('img eval'), entry('bleu')];

  test('runs the command named by the first words with the rest', async () => {
    calls.length = 0;
    assert.equal(await dispatch(['img', 'eval', 'a', 'b'], sink().io, table), 0);
    assert.equal(await dispatch(['bleu', 'img'], sink().io, table), 0);
    assert.deepEqual(calls, [
      ['img eval', 'a', 'b'],
      ['bleu', 'img'],
    ]);
  });

  test('a group alone lists its commands (exit 2; with --help exit 0); an unknown subcommand is a usage error', async () => {
    let s = sink();
    assert.equal(await dispatch(['img'], s.io, table), 2);
    assert.match(
      s.out(),
      /^usage: resmlp img <command> \[options\]\n\ncommands:\n {2}img train +summary of img train\n {2}img eval +summary of img eval\n/,
    );
    assert.doesNotMatch(s.out(), /bleu/);
    s = sink();
    assert.equal(await dispatch(['img', '--help'], s.io, table), 0);
    assert.match(s.out(), /img eval/);
    s = sink();
    assert.equal(await dispatch(['img', 'trian'], s.io, table), 2);
    assert.match(s.err(), /^resmlp img: unknown subcommand 'trian'\n\nusage: resmlp img <command>/);
  });

  test('no command lists them all; an unknown one is a usage error', async () => {
    let s = sink();
    assert.equal(await dispatch([], s.io, table), 2);
    assert.match(s.out(), /img train[\s\S]*img eval[\s\S]*bleu/);
    s = sink();
    assert.equal(await dispatch(['--help'], s.io, table), 0);
    s = sink();
    assert.equal(await dispatch(['blue'], s.io, table), 2);
    assert.match(s.err(), /^resmlp: unknown command 'blue'/);
  });
});

describe('the command table', () => {
  test('every entry loads the command of its name and summary; --help prints its own usage line', async () => {
    for (const e of COMMANDS) {
      const cmd = await e.load();
      assert.equal(cmd.name, e.name);
      assert.equal(cmd.summary, e.summary, e.name);
      const s = sink();
      assert.equal(await dispatch([...e.name.split(' '), '--help'], s.io), 0, e.name);
      assert.ok(s.out().startsWith(`usage: resmlp ${e.name} `), `${e.name}: ${s.out().split('\n')[0]}`);
    }
    const s = sink();
    await dispatch(['mt', 'multi30k', '--help'], s.io);
    assert.match(s.out(), /^usage: resmlp mt multi30k --out DIR/);
  });

  test('every command defined in src/cli is in the table', async () => {
    const listed = new Set(COMMANDS.map((c) => c.name));
    const files = readdirSync(join(ROOT, 'src', 'cli')).filter((f) => f.endsWith('.ts') && f !== 'main.ts');
    let found = 0;
    for (const f of files) {
      const mod = (await import(join(ROOT, 'src', 'cli', f))) as Record<string, unknown>;
      for (const v of Object.values(mod)) {
        if (typeof v !== 'object' || v === null || !('usage' in v) || !('run' in v) || !('name' in v)) continue;
        found++;
        assert.ok(
          listed.has((v as Command).name),
          `${f} defines '${(v as Command).name}', which the table of src/cli/commands.ts does not list`,
        );
      }
    }
    assert.ok(found >= COMMANDS.length, `found ${found} command definitions for ${COMMANDS.length} entries`);
  });

  test('`resmlp bleu` runs without loading TensorFlow.js', () => {
    const ref = join(tmp, 'ref.txt');
    writeFileSync(ref, 'the cat sat on the mat\n');
    const code = `const { dispatch } = await import(${JSON.stringify(join(ROOT, 'src/cli/commands.ts'))});
const code = await dispatch(['bleu', ${JSON.stringify(ref)}, '-i', ${JSON.stringify(ref)}, '-b']);
process.stdout.write('tf loaded: ' + ('_tfengine' in globalThis) + '\\n');
process.exitCode = code;`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '100.0\ntf loaded: false\n');
  });
});
