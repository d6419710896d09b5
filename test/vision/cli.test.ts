// `resmlp vision` in-process: flag and config validation, and each subcommand end to end on tiny
// models (train on Fashion-MNIST for a few updates, eval, predict on a generated PNG, inspect, tune
// on synthetic data).
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { PNG } from 'pngjs';
import { useTestBackend } from '../helpers/backend.js';
import { dispatch } from '../../src/cli/commands.js';
import { saveClassifier } from '../../src/vision/checkpoint.js';
import { sparsity, spacedRows } from '../../src/vision/inspect.js';
import { ResMlp } from '../../src/vision/model.js';
import { applyOverrides } from '../../src/util/config.js';
import { resolveVisionRunConfig } from '../../src/vision/train.js';
import { logUniformSamples, tuneAndTrain } from '../../src/vision/tune.js';
import { syntheticSet } from './synthetic.js';

const BACKEND = process.env.RESMLP_TEST_BACKEND ?? 'native';

before(async () => {
  await useTestBackend();
});

/** Runs the CLI capturing stdout and stderr. */
async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await dispatch(['vision', ...argv], {
    stdout: { write: (s: string) => out.push(s) },
    stderr: { write: (s: string) => err.push(s) },
  });
  return { code, out: out.join(''), err: err.join('') };
}

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'resmlp-vision-cli-'));

