// The process side of src/train/distributed/mpi.ts that needs no MPI: whether mpirun started us,
// the rank from the environment, a rank's default threads, and RESMLP_MPI_TIMEOUT.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultRankThreads, envRank, isLeadRank, mpiTimeoutSec, underMpirun } from '../../../src/train/distributed/mpi.js';

test("underMpirun, envRank and isLeadRank read Open MPI's variables", () => {
  assert.equal(underMpirun({}), false);
  assert.equal(envRank({ OMPI_COMM_WORLD_RANK: '3' }), 0, 'a rank variable without a world size is not mpirun');
  const env = { OMPI_COMM_WORLD_SIZE: '4', OMPI_COMM_WORLD_RANK: '3' };
  assert.equal(underMpirun(env), true);
  assert.equal(envRank(env), 3);
  assert.equal(isLeadRank(env), false);
  assert.equal(isLeadRank({ OMPI_COMM_WORLD_SIZE: '4', OMPI_COMM_WORLD_RANK: '0' }), true);
});

test("defaultRankThreads: the CPUs mpirun bound the rank to, else the host's CPUs shared by its ranks", () => {
  assert.equal(defaultRankThreads(2, 1, 2), 1, 'mpirun -np 2 binds each rank to one core');
  assert.equal(defaultRankThreads(16, 4, 4), 4, '--map-by …:PE=4');
  assert.equal(defaultRankThreads(2, 2, 2), 1, '--bind-to none: 2 cores for 2 ranks');
  assert.equal(defaultRankThreads(16, 16, 2), 8);
  assert.equal(defaultRankThreads(2, 2, 4), 1, 'never below 1');
});

test('mpiTimeoutSec: default 1800, 0 = no limit, garbage refused', () => {
  assert.equal(mpiTimeoutSec({}), 1800);
  assert.equal(mpiTimeoutSec({ RESMLP_MPI_TIMEOUT: '0' }), 0);
  assert.equal(mpiTimeoutSec({ RESMLP_MPI_TIMEOUT: '2.5' }), 2.5);
  assert.throws(() => mpiTimeoutSec({ RESMLP_MPI_TIMEOUT: 'soon' }), /RESMLP_MPI_TIMEOUT must be a number of seconds ≥ 0/);
});
