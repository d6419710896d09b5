// The MPI addon (resmlp_mpi.node): Open MPI for data-parallel training, kept apart from the
// kernels' addon so that addon builds and loads where MPI is not installed. Loaded only by a
// process that mpirun started (src/train/distributed/mpi.ts); what it exports, by name. The
// functions live in world.cc (init, abort, finalize) and collectives.cc.
#include "mpi_addon.h"

namespace {

Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  using namespace resmlp_mpi;
  exports.Set("init", Napi::Function::New(env, Init, "init"));
  exports.Set("abort", Napi::Function::New(env, Abort, "abort"));
  exports.Set("finalize", Napi::Function::New(env, Finalize, "finalize"));
  exports.Set("wtime", Napi::Function::New(env, Wtime, "wtime"));
  exports.Set("allreduce", Napi::Function::New(env, Allreduce, "allreduce"));
  exports.Set("bcastBulk", Napi::Function::New(env, BcastBulk, "bcastBulk"));
  exports.Set("gatherTimed", Napi::Function::New(env, GatherTimed, "gatherTimed"));
  exports.Set("bcastTimed", Napi::Function::New(env, BcastTimed, "bcastTimed"));
  exports.Set("rawAllreduce", Napi::Function::New(env, RawAllreduce, "rawAllreduce"));
  return exports;
}

}  // namespace

NODE_API_MODULE(resmlp_mpi, InitModule)
