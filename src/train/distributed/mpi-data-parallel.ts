// The ranks of an mpirun job as the training loop's DataParallel (data-parallel.ts), after PyTorch
// DDP and Horovod: at start every rank checks its config and data against rank 0's and takes rank
// 0's weights, optimizer and trainer state; before each gradient exchange the ranks check in with
// rank 0 (update number, loss and units sums); gradients are summed by allreduce.ts; rank 0's
// decisions (stop, re-plan) reach every rank after each update; at checkpoints the ranks compare
// a hash of their weights.
//
// Faults, none of which may hang the job: a rank that raises aborts the job (mpi.ts); a rank that
// dies is noticed by mpirun, which stops the others; a rank that stalls is caught by the check-in
// (rank 0 gathers from every rank with a deadline, RESMLP_MPI_TIMEOUT, and names the ranks that
// did not come) and by the deadline on rank 0's decisions. Ranks whose update numbers disagree
// are refused at the check-in.
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import type { TrainerState } from '../checkpoint.js';
import type { Optimizer } from '../optim/optimizer.js';
import { GradientAllreduce, type AllreduceStats } from './allreduce.js';
import type { DataParallel, StartState, UpdateSums } from './data-parallel.js';
import { describeDifference, type Fingerprint } from './fingerprint.js';
import { mpiTimeoutSec, type MpiAddon, type World } from './mpi.js';

// Message tags of the timed exchanges (each pair of ranks sees them in program order).
const TAG = { checkIn: 11, reply: 12, decision: 13, decisionBody: 14 } as const;
/** Bytes of a decision's first message: small JSON goes in one message, larger in a second. */
const HEAD_BYTES = 4096;
/** Bytes each rank reports at start (its fingerprint verdict, host, threads). */
const REPORT_BYTES = 4096;

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** The ranks of an mpirun job (world.size ≥ 1, the MPI addon loaded). */
export class MpiDataParallel implements DataParallel {
  private readonly mpi: MpiAddon;
  private readonly allreduce: GradientAllreduce;
  private readonly timeout: number;
  description = '';

  constructor(readonly world: World) {
    if (!world.addon) throw new Error('MpiDataParallel needs the MPI addon (a process started by mpirun)');
    this.mpi = world.addon;
    this.allreduce = new GradientAllreduce((x) => this.mpi.allreduce(x));
    this.timeout = mpiTimeoutSec();
  }

  get allreduceStats(): AllreduceStats {
    return this.allreduce.last;
  }

  /** Throws when a timed exchange left ranks out: on rank 0 naming them, elsewhere naming rank 0. */
  private check(missing: number[], what: string): void {
    if (missing.length === 0) return;
    const limit = `within ${this.timeout} s (RESMLP_MPI_TIMEOUT sets the limit)`;
    throw new Error(
      this.world.lead
        ? `rank${missing.length > 1 ? 's' : ''} ${missing.join(', ')} did not ${what} ${limit}: stuck, or far slower than rank 0`
        : `rank 0 did not ${what} ${limit}`,
    );
  }

  /** Rank 0's JSON value to every rank, with the deadline. */
  private bcastJson<T>(value: T, what: string): T {
    const head = new Uint8Array(HEAD_BYTES);
    const view = new DataView(head.buffer);
    let body: Uint8Array | null = null;
    if (this.world.lead) {
      body = utf8.encode(JSON.stringify(value) ?? 'null');
      view.setUint32(0, body.length);
      if (body.length + 4 <= HEAD_BYTES) head.set(body, 4);
    }
    this.check(this.mpi.bcastTimed(head, this.timeout, TAG.decision), what);
    const len = view.getUint32(0);
    if (len + 4 <= HEAD_BYTES) return JSON.parse(fromUtf8.decode(head.subarray(4, 4 + len))) as T;
    const big = body ?? new Uint8Array(len);
    this.check(this.mpi.bcastTimed(big, this.timeout, TAG.decisionBody), what);
    return JSON.parse(fromUtf8.decode(big)) as T;
  }

