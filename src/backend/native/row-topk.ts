// The beam search's per-row top-k on the addon (native/src/topk.cc), for models on the native
// backend to offer the search (src/mt/decoding/search.ts RowTopK): it ranks rows × k values per
// step instead of rows × V in JavaScript.
import * as tf from '@tensorflow/tfjs';
import { loadAddon } from './load.js';

/** The k best of each row of x (rows, V) into values/ids (rows, k); false unless the backend is native. */
export function nativeRowTopK(x: Float32Array, rows: number, V: number, k: number, values: Float32Array, ids: Int32Array): boolean {
  if (tf.getBackend() !== 'native') return false;
  const a = loadAddon();
  if (!a) return false;
  a.addon.rowTopK(x, rows, V, k, values, ids);
  return true;
}
