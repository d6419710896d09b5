// Optimizers against PyTorch (Debian python3-torch): the same parameters and gradient sequence
// through torch.optim.AdamW / Adagrad must give the same parameters after 3 steps; Lamb against
// its formula written out in plain JS; state round trip continues identically.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { AdamW, Adagrad, Lamb, clipGradNorm } from '../../src/train/optim/index.js';

before(async () => {
  await tf.setBackend('cpu');
});

const P0 = [
  [0.5, -1.0, 2.0],
  [0.25, 0.0, -0.75],
];
const GRADS = [
  [
    [0.1, -0.2, 0.3],
    [0.0, 0.5, -0.1],
  ],
  [
    [-0.3, 0.1, 0.2],
    [0.4, -0.2, 0.05],
  ],
  [
    [0.05, 0.05, -0.4],
    [-0.1, 0.3, 0.2],
  ],
];
const LR = 0.1;

function torchRun(opt: string): number[] {
  const py = `
import torch, json
p = torch.nn.Parameter(torch.tensor(${JSON.stringify(P0)}))
opt = ${opt}
for g in ${JSON.stringify(GRADS)}:
    p.grad = torch.tensor(g)
    opt.step()
print(json.dumps(p.detach().flatten().tolist()))
`;
  const r = spawnSync('/usr/bin/python3', ['-c', py], { encoding: 'utf8' });
  assert.equal(r.status, 0, `python3 + torch are needed for this test (apt-get install python3-torch): ${r.stderr}`);
  return JSON.parse(r.stdout.trim()) as number[];
}

function runOurs(
  make: (params: Map<string, tf.Variable>) => { step: (g: Map<string, tf.Tensor>, lr: number) => void; dispose(): void },
): number[] {
  const p = tf.variable(tf.tensor(P0));
  const params = new Map([['w', p]]);
  const opt = make(params);
  for (const g of GRADS) {
    const gt = tf.tensor(g);
    opt.step(new Map([['w', gt]]), LR);
    gt.dispose();
  }
  const out = Array.from(p.dataSync());
  opt.dispose();
  p.dispose();
  return out;
}

function close(a: number[], b: number[], tol = 1e-6): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= tol, `index ${i}: ${a[i]} vs ${b[i]}`);
}

test('AdamW equals torch.optim.AdamW', () => {
  const ref = torchRun('torch.optim.AdamW([p], lr=0.1, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.05)');
  const ours = runOurs((ps) => new AdamW(ps, { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.05 }));
  close(ours, ref);
});

test('Adagrad equals torch.optim.Adagrad', () => {
  const ref = torchRun('torch.optim.Adagrad([p], lr=0.1, eps=1e-10)');
  const ours = runOurs((ps) => new Adagrad(ps, { eps: 1e-10, initialAccumulator: 0, weightDecay: 0 }));
  close(ours, ref);
});

test('Lamb follows its formula (trust ratio ‖p‖/‖u‖)', () => {
  const cfg = { beta1: 0.9, beta2: 0.999, eps: 1e-6, weightDecay: 0.01 };
  let p = P0.flat();
  let m = p.map(() => 0);
  let v = p.map(() => 0);
  GRADS.forEach((g2, i) => {
    const g = g2.flat();
    const t = i + 1;
    m = m.map((mi, j) => cfg.beta1 * mi + (1 - cfg.beta1) * g[j]!);
    v = v.map((vi, j) => cfg.beta2 * vi + (1 - cfg.beta2) * g[j]! ** 2);
    const u = p.map((pj, j) => m[j]! / (1 - cfg.beta1 ** t) / (Math.sqrt(v[j]! / (1 - cfg.beta2 ** t)) + cfg.eps) + cfg.weightDecay * pj);
    const pn = Math.hypot(...p);
    const un = Math.hypot(...u);
    const ratio = pn > 0 && un > 0 ? pn / un : 1;
    p = p.map((pj, j) => pj - LR * ratio * u[j]!);
  });
  close(
    runOurs((ps) => new Lamb(ps, cfg)),
    p,
    1e-5,
  );
});

test('optimizer state round trip continues identically', () => {
  const mk = (ps: Map<string, tf.Variable>) => new AdamW(ps, { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.05 });
  const straight = runOurs(mk);
  const p = tf.variable(tf.tensor(P0));
  const a = mk(new Map([['w', p]]));
  const g0 = tf.tensor(GRADS[0]!);
  a.step(new Map([['w', g0]]), LR);
  const state = a.getState();
  const copies = new Map([...state.slots].map(([k, t]) => [k, t.clone()] as const));
  const b = mk(new Map([['w', p]]));
  b.setState({ slots: copies, scalars: { ...state.scalars } });
  a.dispose();
  for (const g of GRADS.slice(1)) {
    const gt = tf.tensor(g);
    b.step(new Map([['w', gt]]), LR);
    gt.dispose();
  }
  close(Array.from(p.dataSync()), straight, 0);
  for (const t of copies.values()) t.dispose();
  g0.dispose();
  b.dispose();
  p.dispose();
});

test('setState rejects a slot whose shape does not match its parameter', () => {
  const p = tf.variable(tf.zeros([2, 3]));
  const opt = new AdamW(new Map([['w', p]]));
  const bad = tf.zeros([3, 2]);
  assert.throws(() => opt.setState({ slots: new Map([['exp_avg.w', bad]]), scalars: { step: 1 } }), /exp_avg\.w.*\[3,2\].*\[2,3\]/);
  bad.dispose();
  opt.dispose();
  p.dispose();
});

test('clipGradNorm scales to the max norm and reports the norm before clipping', () => {
  const grads = new Map<string, tf.Tensor>([
    ['a', tf.tensor([3, 0])],
    ['b', tf.tensor([0, 4])],
  ]);
  const n = clipGradNorm(grads, 1);
  assert.ok(Math.abs(n - 5) < 1e-6);
  close([...grads.get('a')!.dataSync(), ...grads.get('b')!.dataSync()], [0.6, 0, 0, 0.8], 1e-5);
  for (const g of grads.values()) g.dispose();
});

test('an update leaks no tensors', () => {
  const p = tf.variable(tf.tensor(P0));
  const opt = new Lamb(new Map([['w', p]]));
  const g = tf.tensor(GRADS[0]!);
  opt.step(new Map([['w', g]]), LR); // creates the slots
  const before = tf.memory().numTensors;
  opt.step(new Map([['w', g]]), LR);
  assert.equal(tf.memory().numTensors, before);
  g.dispose();
  opt.dispose();
  p.dispose();
});
