// Reads a float32 tensor into an array the caller keeps and reuses (a decoder's per-step
// log-probs). On the native backend the tensor's pooled buffer is copied, not handed out, so it
// goes back to the pool on dispose: dataSync() would let it escape, and every decoding step would
// then allocate (zero, page-fault, later collect) a fresh (rows, V) array. Elsewhere: dataSync.
import * as tf from '@tensorflow/tfjs';
import { NativeBackend } from './native/pool.js';

/** Copies t (float32, t.size ≤ dst.length) into the first t.size values of `dst`; returns that view. */
export function readInto(t: tf.Tensor, dst: Float32Array): Float32Array {
  if (t.dtype !== 'float32' || t.size > dst.length)
    throw new Error(`readInto: expected float32 of at most ${dst.length} values, found ${t.dtype} [${t.shape}]`);
  const out = t.size === dst.length ? dst : dst.subarray(0, t.size);
  const b = tf.backend();
  if (b instanceof NativeBackend) b.readInto(t.dataId, out);
  else out.set(t.dataSync() as Float32Array);
  return out;
}
