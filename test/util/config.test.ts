// The one config mechanism (src/util/config.ts): the resolver (defaults, unknown and required keys
// named with their place, nested objects, renamed keys), the JSON reader with `extends` (chains,
// deep merge, cycles, missing bases, bad JSON) and the `--a.b.c value` overrides.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import {
  applyOverrides,
  checkInt,
  checkRate,
  ConfigError,
  mergeConfig,
  parseOverrideValue,
  readConfigFile,
  resolveConfig,
  setPath,
} from '../../src/util/config.js';

describe('resolveConfig', () => {
  test('given keys over the defaults; undefined values keep the default; the defaults are not changed', () => {
    const defaults = { a: 1, b: 2, c: 'x' };
    assert.deepEqual(resolveConfig('X', defaults, { b: 5, c: undefined }), { a: 1, b: 5, c: 'x' });
    assert.deepEqual(resolveConfig('X', defaults, undefined), defaults);
    assert.deepEqual(defaults, { a: 1, b: 2, c: 'x' });
  });

  test('unknown keys are named with the place and the known keys', () => {
    assert.throws(
      () => resolveConfig('X', { a: 1, b: 2 }, { a: 2, bogus: 3 }),
      (e: Error) => {
        assert.ok(e instanceof ConfigError);
        assert.equal(e.message, "X: unknown config key 'bogus'; known keys: a, b");
        return true;
      },
    );
    assert.throws(() => resolveConfig('X', { a: 1 }, { z: 1, y: 2 }), /^ConfigError: X: unknown config keys 'z', 'y'; known keys: a$/);
    assert.throws(() => resolveConfig('X', { a: 1 }, 5), /X: expected an object of config keys, got 5/);
    assert.throws(() => resolveConfig('X', { a: 1 }, [1]), /X: expected an object of config keys, got \[1\]/);
  });

  test('required keys may be absent from the defaults and must be given', () => {
    assert.throws(() => resolveConfig('X', { a: 1 }, {}, ['dim']), /^ConfigError: X: missing required config key 'dim'$/);
    assert.throws(
      () => resolveConfig('X', { a: 1 }, {}, { required: ['dim', 'seqLen'] }),
      /X: missing required config keys 'dim', 'seqLen'/,
    );
    assert.deepEqual(resolveConfig('X', { a: 1 }, { dim: 4 }, ['dim']), { a: 1, dim: 4 });
    assert.throws(() => resolveConfig('X', { a: 1 }, { dimm: 4 }, ['dim']), /unknown config key 'dimm'; known keys: a, dim/);
  });

  test('nested objects resolve key by key where asked, naming their dotted place', () => {
    const defaults = { out: 'runs', trainer: { epochs: 10, schedule: { name: 'cosine', lr: 1e-3 } }, free: { k: 1 } };
    const nested = { trainer: { schedule: true as const } };
    assert.deepEqual(resolveConfig('run config', defaults, { trainer: { schedule: { lr: 0.5 } } }, { nested }), {
      out: 'runs',
      trainer: { epochs: 10, schedule: { name: 'cosine', lr: 0.5 } },
      free: { k: 1 },
    });
    assert.deepEqual(defaults.trainer.schedule.lr, 1e-3, 'defaults untouched');
    // a key that is not nested is taken as given, whole
    assert.deepEqual(resolveConfig('run config', defaults, { free: { other: 2 } }, { nested }).free, { other: 2 });
    assert.throws(
      () => resolveConfig('run config', defaults, { trainer: { schedule: { lrr: 1 } } }, { nested }),
      /^ConfigError: run config: trainer\.schedule: unknown config key 'lrr'; known keys: name, lr$/,
    );
    assert.throws(
      () => resolveConfig('run config', defaults, { trainer: { epochz: 1 } }, { nested }),
      /run config: trainer: unknown config key 'epochz'; known keys: epochs, schedule$/,
    );
    assert.throws(
      () => resolveConfig('run config', defaults, { trainer: { schedule: 3 } }, { nested }),
      /run config: trainer: 'schedule' must be an object of config keys, got 3/,
    );
    assert.throws(
      () => resolveConfig('run config', defaults, { trainer: null }, { nested }),
      /run config: 'trainer' must be an object of config keys, got null/,
    );
  });

  test('a nested key may have its own resolver, given the object and its place', () => {
    const seen: string[] = [];
    const r = resolveConfig(
      'c',
      { loader: { batchSize: 8 } },
      { loader: { hflip: true } },
      {
        nested: {
          loader: (g, place) => {
            seen.push(place);
            return { ...g, checked: true };
          },
        },
      },
    );
    assert.deepEqual(r, { loader: { hflip: true, checked: true } });
    assert.deepEqual(seen, ['c: loader']);
  });

  test('a renamed key is an error that gives the new name', () => {
    assert.throws(
      () => resolveConfig('vision run config', { out: 'runs' }, { outDir: 'x' }, { renamed: { outDir: 'out' } }),
      /^ConfigError: vision run config: config key 'outDir' was renamed to 'out'$/,
    );
  });

  test('callers may throw their own error class', () => {
    class PrepareLikeError extends Error {}
    assert.throws(
      () => resolveConfig('p', { a: 1 }, { b: 1 }, { error: (m) => new PrepareLikeError(m) }),
      (e: Error) => e instanceof PrepareLikeError && /p: unknown config key 'b'/.test(e.message),
    );
  });

  test('checkInt and checkRate name the place, the key and the value', () => {
    assert.equal(checkInt('L', 'dim', 3), 3);
    assert.throws(() => checkInt('L', 'dim', 2.5), /^ConfigError: L: 'dim' must be an integer ≥ 1, got 2\.5$/);
    assert.throws(() => checkInt('L', 'pad', -1, 0), /L: 'pad' must be an integer ≥ 0, got -1/);
    assert.equal(checkRate('D', 'rate', 0), 0);
    assert.throws(() => checkRate('D', 'rate', 1), /D: 'rate' must be a number in \[0, 1\), got 1/);
  });
});

