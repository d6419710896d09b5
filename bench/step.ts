// Training-step benchmark: one forward + backward + plain-SGD update of a translation-sized stack of
// src/core blocks, against the same model in PyTorch (bench/pytorch/step.py).
// Model: batch 32 × 32 tokens, embedding gather from an 8k vocabulary (d 512), 2 causal ResMLP
// blocks (hidden 2048, LayerScale 0.1), output projection tied to the embedding, label-smoothed
// cross-entropy (ε 0.1, PyTorch's definition) over the 8k vocabulary. ~50 GFLOP per step.
// Standalone: node --import tsx bench/step.ts [--backends native,cpu] [--threads N] [--reps N]
//             [--profile]   (adds a per-kernel time table for the first backend)
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { initBackend, setThreads } from '../src/backend/choose.js';
import { ResBlock } from '../src/core/block.js';
import { Embedding } from '../src/core/embedding.js';
import { labelSmoothedCrossEntropy } from '../src/core/loss.js';
import { Module, ModuleList } from '../src/core/module.js';
import { Rng } from '../src/util/rng.js';

/** The benchmarked shapes; bench/pytorch/step.py uses the same numbers (keep them in sync). */
export const STEP_SHAPES = { batch: 32, tokens: 32, dim: 512, hidden: 2048, blocks: 2, vocab: 8000, epsilon: 0.1, lr: 1e-3 } as const;

class StepModel extends Module {
  readonly embed: Embedding;
  readonly blocks: ModuleList<ResBlock>;

  constructor(rng: Rng) {
    super();
    const s = STEP_SHAPES;
    this.embed = this.registerModule('embed', new Embedding({ numEmbeddings: s.vocab, dim: s.dim }, rng));
    this.blocks = this.registerModule('blocks', new ModuleList<ResBlock>());
    for (let i = 0; i < s.blocks; i++) {
      this.blocks.append(ResBlock.fromConfig({ dim: s.dim, seqLen: s.tokens, mlpHidden: s.hidden, causal: true, layerScale: 0.1 }, rng));
    }
  }

