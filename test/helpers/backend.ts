// The backend tests run on: `native` (src/backend/choose.ts) by default once that file exists,
// else `cpu`. RESMLP_TEST_BACKEND=<name> picks one explicitly; RESMLP_TEST_BACKEND_FALLBACK=cpu lets
// a failing choice fall back to cpu (with a warning) instead of failing the tests. Nothing silent.
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const choosePath = fileURLToPath(new URL('../../src/backend/choose.ts', import.meta.url));
let ready: Promise<string> | null = null;

async function init(): Promise<string> {
  const requested = process.env.RESMLP_TEST_BACKEND;
  const fallback = process.env.RESMLP_TEST_BACKEND_FALLBACK;
  if (!existsSync(choosePath)) {
    if (requested && requested !== 'cpu') {
      throw new Error(`RESMLP_TEST_BACKEND=${requested} but src/backend/choose.ts does not exist yet; only 'cpu' is available`);
    }
    await tf.setBackend('cpu');
    return 'cpu';
  }
  const name = requested ?? 'native';
  try {
    const mod = (await import(pathToFileURL(choosePath).href)) as { initBackend: (name: string) => unknown };
    await mod.initBackend(name);
    return tf.getBackend();
  } catch (err) {
    if (fallback !== 'cpu') throw err;
    console.warn(`test backend '${name}' failed (${(err as Error).message}); RESMLP_TEST_BACKEND_FALLBACK=cpu: using cpu`);
    await tf.setBackend('cpu');
    return 'cpu';
  }
}

/** Initialises the test backend once per process; returns its name. */
export function useTestBackend(): Promise<string> {
  ready ??= init();
  return ready;
}