  start(s: StartState): TrainerState {
    const { world } = this;
    // 1. Same config and data everywhere: each rank compares its fingerprint with rank 0's and
    //    reports; rank 0 refuses the job for all when any differs.
    const leadPrint = this.bcastJson(world.lead ? s.fingerprint : null, 'send its config and data manifest') as Fingerprint;
    const report = {
      diff: describeDifference(s.fingerprint, leadPrint).slice(0, 2000),
      host: world.host,
      threads: process.env.RESMLP_THREADS ?? '(default)',
      cpus: os.availableParallelism(),
      backend: tf.getBackend(),
    };
    const send = new Uint8Array(REPORT_BYTES);
    const enc = utf8.encode(JSON.stringify(report));
    send.set(enc.subarray(0, REPORT_BYTES));
    const recv = world.lead ? new Uint8Array(REPORT_BYTES * world.size) : null;
    this.check(this.mpi.gatherTimed(send, recv, this.timeout, TAG.checkIn), 'report its config and data at start');
    let verdict: { error?: string; description?: string } = {};
    if (world.lead) {
      const reports = Array.from({ length: world.size }, (_, r) => {
        const bytes = recv!.subarray(r * REPORT_BYTES, (r + 1) * REPORT_BYTES);
        const end = bytes.indexOf(0);
        return JSON.parse(fromUtf8.decode(end >= 0 ? bytes.subarray(0, end) : bytes)) as typeof report;
      });
      const bad = reports.map((r, i) => (r.diff ? `rank ${i} differs from rank 0 in ${r.diff}` : '')).filter(Boolean);
      verdict = bad.length
        ? { error: `refusing to start: every rank must run the same config on the same data, but ${bad.join('; ')}` }
        : { description: describeRanks(reports, world.library, s.updateFreq) };
    }
    verdict = this.bcastJson(verdict, "check the ranks' configs");
    if (verdict.error) throw new Error(verdict.error);
    this.description = verdict.description ?? '';

    // 2. Rank 0's trainer state, then its weights and optimizer slots.
    const st = s.optimizer.getState();
    const meta = this.bcastJson(
      world.lead ? { state: s.state, scalars: st.scalars, slots: [...st.slots].map(([k, t]) => [k, t.shape] as const) } : null,
      'send its trainer state',
    ) as { state: TrainerState; scalars: Record<string, number>; slots: [string, number[]][] };
    this.bcastParams(s.params);
    const slots = new Map<string, tf.Tensor>();
    for (const [key, shape] of meta.slots) {
      const mine = world.lead ? (st.slots.get(key)!.dataSync() as Float32Array) : new Float32Array(shape.reduce((a, b) => a * b, 1));
      this.mpi.bcastBulk(mine);
      if (!world.lead) slots.set(key, tf.tensor(mine, shape, 'float32'));
    }
    if (!world.lead) {
      s.optimizer.setState({ slots, scalars: meta.scalars });
      for (const t of slots.values()) t.dispose();
    }
    return meta.state;
  }

  /** Rank 0's parameter values to every rank. */
  private bcastParams(params: Map<string, tf.Variable>): void {
    for (const v of params.values()) {
      const data = this.world.lead ? (v.dataSync() as Float32Array) : new Float32Array(v.size);
      this.mpi.bcastBulk(data);
      if (this.world.lead) continue;
      const t = tf.tensor(data, v.shape, 'float32');
      v.assign(t);
      t.dispose();
    }
  }

  checkIn(update: number, local: UpdateSums): UpdateSums {
    const { world } = this;
    const send = new Float64Array([update, local.loss, local.units, local.interrupted ? 1 : 0]);
    const recv = world.lead ? new Float64Array(4 * world.size) : null;
    this.check(this.mpi.gatherTimed(send, recv, this.timeout, TAG.checkIn), `reach the gradient exchange of update ${update + 1}`);
    let reply: UpdateSums & { error?: string } = { loss: 0, units: 0, interrupted: false };
    if (world.lead) {
      const behind: string[] = [];
      for (let r = 0; r < world.size; r++) {
        const at = recv![4 * r]!;
        if (at !== update) behind.push(`rank ${r} is at update ${at + 1}`);
        reply.loss += recv![4 * r + 1]!;
        reply.units += recv![4 * r + 2]!;
        reply.interrupted ||= recv![4 * r + 3]! !== 0;
      }
      if (behind.length) reply = { ...reply, error: `the ranks lost step: rank 0 is at update ${update + 1}, ${behind.join(', ')}` };
    }
    reply = this.bcastJson(reply, `answer the check-in of update ${update + 1}`);
    if (reply.error) throw new Error(reply.error);
    return { loss: reply.loss, units: reply.units, interrupted: reply.interrupted };
  }