describe('readConfigFile', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resmlp-config-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, value: unknown) => {
    const file = path.join(dir, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
    return file;
  };

  test('a file without extends is read as it is', () => {
    assert.deepEqual(readConfigFile(write('plain.json', { a: 1, b: { c: [1, 2] } })), { a: 1, b: { c: [1, 2] } });
  });

  test('extends: a chain of bases, relative to each file, merged key by key; arrays and scalars replaced', () => {
    write('base/root.json', {
      out: 'runs/root',
      model: { dim: 512, layers: 6, norm: 'affine' },
      tags: ['a', 'b'],
      keep: { x: 1 },
      nul: { y: 1 },
    });
    write('base/mid.json', { extends: 'root.json', out: 'runs/mid', model: { layers: 12 }, tags: ['c'] });
    const leaf = write('leaf.json', { extends: 'base/mid.json', model: { dim: 256 }, nul: null });
    assert.deepEqual(readConfigFile(leaf), {
      out: 'runs/mid',
      model: { dim: 256, layers: 12, norm: 'affine' },
      tags: ['c'],
      keep: { x: 1 },
      nul: null,
    });
  });

  test('a cycle is an error naming the chain', () => {
    write('cyc/a.json', { extends: 'b.json', x: 1 });
    write('cyc/b.json', { extends: 'a.json', y: 1 });
    const a = path.join(dir, 'cyc', 'a.json');
    const b = path.join(dir, 'cyc', 'b.json');
    assert.throws(
      () => readConfigFile(a),
      (e: Error) => {
        assert.ok(e instanceof ConfigError);
        assert.equal(e.message, `config ${a} extends ${b} extends ${a}: a cycle (a config cannot extend itself)`);
        return true;
      },
    );
    write('self.json', { extends: './self.json' });
    assert.throws(() => readConfigFile(path.join(dir, 'self.json')), /self\.json extends .*self\.json: a cycle/);
  });

  test('a missing base is an error naming the chain of files', () => {
    const top = write('chain/top.json', { extends: 'mid.json' });
    write('chain/mid.json', { extends: '../nowhere/base.json' });
    const mid = path.join(dir, 'chain', 'mid.json');
    const base = path.join(dir, 'nowhere', 'base.json');
    assert.throws(
      () => readConfigFile(top),
      (e: Error) => {
        assert.equal(e.message, `config ${top} extends ${mid} extends ${base}: cannot read it (ENOENT)`);
        return true;
      },
    );
    assert.throws(() => readConfigFile(path.join(dir, 'absent.json')), /^ConfigError: config .*absent\.json: cannot read it \(ENOENT\)$/);
  });

  test('bad JSON, a non-object and a bad extends are errors naming the file', () => {
    const bad = write('bad.json', '{ "a": 1,');
    assert.throws(
      () => readConfigFile(bad),
      (e: Error) => e instanceof ConfigError && e.message.startsWith(`config ${bad}: invalid JSON (`),
    );
    const child = write('child-of-bad.json', { extends: 'bad.json' });
    assert.throws(
      () => readConfigFile(child),
      (e: Error) => e.message.startsWith(`config ${child} extends ${bad}: invalid JSON (`),
    );
    assert.throws(() => readConfigFile(write('array.json', [1])), /array\.json: expected a JSON object, got an array/);
    assert.throws(() => readConfigFile(write('num.json', '3')), /num\.json: expected a JSON object, got 3/);
    assert.throws(
      () => readConfigFile(write('ext.json', { extends: 3 })),
      /ext\.json: 'extends' must be the path of a base config \(relative to this file\), got 3/,
    );
  });

  test('mergeConfig changes neither input', () => {
    const base = { a: { b: 1, c: 2 } };
    const over = { a: { c: 3 } };
    assert.deepEqual(mergeConfig(base, over), { a: { b: 1, c: 3 } });
    assert.deepEqual(base, { a: { b: 1, c: 2 } });
    assert.deepEqual(over, { a: { c: 3 } });
  });
});

