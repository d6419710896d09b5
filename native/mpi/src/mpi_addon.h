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

// world.cc
Napi::Value Init(const Napi::CallbackInfo& info);
Napi::Value Abort(const Napi::CallbackInfo& info);
Napi::Value Finalize(const Napi::CallbackInfo& info);
Napi::Value Wtime(const Napi::CallbackInfo& info);

// collectives.cc
Napi::Value Allreduce(const Napi::CallbackInfo& info);
Napi::Value BcastBulk(const Napi::CallbackInfo& info);
Napi::Value GatherTimed(const Napi::CallbackInfo& info);
Napi::Value BcastTimed(const Napi::CallbackInfo& info);
Napi::Value RawAllreduce(const Napi::CallbackInfo& info);

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
