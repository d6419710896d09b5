// Tests of the image loader: normalisation, per-epoch permutations, exact resume, crop/flip
// against a direct reference, reflect padding, random erasing, evaluation batches, and the held-out split.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { ImageLoader, drawErase, evalBatches, fillBatch, resolveLoaderConfig } from '../../../src/vision/data/dataset.js';
import { Rng } from '../../../src/util/rng.js';
import { heldOutSplit, subset, channelStats, type ImageSet } from '../../../src/vision/data/image-set.js';

tf.setBackend('cpu');

/** n images h×w×c, pixel value = image index·7 + position (mod 256), label = index mod k. */
function synthetic(n: number, h: number, w: number, c: number, k = 3): ImageSet {
  const images = new Uint8Array(n * h * w * c);
  for (let i = 0; i < n; i++) for (let j = 0; j < h * w * c; j++) images[i * h * w * c + j] = (i * 7 + j) % 256;
  const labels = Uint8Array.from({ length: n }, (_, i) => i % k);
  return { images, labels, n, h, w, c };
}

function dispose(b: { x: tf.Tensor; y: tf.Tensor }) {
  b.x.dispose();
  b.y.dispose();
}

test('config resolver rejects unknown keys and bad values', () => {
  assert.throws(() => resolveLoaderConfig({ batchsize: 3 } as any), /loader config: unknown config key 'batchsize'/);
  assert.throws(() => resolveLoaderConfig({ padMode: 'edge' as any }), /padMode must be 'zero' or 'reflect'/);
  assert.throws(() => resolveLoaderConfig({ std: [0] }), /std values must be > 0/);
  assert.throws(() => new ImageLoader(synthetic(2, 2, 2, 3), { mean: [0.1, 0.2] }), /mean has 2 values, expected 1 or 3/);
  assert.throws(() => resolveLoaderConfig({ eraseProb: 1.5 }), /eraseProb must be in \[0, 1\], got 1.5/);
  assert.throws(() => resolveLoaderConfig({ eraseMode: 'noise' as any }), /eraseMode must be 'pixel' or 'const'/);
});

test('random erasing: rectangles of 2–33% with aspect in [0.3, 3.3] inside the image, at the configured rate', () => {
  const rng = new Rng(5);
  let erased = 0;
  for (let i = 0; i < 2000; i++) {
    const e = drawErase(rng, 28, 28, 0.25);
    if (!e) continue;
    erased++;
    assert.ok(e.top >= 0 && e.left >= 0 && e.top + e.h <= 28 && e.left + e.w <= 28, JSON.stringify(e));
    // rounding of the sides moves area and ratio a little beyond the drawn ranges
    assert.ok(e.h * e.w >= 0.02 * 784 * 0.6 && e.h * e.w <= (784 / 3) * 1.2, `area ${e.h * e.w}`);
    assert.ok(e.h / e.w > 0.3 * 0.6 && e.h / e.w < 3.34 / 0.6, `ratio ${e.h / e.w}`);
  }
  assert.ok(erased > 400 && erased < 600, `erased ${erased} of 2000 at p = 0.25`);
  assert.equal(drawErase(new Rng(1), 28, 28, 0), null);
});

test('random erasing changes only the erased rectangles, leaves crop and flip draws alone, and resumes exactly', () => {
  const set = synthetic(16, 8, 8, 1);
  const cfg = { batchSize: 8, seed: 3, cropPadding: 1, hflip: true };
  const plain = new ImageLoader(set, cfg);
  const noise = new ImageLoader(set, { ...cfg, eraseProb: 1 });
  const zero = new ImageLoader(set, { ...cfg, eraseProb: 1, eraseMode: 'const' });
  assert.deepEqual(noise.augmentDraws(0, 1, 8), plain.augmentDraws(0, 1, 8));
  const [p, n, z] = [plain, noise, zero].map((l) => l.batchAt(0, 1));
  const pv = p!.x.dataSync(),
    nv = n!.x.dataSync(),
    zv = z!.x.dataSync();
  let changed = 0;
  for (let i = 0; i < pv.length; i++) {
    // N(0, 1) noise never equals the pixel it replaces, so the pixel-mode difference marks the rectangles
    if (nv[i] !== pv[i]) {
      changed++;
      assert.equal(zv[i], 0, `const mode writes 0 where pixel mode wrote noise (index ${i})`);
    } else assert.equal(zv[i], pv[i], `pixels outside the rectangles are untouched (index ${i})`);
  }
  assert.ok(changed > 0 && changed < pv.length / 2, `changed ${changed} of ${pv.length}`);
  // a batch is a pure function of (seed, epoch, index): asking again gives the same noise
  const again = noise.batchAt(0, 1);
  assert.deepEqual([...again.x.dataSync()], [...nv]);
  for (const b of [p!, n!, z!, again]) dispose(b);
});

