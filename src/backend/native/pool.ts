// The `native` backend object: the JS cpu backend (MathBackendCPU, whose storage and kernels it
// keeps) plus a pool of recycled float32 kernel outputs. A fresh TypedArray per kernel output
// costs more than many kernels (V8 zero-fills it, the pages fault in on first touch, and GC
// churns), so the backend recycles the float32 outputs of native kernels once their tensor is
// disposed, but only arrays it can prove nobody else sees: an array read out (dataSync, data,
// bufferSync) or shared by a second tensor (a view from slice, an aliasing cpu kernel) is marked
// escaped and left to the GC. Reference: tfjs-backend-cpu's MathBackendCPU (write/move/disposeData).
//
// Buffers come in size classes (four per doubling): an output of n floats is a view of the first n
// floats of a pooled buffer of its class or of up to four classes above (at most twice its size),
// so the many shapes of real work (token batches of every length, a server's rows) reuse the same
// buffers instead of filling the pool with one list per exact length or per class; when no pooled
// buffer fits, the fresh one replaces as many bytes of idle buffers of the classes below it, so the
// pool follows the largest sizes the work needs instead of keeping a set per class. The pool's cap defaults to a quarter of the
// memory the process may use — the container's limit when there is one (cgroup v2 `memory.max`,
// which process.constrainedMemory() reports), else the machine's — at most 8 GiB; RESMLP_POOL_MB
// sets it.
import type * as tf from '@tensorflow/tfjs';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { readFileSync } from 'node:fs';
import os from 'node:os';

const POOL_MIN = 4096; // elements: smaller arrays are cheap to allocate

/** Bytes this process may use: the container's memory limit when it has one, else the machine's memory. */
export function memoryLimitBytes(): { bytes: number; source: string } {
  const host = os.totalmem();
  const constrained = (process as unknown as { constrainedMemory?: () => number | undefined }).constrainedMemory?.();
  if (constrained !== undefined && constrained > 0 && constrained < host)
    return { bytes: constrained, source: 'process.constrainedMemory() (the container limit)' };
  try {
    const raw = readFileSync('/sys/fs/cgroup/memory.max', 'utf8').trim(); // cgroup v2; "max" = no limit
    const n = Number(raw);
    if (raw !== 'max' && Number.isFinite(n) && n > 0 && n < host) return { bytes: n, source: '/sys/fs/cgroup/memory.max' };
  } catch {
    /* no cgroup v2 file: not in a container, or cgroup v1 */
  }
  return { bytes: host, source: 'the machine memory' };
}

/**
 * Cap of the recycled-output pool: RESMLP_POOL_MB, default a quarter of memoryLimitBytes(), at
 * most 8 GiB. A training step's outputs all come back to the pool when its tensors are disposed,
 * so the pool settles at about one step's working set; a smaller cap than that working set makes
 * many large outputs fresh (page-faulting) allocations again (native/README.md, "Output pool").
 */
export function poolCapBytes(env: string | undefined = process.env.RESMLP_POOL_MB, limit = memoryLimitBytes().bytes): number {
  if (env === undefined || env === '') return Math.min(8 * 2 ** 30, Math.floor(limit / 4));
  const mb = Number(env);
  if (!Number.isFinite(mb) || mb < 0) throw new Error(`RESMLP_POOL_MB must be a number of MiB ≥ 0, got '${env}'`);
  return Math.floor(mb * 1024 * 1024);
}

const POOL_MAX_BYTES = poolCapBytes();

/** Size class k: 2^(k/4) floats rounded up to a multiple of 16 (64 bytes). */
const classSize = (k: number) => Math.ceil(2 ** (k / 4) / 16) * 16;

/** The index of the smallest size class that holds n floats (n > POOL_MIN). */
function classIndex(n: number): number {
  let k = Math.floor(4 * Math.log2(n)) - 1;
  while (classSize(k) < n) k++;
  return k;
}

/** The size class of n floats: the smallest class size that holds n (n itself below POOL_MIN). */
export function sizeClass(n: number): number {
  return n <= POOL_MIN ? n : classSize(classIndex(n));
}

/**
 * How many classes above its own an output may borrow a pooled buffer from (4 classes: up to 2×
 * its size). Without it every class keeps its own buffers for the same roles: a training step's
 * (tokens, vocabulary) logits, their softmax and gradients, once per class the batches' token
 * counts fall in, and the pool grew to several times one step's working set.
 */
const BORROW_CLASSES = 4;

interface Owned {
  refs: number; // live dataIds whose values are (a view of) this buffer
  escaped: boolean;
  /** Floats of the view handed out (the buffer may hold more: its size class). */
  length: number;
}

export class NativeBackend extends MathBackendCPU {
  /** Recycled buffers by size class (floats). */
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
    const k = classIndex(n);
    let buf: Float32Array | undefined;
    for (let j = k; j <= k + BORROW_CLASSES && buf === undefined; j++) buf = this.pool.get(classSize(j))?.pop();
    const cls = buf?.length ?? classSize(k);
    if (buf) {
      this.pooledBytes -= buf.byteLength;
      this.poolStats.reused++;
    } else {
      buf = new Float32Array(cls);
      this.poolStats.allocated++;
      // The new buffer will also serve the classes below its own (borrowing): drop as many bytes
      // of idle buffers of those classes, so that the pool moves up to the sizes the work needs
      // at its largest instead of keeping a set of buffers per class.
      let drop = buf.byteLength;
      for (let j = k - 1; j >= k - BORROW_CLASSES && drop > 0; j--) {
        const list = this.pool.get(classSize(j));
        while (list !== undefined && list.length > 0 && drop > 0) {
          const old = list.pop()!;
          drop -= old.byteLength;
          this.pooledBytes -= old.byteLength;
        }
      }
    }
    this.owned.set(buf.buffer, { refs: 0, escaped: false, length: n });
    return n === cls ? buf : buf.subarray(0, n);
  }

  private note(values: unknown): void {
    if (!ArrayBuffer.isView(values)) return;
    const o = this.owned.get(values.buffer);
    if (!o) return;
    o.refs++;
    // anything but the one view handed out (a slice, a second tensor on the buffer) escapes
    if (o.refs > 1 || values.byteOffset !== 0 || values.byteLength !== o.length * 4) o.escaped = true;
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

  /**
   * Copies the float32 values of `dataId` into `dst` (as many as it holds) without letting its
   * buffer escape: disposing the tensor then returns the buffer to the pool (readSync would hand
   * it out, and the next output of its size would be a fresh allocation: a decoding step's
   * (rows, V) log-probs every step).
   */
  readInto(dataId: tf.DataId, dst: Float32Array): void {
    const v = this.data.get(dataId)?.values;
    const src = v instanceof Float32Array ? v : (super.readSync(dataId) as Float32Array);
    dst.set(src.length === dst.length ? src : src.subarray(0, dst.length));
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
        const buf = values instanceof Float32Array ? new Float32Array(values.buffer) : null; // the whole buffer: its size class
        if (o.refs === 0 && !o.escaped && buf !== null && this.pooledBytes + buf.byteLength <= POOL_MAX_BYTES) {
          this.owned.delete(values.buffer);
          let list = this.pool.get(buf.length);
          if (!list) this.pool.set(buf.length, (list = []));
          list.push(buf);
          this.pooledBytes += buf.byteLength;
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
