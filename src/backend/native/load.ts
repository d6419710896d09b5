// Loads the N-API addon (native/build/Release/resmlp_native.node) once, after setting what must be
// in the environment before OpenBLAS and libgomp load (OPENBLAS_CORETYPE, GOMP_SPINCOUNT), checks
// its functions and op table against the TypeScript side (addon.ts), and applies RESMLP_THREADS
// and RESMLP_MATMUL_SPLIT. Every failure becomes a reason the backend chooser reports
// (src/backend/choose.ts): the build's own failure text, a load error, a mismatched addon, a bad
// environment variable. Threads and the OpenBLAS build: native/README.md.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkAddon, type LoadedAddon, type NativeAddon } from './addon.js';
import { chooseOpenblasCoreType, readCpuFlags, type CoreTypeChoice } from './openblas-core.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const addonPath = join(repoRoot, 'native', 'build', 'Release', 'resmlp_native.node');
const failFile = join(repoRoot, 'native', 'build', 'BUILD_FAILED.txt');

let loaded: LoadedAddon | null = null;
let loadError: string | null = null;
let coreTypeChoice: CoreTypeChoice | null = null;

/** The addon and its op codes, loading it on first use; null (with loadError set) when it is unavailable. */
export function loadAddon(): LoadedAddon | null {
  if (loaded || loadError) return loaded;
  if (!existsSync(addonPath)) {
    // the build's reason, first line only (the file has the details)
    const why = existsSync(failFile)
      ? `${readFileSync(failFile, 'utf8').split('\n')[0]!.trim()} (details: ${failFile})`
      : 'no build was attempted or it left nothing';
    loadError = `native addon not built (${addonPath} missing): ${why}. Build it with: node native/build.mjs`;
    return null;
  }
  coreTypeChoice = chooseOpenblasCoreType(process.env, readCpuFlags());
  if (coreTypeChoice.set) process.env.OPENBLAS_CORETYPE = coreTypeChoice.set;
  // OpenMP worker threads spin after each parallel region (libgomp's default: 300000 pause
  // iterations) before they sleep; a sleeping worker takes tens of microseconds to wake on these
  // VMs, so the spin bridges the JS between two kernels (a training step is faster with the long
  // spin: native/README.md). When OpenBLAS threads every matmul itself (RESMLP_MATMUL_SPLIT=0) and
  // is its pthreads build, its workers would compete with spinning OpenMP workers, so the spin is
  // kept short then (OpenBLAS's OpenMP build, the one binding.gyp links, shares our pool and does
  // not need it). Read by libgomp when it loads; a value the user set is kept.
  const split = process.env.RESMLP_MATMUL_SPLIT || '1'; // 0: OpenBLAS threads each product itself
  if (split !== '0' && split !== '1') {
    loadError = `RESMLP_MATMUL_SPLIT must be 0 or 1, found ${JSON.stringify(split)}`;
    return null;
  }
  if (split === '0') process.env.GOMP_SPINCOUNT ??= '10000';
  let mod: unknown;
  try {
    mod = createRequire(import.meta.url)(addonPath);
  } catch (e) {
    loadError = `native addon failed to load from ${addonPath}: ${(e as Error).message}. Rebuild with: node native/build.mjs`;
    return null;
  }
  let checked: LoadedAddon;
  try {
    checked = checkAddon(mod, addonPath);
  } catch (e) {
    loadError = (e as Error).message;
    return null;
  }
  const { addon } = checked;
  const env = process.env.RESMLP_THREADS;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 1) {
      loadError = `RESMLP_THREADS must be a positive integer, found ${JSON.stringify(env)}`;
      return null;
    }
    addon.setThreads(n);
  } else {
    addon.setThreads(addon.getThreads()); // applies the default (all cores) to OpenBLAS too
  }
  if (split === '0') addon.setMatmulSplit(false);
  loaded = checked;
  return loaded;
}

/** Why the addon is unavailable (after loadAddon returned null). */
export function loadFailure(): string {
  return loadError ?? 'native addon unavailable';
}

/** The addon and its op codes; throws with the reason when it is unavailable. */
export function requireAddon(): LoadedAddon {
  const a = loadAddon();
  if (!a) throw new Error(loadFailure());
  return a;
}

/**
 * OpenBLAS's kernel set, how it was chosen and its threading build, e.g. "SkylakeX
 * (OPENBLAS_CORETYPE=SkylakeX from the CPU flags), OpenMP build". With the pthreads build (no
 * libopenblas-openmp-dev) large single products stay with our split (native/README.md).
 */
export function blasDescription(): string {
  const a = loadAddon();
  if (!a) return 'unavailable';
  const { core, threading } = a.addon.blasCore();
  return `${core.trim()} (${coreTypeChoice?.reason ?? "OpenBLAS's own detection"}), ${threading === 'openmp' ? 'OpenMP' : threading} build`;
}

/** Whether the addon loads; `reason` says why not (build failure text, load error, mismatch). */
export function nativeAvailable(): { ok: boolean; reason: string } {
  return loadAddon() ? { ok: true, reason: '' } : { ok: false, reason: loadFailure() };
}

/** The loaded addon (throws with the reason when it is unavailable). For benches and tests. */
export function nativeAddon(): NativeAddon {
  return requireAddon().addon;
}

/** Threads used by the native kernels and OpenBLAS. */
export function setNativeThreads(n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new Error(`setThreads: expected a positive integer, found ${n}`);
  return nativeAddon().setThreads(n);
}

export function getNativeThreads(): number {
  return nativeAddon().getThreads();
}
