// Which OpenBLAS kernels run: OPENBLAS_CORETYPE from the CPU's feature flags, set before the addon
// (which links OpenBLAS) loads. Debian's OpenBLAS is built with DYNAMIC_ARCH: at load it picks
// kernels from the CPU's family/model numbers, and a CPU it does not know (a virtualised Xeon that
// reports itself as "Intel Xeon Processor") gets "Prescott", its SSE3 fallback, several times
// slower (native/README.md, "Which OpenBLAS kernels"). OPENBLAS_CORETYPE is its own escape hatch,
// read once when the library loads. A value the user set is never touched.
import { readFileSync } from 'node:fs';

/** Feature flags of the first CPU in /proc/cpuinfo (empty off Linux or when unreadable). */
export function readCpuFlags(cpuinfo = '/proc/cpuinfo'): Set<string> {
  try {
    const m = /^flags\s*:\s*(.*)$/m.exec(readFileSync(cpuinfo, 'utf8'));
    return new Set(m ? m[1]!.trim().split(/\s+/) : []);
  } catch {
    return new Set();
  }
}

export interface CoreTypeChoice {
  /** The OPENBLAS_CORETYPE to set before loading, or null to leave OpenBLAS's own detection (or the user's value) alone. */
  set: string | null;
  /** Why, for the backend's log line. */
  reason: string;
}

/** x86 kernel sets OpenBLAS knows, by the widest vector instructions they use (a name not here gets no hint). */
const CORE_RANK: Record<string, number> = {
  prescott: 0,
  core2: 0,
  penryn: 0,
  dunnington: 0,
  nehalem: 0,
  atom: 0,
  opteron: 0,
  barcelona: 0,
  bobcat: 0,
  sandybridge: 1,
  bulldozer: 1,
  piledriver: 1,
  steamroller: 1,
  excavator: 1,
  haswell: 2,
  zen: 2,
  skylakex: 3,
  cooperlake: 4,
  sapphirerapids: 5,
};

/**
 * OPENBLAS_CORETYPE from x86 feature flags: the widest kernel set the CPU runs (SkylakeX needs
 * AVX-512 F/CD/BW/DQ/VL, Haswell AVX2+FMA, Sandybridge AVX). RESMLP_OPENBLAS_AUTOCORE=0 turns this off.
 * A value in the environment is kept; the reason says when it is narrower than what the CPU runs.
 */
export function chooseOpenblasCoreType(env: NodeJS.ProcessEnv, flags: Set<string>): CoreTypeChoice {
  const has = (...f: string[]) => f.every((x) => flags.has(x));
  const core = has('avx512f', 'avx512cd', 'avx512bw', 'avx512dq', 'avx512vl')
    ? 'SkylakeX'
    : has('avx2', 'fma')
      ? 'Haswell'
      : has('avx')
        ? 'Sandybridge'
        : null;
  if (env.OPENBLAS_CORETYPE) {
    // the user's choice stands; say when it is narrower than what the CPU runs (seen: an
    // environment pinning Haswell on an AVX-512 EPYC, where SkylakeX's kernels are faster)
    const user = env.OPENBLAS_CORETYPE;
    const rank = (name: string) => CORE_RANK[name.toLowerCase()];
    const narrower = core !== null && rank(user) !== undefined && rank(user)! < rank(core)!;
    const hint = narrower ? `; this CPU runs ${core}: unset it for ${core}'s kernels` : '';
    return { set: null, reason: `OPENBLAS_CORETYPE=${user} from the environment${hint}` };
  }
  if (env.RESMLP_OPENBLAS_AUTOCORE === '0') return { set: null, reason: "OpenBLAS's own detection (RESMLP_OPENBLAS_AUTOCORE=0)" };
  return core ? { set: core, reason: `OPENBLAS_CORETYPE=${core} from the CPU flags` } : { set: null, reason: "OpenBLAS's own detection" };
}