  /** ids (B, T) int32 → scalar loss against targets (B, T). */
  loss(ids: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar {
    let h = this.embed.forward(ids) as tf.Tensor3D; // (B, T, d)
    for (const b of this.blocks) h = b.forward(h);
    const logits = this.embed.project(h); // (B, T, V), tied
    return labelSmoothedCrossEntropy(logits, targets, { epsilon: STEP_SHAPES.epsilon });
  }
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

interface Harness {
  model: StepModel;
  step: () => Promise<number>;
  dispose: () => void;
}

function makeHarness(): Harness {
  const s = STEP_SHAPES;
  const rng = new Rng(2105_03404);
  const model = new StepModel(rng);
  const n = s.batch * s.tokens;
  const ids = new Int32Array(n);
  const tgt = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    ids[i] = Math.floor(rng.uniform() * s.vocab);
    tgt[i] = Math.floor(rng.uniform() * s.vocab);
  }
  const idsT = tf.tensor2d(ids, [s.batch, s.tokens], 'int32');
  const tgtT = tf.tensor2d(tgt, [s.batch, s.tokens], 'int32');
  const params = model.parameters();
  const step = async (): Promise<number> => {
    const { value, grads } = tf.variableGrads(() => model.loss(idsT, tgtT), params);
    tf.tidy(() => {
      for (const p of params) p.assign(tf.sub(p, tf.mul(grads[p.name]!, s.lr)));
    });
    const loss = (await value.data())[0]!;
    tf.dispose([value, ...Object.values(grads)]);
    return loss;
  };
  return {
    model,
    step,
    dispose: () => {
      model.dispose();
      idsT.dispose();
      tgtT.dispose();
    },
  };
}

/** Median step time (ms) per backend after warmup; a backend that cannot start reports its error. */
export interface StepResult {
  backend: string;
  /** Median wall time of one step (ms). */
  stepMs: number;
  /** Median process CPU time (user + sys, all threads) of one step (ms): less sensitive than wall
   * time to other processes competing for the cores, so a second view on a shared machine. */
  cpuMs?: number;
  /** Why the backend could not run (stepMs is NaN then). */
  error?: string;
}

/**
 * Median step time per backend after warmup; a backend that cannot start reports its error.
 */
export async function stepBench(opts: { backends: string[]; threads: number; reps: number }): Promise<StepResult[]> {
  const out: StepResult[] = [];
  await setThreads(opts.threads);
  for (const backend of opts.backends) {
    try {
      await initBackend(backend);
    } catch (e) {
      out.push({ backend, stepMs: NaN, error: (e as Error).message });
      continue;
    }
    const h = makeHarness();
    try {
      const warm = backend === 'cpu' || backend === 'wasm' ? 1 : 2; // the JS backends take many seconds a step
      for (let i = 0; i < warm; i++) {
        const loss = await h.step();
        if (!Number.isFinite(loss)) throw new Error(`${backend}: loss is ${loss} during warmup`);
      }
      const times: number[] = [];
      const cpu: number[] = [];
      for (let r = 0; r < opts.reps; r++) {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        await h.step();
        times.push(performance.now() - t0);
        const c = process.cpuUsage(c0);
        cpu.push((c.user + c.system) / 1000);
      }
      out.push({ backend, stepMs: median(times), cpuMs: median(cpu) });
    } finally {
      h.dispose();
    }
  }
  return out;
}

/** Runs bench/pytorch/step.py with /usr/bin/python3; its one JSON line, or why it could not run. */
export function pytorchStep(opts: { threads: number; reps: number }): { stepMs: number; cpuMs?: number } | { error: string } {
  const script = fileURLToPath(new URL('./pytorch/step.py', import.meta.url));
  const r = spawnSync('/usr/bin/python3', [script, '--threads', String(opts.threads), '--reps', String(opts.reps)], {
    encoding: 'utf8',
    timeout: 30 * 60_000,
  });
  if (r.error) return { error: `could not run /usr/bin/python3: ${r.error.message}` };
  const lines = (r.stdout ?? '').trim().split('\n').filter(Boolean);
  const last = lines[lines.length - 1];
  let parsed: { stepMs?: number; cpuMs?: number; error?: string } | null = null;
  try {
    parsed = last ? JSON.parse(last) : null;
  } catch {
    parsed = null;
  }
  if (parsed && typeof parsed.stepMs === 'number') return { stepMs: parsed.stepMs, cpuMs: parsed.cpuMs };
  if (parsed && typeof parsed.error === 'string') return { error: parsed.error };
  return { error: `bench/pytorch/step.py exited ${r.status}: ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ') || 'no output'}` };
}

/** Total kernel time (ms) per kernel name over one step on the current backend, largest first. */
export async function profileStep(backend: string): Promise<{ kernel: string; ms: number; calls: number }[]> {
  await initBackend(backend);
  const h = makeHarness();
  try {
    await h.step(); // warm
    const info = await tf.profile(async () => {
      await h.step();
    });
    const agg = new Map<string, { ms: number; calls: number }>();
    for (const k of info.kernels) {
      // tf.profile also lists op and customGrad scopes around the kernels: count kernels only
      if (tf.getKernel(k.name, tf.getBackend()) === undefined) continue;
      const ms =
        typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : (k.kernelTimeMs as { error: string }).error ? NaN : Number(k.kernelTimeMs);
      const key = `${k.name} ${JSON.stringify(k.inputShapes)}`;
      const a = agg.get(key) ?? { ms: 0, calls: 0 };
      a.ms += ms;
      a.calls++;
      agg.set(key, a);
    }
    return [...agg].map(([kernel, v]) => ({ kernel, ...v })).sort((a, b) => b.ms - a.ms);
  } finally {
    h.dispose();
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const get = (flag: string, def: string): string => {
    const i = args.indexOf(flag);
    return i >= 0 && args[i + 1] ? args[i + 1]! : def;
  };
  const known = new Set(['--backends', '--threads', '--reps', '--profile']);
  const bad = args.filter((a) => a.startsWith('--') && !known.has(a));
  if (bad.length) throw new Error(`bench/step.ts: unknown flag(s) ${bad.join(', ')} (known: ${[...known].join(', ')})`);
  const backends = get('--backends', 'native').split(',').filter(Boolean);
  const threads = Number(get('--threads', String(os.availableParallelism())));
  const reps = Number(get('--reps', '5'));
  const s = STEP_SHAPES;
  console.log(
    `training step: ${s.blocks} causal ResMLP blocks, batch ${s.batch}×${s.tokens} tokens, d ${s.dim}, hidden ${s.hidden}, vocab ${s.vocab}, tied embedding, label-smoothed loss ε ${s.epsilon}, SGD; ${threads} threads, median of ${reps}`,
  );
  const ours = await stepBench({ backends, threads, reps });
  const torch = pytorchStep({ threads, reps });
  const cpuCol = (ms?: number) => (ms === undefined ? '' : ms.toFixed(1).padStart(11));
  console.log('backend        step (ms)  cpu (ms)');
  for (const r of ours)
    console.log(`${r.backend.padEnd(14)} ${r.error ? `(unavailable: ${r.error})` : r.stepMs.toFixed(1).padStart(9) + cpuCol(r.cpuMs)}`);
  console.log(
    `${'pytorch'.padEnd(14)} ${'error' in torch ? `(not measured: ${torch.error})` : torch.stepMs.toFixed(1).padStart(9) + cpuCol(torch.cpuMs)}`,
  );
  if (args.includes('--profile')) {
    const rows = await profileStep(backends[0]!);
    const total = rows.reduce((a, r) => a + r.ms, 0);
    console.log(`\nper-kernel time on ${backends[0]} (one step, sum ${total.toFixed(1)} ms; top 25)`);
    for (const r of rows.slice(0, 25)) console.log(`${r.ms.toFixed(1).padStart(8)} ms ${String(r.calls).padStart(3)}×  ${r.kernel}`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
