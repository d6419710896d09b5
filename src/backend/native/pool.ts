// The `native` backend object: the JS cpu backend (MathBackendCPU, whose storage and kernels it
// keeps) plus a pool of recycled float32 kernel outputs. A fresh TypedArray per kernel output
// costs more than many kernels (V8 zero-fills it, the pages fault in on first touch, and GC
// churns), so the backend recycles the float32 outputs of native kernels once their tensor is
// disposed, but only arrays it can prove nobody else sees: an array read out (dataSync, data,
// bufferSync) or shared by a second tensor (a view from slice, an aliasing cpu kernel) is marked
// escaped and left to the GC. Reference: tfjs-backend-cpu's MathBackendCPU (write/move/disposeData).
import type * as tf from '@tensorflow/tfjs';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import os from 'node:os';

const POOL_MIN = 4096; // elements: smaller arrays are cheap to allocate
/**
 * Cap of the recycled-output pool: RESMLP_POOL_MB, default a quarter of the machine's memory, at
 * most 8 GiB. A training step's outputs all come back to the pool when its tensors are disposed,
 * so the pool settles at about one step's working set; a smaller cap than that working set makes
 * many large outputs fresh (page-faulting) allocations again (native/README.md, "Output pool").
 * A server that sees many shapes may want less.
 */
const POOL_MAX_BYTES = poolCapBytes(process.env.RESMLP_POOL_MB);

function poolCapBytes(env: string | undefined): number {
  if (env === undefined || env === '') return Math.min(8 * 2 ** 30, Math.floor(os.totalmem() / 4));
  const mb = Number(env);
  if (!Number.isFinite(mb) || mb < 0) throw new Error(`RESMLP_POOL_MB must be a number of MiB ≥ 0, got '${env}'`);
  return Math.floor(mb * 1024 * 1024);
}

interface Owned {
  refs: number; // live dataIds whose values are (a view of) this buffer
  escaped: boolean;
}

export class NativeBackend extends MathBackendCPU {
  private readonly pool = new Map<number, Float32Array[]>();
  /** Bytes held by recycled outputs waiting for reuse (at most RESMLP_POOL_MB, see POOL_MAX_BYTES); read by bench/soak.ts. */
  pooledBytes = 0;
  private readonly owned = new WeakMap<ArrayBufferLike, Owned>();
  /** Counters for tests and benches: pooled-size outputs handed out from the pool (reused) or freshly allocated, and arrays recycled into it. */
  readonly poolStats = { reused: 0, allocated: 0, recycled: 0 };

  constructor() {
    super();
    (this as unknown as { firstUse: boolean }).firstUse = false; // no "install tfjs-node" banner
  }

  /** A float32 output array of length n, not zeroed (every native kernel writes all of it). */
  newF32(n: number): Float32Array {
    if (n < POOL_MIN) return new Float32Array(n);
    const list = this.pool.get(n);
    let a = list?.pop();
    if (a) {
      this.pooledBytes -= a.byteLength;
      this.poolStats.reused++;
    } else {
      a = new Float32Array(n);
      this.poolStats.allocated++;
    }
    this.owned.set(a.buffer, { refs: 0, escaped: false });
    return a;
  }

  private note(values: unknown): void {
    if (!ArrayBuffer.isView(values)) return;
    const o = this.owned.get(values.buffer);
    if (!o) return;
    o.refs++;
    if (o.refs > 1 || values.byteLength !== values.buffer.byteLength) o.escaped = true;
  }

  private escape(dataId: tf.DataId): void {
    const d = this.data.get(dataId);
    if (d && ArrayBuffer.isView(d.values)) {
      const o = this.owned.get(d.values.buffer);
      if (o) o.escaped = true;
    }
  }

  override write(values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType): tf.DataId {
    const id = super.write(values, shape, dtype);
    this.note(values);
    return id;
  }

  override move(dataId: tf.DataId, values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType, refCount: number): void {
    super.move(dataId, values, shape, dtype, refCount);
    this.note(values);
  }

  override readSync(dataId: tf.DataId): tf.backend_util.BackendValues {
    this.escape(dataId);
    return super.readSync(dataId);
  }

  override async read(dataId: tf.DataId): Promise<tf.backend_util.BackendValues> {
    this.escape(dataId);
    return super.read(dataId);
  }

  override disposeData(dataId: tf.DataId, force = false): boolean {
    const d = this.data.get(dataId);
    const values = d?.values;
    const done = super.disposeData(dataId, force);
    if (d && done && !this.data.has(dataId) && ArrayBuffer.isView(values)) {
      const o = this.owned.get(values.buffer);
      if (o) {
        o.refs--;
        if (o.refs === 0 && !o.escaped && values instanceof Float32Array && this.pooledBytes + values.byteLength <= POOL_MAX_BYTES) {
          this.owned.delete(values.buffer);
          let list = this.pool.get(values.length);
          if (!list) this.pool.set(values.length, (list = []));
          list.push(values);
          this.pooledBytes += values.byteLength;
          this.poolStats.recycled++;
        }
      }
    }
    return done;
  }

  /** Drops the recycled outputs (the GC frees them); the pool refills as kernels run. */
  releasePool(): void {
    this.pool.clear();
    this.pooledBytes = 0;
  }

  override dispose(): void {
    this.releasePool();
    super.dispose();
  }
}

/** Output array for a kernel running on `backend` (from the pool on the native backend). */
export function newF32(backend: MathBackendCPU, n: number): Float32Array {
  return backend instanceof NativeBackend ? backend.newF32(n) : new Float32Array(n);
}
