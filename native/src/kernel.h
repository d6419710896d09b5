// What every kernel file shares: the thread count and parallel_for (OpenMP), flush-to-zero of
// denormals on the calling thread and on the workers, the HOT attribute that compiles a loop for
// several CPU generations, and reading a Float32Array argument. Kernels work in place on the
// TypedArrays they are given (the cpu backend's storage): the JS side allocates outputs, checks
// shapes and dtypes; this side only trusts lengths it can verify cheaply.
#pragma once

#include <napi.h>
#include <omp.h>
#if defined(__x86_64__)
#include <xmmintrin.h>
#endif

#include <algorithm>
#include <cstdint>
#include <string>

// Hot inner loops are compiled three times (x86-64-v4 = AVX-512, x86-64-v3 = AVX2+FMA, and the
// baseline) with GCC's target_clones, so the CPU is checked at run time rather than assumed at
// build time (AVX-512 gives the GELU kernels 16 lanes instead of 8; see native/README.md).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define HOT __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define HOT
#endif

#define ALWAYS_INLINE __attribute__((always_inline))

namespace resmlp {

// Threads of every kernel (setThreads; threads.cc owns it).
extern int g_threads;

constexpr int64_t kGrain = 1 << 15;  // elements per thread below which we stay single-threaded

// Denormal floats (|x| < 1.2e-38) take a microcode assist on x86: an sgemm whose inputs are
// denormal runs ~150x slower, and gradients of small-initialised layers produce them. Like
// TensorFlow's kernels, every kernel runs with flush-to-zero (results that would be denormal are
// 0) and denormals-are-zero (denormal inputs read as 0): the MXCSR bits are set for the duration
// of each call on the calling thread (WithFlushedDenormals, applied to every kernel export in
// addon.cc) and on every thread that works for it (OpenMP workers in parallel_for; OpenBLAS's
// workers are started from a thread that has them set, see set_openblas_threads in threads.cc).
#if defined(__x86_64__)
constexpr unsigned kFtzDaz = 0x8040;  // MXCSR FTZ (bit 15) | DAZ (bit 6)
struct FlushDenormals {
  unsigned saved;
  FlushDenormals() : saved(_mm_getcsr()) { _mm_setcsr(saved | kFtzDaz); }
  ~FlushDenormals() { _mm_setcsr(saved); }
};
inline void flush_denormals_here() { _mm_setcsr(_mm_getcsr() | kFtzDaz); }
#else
struct FlushDenormals {};
inline void flush_denormals_here() {}
#endif

// Runs f(begin, end) over [0, n) split into contiguous chunks, one per thread; small n runs on
// the calling thread only (a parallel region costs a few microseconds).
template <typename F>
void parallel_for(int64_t n, int64_t grain, F f) {
  int nt = g_threads;
  if (n < 2 * grain || nt <= 1) {
    if (n > 0) f(0, n);
    return;
  }
  nt = (int)std::min<int64_t>(nt, n / grain);
#pragma omp parallel num_threads(nt)
  {
    flush_denormals_here();  // workers only ever run these kernels; the caller's guard restores its own
    int t = omp_get_thread_num();
    int T = omp_get_num_threads();
    int64_t b = n * t / T, e = n * (t + 1) / T;
    if (e > b) f(b, e);
  }
}

// The data of a Float32Array argument (and its length in elements when len is given).
inline float* f32(const Napi::Value& v, size_t* len = nullptr) {
  auto arr = v.As<Napi::Float32Array>();
  if (len) *len = arr.ElementLength();
  return arr.Data();
}

// Throws a JS Error (the kernel then returns undefined). Out of line: kept off the hot path.
[[gnu::cold, gnu::noinline]] inline Napi::Value throw_error(const Napi::CallbackInfo& info, const std::string& message) {
  Napi::Error::New(info.Env(), message).ThrowAsJavaScriptException();
  return info.Env().Undefined();
}

// The N-API signature of every exported function.
using ExportFn = Napi::Value (*)(const Napi::CallbackInfo&);

}  // namespace resmlp