test('batches are normalised NHWC float32 with int32 labels; unshuffled order is the data order', () => {
  const set = synthetic(5, 2, 2, 3);
  const mean = [0.1, 0.2, 0.3];
  const std = [0.5, 0.25, 2];
  const loader = new ImageLoader(set, { batchSize: 2, shuffle: false, mean, std });
  assert.equal(loader.batchesPerEpoch, 3);
  const b = loader.next();
  assert.deepEqual(b.x.shape, [2, 2, 2, 3]);
  assert.equal(b.x.dtype, 'float32');
  assert.equal(b.y.dtype, 'int32');
  const x = b.x.dataSync();
  for (let j = 0; j < 2 * 2 * 2 * 3; j++) {
    const ch = j % 3;
    assert.ok(Math.abs(x[j] - (set.images[j] / 255 - mean[ch]) / std[ch]) < 1e-6);
  }
  assert.deepEqual([...b.y.dataSync()], [0, 1]);
  dispose(b);
  dispose(loader.next());
  const last = loader.next();
  assert.equal(last.size, 1);
  assert.deepEqual([last.epoch, last.index], [0, 2]);
  dispose(last);
  assert.deepEqual(loader.position(), { epoch: 1, batch: 0 });
  assert.equal(new ImageLoader(set, { batchSize: 2, dropLast: true }).batchesPerEpoch, 2);
});

