// Builds the MPI addon (native/mpi/src/*.cc → native/mpi/build/Release/resmlp_mpi.node) with
// node-gyp, only where Open MPI's compiler wrapper `mpicc` and mpi.h are installed; run by
// native/build.mjs after the kernels' addon, and by hand: `node native/mpi/build.mjs`.
// Without MPI it says so and builds nothing: only `mpirun` needs this addon, and a process started
// by mpirun without it fails with the install command (src/train/distributed/mpi.ts). It never
// fails the install; the reason lands in native/mpi/build/BUILD_SKIPPED.txt or BUILD_FAILED.txt.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const buildDir = join(here, 'build');
const addon = join(buildDir, 'Release', 'resmlp_mpi.node');
const INSTALL = 'apt-get install openmpi-bin libopenmpi-dev (Debian/Ubuntu), then: node native/build.mjs';

function note(file, reason) {
  rmSync(addon, { force: true });
  mkdirSync(buildDir, { recursive: true });
  writeFileSync(join(buildDir, file), reason + '\n');
}

/** node-gyp: npm's own when run by npm, else the one bundled with this node's npm. */
function findNodeGyp() {
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && existsSync(fromNpm)) return fromNpm;
  return [
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    '/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
    '/usr/local/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
  ].find((c) => existsSync(c));
}

/** The system's Node headers (offline: node-gyp would download them). */
function nodedirArgs() {
  if (process.env.npm_config_nodedir) return [];
  const d = [join(dirname(process.execPath), '..'), '/usr', '/usr/local'].find((x) => existsSync(join(x, 'include', 'node', 'node_api.h')));
  return d ? [`--nodedir=${d}`] : [];
}

function build() {
  for (const f of ['BUILD_SKIPPED.txt', 'BUILD_FAILED.txt']) rmSync(join(buildDir, f), { force: true });
  const show = spawnSync('mpicc', ['--showme:incdirs'], { encoding: 'utf8' });
  const incdirs = show.status === 0 ? show.stdout.trim().split(/\s+/).filter(Boolean) : [];
  if (show.error || show.status !== 0 || !incdirs.some((d) => existsSync(join(d, 'mpi.h')))) {
    const why = show.error || show.status !== 0 ? 'Open MPI\'s mpicc is not installed' : `mpi.h not found in ${incdirs.join(', ')}`;
    note('BUILD_SKIPPED.txt', `${why}; the MPI addon (only needed to train under mpirun) was not built. Install: ${INSTALL}`);
    console.error(`resmlp: MPI addon not built: ${why} (only needed for mpirun; install: ${INSTALL})`);
    return;
  }
  const gyp = findNodeGyp();
  if (!gyp) {
    note('BUILD_FAILED.txt', 'node-gyp not found (looked for $npm_config_node_gyp and the node-gyp bundled with npm)');
    console.error('resmlp: MPI addon not built: node-gyp not found');
    return;
  }
  for (const step of ['configure', 'build']) {
    const args = [gyp, step, ...nodedirArgs()];
    console.error(`resmlp: building the MPI addon: ${process.execPath} ${args.join(' ')}`);
    const r = spawnSync(process.execPath, args, { cwd: here, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    if (r.error || r.status !== 0) {
      const lines = `${r.stdout ?? ''}\n${r.stderr ?? ''}`.split('\n');
      const first = lines.find((l) => /(fatal )?error:|cannot find -l|not found/.test(l) && !/^gyp ERR!/.test(l)) ?? r.error?.message ?? `node-gyp ${step} exited with ${r.status}`;
      note('BUILD_FAILED.txt', `${first.trim()}\n${lines.filter((l) => /error|ERR!/.test(l)).slice(-20).join('\n')}`);
      console.error(`resmlp: the MPI addon did NOT build (mpirun training unavailable): ${first.trim()}; details: ${join(buildDir, 'BUILD_FAILED.txt')}`);
      return;
    }
  }
  if (!existsSync(addon)) {
    note('BUILD_FAILED.txt', `node-gyp succeeded but ${addon} is missing`);
    return;
  }
  console.error(`resmlp: MPI addon built: native/mpi/build/Release/resmlp_mpi.node`);
}

build();
