// The one module that picks the TensorFlow.js backend. `auto` tries, in order, tfjs-node-gpu,
// tfjs-node, the native addon (src/backend/native.ts), wasm and the pure-JS cpu backend; an
// explicit name must work or initBackend throws with the reason (no silent fallback). The choice
// and why each earlier candidate was skipped are logged once, one stderr line each.
// Follows transformers.js's habit of isolating the tensor backend in one module.
import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';

/** Backend names a user can request (RESMLP_BACKEND, --backend). */
export const BACKEND_NAMES = ['auto', 'tensorflow-gpu', 'tensorflow', 'native', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
export type ConcreteBackend = Exclude<BackendName, 'auto'>;

/** Order `auto` tries. */
export const AUTO_ORDER: readonly ConcreteBackend[] = ['tensorflow-gpu', 'tensorflow', 'native', 'wasm', 'cpu'];

export interface BackendInfo {
  /** The backend chosen (one of BACKEND_NAMES except 'auto'). */
  name: ConcreteBackend;
  /** Threads its kernels use. */
  threads: number;
  /** Candidates tried before it and why each was skipped (only for 'auto'). */
  skipped: { name: ConcreteBackend; reason: string }[];
  /** What else the loader reported (native: which OpenBLAS kernels run and why). */
  detail?: string;
}

/** What a loader did: the tfjs backend name it registered and the threads it will use. */
export interface Loaded {
  tfName: string;
  threads: number;
  /** Extra words for the log line (native: the OpenBLAS kernel set). */
  detail?: string;
}

/** Makes one candidate available to tfjs (imports, registers); throws with the reason it cannot. */
export type Loader = () => Promise<Loaded>;
export type Loaders = Record<ConcreteBackend, Loader>;

export interface InitOptions {
  /** Replaces some loaders (tests simulate tfjs-node present, absent or throwing). */
  loaders?: Partial<Loaders>;
  /** Where the one-line log messages go; default stderr, once per process. */
  log?: (line: string) => void;
}

const require = createRequire(import.meta.url);

function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0]!.trim();
}

let wantedThreads: number | null = null;

function defaultThreads(): number {
  const env = process.env.RESMLP_THREADS;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 1) throw new Error(`RESMLP_THREADS must be a positive integer, found ${JSON.stringify(env)}`);
    return n;
  }
  return availableParallelism();
}

/** The real loaders. */
export const DEFAULT_LOADERS: Loaders = {
  'tensorflow-gpu': async () => {
    await import('@tensorflow/tfjs-node-gpu' as string);
    return { tfName: 'tensorflow', threads: wantedThreads ?? defaultThreads() };
  },
  tensorflow: async () => {
    await import('@tensorflow/tfjs-node' as string);
    return { tfName: 'tensorflow', threads: wantedThreads ?? defaultThreads() };
  },
  native: async () => {
    const native = await import('./native.js');
    const ok = native.nativeAvailable();
    if (!ok.ok) throw new Error(ok.reason);
    native.registerNativeBackend();
    if (wantedThreads !== null) native.setNativeThreads(wantedThreads);
    return { tfName: 'native', threads: native.getNativeThreads(), detail: `OpenBLAS ${native.blasDescription()}` };
  },
  wasm: async () => {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    // Under Node the .wasm binaries are read from the package's dist directory.
    wasm.setWasmPaths(dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + '/');
    return { tfName: 'wasm', threads: 1 }; // tfjs 4.22 disables wasm threads under Node
  },
  cpu: async () => ({ tfName: 'cpu', threads: 1 }),
};

let loggedOnce = false;

function parseName(requested: string): BackendName {
  if ((BACKEND_NAMES as readonly string[]).includes(requested)) return requested as BackendName;
  throw new Error(
    `unknown backend ${JSON.stringify(requested)}: expected one of ${BACKEND_NAMES.join(', ')} (RESMLP_BACKEND or --backend)`,
  );
}

async function tryOne(name: ConcreteBackend, loaders: Loaders): Promise<Loaded> {
  const loaded = await loaders[name]();
  let ok: boolean;
  try {
    ok = await tf.setBackend(loaded.tfName);
  } catch (e) {
    throw new Error(`tfjs could not initialise backend '${loaded.tfName}': ${firstLine(e)}`);
  }
  if (!ok || tf.getBackend() !== loaded.tfName) throw new Error(`tfjs could not initialise backend '${loaded.tfName}'`);
  await tf.ready();
  return loaded;
}

/**
 * Picks and activates the backend. `requested` is a name of BACKEND_NAMES; default
 * RESMLP_BACKEND, else 'auto'. Await once at startup.
 */
export async function initBackend(requested: string = process.env.RESMLP_BACKEND ?? 'auto', opts: InitOptions = {}): Promise<BackendInfo> {
  const name = parseName(requested);
  const loaders: Loaders = { ...DEFAULT_LOADERS, ...opts.loaders };
  const log =
    opts.log ??
    ((line: string) => {
      if (!loggedOnce) process.stderr.write(line + '\n');
    });
  const lines: string[] = [];
  let info: BackendInfo;
  if (name !== 'auto') {
    let loaded: Loaded;
    try {
      loaded = await tryOne(name, loaders);
    } catch (e) {
      throw new Error(`backend '${name}' was requested but is unavailable: ${firstLine(e)}`);
    }
    info = { name, threads: loaded.threads, skipped: [], ...(loaded.detail ? { detail: loaded.detail } : {}) };
  } else {
    const skipped: BackendInfo['skipped'] = [];
    let chosen: { name: ConcreteBackend; loaded: Loaded } | null = null;
    for (const cand of AUTO_ORDER) {
      try {
        chosen = { name: cand, loaded: await tryOne(cand, loaders) };
        break;
      } catch (e) {
        skipped.push({ name: cand, reason: firstLine(e) });
      }
    }
    if (!chosen) throw new Error(`no backend could be initialised: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`);
    for (const s of skipped) lines.push(`[resmlp] backend ${s.name} skipped: ${s.reason}`);
    info = {
      name: chosen.name,
      threads: chosen.loaded.threads,
      skipped,
      ...(chosen.loaded.detail ? { detail: chosen.loaded.detail } : {}),
    };
  }
  lines.push(
    `[resmlp] backend: ${info.name} (${info.threads} thread${info.threads === 1 ? '' : 's'}${name === 'auto' ? ', auto' : ''})${info.detail ? `; ${info.detail}` : ''}`,
  );
  for (const l of lines) log(l);
  if (!opts.log) loggedOnce = true;
  return info;
}

/**
 * Threads for the native kernels and OpenBLAS (also the default for a backend chosen later).
 * Other backends fix their threads when they start; for them this only records the wish.
 */
export async function setThreads(n: number): Promise<number> {
  if (!Number.isInteger(n) || n < 1) throw new Error(`setThreads: expected a positive integer, found ${n}`);
  wantedThreads = n;
  const native = await import('./native.js');
  if (native.nativeAvailable().ok) native.setNativeThreads(n);
  return n;
}