test('usage and flag validation', async () => {
  assert.equal((await cli([])).code, 2);
  const bad = await cli(['trian']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /unknown subcommand 'trian'/);
  const noCfg = await cli(['train']);
  assert.equal(noCfg.code, 2);
  assert.match(noCfg.err, /--config is required/);
  const unknown = await cli(['eval', '--checkpoint', 'x.safetensors', '--bogus', '1']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /unknown option '--bogus'/);
  const badInt = await cli(['predict', '--checkpoint', 'c', '--top', 'five', 'a.png']);
  assert.equal(badInt.code, 2);
  assert.match(badInt.err, /--top expects an integer, got 'five'/);
  const noImage = await cli(['predict', '--checkpoint', 'c']);
  assert.equal(noImage.code, 2);
  assert.match(noImage.err, /give at least one IMAGE\.png/);
  const badResize = await cli(['predict', '--checkpoint', 'c', '--resize', 'cubic', 'a.png']);
  assert.match(badResize.err, /--resize must be 'bilinear' or 'nearest', got 'cubic'/);
  const help = await cli(['inspect', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.out, /--checkpoint/);
});

test('config validation: unknown keys at any level are named; overrides parse JSON values', async () => {
  assert.throws(
    () => resolveVisionRunConfig({ modle: 'x' }),
    /vision run config: unknown config key 'modle'; known keys: model, modelOverrides/,
  );
  assert.throws(() => resolveVisionRunConfig({ outDir: 'runs/x' }), /vision run config: config key 'outDir' was renamed to 'out'/);
  assert.throws(() => resolveVisionRunConfig({ trainer: { epochz: 3 } }), /vision run config: trainer: unknown config key 'epochz'/);
  assert.throws(() => resolveVisionRunConfig({ testShift: 1.5 }), /testShift must be an integer ≥ 0 \(pixels\), got 1.5/);
  assert.throws(() => resolveVisionRunConfig({ loader: { eraseProb: -0.1 } }), /eraseProb must be in \[0, 1\], got -0.1/);
  assert.throws(
    () => resolveVisionRunConfig({ trainer: { schedule: { lrr: 1 } } }),
    /vision run config: trainer\.schedule: unknown config key 'lrr'/,
  );
  assert.throws(() => resolveVisionRunConfig({ loader: { batchsize: 3 } }), /vision run config: loader: unknown config key 'batchsize'/);
  assert.throws(() => resolveVisionRunConfig({ modelOverrides: { dimm: 3 } }), /unknown config key 'dimm'/);
  assert.throws(() => resolveVisionRunConfig({ dataset: 'imagenet' }), /unknown dataset 'imagenet'/);
  const o = applyOverrides(
    { trainer: { epochs: 3 } },
    { 'trainer.epochs': '5', 'trainer.schedule.lr': '0.01', model: 'resmlp_fmnist_tiny', 'loader.hflip': 'false' },
  );
  assert.deepEqual(o, { trainer: { epochs: 5, schedule: { lr: 0.01 } }, model: 'resmlp_fmnist_tiny', loader: { hflip: false } });
  const cfg = resolveVisionRunConfig(o);
  assert.equal(cfg.trainer.epochs, 5);
  assert.equal(cfg.trainer.schedule!.lr, 0.01);
  assert.equal(cfg.trainer.schedule!.warmupSteps, 300); // untouched defaults survive a partial override
  const dir = tmp();
  const file = path.join(dir, 'c.json');
  fs.writeFileSync(file, JSON.stringify({ model: 'resmlp_fmnist_tiny' }));
  // config errors are the user's: one line naming the key, exit 1 (not a stack)
  const badKey = await cli(['train', '--config', file, '--trainer.epochz', '2', '--backend', BACKEND]);
  assert.equal(badKey.code, 1);
  assert.match(badKey.err, /^resmlp vision train: vision run config: trainer: unknown config key 'epochz'/);
  fs.writeFileSync(file, '{ not json');
  const badJson = await cli(['train', '--config', file, '--backend', BACKEND]);
  assert.equal(badJson.code, 1);
  assert.match(badJson.err, /c\.json: invalid JSON/);
  fs.rmSync(dir, { recursive: true });
});

/** Writes a tiny MNIST-style dataset (IDX files, 28×28, 10 classes) into `dir`. */
function writeTinyMnist(dir: string, nTrain: number, nTest: number): void {
  const write = (name: string, n: number, seed: number) => {
    const imgs = Buffer.alloc(16 + n * 784);
    imgs.writeUInt32BE(0x00000803, 0);
    imgs.writeUInt32BE(n, 4);
    imgs.writeUInt32BE(28, 8);
    imgs.writeUInt32BE(28, 12);
    const labels = Buffer.alloc(8 + n);
    labels.writeUInt32BE(0x00000801, 0);
    labels.writeUInt32BE(n, 4);
    for (let i = 0; i < n; i++) {
      const k = (i + seed) % 10;
      labels[8 + i] = k;
      for (let p = 0; p < 784; p++) imgs[16 + i * 784 + p] = Math.floor(p / 78.4) === k ? 220 : (p * 7 + i) % 40;
    }
    fs.writeFileSync(path.join(dir, `${name}-images-idx3-ubyte`), imgs);
    fs.writeFileSync(path.join(dir, `${name}-labels-idx1-ubyte`), labels);
  };
  write('train', nTrain, 0);
  write('t10k', nTest, 3);
}

test('train (3 updates) → eval → inspect, end to end on a tiny MNIST-format set', async () => {
  const dir = tmp();
  const data = path.join(dir, 'data');
  fs.mkdirSync(data);
  writeTinyMnist(data, 96, 40);
  const cfgFile = path.join(dir, 'tiny.json');
  fs.writeFileSync(
    cfgFile,
    JSON.stringify({
      model: 'resmlp_fmnist_tiny',
      dataset: 'mnist',
      dataDir: data,
      trainer: { epochs: 1, maxUpdates: 3, schedule: { warmupSteps: 1 } },
      loader: { batchSize: 16 },
      testFlip: true,
      testShift: 1,
    }),
  );
  const out = path.join(dir, 'run');
  const r = await cli(['train', '--config', cfgFile, '--out', out, '--backend', BACKEND]);
  assert.equal(r.code, 0, r.err);
  const summary = JSON.parse(r.out.trim().split('\n').pop()!) as {
    updates: number;
    stoppedBy: string;
    test: { accuracy: number; count: number };
    testFlip: { accuracy: number; loss: number; count: number };
    testTta: { loss: number; count: number };
  };
  assert.equal(summary.updates, 3);
  assert.equal(summary.testFlip.count, 40); // testFlip: the flip-averaged result beside the plain one
  assert.match(r.err, /test with flip averaging: accuracy \d+\.\d\d%/);
  assert.equal(summary.testTta.count, 40); // testShift: shifts and mirrors averaged
  assert.match(
    r.err,
    /test with shift and flip averaging: accuracy \d+\.\d\d%.*\(mean softmax of each image, its shifts by ±1 px and their mirrors \(10 views\)\)/,
  );
  assert.equal(summary.stoppedBy, 'maxUpdates');
  assert.equal(summary.test.count, 40);
  assert.match(r.err, /model resmlp_fmnist_tiny: [\d,]+ parameters/);
  assert.match(r.err, /test: accuracy \d+\.\d\d%/);
  const ckpt = path.join(out, 'checkpoint_last.safetensors');
  assert.ok(fs.existsSync(ckpt));
  assert.ok(fs.existsSync(path.join(out, 'metrics.jsonl')));
  assert.ok(fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').includes('"event":"test"'));
  assert.ok(fs.existsSync(path.join(out, 'config.json')));
  // a fresh run refuses to overwrite the last checkpoint
  await assert.rejects(
    cli(['train', '--config', cfgFile, '--out', out, '--backend', BACKEND]),
    /checkpoint_last\.safetensors exists: pass --resume/,
  );

  const ev = await cli(['eval', '--checkpoint', ckpt, '--data-dir', data, '--backend', BACKEND]);
  assert.equal(ev.code, 0, ev.err);
  const e = JSON.parse(ev.out) as { dataset: string; accuracy: number; count: number };
  assert.equal(e.dataset, 'mnist');
  assert.equal(e.count, 40);
  assert.ok(Math.abs(e.accuracy - summary.test.accuracy) < 1e-9);
  const evf = await cli(['eval', '--checkpoint', ckpt, '--data-dir', data, '--flip', '--backend', BACKEND]);
  assert.equal(evf.code, 0, evf.err);
  const f = JSON.parse(evf.out) as { flip: boolean; loss: number };
  assert.equal(f.flip, true);
  assert.ok(Math.abs(f.loss - summary.testFlip.loss) < 1e-9);
  const evs = await cli(['eval', '--checkpoint', ckpt, '--data-dir', data, '--flip', '--shift', '1', '--backend', BACKEND]);
  assert.equal(evs.code, 0, evs.err);
  const sh = JSON.parse(evs.out) as { shift: number; loss: number };
  assert.equal(sh.shift, 1);
  assert.ok(Math.abs(sh.loss - summary.testTta.loss) < 1e-9);
  const badShift = await cli(['eval', '--checkpoint', ckpt, '--data-dir', data, '--shift=-1', '--backend', BACKEND]);
  assert.equal(badShift.code, 2);
  assert.match(badShift.err, /--shift must be an integer ≥ 0/);

  const ins = await cli(['inspect', '--checkpoint', ckpt, '--out', path.join(dir, 'inspect'), '--rows', '4']);
  assert.equal(ins.code, 0, ins.err);
  assert.ok(fs.existsSync(path.join(dir, 'inspect', 'cross_patch_layer0.png')));
  assert.ok(fs.existsSync(path.join(dir, 'inspect', 'cross_patch_layer1.png')));
  assert.match(ins.out, /^0\s+0\.\d{4}\s+0\.\d{4}\s+0\.\d{4}$/m);
  fs.rmSync(dir, { recursive: true });
});

test('predict: top-k with class names from a PNG (RGB → grayscale, resized, normalised); the answer follows the image', async () => {
  const dir = tmp();
  const model = new ResMlp({ imgSize: 8, inChans: 1, patchSize: 4, embedDim: 8, depth: 1, numClasses: 3 }, 1);
  model.eval();
  // A head that tells a white image from a black one: with the checkpoint's normalisation (mean
  // 0.5, std 0.5) they are the constant inputs +1 and −1, whose features fw and fb we compute here
  // without the CLI. With d = fw − fb and m = (fw + fb) / 2, the head gives logits
  // (k·d·(f − m), 0, −k·d·(f − m)); k puts them at exactly (2, 0, −2) for white and (−2, 0, 2)
  // for black: cat for white, emu for black, dog second for both.
  const features = (z: number) => tf.tidy(() => Array.from(model.forwardFeatures(tf.fill([1, 8, 8, 1], z)).dataSync()));
  const fw = features(1);
  const fb = features(-1);
  const d = fw.map((x, i) => x - fb[i]!);
  const m = fw.map((x, i) => (x + fb[i]!) / 2);
  const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);
  const k = 4 / dot(d, d);
  const w = tf.tensor2d([d.map((x) => k * x), d.map(() => 0), d.map((x) => -k * x)]); // (classes, d)
  const b = tf.tensor1d([-k * dot(d, m), 0, k * dot(d, m)]);
  model.head.weight.assign(w);
  model.head.bias!.assign(b);
  tf.dispose([w, b]);
  const ckpt = path.join(dir, 'm.safetensors');
  await saveClassifier(ckpt, model, { dataset: 'synthetic', classes: ['cat', 'dog', 'emu'], mean: [0.5], std: [0.5] });
  model.dispose();
  // softmax(2, 0, −2) in percent, by hand: the CLI must print these, in this order
  const e = [Math.exp(2), 1, Math.exp(-2)];
  const pct = e.map((x) => (100 * x) / (e[0]! + e[1]! + e[2]!)); // 86.68, 11.73, 1.59
  const rgb = (file: string, value: number) => {
    const png = new PNG({ width: 20, height: 13 }); // RGB, and not the model's size
    for (let i = 0; i < png.data.length; i++) png.data[i] = i % 4 === 3 ? 255 : value;
    fs.writeFileSync(file, PNG.sync.write(png));
  };
  const white = path.join(dir, 'white.png');
  const black = path.join(dir, 'black.png');
  rgb(white, 255);
  rgb(black, 0);
  const predict = async (...args: string[]) => {
    const r = await cli(['predict', '--checkpoint', ckpt, '--top', '2', ...args, '--backend', BACKEND]);
    assert.equal(r.code, 0, r.err);
    const lines = r.out.trim().split('\n');
    assert.equal(lines.length, 3, r.out);
    return lines.slice(1).map((l) => {
      const m = /^\s+(\d+\.\d\d)%\s+(\d)\s+(\w+)$/.exec(l);
      assert.ok(m, `line ${JSON.stringify(l)}`);
      return { pct: Number(m[1]), index: Number(m[2]), name: m[3] };
    });
  };
  const expect = (got: { pct: number; index: number; name: string | undefined }[], want: [number, string, number][]) => {
    assert.deepEqual(
      got.map((g) => [g.index, g.name]),
      want.map(([i, n]) => [i, n]),
    );
    got.forEach((g, j) => assert.ok(Math.abs(g.pct - want[j]![2]) < 0.006, `${g.name}: ${g.pct}% against ${want[j]![2].toFixed(4)}%`));
  };
  expect(await predict(white), [
    [0, 'cat', pct[0]!],
    [1, 'dog', pct[1]!],
  ]);
  expect(await predict(black), [
    [2, 'emu', pct[0]!],
    [1, 'dog', pct[1]!],
  ]);
  expect(await predict('--invert', white), [
    [2, 'emu', pct[0]!],
    [1, 'dog', pct[1]!],
  ]);
  fs.writeFileSync(path.join(dir, 'bad.png'), 'not a png');
  await assert.rejects(
    cli(['predict', '--checkpoint', ckpt, path.join(dir, 'bad.png'), '--backend', BACKEND]),
    /bad\.png: not a valid PNG image/,
  );
  fs.rmSync(dir, { recursive: true });
});

test('sparsity and row selection', () => {
  assert.equal(sparsity([1, 0.04, -0.049, 0.05, -1, 0.5]), 2 / 6);
  assert.equal(sparsity([0, 0]), 0);
  assert.equal(sparsity([2, -0.2, 0.05], 0.1), 1 / 3);
  assert.deepEqual(spacedRows(49, 4), [0, 16, 32, 48]);
  assert.deepEqual(spacedRows(3, 8), [0, 1, 2]);
});

test('tune: log-uniform learning rates, trials on a held-out split with patience, then the final run', async () => {
  const lrs = logUniformSamples(50, 1e-4, 1e-2, 7);
  assert.ok(lrs.every((x) => x >= 1e-4 && x <= 1e-2));
  assert.deepEqual(lrs, logUniformSamples(50, 1e-4, 1e-2, 7));
  assert.ok(lrs.some((x) => x < 1e-3) && lrs.some((x) => x > 1e-3));
  assert.throws(() => logUniformSamples(2, 1e-2, 1e-4, 0), /0 < lrMin ≤ lrMax/);

  const dir = tmp();
  const train = syntheticSet(60, 1);
  const test = syntheticSet(30, 2);
  const cfg = resolveVisionRunConfig({
    model: 'resmlp_fmnist_tiny',
    modelOverrides: { imgSize: 8, patchSize: 2, embedDim: 8, depth: 1, numClasses: 3 },
    loader: { batchSize: 8, hflip: false, cropPadding: 0 },
    trainer: { schedule: { warmupSteps: 1 } },
    out: dir,
  });
  const sink = { write: () => true };
  const r = await tuneAndTrain(
    cfg,
    { trials: 2, maxEpochs: 2, patience: 1, lrMin: 1e-3, lrMax: 1e-2, trainLimit: 0, final: true },
    { data: { train, test, norm: { mean: [0.5], std: [0.25] } }, stream: sink },
  );
  assert.equal(r.trials.length, 2);
  for (const t of r.trials) {
    assert.ok(t.epochsRun >= 1 && t.epochsRun <= 2);
    assert.ok(t.bestEpoch >= 1 && t.bestEpoch <= t.epochsRun);
    assert.ok(t.bestAccuracy >= 0 && t.bestAccuracy <= 1);
  }
  assert.ok(r.trials.some((t) => t.lr === r.best.lr));
  assert.ok(r.final !== null && r.final.test !== null && r.final.test.count === 30);
  assert.ok(fs.existsSync(path.join(dir, 'tune', 'trial0', 'metrics.jsonl')));
  assert.ok(fs.existsSync(path.join(dir, 'final', 'checkpoint_last.safetensors')));
  fs.rmSync(dir, { recursive: true });
});