describe('overrides', () => {
  test('values are JSON when they parse, else strings', () => {
    assert.equal(parseOverrideValue('5'), 5);
    assert.equal(parseOverrideValue('false'), false);
    assert.equal(parseOverrideValue('null'), null);
    assert.deepEqual(parseOverrideValue('[1,"a"]'), [1, 'a']);
    assert.deepEqual(parseOverrideValue('{"lr":0.1}'), { lr: 0.1 });
    assert.equal(parseOverrideValue('"7"'), '7');
    assert.equal(parseOverrideValue('runs/x'), 'runs/x');
    assert.equal(parseOverrideValue('1e-3'), 0.001);
  });

  test('dotted keys reach into nested objects, creating them; the input is not changed', () => {
    const cfg = { trainer: { epochs: 3, schedule: { name: 'cosine' } }, tags: ['a'] };
    const o = applyOverrides(cfg, {
      'trainer.epochs': '5',
      'trainer.schedule.lr': '0.01',
      'model.dim': '128',
      out: 'runs/x',
      tags: '["b"]',
    });
    assert.deepEqual(o, {
      trainer: { epochs: 5, schedule: { name: 'cosine', lr: 0.01 } },
      tags: ['b'],
      model: { dim: 128 },
      out: 'runs/x',
    });
    assert.deepEqual(cfg, { trainer: { epochs: 3, schedule: { name: 'cosine' } }, tags: ['a'] });
  });

  test('an override through a non-object is an error naming the flag and the part', () => {
    assert.throws(
      () => applyOverrides({ trainer: { epochs: 3 } }, { 'trainer.epochs.max': '5' }),
      (e: Error) => {
        assert.ok(e instanceof ConfigError);
        assert.equal(
          e.message,
          "--trainer.epochs.max: cannot set 'trainer.epochs.max': 'trainer.epochs' is 3, not an object of config keys",
        );
        return true;
      },
    );
    assert.throws(
      () => applyOverrides({ tags: ['a'] }, { 'tags.0': 'b' }),
      /--tags\.0: cannot set 'tags\.0': 'tags' is \["a"\], not an object/,
    );
    assert.throws(() => applyOverrides({ a: null }, { 'a.b': '1' }), /--a\.b: cannot set 'a\.b': 'a' is null/);
  });

  test('malformed keys are refused (and never reach the prototype)', () => {
    for (const key of ['a..b', '.a', 'a.', '__proto__.polluted', 'constructor.prototype.x']) {
      assert.throws(
        () => applyOverrides({}, { [key]: '1' }),
        (e: Error) => e instanceof ConfigError && e.message === `--${key}: '${key}' is not a dotted config key (a.b.c)`,
      );
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  test('setPath names the flag it was given', () => {
    const cfg: Record<string, unknown> = { data: 'x' };
    assert.throws(
      () => setPath(cfg, 'data.dir', '/d', '--data'),
      /^ConfigError: --data: cannot set 'data\.dir': 'data' is "x", not an object of config keys$/,
    );
    setPath(cfg, 'seed', 3, '--seed');
    assert.equal(cfg.seed, 3);
  });
});
