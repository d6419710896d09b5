// The gradient allreduce of data-parallel training: every rank's gradients summed in fp32, in
// buckets, as PyTorch DDP (bucket_cap_mb = 25) and Horovod's tensor fusion do. A gradient whose
// array is its own (the cpu-family backends' storage, `native` included) and at least
// IN_PLACE_MIN floats is summed where it lies, with no copy: MPI reads and writes the tensor's
// own buffer. The small ones (biases, Affine and LayerScale vectors) and any array that is not
// the tensor's own (a view shared with another gradient, another backend's copy) are packed into
// one buffer of up to BUCKET_BYTES, summed in one call, and copied back. The reduction runs after
// the backward pass, not overlapped with it: tf.variableGrads hands over every gradient at once,
// with no hook when one of them is final (docs/distributed.md measures what is at stake).
import * as tf from '@tensorflow/tfjs';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';

/** Bytes of one packed bucket (PyTorch DDP's default bucket_cap_mb). */
export const BUCKET_BYTES = 25 * 2 ** 20;
/** Gradients of at least this many floats with their own array are summed in place (smaller ones are packed). */
export const IN_PLACE_MIN = 16_384;

/** What the last sum did. */
export interface AllreduceStats {
  /** Wall time of the sum, seconds (copies included). */
  seconds: number;
  /** Gradient bytes summed. */
  bytes: number;
  /** MPI_Allreduce calls, and the bytes of them that went through a packed bucket. */
  calls: number;
  packedBytes: number;
}

interface Own {
  values: Float32Array;
  start: number;
  end: number;
}

/**
 * The tensor's own float32 array when it may be written in place: a cpu-family backend's storage
 * of exactly this tensor (refCount 1: no reshape or clone shares it), not overlapping an array
 * already claimed by an earlier gradient of the same sum; else null.
 */
function ownArray(t: tf.Tensor, claimed: Map<ArrayBufferLike, Own[]>): Float32Array | null {
  const backend = tf.backend();
  if (!(backend instanceof MathBackendCPU) || t.dtype !== 'float32') return null;
  const d = backend.data.get(t.dataId) as { values?: unknown; refCount?: number } | undefined;
  const values = d?.values;
  if (!(values instanceof Float32Array) || values.length !== t.size || (d?.refCount ?? 1) !== 1) return null;
  const start = values.byteOffset;
  const end = start + values.byteLength;
  const list = claimed.get(values.buffer) ?? [];
  if (list.some((o) => o.start < end && start < o.end)) return null;
  list.push({ values, start, end });
  claimed.set(values.buffer, list);
  return values;
}

/** Sums gradients over ranks with `reduce` (an in-place float32 sum allreduce, e.g. the MPI addon's). */
export class GradientAllreduce {
  private pack = new Float32Array(0);
  last: AllreduceStats = { seconds: 0, bytes: 0, calls: 0, packedBytes: 0 };

  constructor(
    private readonly reduce: (x: Float32Array) => void,
    private readonly bucketBytes = BUCKET_BYTES,
  ) {}

  /**
   * Sums every rank's `grads` (the same shapes, in the same order, on every rank). Returns the
   * summed gradients: the same tensors, summed in place, where their array is their own; new
   * tensors for the others (the old ones are disposed).
   */
  sum(grads: tf.Tensor[]): tf.Tensor[] {
    const t0 = performance.now();
    const claimed = new Map<ArrayBufferLike, Own[]>();
    const out = grads.slice();
    const stats: AllreduceStats = { seconds: 0, bytes: 0, calls: 0, packedBytes: 0 };
    const bucketFloats = Math.max(1, Math.floor(this.bucketBytes / 4));
    /** Gradients waiting in the current bucket: index, and its own array (null: replaced by a new tensor). */
    let pending: { i: number; own: Float32Array | null; offset: number }[] = [];
    let used = 0;
    const flush = () => {
      if (pending.length === 0) return;
      const view = this.pack.subarray(0, used);
      this.reduce(view);
      stats.calls++;
      stats.packedBytes += used * 4;
      for (const p of pending) {
        const g = out[p.i]!;
        const part = view.subarray(p.offset, p.offset + g.size);
        if (p.own) p.own.set(part);
        else {
          out[p.i] = tf.tensor(part.slice(), g.shape, 'float32');
          g.dispose();
        }
      }
      pending = [];
      used = 0;
    };
    grads.forEach((g, i) => {
      stats.bytes += g.size * 4;
      const own = ownArray(g, claimed);
      if (own && own.length >= IN_PLACE_MIN) {
        this.reduce(own);
        stats.calls++;
        return;
      }
      if (used > 0 && used + g.size > bucketFloats) flush();
      if (this.pack.length < used + g.size) {
        const grown = new Float32Array(Math.max(bucketFloats, used + g.size));
        grown.set(this.pack.subarray(0, used));
        this.pack = grown;
      }
      this.pack.set(own ?? (g.dataSync() as Float32Array), used);
      pending.push({ i, own, offset: used });
      used += g.size;
    });
    flush();
    stats.seconds = (performance.now() - t0) / 1000;
    this.last = stats;
    return out;
  }
}
