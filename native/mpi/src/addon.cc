// The MPI addon (resmlp_mpi.node): Open MPI for data-parallel training, kept apart from the
// kernels' addon so that addon builds and loads where MPI is not installed. Loaded only by a
// process that mpirun started (src/train/distributed/mpi.ts); what it exports, by name (the list
// of mpi_addon.h). The functions live in world.cc (init, abort, finalize) and collectives.cc.
#include "mpi_addon.h"

namespace {

Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  using namespace resmlp_mpi;
#define RESMLP_MPI_REGISTER(name, fn) exports.Set(#name, Napi::Function::New(env, fn, #name));
  RESMLP_MPI_EXPORTS(RESMLP_MPI_REGISTER)
#undef RESMLP_MPI_REGISTER
  return exports;
}

}  // namespace

NODE_API_MODULE(resmlp_mpi, InitModule)
