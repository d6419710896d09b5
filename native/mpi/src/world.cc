// Joining MPI_COMM_WORLD from a Node process started by mpirun, and leaving it: Init (rank, size,
// ranks on this host, host name, library version), Abort (MPI_Abort: mpirun then stops every rank,
// the job's way to fail fast instead of hanging in a collective) and Finalize. As mpi4py does, the
// MPI library is re-opened RTLD_GLOBAL first: Node opens addons RTLD_LOCAL, and Open MPI's
// plugins (mca_*.so) look up libmpi's symbols in the global scope.
#include <dlfcn.h>

#include <string>

#include "mpi_addon.h"

namespace resmlp_mpi {

namespace {
bool g_initialized = false;
bool g_finalized = false;
int g_rank = 0, g_size = 1, g_local_rank = 0, g_local_size = 1, g_thread_level = 0;
}  // namespace

bool Ready(Napi::Env env, const char* fn) {
  if (g_initialized && !g_finalized) return true;
  Napi::Error::New(env, std::string(fn) + ": MPI is " + (g_finalized ? "finalized" : "not initialised (call init first)"))
      .ThrowAsJavaScriptException();
  return false;
}

void ThrowMpi(Napi::Env env, const char* what, int rc) {
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(rc, msg, &len) != MPI_SUCCESS) len = 0;
  Napi::Error::New(env, std::string(what) + ": " + (len > 0 ? std::string(msg, len) : "MPI error " + std::to_string(rc)))
      .ThrowAsJavaScriptException();
}

Bytes BytesOf(Napi::Env env, const Napi::Value& v, const char* fn, const char* arg) {
  if (!v.IsTypedArray()) {
    Napi::TypeError::New(env, std::string(fn) + ": " + arg + " must be a TypedArray").ThrowAsJavaScriptException();
    return {nullptr, 0};
  }
  auto t = v.As<Napi::TypedArray>();
  auto* base = static_cast<char*>(t.ArrayBuffer().Data());
  return {base + t.ByteOffset(), t.ByteLength()};
}

// init() → { rank, size, localRank, localSize, host, library, threadLevel }; idempotent.
Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (g_finalized) {
    Napi::Error::New(env, "init: MPI was finalized in this process; it cannot be initialised again").ThrowAsJavaScriptException();
    return env.Null();
  }
  if (!g_initialized) {
    Dl_info dl;
    if (dladdr(reinterpret_cast<void*>(&MPI_Init_thread), &dl) != 0 && dl.dli_fname != nullptr) {
      dlopen(dl.dli_fname, RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD);
    }
    int provided = 0;
    int rc = MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
    if (rc != MPI_SUCCESS) {
      ThrowMpi(env, "MPI_Init_thread", rc);
      return env.Null();
    }
    g_initialized = true;
    g_thread_level = provided;
    // errors come back as codes (thrown as JS errors naming the call), not Open MPI's own abort
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    MPI_Comm local;
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, g_rank, MPI_INFO_NULL, &local) == MPI_SUCCESS) {
      MPI_Comm_rank(local, &g_local_rank);
      MPI_Comm_size(local, &g_local_size);
      MPI_Comm_free(&local);
    }
  }
  char host[MPI_MAX_PROCESSOR_NAME];
  int host_len = 0;
  MPI_Get_processor_name(host, &host_len);
  char lib[MPI_MAX_LIBRARY_VERSION_STRING];
  int lib_len = 0;
  MPI_Get_library_version(lib, &lib_len);
  std::string library(lib, lib_len);
  library = library.substr(0, library.find_first_of(",\n"));  // "Open MPI v4.1.4"
  Napi::Object o = Napi::Object::New(env);
  o.Set("rank", g_rank);
  o.Set("size", g_size);
  o.Set("localRank", g_local_rank);
  o.Set("localSize", g_local_size);
  o.Set("host", std::string(host, host_len));
  o.Set("library", library);
  o.Set("threadLevel", g_thread_level);
  return o;
}

// abort(code): MPI_Abort on MPI_COMM_WORLD; mpirun kills every rank. Does not return.
Napi::Value Abort(const Napi::CallbackInfo& info) {
  int code = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 1;
  if (g_initialized && !g_finalized) MPI_Abort(MPI_COMM_WORLD, code);
  return info.Env().Undefined();
}

// finalize(): MPI_Finalize once (a no-op afterwards or before init).
Napi::Value Finalize(const Napi::CallbackInfo& info) {
  if (g_initialized && !g_finalized) {
    g_finalized = true;
    int rc = MPI_Finalize();
    if (rc != MPI_SUCCESS) ThrowMpi(info.Env(), "MPI_Finalize", rc);
  }
  return info.Env().Undefined();
}

// wtime(): MPI_Wtime, seconds.
Napi::Value Wtime(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), MPI_Wtime());
}

}  // namespace resmlp_mpi
