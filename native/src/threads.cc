// Threads of the kernels and of OpenBLAS (see threads.h), and blasCore(): what OpenBLAS loaded.
#include "threads.h"

#include <cblas.h>
#include <dlfcn.h>
#include <omp.h>

#include "exports.h"

namespace resmlp {

int g_threads = 1;          // setThreads; all cores by default (init_threads)
bool g_matmul_split = true;  // setMatmulSplit
bool g_blas_openmp = false;  // read at load (init_threads)

namespace {
// OpenBLAS's thread count for the current mode.
inline int blas_threads() { return g_matmul_split ? 1 : g_threads; }

}  // namespace

void init_threads() {
  g_threads = std::max(1, omp_get_num_procs());
  g_blas_openmp = openblas_get_parallel() == 2;
  set_openblas_threads(blas_threads());
}

// Sets OpenBLAS's thread count with its worker threads (re)created from this thread while it has
// FTZ/DAZ set: new threads inherit the creator's MXCSR, and OpenBLAS's workers (unlike OpenMP's,
// see parallel_for) run no code of ours that could set it. blas_thread_shutdown_ (pthreads builds)
// makes the next call start fresh workers; builds without it keep theirs (and their MXCSR).
void set_openblas_threads(int n) {
  FlushDenormals ftz;
  using Shutdown = void (*)(void);
  static Shutdown shutdown = (Shutdown)dlsym(RTLD_DEFAULT, "blas_thread_shutdown_");
  if (shutdown) shutdown();
  openblas_set_num_threads(n);
}

Napi::Value SetThreadsFn(const Napi::CallbackInfo& info) {
  int n = info[0].As<Napi::Number>().Int32Value();
  if (n < 1) n = 1;
  g_threads = n;
  omp_set_num_threads(n);
  set_openblas_threads(blas_threads());
  return Napi::Number::New(info.Env(), g_threads);
}

Napi::Value GetThreadsFn(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), g_threads); }

// setMatmulSplit(on): true = our threads split each sgemm call (OpenBLAS on one thread), false =
// OpenBLAS threads each product itself. Returns the setting.
Napi::Value SetMatmulSplitFn(const Napi::CallbackInfo& info) {
  g_matmul_split = info[0].As<Napi::Boolean>().Value();
  set_openblas_threads(blas_threads());
  return Napi::Boolean::New(info.Env(), g_matmul_split);
}

// blasCore(): the kernel set OpenBLAS picked at load ("SkylakeX", "Haswell", … ; "Prescott" is
// its SSE3 fallback for CPUs it does not recognise), its build configuration and its threading
// ("openmp": its threads are ours; "pthreads": a pool of its own).
Napi::Value BlasCoreFn(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  const char* core = openblas_get_corename();
  const char* config = openblas_get_config();
  o.Set("core", Napi::String::New(info.Env(), core ? core : ""));
  o.Set("config", Napi::String::New(info.Env(), config ? config : ""));
  const int parallel = openblas_get_parallel();
  o.Set("threading", Napi::String::New(info.Env(), parallel == 2 ? "openmp" : parallel == 1 ? "pthreads" : "sequential"));
  return o;
}

}  // namespace resmlp