test('shuffled epochs visit every image once, differ between epochs, and depend on the seed', () => {
  const set = synthetic(10, 1, 1, 1, 10);
  const labelsOf = (loader: ImageLoader) => {
    const out: number[] = [];
    for (let i = 0; i < loader.batchesPerEpoch; i++) {
      const b = loader.next();
      out.push(...b.y.dataSync());
      dispose(b);
    }
    return out;
  };
  const a = new ImageLoader(set, { batchSize: 4, seed: 1 });
  const e0 = labelsOf(a);
  const e1 = labelsOf(a);
  assert.deepEqual(
    [...e0].sort((p, q) => p - q),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
  assert.deepEqual(
    [...e1].sort((p, q) => p - q),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
  assert.notDeepEqual(e0, e1);
  assert.deepEqual(labelsOf(new ImageLoader(set, { batchSize: 4, seed: 1 })), e0);
  assert.notDeepEqual(labelsOf(new ImageLoader(set, { batchSize: 4, seed: 2 })), e0);
});

test('resume from a saved state gives exactly the same batches (augmentation included)', () => {
  const set = synthetic(9, 4, 4, 1);
  const cfg = { batchSize: 4, seed: 3, cropPadding: 1, hflip: true };
  const a = new ImageLoader(set, cfg);
  for (let i = 0; i < 4; i++) dispose(a.next());
  const state = JSON.parse(JSON.stringify(a.getState()));
  const expected = Array.from({ length: 5 }, () => {
    const b = a.next();
    const r = [[...b.x.dataSync()], [...b.y.dataSync()]];
    dispose(b);
    return r;
  });
  const resumed = new ImageLoader(set, cfg);
  resumed.setState(state);
  for (const exp of expected) {
    const b = resumed.next();
    assert.deepEqual([[...b.x.dataSync()], [...b.y.dataSync()]], exp);
    dispose(b);
  }
  assert.throws(() => new ImageLoader(set, { ...cfg, seed: 4 }).setState(state), /saved with seed 3, this loader has seed 4/);
  assert.throws(() => resumed.setState({ seed: 3, epoch: 0, batch: 3 }), /invalid position/);
});

test('crop and flip match a direct reference of pad → crop → flip (zero and reflect)', () => {
  const set = synthetic(1, 3, 4, 2);
  const lut = new Float32Array(2 * 256);
  for (let ch = 0; ch < 2; ch++) for (let v = 0; v < 256; v++) lut[ch * 256 + v] = v + 1000 * ch; // identity-like, channel-tagged
  const px = (y: number, x: number, ch: number) => set.images[(y * 4 + x) * 2 + ch];
  for (const padMode of ['zero', 'reflect'] as const) {
    for (const draw of [
      { dy: 0, dx: 0, flip: false },
      { dy: 2, dx: 3, flip: true },
      { dy: 1, dx: 4, flip: false },
      { dy: 4, dx: 0, flip: true },
    ]) {
      const out = new Float32Array(3 * 4 * 2);
      fillBatch(set, [0], lut, out, [draw], 2, padMode);
      for (let y = 0; y < 3; y++) {
        for (let x = 0; x < 4; x++) {
          for (let ch = 0; ch < 2; ch++) {
            const cx = draw.flip ? 3 - x : x;
            let sy = y + draw.dy - 2;
            let sx = cx + draw.dx - 2;
            let v: number;
            if (padMode === 'reflect') {
              sy = sy < 0 ? -sy : sy > 2 ? 4 - sy : sy;
              sx = sx < 0 ? -sx : sx > 3 ? 6 - sx : sx;
              v = px(sy, sx, ch);
            } else v = sy < 0 || sy > 2 || sx < 0 || sx > 3 ? 0 : px(sy, sx, ch);
            assert.equal(out[(y * 4 + x) * 2 + ch], v + 1000 * ch, `${padMode} ${JSON.stringify(draw)} y${y} x${x} c${ch}`);
          }
        }
      }
    }
  }
  // without augmentation the image is copied through the table
  const out = new Float32Array(24);
  fillBatch(set, [0], lut, out, null, 0, 'zero');
  assert.deepEqual(
    [...out],
    Array.from({ length: 24 }, (_, j) => set.images[j] + 1000 * (j % 2)),
  );
  assert.throws(
    () => fillBatch(set, [0], lut, out, [{ dy: 0, dx: 0, flip: false }], 3, 'reflect'),
    /reflect padding 3 must be smaller than the image size 3×4/,
  );
});

test('augmentation draws: offsets within [0, 2p], both flips occur, and off when not configured', () => {
  const set = synthetic(64, 8, 8, 1);
  const loader = new ImageLoader(set, { batchSize: 64, cropPadding: 2, hflip: true });
  const draws = loader.augmentDraws(0, 0, 64)!;
  assert.ok(draws.every((d) => d.dy >= 0 && d.dy <= 4 && d.dx >= 0 && d.dx <= 4));
  assert.ok(new Set(draws.map((d) => d.dy)).size === 5);
  const flips = draws.filter((d) => d.flip).length;
  assert.ok(flips > 10 && flips < 54, `flips ${flips}`);
  assert.equal(new ImageLoader(set, { batchSize: 8 }).augmentDraws(0, 0, 8), null);
  const noFlip = new ImageLoader(set, { batchSize: 8, cropPadding: 1 }).augmentDraws(0, 0, 8)!;
  assert.ok(noFlip.every((d) => !d.flip));
});

test('cleanEpochs: the last epochs of the run are not cropped (flips and the other draws unchanged); the plan can move them', () => {
  const set = synthetic(8, 6, 6, 1);
  const cfg = { batchSize: 8, cropPadding: 2, hflip: true, cleanEpochs: 2, shuffle: false };
  const plain = new ImageLoader(set, { ...cfg, cleanEpochs: 0 });
  const loader = new ImageLoader(set, cfg);
  // before setEpochs the run's length is unknown: every epoch is cropped
  assert.deepEqual(loader.augmentDraws(9, 0, 8), plain.augmentDraws(9, 0, 8));
  loader.setEpochs(5);
  for (let epoch = 0; epoch < 5; epoch++) {
    const d = loader.augmentDraws(epoch, 0, 8)!;
    const ref = plain.augmentDraws(epoch, 0, 8)!;
    assert.deepEqual(
      d.map((x) => x.flip),
      ref.map((x) => x.flip),
      `epoch ${epoch}: same flips`,
    );
    if (epoch < 3) assert.deepEqual(d, ref, `epoch ${epoch} is cropped as without cleanEpochs`);
    else
      assert.ok(
        d.every((x) => x.dy === 2 && x.dx === 2),
        `epoch ${epoch} is centred: ${JSON.stringify(d)}`,
      );
    assert.equal(loader.isCleanEpoch(epoch), epoch >= 3);
  }
  assert.ok(
    plain.augmentDraws(3, 0, 8)!.some((x) => x.dy !== 2 || x.dx !== 2),
    'the reference does crop',
  );
  // a clean batch is each image, flipped or not, exactly as evalBatches gives it
  const b = loader.batchAt(4, 0);
  const draws = loader.augmentDraws(4, 0, 8)!;
  const [e] = [...evalBatches(set, { batchSize: 8 })];
  const got = b.x.arraySync() as number[][][][];
  const want = e!.x.arraySync() as number[][][][];
  for (let i = 0; i < 8; i++) {
    const w = draws[i]!.flip ? want[i]!.map((row) => [...row].reverse()) : want[i];
    assert.deepEqual(got[i], w, `image ${i}`);
  }
  dispose(b);
  dispose(e!);
  // a re-plan to more epochs moves the clean ones to the new end
  loader.setEpochs(8);
  assert.ok(!loader.isCleanEpoch(4) && loader.isCleanEpoch(6) && loader.isCleanEpoch(7));
  assert.throws(() => loader.setEpochs(0), /setEpochs: expected an integer ≥ 1, got 0/);
  // cleanFlip false: the clean epochs are unflipped too; the epochs before them flip as before
  const unflipped = new ImageLoader(set, { ...cfg, cleanFlip: false });
  unflipped.setEpochs(5);
  assert.deepEqual(unflipped.augmentDraws(2, 0, 8), plain.augmentDraws(2, 0, 8));
  for (const epoch of [3, 4]) {
    assert.deepEqual(
      unflipped.augmentDraws(epoch, 0, 8),
      Array.from({ length: 8 }, () => ({ dy: 2, dx: 2, flip: false })),
      `epoch ${epoch}`,
    );
    assert.ok(
      loader.augmentDraws(epoch, 0, 8)!.some((d) => d.flip),
      `epoch ${epoch} of the default loader does flip`,
    );
  }
  assert.throws(() => resolveLoaderConfig({ cleanEpochs: -1 }), /cleanEpochs must be an integer ≥ 0, got -1/);
  assert.throws(() => resolveLoaderConfig({ cleanEpochs: 1.5 }), /cleanEpochs must be an integer ≥ 0, got 1.5/);
  assert.throws(() => resolveLoaderConfig({ cleanFlip: 'no' as unknown as boolean }), /cleanFlip must be true or false, got "no"/);
  assert.throws(() => resolveLoaderConfig({ hflip: 1 as unknown as boolean }), /hflip must be true or false, got 1/);
});

test('evalBatches covers the set in order with a smaller last batch; no tensors leak', () => {
  const set = synthetic(7, 2, 2, 1);
  const before = tf.memory().numTensors;
  const labels: number[] = [];
  const sizes: number[] = [];
  for (const b of evalBatches(set, { batchSize: 3, mean: [0.5], std: [0.5] })) {
    labels.push(...b.y.dataSync());
    sizes.push(b.size);
    assert.ok(Math.abs(b.x.dataSync()[0] - (set.images[b.index * 3 * 4] / 255 - 0.5) / 0.5) < 1e-6);
    dispose(b);
  }
  assert.deepEqual(sizes, [3, 3, 1]);
  assert.deepEqual(labels, [...set.labels]);
  assert.equal(tf.memory().numTensors, before);
});

test('heldOutSplit is stratified, disjoint, complete and deterministic', () => {
  const set = synthetic(100, 2, 2, 1, 4); // 25 per class
  // tag each image by its index in pixel 0 so we can trace where it went
  for (let i = 0; i < 100; i++) set.images[i * 4] = i;
  const { train, val } = heldOutSplit(set, 0.2, 7);
  assert.equal(val.n, 4 * Math.round(0.2 * 25));
  assert.equal(train.n + val.n, 100);
  const ids = (s: ImageSet) => Array.from({ length: s.n }, (_, i) => s.images[i * 4]);
  const all = [...ids(train), ...ids(val)].sort((a, b) => a - b);
  assert.deepEqual(
    all,
    Array.from({ length: 100 }, (_, i) => i),
  );
  for (let k = 0; k < 4; k++) assert.equal([...val.labels].filter((l) => l === k).length, 5);
  for (let i = 0; i < val.n; i++) assert.equal(val.labels[i], val.images[i * 4] % 4); // labels travel with images
  assert.deepEqual(ids(heldOutSplit(set, 0.2, 7).val), ids(val));
  assert.notDeepEqual(ids(heldOutSplit(set, 0.2, 8).val), ids(val));
  assert.throws(() => heldOutSplit(set, 1.2), /fraction must be in \(0, 1\)/);
  assert.throws(() => subset(set, [100]), /index 100 out of range/);
});

test('channelStats: per-channel mean/std of pixels in [0, 1]', () => {
  const set: ImageSet = { images: new Uint8Array([0, 255, 255, 255]), labels: new Uint8Array(2), n: 2, h: 1, w: 1, c: 2 };
  const { mean, std } = channelStats(set);
  assert.deepEqual(mean, [0.5, 1]);
  assert.ok(Math.abs(std[0] - 0.5) < 1e-12 && std[1] === 0);
});