  sumGradients(grads: tf.Tensor[]): tf.Tensor[] {
    return this.allreduce.sum(grads);
  }

  agree<T>(update: number, value: T): T {
    return this.bcastJson(value, `send its decision after update ${update} (it validates and writes checkpoints alone)`);
  }

  checkParams(update: number, params: Map<string, tf.Variable>, optimizer: Optimizer): void {
    const h = createHash('sha256');
    for (const v of params.values()) {
      const d = v.dataSync() as Float32Array;
      h.update(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
    }
    const send = new Uint8Array(h.digest());
    const recv = this.world.lead ? new Uint8Array(32 * this.world.size) : null;
    this.check(this.mpi.gatherTimed(send, recv, this.timeout, TAG.checkIn), `compare parameters at update ${update}`);
    let differ: number[] = [];
    if (this.world.lead) {
      for (let r = 1; r < this.world.size; r++) {
        if (recv!.subarray(32 * r, 32 * r + 32).some((b, i) => b !== send[i])) differ.push(r);
      }
    }
    differ = this.bcastJson(differ, `compare parameters at update ${update}`);
    if (differ.length === 0) return;
    // Should not happen (every rank applies the same step to the same sums); a rank with other
    // threads or kernels can round differently. Rank 0's copy wins.
    if (this.world.lead)
      process.stderr.write(
        `resmlp: parameters of rank(s) ${differ.join(', ')} differed from rank 0's at update ${update}; re-sent rank 0's parameters and optimizer state\n`,
      );
    this.bcastParams(params);
    const st = optimizer.getState();
    const slots = new Map<string, tf.Tensor>();
    for (const [key, t] of st.slots) {
      const data = this.world.lead ? (t.dataSync() as Float32Array) : new Float32Array(t.size);
      this.mpi.bcastBulk(data);
      if (!this.world.lead) slots.set(key, tf.tensor(data, t.shape, 'float32'));
    }
    if (!this.world.lead) optimizer.setState({ slots, scalars: st.scalars });
    for (const t of slots.values()) t.dispose();
  }
}

/** "2 ranks × 1 thread on 1 host (vm: ranks 0–1), Open MPI v4.1.4, backend native; an update = 2 ranks × updateFreq 1 batches". */
function describeRanks(
  reports: { host: string; threads: string; cpus: number; backend: string }[],
  library: string,
  updateFreq: number,
): string {
  const n = reports.length;
  const threads = [...new Set(reports.map((r) => r.threads))];
  const hosts = new Map<string, number[]>();
  reports.forEach((r, i) => hosts.set(r.host, [...(hosts.get(r.host) ?? []), i]));
  const backends = [...new Set(reports.map((r) => r.backend))];
  const tText =
    threads.length === 1
      ? `${threads[0]} thread${threads[0] === '1' ? '' : 's'} each (RESMLP_THREADS)`
      : `threads ${reports.map((r) => r.threads).join(', ')} (RESMLP_THREADS, by rank)`;
  const hText = [...hosts].map(([h, rs]) => `${h}: ${rs.length} rank${rs.length > 1 ? 's' : ''}`).join(', ');
  const over = reports
    .map((r, i) =>
      Number(r.threads) > r.cpus && r.cpus > 0
        ? `rank ${i} runs ${r.threads} threads on ${r.cpus} CPU${r.cpus > 1 ? 's' : ''} (mpirun bound it: --bind-to none, or --map-by …:PE=${r.threads})`
        : '',
    )
    .filter(Boolean);
  return (
    `data-parallel: ${n} rank${n > 1 ? 's' : ''} × ${tText} on ${hosts.size} host${hosts.size > 1 ? 's' : ''} (${hText}), ${library}, backend ${backends.join('/')}; ` +
    `an update = ${n} ranks × updateFreq ${updateFreq} batch${updateFreq > 1 ? 'es' : ''}` +
    (over.length ? `; WARNING: ${over.join('; ')}` : '')
  );
}
