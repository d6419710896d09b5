// The MPI addon's shared declarations: the exports of world.cc (joining MPI_COMM_WORLD, abort,
// finalize) and collectives.cc (in-place allreduce, bulk broadcast, and the small gathers and
// broadcasts with a deadline that the training loop's watchdog is made of), and the helpers they
// share (reading a TypedArray argument's bytes, throwing an MPI error code as a JS error).
// MPI calls come only from the Node main thread (MPI_THREAD_FUNNELED).
#pragma once

#include <mpi.h>
#include <napi.h>

#include <cstddef>

namespace resmlp_mpi {

// What the addon exports, listed once: X(name the TypeScript side calls, function). This header
// declares them from the list and addon.cc registers them from it.
#define RESMLP_MPI_EXPORTS(X)                \
  /* world.cc */                             \
  X(init, Init)                              \
  X(abort, Abort)                            \
  X(finalize, Finalize)                      \
  X(wtime, Wtime)                            \
  /* collectives.cc */                       \
  X(allreduce, Allreduce)                    \
  X(bcastBulk, BcastBulk)                    \
  X(gatherTimed, GatherTimed)                \
  X(bcastTimed, BcastTimed)                  \
  X(rawAllreduce, RawAllreduce)

#define RESMLP_MPI_DECLARE(name, fn) Napi::Value fn(const Napi::CallbackInfo& info);
RESMLP_MPI_EXPORTS(RESMLP_MPI_DECLARE)
#undef RESMLP_MPI_DECLARE

// True once Init ran and Finalize did not; otherwise throws a JS error naming `fn` and returns false.
bool Ready(Napi::Env env, const char* fn);

// Throws a JS error "`what`: <MPI's error string>" for a failed MPI call.
void ThrowMpi(Napi::Env env, const char* what, int rc);

// The bytes of a TypedArray argument (any element type), or {nullptr, 0} with a JS error thrown.
struct Bytes {
  char* data;
  size_t size;
};
Bytes BytesOf(Napi::Env env, const Napi::Value& v, const char* fn, const char* arg);

}  // namespace resmlp_mpi
