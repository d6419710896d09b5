// Builds the native kernels (native/src/*.cc → native/build/Release/resmlp_native.node) with
// node-gyp. Run by the package's `install` script, and by hand: `node native/build.mjs`.
// It never fails the install: on failure it prints a loud message and writes the reason to
// native/build/BUILD_FAILED.txt, which the backend chooser (src/backend/choose.ts) reports.
// Then the MPI addon (native/mpi/, only where Open MPI is installed; it says so when it is not).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const buildDir = join(here, 'build');
const failFile = join(buildDir, 'BUILD_FAILED.txt');

/** The node-gyp to run: npm's own when run by npm, else the one bundled with this node's npm. */
function findNodeGyp() {
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && existsSync(fromNpm)) return [process.execPath, fromNpm];
  const candidates = [
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    '/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
    '/usr/local/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
  ];
  try {
    const req = createRequire(import.meta.url);
    candidates.unshift(req.resolve('node-gyp/bin/node-gyp.js'));
  } catch { /* not a dependency: use npm's */ }
  for (const c of candidates) if (existsSync(c)) return [process.execPath, c];
  return null;
}

/** Headers: node-gyp would download them; offline we point it at the system's (Debian nodejs ships /usr/include/node). */
function nodedirArgs() {
  if (process.env.npm_config_nodedir) return [];
  for (const d of [join(dirname(process.execPath), '..'), '/usr', '/usr/local']) {
    if (existsSync(join(d, 'include', 'node', 'node_api.h'))) return [`--nodedir=${d}`];
  }
  return [];
}

/**
 * oneDNN (int8 decoding, native/src/int8.cc) when its header is installed (Debian libdnnl-dev);
 * without it the addon builds with int8 reported unavailable and fp32 unchanged.
 */
function dnnlArgs() {
  const header = ['/usr/include/oneapi/dnnl/dnnl.hpp', '/usr/local/include/oneapi/dnnl/dnnl.hpp'].find((h) => existsSync(h));
  if (header) {
    console.error(`resmlp: oneDNN found (${header}): int8 kernels are built`);
    return ['-Dresmlp_dnnl=1'];
  }
  console.error('resmlp: oneDNN not found (no oneapi/dnnl/dnnl.hpp): int8 decoding will be unavailable; install libdnnl-dev for it');
  return ['-Dresmlp_dnnl=0'];
}

function fail(reason) {
  // no stale addon from an earlier build: it could lack kernels the sources now have
  rmSync(join(buildDir, 'Release', 'resmlp_native.node'), { force: true });
  try {
    mkdirSync(buildDir, { recursive: true });
    writeFileSync(failFile, reason + '\n');
  } catch { /* still report below */ }
  const bar = '!'.repeat(78);
  console.error(`\n${bar}\n!! resmlp: the native kernels (native/) did NOT build.\n!! ${reason.split('\n').slice(0, 12).join('\n!! ')}\n` +
    `!! The 'native' backend is unavailable; 'auto' will fall back to wasm/cpu (much slower).\n` +
    `!! Needs: a C++ compiler, make, python3, libopenblas-dev. Retry with: node native/build.mjs\n` +
    `!! Full reason: ${failFile}\n${bar}\n`);
  buildMpi();
  process.exit(0);
}

/** The MPI addon (native/mpi/build.mjs): built only where Open MPI is installed, never failing this build. */
function buildMpi() {
  spawnSync(process.execPath, [join(here, 'mpi', 'build.mjs')], { stdio: 'inherit' });
}

const gyp = findNodeGyp();
if (!gyp) fail('node-gyp not found (looked for $npm_config_node_gyp and the node-gyp bundled with npm)');
rmSync(failFile, { force: true });
// configure + build rather than rebuild: rebuild deletes build/ first, which breaks every process
// loading the addon meanwhile (tests of other developers); build replaces the .node file at the end.
let r;
for (const step of ['configure', 'build']) {
  const args = [...gyp.slice(1), step, ...nodedirArgs(), ...(step === 'configure' ? ['--', ...dnnlArgs()] : [])];
  console.error(`resmlp: building native kernels: ${gyp[0]} ${args.join(' ')}`);
  r = spawnSync(gyp[0], args, { cwd: here, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error) fail(`could not run node-gyp: ${r.error.message}`);
  if (r.status !== 0) break;
}
if (r.status !== 0) {
  const lines = `${r.stdout}\n${r.stderr}`.split('\n');
  // the first compiler/linker error says most (e.g. "fatal error: cblas.h: No such file or directory")
  const first = lines.find((l) => /(fatal )?error:|cannot find -l|not found|No such file/.test(l) && !/^gyp ERR!/.test(l))
    ?? lines.find((l) => /gyp ERR! (stack Error|configure error|find)/.test(l)) ?? 'see the log below';
  const out = lines.filter((l) => /error|Error|ERR!|not found|No such/.test(l)).slice(-20).join('\n');
  fail(`node-gyp exited with status ${r.status}: ${first.trim()}\n${out || r.stderr.slice(-2000)}`);
}
if (!existsSync(join(buildDir, 'Release', 'resmlp_native.node'))) fail('node-gyp succeeded but build/Release/resmlp_native.node is missing');
console.error('resmlp: native kernels built: native/build/Release/resmlp_native.node');
buildMpi();
