// N-API addon: the float32 kernels of the `native` TensorFlow.js backend (src/backend/native.ts).
// Matmul goes to OpenBLAS (cblas_sgemm); elementwise, reduction, transpose, gather and scatter
// kernels are plain loops split over cores with OpenMP. Every function works in place on the
// TypedArrays it is given (the cpu backend's storage): the JS side allocates outputs, checks
// shapes and dtypes; this side only trusts lengths it can verify cheaply.
// Hot inner loops are compiled three times (x86-64-v4 = AVX-512, x86-64-v3 = AVX2+FMA, and the
// baseline) with GCC's target_clones, so the CPU is checked at run time rather than assumed at
// build time (AVX-512 halved the GELU kernels' time on an AVX-512 EPYC: 16 lanes instead of 8).
#include <napi.h>
#include <cblas.h>
#include <omp.h>
#include <malloc.h>
#include <dlfcn.h>
#if defined(__x86_64__)
#include <xmmintrin.h>
#endif

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

extern "C" void openblas_set_num_threads(int);
extern "C" int openblas_get_num_threads(void);
extern "C" int openblas_get_parallel(void);  // 0 sequential, 1 pthreads, 2 OpenMP

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define HOT __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define HOT
#endif

#define ALWAYS_INLINE __attribute__((always_inline))

namespace {

int g_threads = 1;
// Matmul threading: true (default) = our threads split each sgemm call and OpenBLAS runs on one
// thread; false = OpenBLAS threads each product itself (see SgemmFn). setMatmulSplit switches.
bool g_matmul_split = true;
// Below this much work (M·N·K summed over the batch, ~0.26 MFLOP) a call stays on one thread: a
// parallel region costs a few microseconds.
constexpr int64_t kParallelMNK = 1 << 17;
// From this much work (M·N·K ≥ 2^29, ~1 GFLOP) a single product (batch 1) is threaded by OpenBLAS
// even in split mode, if OpenBLAS is its OpenMP build (g_blas_openmp, see SgemmFn).
constexpr int64_t kOpenblasThreadsMNK = 1 << 29;
// OpenBLAS's threading model (openblas_get_parallel() == 2): its threads are libgomp's, ours.
bool g_blas_openmp = false;
// OpenBLAS's thread count for the current mode.
inline int blas_threads() { return g_matmul_split ? 1 : g_threads; }
void set_openblas_threads(int n);

// Denormal floats (|x| < 1.2e-38) take a microcode assist on x86: an sgemm whose inputs are
// denormal runs ~150x slower, and gradients of small-initialised layers produce them. Like
// TensorFlow's kernels, every kernel runs with flush-to-zero (results that would be denormal are
// 0) and denormals-are-zero (denormal inputs read as 0): the MXCSR bits are set for the duration
// of each call on the calling thread (WithFlushedDenormals, applied to every kernel export in Init)
// and on every thread that works for it (OpenMP workers in parallel_for; OpenBLAS's workers are
// started from a thread that has them set, see set_openblas_threads).
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

// A kernel export run under FlushDenormals (the caller's MXCSR is restored when it returns).
template <Napi::Value (*F)(const Napi::CallbackInfo&)>
Napi::Value WithFlushedDenormals(const Napi::CallbackInfo& info) {
  FlushDenormals ftz;
  return F(info);
}

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

constexpr int64_t kGrain = 1 << 15;  // elements per thread below which we stay single-threaded

// ---- vectorisable exp (Cephes expf: range reduction by ln2, degree-6 polynomial, ~1 ulp) ----
// Branch-free so that GCC vectorises the loops that call it (with -fno-trapping-math).
ALWAYS_INLINE static inline float exp_f(float x) {
  float xc = std::min(std::max(x, -87.33654f), 88.72283f);
  float t = xc * 1.44269504088896341f + 12582912.0f;  // round to nearest via the 1.5·2^23 trick
  int32_t n = __builtin_bit_cast(int32_t, t) - 0x4B400000;
  float fn = t - 12582912.0f;
  float r = xc - fn * 0.693359375f + fn * 2.12194440e-4f;
  float r2 = r * r;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  float y = p * r2 + r + 1.0f;
  y = __builtin_bit_cast(float, __builtin_bit_cast(int32_t, y) + (n << 23));
  y = x < -87.33654f ? 0.0f : y;
  y = x > 88.72283f ? INFINITY : y;
  y = x != x ? x : y;
  return y;
}

// Cephes logf (~1 ulp for normal inputs), branch-free; denormal inputs are scaled first.
ALWAYS_INLINE static inline float log_f(float x) {
  bool den = x < 1.17549435e-38f;
  float xs = den ? x * 8388608.0f : x;  // 2^23
  int32_t ix = __builtin_bit_cast(int32_t, xs);
  float e = (float)(((ix >> 23) & 0xff) - 126) - (den ? 23.0f : 0.0f);
  float m = __builtin_bit_cast(float, (ix & 0x007fffff) | 0x3f000000);  // [0.5, 1)
  bool lo = m < 0.707106781186547524f;
  e = lo ? e - 1.0f : e;
  m = lo ? m + m - 1.0f : m - 1.0f;
  float z = m * m;
  float p = 7.0376836292e-2f;
  p = p * m - 1.1514610310e-1f;
  p = p * m + 1.1676998740e-1f;
  p = p * m - 1.2420140846e-1f;
  p = p * m + 1.4249322787e-1f;
  p = p * m - 1.6668057665e-1f;
  p = p * m + 2.0000714765e-1f;
  p = p * m - 2.4999993993e-1f;
  p = p * m + 3.3333331174e-1f;
  float y = p * m * z;
  y += -2.12194440e-4f * e;
  y += -0.5f * z;
  float r = m + y + 0.693359375f * e;
  r = x == 0.0f ? -INFINITY : r;
  r = x < 0.0f ? NAN : r;
  r = x == INFINITY ? INFINITY : r;
  return x != x ? x : r;
}

ALWAYS_INLINE static inline float tanh_f(float x) {
  float ax = std::fabs(x);
  float x2 = x * x;
  float small = x * (1.0f + x2 * (-1.0f / 3 + x2 * (2.0f / 15 + x2 * (-17.0f / 315))));
  float e = exp_f(2.0f * std::min(ax, 20.0f));
  float v = 1.0f - 2.0f / (e + 1.0f);
  v = x < 0 ? -v : v;
  float r = ax < 0.0625f ? small : v;
  return x != x ? x : r;
}

ALWAYS_INLINE static inline float sigmoid_f(float x) { return 1.0f / (1.0f + exp_f(-x)); }

// erfc for z ≥ 0 (Numerical Recipes' erfcc, fractional error < 1.2e-7 everywhere).
ALWAYS_INLINE static inline float erfc_pos(float z) {
  float t = 1.0f / (1.0f + 0.5f * z);
  float p = 0.17087277f;
  p = p * t - 0.82215223f;
  p = p * t + 1.48851587f;
  p = p * t - 1.13520398f;
  p = p * t + 0.27886807f;
  p = p * t - 0.18628806f;
  p = p * t + 0.09678418f;
  p = p * t + 0.37409196f;
  p = p * t + 1.00002368f;
  p = p * t - 1.26551223f;
  return t * exp_f(-z * z + p);
}

// erf: Taylor series in x² below 1 (truncation < 1e-9), 1 − erfc above; branch-free.
ALWAYS_INLINE static inline float erf_f(float x) {
  float a = std::fabs(x);
  float a2 = a * a;
  // 2/√π Σ (−1)^n a^(2n+1) / (n! (2n+1)), n = 0..11
  float p = -1.0f / (39916800.0f * 23.0f);
  p = p * a2 + 1.0f / (3628800.0f * 21.0f);
  p = p * a2 - 1.0f / (362880.0f * 19.0f);
  p = p * a2 + 1.0f / (40320.0f * 17.0f);
  p = p * a2 - 1.0f / (5040.0f * 15.0f);
  p = p * a2 + 1.0f / (720.0f * 13.0f);
  p = p * a2 - 1.0f / (120.0f * 11.0f);
  p = p * a2 + 1.0f / (24.0f * 9.0f);
  p = p * a2 - 1.0f / (6.0f * 7.0f);
  p = p * a2 + 1.0f / (2.0f * 5.0f);
  p = p * a2 - 1.0f / 3.0f;
  p = p * a2 + 1.0f;
  float small = 1.1283791670955126f * a * p;
  float big = 1.0f - erfc_pos(std::min(a, 10.0f));
  float r = a < 1.0f ? small : big;
  r = x < 0 ? -r : r;
  return x != x ? x : r;
}

// Φ(x) = P(N(0,1) ≤ x) = erfc(−x/√2)/2, accurate in both tails.
ALWAYS_INLINE static inline float phi_f(float x) {
  float z = std::min(std::fabs(x) * 0.70710678118654752440f, 10.0f);
  float h = 0.5f * erfc_pos(z);
  return x < 0 ? h : 1.0f - h;
}

constexpr float kSqrt1_2 = 0.70710678118654752440f;
constexpr float kInvSqrt2Pi = 0.39894228040143267794f;

// ---- unary ----
enum Unary {
  U_EXP, U_LOG, U_TANH, U_ERF, U_SQRT, U_RSQRT, U_SQUARE, U_NEG, U_RELU, U_SIGMOID, U_ABS,
  U_RECIPROCAL, U_GELU, U_STEP, U_LEAKYRELU, U_ELU, U_RELU6, U_SOFTPLUS, U_LOG1P, U_EXPM1,
  U_SIN, U_COS, U_SIGN, U_FLOOR, U_CEIL, U_ROUND
};

HOT void unary_loop(int op, const float* x, float* y, int64_t n, float alpha) {
  switch (op) {
    case U_EXP: for (int64_t i = 0; i < n; i++) y[i] = exp_f(x[i]); break;
    case U_LOG: for (int64_t i = 0; i < n; i++) y[i] = log_f(x[i]); break;
    case U_TANH: for (int64_t i = 0; i < n; i++) y[i] = tanh_f(x[i]); break;
    case U_ERF: for (int64_t i = 0; i < n; i++) y[i] = erf_f(x[i]); break;
    case U_SQRT: for (int64_t i = 0; i < n; i++) y[i] = std::sqrt(x[i]); break;
    case U_RSQRT: for (int64_t i = 0; i < n; i++) y[i] = 1.0f / std::sqrt(x[i]); break;
    case U_SQUARE: for (int64_t i = 0; i < n; i++) y[i] = x[i] * x[i]; break;
    case U_NEG: for (int64_t i = 0; i < n; i++) y[i] = -x[i]; break;
    case U_RELU: for (int64_t i = 0; i < n; i++) y[i] = x[i] < 0 ? 0.0f : x[i]; break;
    case U_SIGMOID: for (int64_t i = 0; i < n; i++) y[i] = sigmoid_f(x[i]); break;
    case U_ABS: for (int64_t i = 0; i < n; i++) y[i] = std::fabs(x[i]); break;
    case U_RECIPROCAL: for (int64_t i = 0; i < n; i++) y[i] = 1.0f / x[i]; break;
    case U_GELU:
      for (int64_t i = 0; i < n; i++) y[i] = x[i] * phi_f(x[i]);
      break;
    case U_STEP:
      for (int64_t i = 0; i < n; i++) y[i] = x[i] != x[i] ? x[i] : (x[i] > 0 ? 1.0f : alpha);
      break;
    case U_LEAKYRELU: for (int64_t i = 0; i < n; i++) y[i] = x[i] < 0 ? alpha * x[i] : x[i]; break;
    case U_ELU: for (int64_t i = 0; i < n; i++) y[i] = x[i] >= 0 ? x[i] : exp_f(x[i]) - 1.0f; break;
    case U_RELU6: for (int64_t i = 0; i < n; i++) y[i] = std::min(std::max(x[i], 0.0f), 6.0f); break;
    case U_SOFTPLUS: for (int64_t i = 0; i < n; i++) y[i] = std::log1p(std::exp(-std::fabs(x[i]))) + std::max(x[i], 0.0f); break;
    case U_LOG1P: for (int64_t i = 0; i < n; i++) y[i] = std::log1p(x[i]); break;
    case U_EXPM1: for (int64_t i = 0; i < n; i++) y[i] = std::expm1(x[i]); break;
    case U_SIN: for (int64_t i = 0; i < n; i++) y[i] = std::sin(x[i]); break;
    case U_COS: for (int64_t i = 0; i < n; i++) y[i] = std::cos(x[i]); break;
    case U_SIGN: for (int64_t i = 0; i < n; i++) y[i] = x[i] > 0 ? 1.0f : (x[i] < 0 ? -1.0f : 0.0f); break;
    case U_FLOOR: for (int64_t i = 0; i < n; i++) y[i] = std::floor(x[i]); break;
    case U_CEIL: for (int64_t i = 0; i < n; i++) y[i] = std::ceil(x[i]); break;
    case U_ROUND: for (int64_t i = 0; i < n; i++) y[i] = std::nearbyint(x[i]); break;  // half to even, as tfjs
  }
}

// ---- binary with broadcasting over a collapsed shape ----
enum Binary { B_ADD, B_SUB, B_MUL, B_DIV, B_MAX, B_MIN, B_POW, B_SQDIFF, B_GELUGRAD, B_PRELU };

#define BIN_LOOPS(EXPR)                                                                  \
  if (sa && sb) { for (int64_t i = 0; i < n; i++) { float u = a[i], v = b[i]; y[i] = (EXPR); } } \
  else if (sa) { float v = b[0]; for (int64_t i = 0; i < n; i++) { float u = a[i]; y[i] = (EXPR); } } \
  else if (sb) { float u = a[0]; for (int64_t i = 0; i < n; i++) { float v = b[i]; y[i] = (EXPR); } } \
  else { float u = a[0], v = b[0]; float r = (EXPR); for (int64_t i = 0; i < n; i++) y[i] = r; }

ALWAYS_INLINE static inline float gelu_grad(float dy, float x) {
  float cdf = phi_f(x);
  float pdf = kInvSqrt2Pi * exp_f(-0.5f * x * x);
  return dy * (cdf + x * pdf);
}

HOT void binary_loop(int op, const float* a, int sa, const float* b, int sb,
                     float* y, int64_t n) {
  switch (op) {
    case B_ADD: BIN_LOOPS(u + v) break;
    case B_SUB: BIN_LOOPS(u - v) break;
    case B_MUL: BIN_LOOPS(u * v) break;
    case B_DIV: BIN_LOOPS(u / v) break;
    case B_MAX: BIN_LOOPS((u != u || v != v) ? NAN : (u > v ? u : v)) break;
    case B_MIN: BIN_LOOPS((u != u || v != v) ? NAN : (u < v ? u : v)) break;
    case B_POW: BIN_LOOPS(std::pow(u, v)) break;
    case B_SQDIFF: BIN_LOOPS((u - v) * (u - v)) break;
    case B_GELUGRAD: BIN_LOOPS(gelu_grad(u, v)) break;  // u = dy, v = x
    case B_PRELU: BIN_LOOPS(u < 0 ? u * v : u) break;
  }
}

float* f32(const Napi::Value& v, size_t* len = nullptr) {
  auto arr = v.As<Napi::Float32Array>();
  if (len) *len = arr.ElementLength();
  return arr.Data();
}

// unary(op, x, y, alpha)
Napi::Value UnaryFn(const Napi::CallbackInfo& info) {
  int op = info[0].As<Napi::Number>().Int32Value();
  size_t n, ny;
  const float* x = f32(info[1], &n);
  float* y = f32(info[2], &ny);
  float alpha = info.Length() > 3 ? info[3].As<Napi::Number>().FloatValue() : 0.0f;
  if (ny != n) { Napi::Error::New(info.Env(), "unary: length mismatch").ThrowAsJavaScriptException(); return info.Env().Undefined(); }
  int64_t grain = (op == U_SQUARE || op == U_NEG || op == U_RELU || op == U_ABS) ? kGrain * 4 : kGrain / 4;
  parallel_for((int64_t)n, grain, [&](int64_t b, int64_t e) { unary_loop(op, x + b, y + b, e - b, alpha); });
  return info.Env().Undefined();
}

// binary(op, a, b, y, dims: Int32Array, aStrides: Int32Array, bStrides: Int32Array)
// dims/strides describe the output shape collapsed by the JS side; the last dim has strides in
// {0, 1} for both inputs (0 = broadcast).
Napi::Value BinaryFn(const Napi::CallbackInfo& info) {
  int op = info[0].As<Napi::Number>().Int32Value();
  const float* a = f32(info[1]);
  const float* b = f32(info[2]);
  size_t ny;
  float* y = f32(info[3], &ny);
  auto dimsA = info[4].As<Napi::Int32Array>();
  auto asA = info[5].As<Napi::Int32Array>();
  auto bsA = info[6].As<Napi::Int32Array>();
  int nd = (int)dimsA.ElementLength();
  std::vector<int64_t> dims(nd), as(nd), bs(nd);
  for (int i = 0; i < nd; i++) { dims[i] = dimsA[i]; as[i] = asA[i]; bs[i] = bsA[i]; }
  int64_t inner = nd ? dims[nd - 1] : 1;
  int sa = nd ? (int)as[nd - 1] : 0, sb = nd ? (int)bs[nd - 1] : 0;
  int64_t total = (int64_t)ny;
  if (total == 0) return info.Env().Undefined();
  parallel_for(total, op == B_POW || op == B_GELUGRAD ? kGrain / 8 : kGrain, [&](int64_t beg, int64_t end) {
    int64_t pos = beg;
    while (pos < end) {
      int64_t row = pos / inner, col = pos % inner;
      int64_t len = std::min(inner - col, end - pos);
      // offsets of this row in a and b
      int64_t oa = 0, ob = 0, r = row;
      for (int d = nd - 2; d >= 0; d--) {
        int64_t idx = r % dims[d];
        r /= dims[d];
        oa += idx * as[d];
        ob += idx * bs[d];
      }
      binary_loop(op, a + oa + col * sa, sa, b + ob + col * sb, sb, y + pos, len);
      pos += len;
    }
  });
  return info.Env().Undefined();
}

// ---- matmul ----
// sgemm(transA, transB, M, N, K, a, b, y, aOffsets: Int32Array, bOffsets: Int32Array)
// sgemm(transA, transB, M, N, K, a, b, y, batch, aStride, bStride)
// y is batch × M × N; batch = aOffsets.length (offsets in elements), or the given count with
// batch i at a + i·aStride, b + i·bStride; 1 when neither is given.
Napi::Value SgemmFn(const Napi::CallbackInfo& info) {
  bool ta = info[0].As<Napi::Boolean>().Value();
  bool tb = info[1].As<Napi::Boolean>().Value();
  int M = info[2].As<Napi::Number>().Int32Value();
  int N = info[3].As<Napi::Number>().Int32Value();
  int K = info[4].As<Napi::Number>().Int32Value();
  size_t na, nb, ny;
  const float* a = f32(info[5], &na);
  const float* b = f32(info[6], &nb);
  float* y = f32(info[7], &ny);
  int batch = 1;
  const int32_t* ao = nullptr;
  const int32_t* bo = nullptr;
  int64_t sa = 0, sb = 0;  // strided batches: a + i*sa, b + i*sb
  if (info.Length() > 10 && info[8].IsNumber()) {
    batch = info[8].As<Napi::Number>().Int32Value();
    sa = info[9].As<Napi::Number>().Int64Value();
    sb = info[10].As<Napi::Number>().Int64Value();
  } else if (info.Length() > 8 && info[8].IsTypedArray()) {
    auto aoA = info[8].As<Napi::Int32Array>();
    auto boA = info[9].As<Napi::Int32Array>();
    batch = (int)aoA.ElementLength();
    ao = aoA.Data();
    bo = boA.Data();
  }
  if ((int64_t)ny != (int64_t)batch * M * N) {
    Napi::Error::New(info.Env(), "sgemm: output length mismatch").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  if (M == 0 || N == 0) return info.Env().Undefined();
  if (K == 0) { std::fill(y, y + ny, 0.0f); return info.Env().Undefined(); }
  int lda = ta ? M : K, ldb = tb ? K : N;
  const CBLAS_TRANSPOSE opA = ta ? CblasTrans : CblasNoTrans, opB = tb ? CblasTrans : CblasNoTrans;
  auto aOf = [&](int i) { return a + (ao ? ao[i] : i * sa); };  // product i's operands and output
  auto bOf = [&](int i) { return b + (bo ? bo[i] : i * sb); };
  auto yOf = [&](int i) { return y + (int64_t)i * M * N; };
  // Our threads split the work (g_matmul_split, the default) and each calls OpenBLAS on one thread:
  // whole products when the batch is a multiple of the threads or much larger than them, else
  // every product in one tile per thread along its longer output side (multiples of 16 columns or
  // rows). Why not OpenBLAS's own threads: it leaves products with M·N·K < 2^19 on one core, so a
  // batch of small products (attention heads, a cross-token layer per sample) would run on one
  // core, and its workers spin after each product, taking cores from the OpenMP workers of the
  // next elementwise kernel. Our split loses only on a large single product (below). The figures:
  // docs/backends.md.
  const int T = g_threads;
  if (g_matmul_split && g_blas_openmp && T > 1 && batch == 1 && (int64_t)M * N * K >= kOpenblasThreadsMNK) {
    // One large product, with OpenBLAS's OpenMP build: OpenBLAS splits it over our own OpenMP
    // threads (one pool: no second set of workers spinning against ours), closer to raw sgemm
    // than our split. With the pthreads build its workers and ours would take each other's cores
    // and slow the whole training step, so there every product stays with our split.
    openblas_set_num_threads(T);
    cblas_sgemm(CblasRowMajor, opA, opB, M, N, K, 1.0f, aOf(0), lda, bOf(0), ldb, 0.0f, yOf(0), N);
    openblas_set_num_threads(1);
    return info.Env().Undefined();
  }
  if (g_matmul_split && T > 1 && (int64_t)M * N * K * batch >= kParallelMNK) {
    const bool alongM = M >= N;
    const int L = alongM ? M : N;
    int tiles = (batch % T == 0 || batch >= 4 * T) ? 1 : T;
    if (tiles > 1 && L < 2 * 16) tiles = 1;
    const int64_t tasks = (int64_t)batch * tiles;
    if (tasks >= 2) {
      const int64_t units = (L + 15) / 16;  // tiles are whole groups of 16
      const int nt = (int)std::min<int64_t>(T, tasks);
#pragma omp parallel for num_threads(nt) schedule(static)
      for (int64_t task = 0; task < tasks; task++) {
        flush_denormals_here();
        const int i = (int)(task / tiles), t = (int)(task % tiles);
        const int l0 = (int)std::min<int64_t>(L, units * t / tiles * 16);
        const int l1 = (int)std::min<int64_t>(L, units * (t + 1) / tiles * 16);
        if (l1 <= l0) continue;
        const float *ai = aOf(i), *bi = bOf(i);
        if (alongM) {  // rows l0..l1 of y: rows of op(a)
          cblas_sgemm(CblasRowMajor, opA, opB, l1 - l0, N, K, 1.0f, ta ? ai + l0 : ai + (int64_t)l0 * lda, lda, bi, ldb, 0.0f,
                      yOf(i) + (int64_t)l0 * N, N);
        } else {  // columns l0..l1 of y: columns of op(b)
          cblas_sgemm(CblasRowMajor, opA, opB, M, l1 - l0, K, 1.0f, ai, lda, tb ? bi + (int64_t)l0 * ldb : bi + l0, ldb, 0.0f,
                      yOf(i) + l0, N);
        }
      }
      return info.Env().Undefined();
    }
  }
  for (int i = 0; i < batch; i++) cblas_sgemm(CblasRowMajor, opA, opB, M, N, K, 1.0f, aOf(i), lda, bOf(i), ldb, 0.0f, yOf(i), N);
  return info.Env().Undefined();
}

// rawSgemmGflops(M, N, K, batch, reps): the reference the bench compares tfjs against: a C loop
// over `batch` cblas_sgemm calls on preallocated buffers; median GFLOP/s over reps. OpenBLAS runs
// with the threads it has now: the bench calls setMatmulSplit(false) first, so that it threads
// each product itself, as a user calling cblas_sgemm gets.
Napi::Value RawSgemmFn(const Napi::CallbackInfo& info) {
  int M = info[0].As<Napi::Number>().Int32Value();
  int N = info[1].As<Napi::Number>().Int32Value();
  int K = info[2].As<Napi::Number>().Int32Value();
  int batch = info[3].As<Napi::Number>().Int32Value();
  int reps = info[4].As<Napi::Number>().Int32Value();
  std::vector<float> a((size_t)batch * M * K), b((size_t)batch * K * N), c((size_t)batch * M * N);
  for (size_t i = 0; i < a.size(); i++) a[i] = (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
  for (size_t i = 0; i < b.size(); i++) b[i] = (float)((i * 40503u) % 1000) / 1000.0f - 0.5f;
  std::vector<double> g;
  for (int r = 0; r < reps + 1; r++) {
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < batch; i++)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, a.data() + (size_t)i * M * K, K,
                  b.data() + (size_t)i * K * N, N, 0.0f, c.data() + (size_t)i * M * N, N);
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (r > 0) g.push_back(2.0 * M * N * K * batch / s / 1e9);  // first rep warms up
  }
  std::sort(g.begin(), g.end());
  return Napi::Number::New(info.Env(), g[g.size() / 2]);
}


// Sum / max of n floats in GCC vector types (8 lanes; SSE pairs in the baseline clone, AVX in
// the x86-64-v3 one): explicit lanes vectorise where a scalar reduction would not without
// -ffast-math. The sum is accumulated per 256-element block in float lanes, then in double.
typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));

ALWAYS_INLINE static inline v8f load8(const float* p) {
  v8f v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

ALWAYS_INLINE static inline double lane_sum(const float* p, int64_t n) {
  double s = 0;
  int64_t i = 0;
  for (; i + 256 <= n; i += 256) {
    v8f a0 = {0}, a1 = {0};
    for (int64_t j = 0; j < 256; j += 16) {
      a0 += load8(p + i + j);
      a1 += load8(p + i + j + 8);
    }
    a0 += a1;
    float t = 0;
    for (int k = 0; k < 8; k++) t += a0[k];
    s += t;
  }
  for (; i < n; i++) s += p[i];
  return s;
}

ALWAYS_INLINE static inline float lane_max(const float* p, int64_t n) {
  // NaN propagates, as in tfjs: any NaN makes the result NaN
  const float ninf = -INFINITY;
  v8f a0 = {ninf, ninf, ninf, ninf, ninf, ninf, ninf, ninf}, a1 = a0;
  v8i bad = {0};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    v8f x0 = load8(p + i), x1 = load8(p + i + 8);
    a0 = x0 > a0 ? x0 : a0;
    a1 = x1 > a1 ? x1 : a1;
    bad |= (x0 != x0) | (x1 != x1);
  }
  a0 = a1 > a0 ? a1 : a0;
  float m = ninf;
  int32_t anyNan = 0;
  for (int k = 0; k < 8; k++) { m = a0[k] > m ? a0[k] : m; anyNan |= bad[k]; }
  for (; i < n; i++) { m = p[i] > m ? p[i] : m; anyNan |= (int32_t)(p[i] != p[i]); }
  return anyNan ? NAN : m;
}

// ---- reductions over the middle axis of x viewed as [outer, R, inner] ----
enum Reduce { R_SUM, R_MEAN, R_MAX, R_MIN, R_PROD };

HOT void reduce_rows(int op, const float* __restrict x, float* __restrict y, int64_t rows, int64_t R) {
  for (int64_t o = 0; o < rows; o++) {
    const float* p = x + o * R;
    if (op == R_SUM || op == R_MEAN) {
      double s = lane_sum(p, R);
      y[o] = (float)(op == R_MEAN ? s / (double)R : s);
    } else if (op == R_PROD) {
      double s = 1;
      for (int64_t r = 0; r < R; r++) s *= p[r];
      y[o] = (float)s;
    } else if (op == R_MAX) {
      y[o] = lane_max(p, R);
    } else {
      float m = p[0];
      for (int64_t r = 1; r < R; r++) m = (p[r] < m || p[r] != p[r]) ? p[r] : m;
      y[o] = m;
    }
  }
}

// columns [c0, c1) of one outer block: acc[j] over r of x[r*inner + j]
HOT void reduce_cols(int op, const float* __restrict x, double* __restrict acc, float* __restrict accf, int64_t R,
                     int64_t inner, int64_t c0, int64_t c1) {
  if (op == R_SUM || op == R_MEAN || op == R_PROD) {
    for (int64_t j = c0; j < c1; j++) acc[j] = op == R_PROD ? 1.0 : 0.0;
    for (int64_t r = 0; r < R; r++) {
      const float* p = x + r * inner;
      if (op == R_PROD) for (int64_t j = c0; j < c1; j++) acc[j] *= p[j];
      else for (int64_t j = c0; j < c1; j++) acc[j] += p[j];
    }
  } else {
    for (int64_t j = c0; j < c1; j++) accf[j] = x[j];
    for (int64_t r = 1; r < R; r++) {
      const float* p = x + r * inner;
      if (op == R_MAX) for (int64_t j = c0; j < c1; j++) accf[j] = (p[j] > accf[j] || p[j] != p[j]) ? p[j] : accf[j];
      else for (int64_t j = c0; j < c1; j++) accf[j] = (p[j] < accf[j] || p[j] != p[j]) ? p[j] : accf[j];
    }
  }
}

// acc[j] += sum of x[r * inner + j] over rows r in [r0, r1): float sums of 64-row blocks (vectorised
// over j), added to the double accumulators block by block.
HOT void sum_rows_into(const float* __restrict x, double* __restrict acc, int64_t r0, int64_t r1, int64_t inner) {
  std::vector<float> blk(inner);
  for (int64_t rb = r0; rb < r1; rb += 64) {
    int64_t re = std::min(r1, rb + 64);
    std::fill(blk.begin(), blk.end(), 0.0f);
    float* __restrict b = blk.data();
    for (int64_t r = rb; r < re; r++) {
      const float* __restrict p = x + r * inner;
      for (int64_t j = 0; j < inner; j++) b[j] += p[j];
    }
    for (int64_t j = 0; j < inner; j++) acc[j] += b[j];
  }
}

// reduce(op, x, y, outer, R, inner)
Napi::Value ReduceFn(const Napi::CallbackInfo& info) {
  int op = info[0].As<Napi::Number>().Int32Value();
  const float* x = f32(info[1]);
  float* y = f32(info[2]);
  int64_t outer = info[3].As<Napi::Number>().Int64Value();
  int64_t R = info[4].As<Napi::Number>().Int64Value();
  int64_t inner = info[5].As<Napi::Number>().Int64Value();
  if (R == 0) {
    float v = (op == R_PROD) ? 1.0f : (op == R_MEAN ? NAN : (op == R_MAX ? -INFINITY : (op == R_SUM ? 0.0f : INFINITY)));
    std::fill(y, y + outer * inner, v);
    return info.Env().Undefined();
  }
  if (inner == 1) {
    parallel_for(outer, std::max<int64_t>(1, kGrain / R), [&](int64_t b, int64_t e) { reduce_rows(op, x + b * R, y + b, e - b, R); });
  } else if ((op == R_SUM || op == R_MEAN) && g_threads > 1 && R >= 256 && R * inner >= 4 * kGrain) {
    // Many rows (the bias/Affine gradients: R = B·N rows of d columns): split the rows over
    // threads, each summing float blocks of 64 rows into its own double partials, then combine.
    for (int64_t o = 0; o < outer; o++) {
      const float* xo = x + o * R * inner;
      int nt = (int)std::min<int64_t>(g_threads, R / 64);
      std::vector<double> part((size_t)nt * inner, 0.0);
      parallel_for(nt, 1, [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; t++) sum_rows_into(xo, part.data() + t * inner, R * t / nt, R * (t + 1) / nt, inner);
      });
      float* yo = y + o * inner;
      for (int64_t j = 0; j < inner; j++) {
        double s = 0;
        for (int t = 0; t < nt; t++) s += part[(size_t)t * inner + j];
        yo[j] = (float)(op == R_MEAN ? s / (double)R : s);
      }
    }
  } else {
    // Column reduction: split columns over threads (each outer block in turn).
    std::vector<double> acc(inner);
    std::vector<float> accf(inner);
    for (int64_t o = 0; o < outer; o++) {
      const float* xo = x + o * R * inner;
      float* yo = y + o * inner;
      parallel_for(inner, std::max<int64_t>(16, kGrain / R), [&](int64_t c0, int64_t c1) {
        reduce_cols(op, xo, acc.data(), accf.data(), R, inner, c0, c1);
        for (int64_t j = c0; j < c1; j++) {
          if (op == R_SUM || op == R_PROD) yo[j] = (float)acc[j];
          else if (op == R_MEAN) yo[j] = (float)(acc[j] / (double)R);
          else yo[j] = accf[j];
        }
      });
    }
  }
  return info.Env().Undefined();
}

// softmax(x, y, rows, cols, log): softmax or log-softmax along the last axis
HOT void softmax_rows(const float* __restrict x, float* __restrict y, int64_t rows, int64_t C, bool logp) {
  for (int64_t o = 0; o < rows; o++) {
    const float* p = x + o * C;
    float* q = y + o * C;
    float m = lane_max(p, C);
    for (int64_t j = 0; j < C; j++) q[j] = exp_f(p[j] - m);
    float s = (float)lane_sum(q, C);
    if (logp) {
      float ls = m + std::log(s);
      for (int64_t j = 0; j < C; j++) q[j] = p[j] - ls;
    } else {
      float inv = 1.0f / s;
      for (int64_t j = 0; j < C; j++) q[j] *= inv;
    }
  }
}

Napi::Value SoftmaxFn(const Napi::CallbackInfo& info) {
  const float* x = f32(info[0]);
  float* y = f32(info[1]);
  int64_t rows = info[2].As<Napi::Number>().Int64Value();
  int64_t C = info[3].As<Napi::Number>().Int64Value();
  bool logp = info[4].As<Napi::Boolean>().Value();
  if (C == 0) return info.Env().Undefined();
  parallel_for(rows, std::max<int64_t>(1, kGrain / 4 / C), [&](int64_t b, int64_t e) { softmax_rows(x + b * C, y + b * C, e - b, C, logp); });
  return info.Env().Undefined();
}

// logSoftmaxGrad(dy, value, dx, rows, cols): dx = dy - sum(dy) * exp(value)
HOT void lsm_grad_rows(const float* __restrict dy, const float* __restrict v, float* __restrict dx, int64_t rows, int64_t C) {
  for (int64_t o = 0; o < rows; o++) {
    const float* g = dy + o * C;
    const float* p = v + o * C;
    float* q = dx + o * C;
    float sf = (float)lane_sum(g, C);
    for (int64_t j = 0; j < C; j++) q[j] = g[j] - sf * exp_f(p[j]);
  }
}

Napi::Value LogSoftmaxGradFn(const Napi::CallbackInfo& info) {
  const float* dy = f32(info[0]);
  const float* v = f32(info[1]);
  float* dx = f32(info[2]);
  int64_t rows = info[3].As<Napi::Number>().Int64Value();
  int64_t C = info[4].As<Napi::Number>().Int64Value();
  if (C == 0) return info.Env().Undefined();
  parallel_for(rows, std::max<int64_t>(1, kGrain / 4 / C), [&](int64_t b, int64_t e) { lsm_grad_rows(dy + b * C, v + b * C, dx + b * C, e - b, C); });
  return info.Env().Undefined();
}

// ---- label-smoothed cross-entropy per row (fused) ----
// loss_i = c·(lse_i − x_i,t_i) + s·(V·lse_i − Σ_v x_i,v), lse_i = log Σ_v exp x_i,v: the target
// distribution c·onehot(t) + s (see src/core/loss.ts). One read of each row (it stays in cache).
HOT void xent_rows(const float* __restrict x, const int32_t* __restrict t, float* __restrict loss, float* __restrict lse,
                   int64_t rows, int64_t V, float c, float s, float* __restrict tmp) {
  for (int64_t o = 0; o < rows; o++) {
    const float* p = x + o * V;
    float m = lane_max(p, V);
    for (int64_t j = 0; j < V; j++) tmp[j] = exp_f(p[j] - m);
    double se = lane_sum(tmp, V);
    double sx = lane_sum(p, V);
    double l = (double)m + std::log(se);
    lse[o] = (float)l;
    loss[o] = (float)(c * (l - (double)p[t[o]]) + s * ((double)V * l - sx));
  }
}

// dx_i,v = dy_i · (exp(x_i,v − lse_i) − s − c·[v = t_i])
HOT void xent_rows_grad(const float* __restrict dy, const float* __restrict x, const int32_t* __restrict t,
                        const float* __restrict lse, float* __restrict dx, int64_t rows, int64_t V, float c, float s) {
  for (int64_t o = 0; o < rows; o++) {
    const float* p = x + o * V;
    float* q = dx + o * V;
    float g = dy[o], l = lse[o];
    for (int64_t j = 0; j < V; j++) q[j] = g * (exp_f(p[j] - l) - s);
    q[t[o]] -= g * c;
  }
}

bool check_targets(const Napi::CallbackInfo& info, const int32_t* t, int64_t rows, int64_t V) {
  for (int64_t o = 0; o < rows; o++)
    if (t[o] < 0 || t[o] >= V) {
      Napi::RangeError::New(info.Env(), "smoothed cross-entropy: target " + std::to_string(t[o]) + " of row " + std::to_string(o) +
                                            " is not in [0, " + std::to_string(V - 1) + "]").ThrowAsJavaScriptException();
      return false;
    }
  return true;
}

// xentRows(x, targets: Int32Array, loss, lse, rows, V, c, s)
Napi::Value XentRowsFn(const Napi::CallbackInfo& info) {
  const float* x = f32(info[0]);
  const int32_t* t = info[1].As<Napi::Int32Array>().Data();
  float* loss = f32(info[2]);
  float* lse = f32(info[3]);
  int64_t rows = info[4].As<Napi::Number>().Int64Value();
  int64_t V = info[5].As<Napi::Number>().Int64Value();
  float c = info[6].As<Napi::Number>().FloatValue(), s = info[7].As<Napi::Number>().FloatValue();
  if (V == 0 || !check_targets(info, t, rows, V)) return info.Env().Undefined();
  parallel_for(rows, std::max<int64_t>(1, kGrain / 4 / V), [&](int64_t b, int64_t e) {
    std::vector<float> tmp(V);
    xent_rows(x + b * V, t + b, loss + b, lse + b, e - b, V, c, s, tmp.data());
  });
  return info.Env().Undefined();
}

// xentRowsGrad(dy, x, targets, lse, dx, rows, V, c, s)
Napi::Value XentRowsGradFn(const Napi::CallbackInfo& info) {
  const float* dy = f32(info[0]);
  const float* x = f32(info[1]);
  const int32_t* t = info[2].As<Napi::Int32Array>().Data();
  const float* lse = f32(info[3]);
  float* dx = f32(info[4]);
  int64_t rows = info[5].As<Napi::Number>().Int64Value();
  int64_t V = info[6].As<Napi::Number>().Int64Value();
  float c = info[7].As<Napi::Number>().FloatValue(), s = info[8].As<Napi::Number>().FloatValue();
  if (V == 0 || !check_targets(info, t, rows, V)) return info.Env().Undefined();
  parallel_for(rows, std::max<int64_t>(1, kGrain / 4 / V), [&](int64_t b, int64_t e) {
    xent_rows_grad(dy + b, x + b * V, t + b, lse + b, dx + b * V, e - b, V, c, s);
  });
  return info.Env().Undefined();
}

// ---- dropout with a counter-based mask ----
// keep(k) = hash(k, seed) / 2^24 ≥ rate: the same (seed, k) gives the same mask in the forward and
// the backward pass and for any thread count. lowbias32 (Wellons) mixing, 32-bit ops only so the
// loop vectorises.
ALWAYS_INLINE static inline uint32_t mix32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

HOT void dropout_loop(const float* x, float* y, int64_t b, int64_t e, int64_t group, uint32_t lo, uint32_t hi, uint32_t thr, float scale) {
  for (int64_t i = b; i < e; i++) {
    uint32_t k = (uint32_t)(group == 1 ? i : i / group);
    uint32_t h = mix32(mix32(k * 0x9e3779b9u + lo) ^ hi);
    y[i] = (h >> 8) >= thr ? x[i] * scale : 0.0f;
  }
}

// dropout(x, y, rate, seedLo, seedHi, group): y = x·mask/(1−rate), one mask value per `group`
// consecutive elements
Napi::Value DropoutFn(const Napi::CallbackInfo& info) {
  size_t n;
  const float* x = f32(info[0], &n);
  float* y = f32(info[1]);
  double rate = info[2].As<Napi::Number>().DoubleValue();
  uint32_t lo = info[3].As<Napi::Number>().Uint32Value(), hi = info[4].As<Napi::Number>().Uint32Value();
  int64_t group = std::max<int64_t>(1, info[5].As<Napi::Number>().Int64Value());
  uint32_t thr = (uint32_t)std::llround(rate * 16777216.0);
  float scale = (float)(1.0 / (1.0 - rate));
  parallel_for((int64_t)n, kGrain / 2, [&](int64_t b, int64_t e) { dropout_loop(x, y, b, e, group, lo, hi, thr, scale); });
  return info.Env().Undefined();
}

// ---- optimizer steps ----
// One pass per parameter instead of 7–9 elementwise kernels: the same float32 operations in the
// same order as the composed tfjs versions in src/backend/fused.ts (adagradStep, adamStep), so
// both agree to rounding (GCC may contract a·b+c into one FMA in the AVX2 clone).
HOT void adagrad_loop(const float* p, const float* g, const float* s, float* po, float* so, int64_t b, int64_t e,
                      float lr, float eps, float wd) {
  for (int64_t i = b; i < e; i++) {
    float grad = wd > 0 ? g[i] + p[i] * wd : g[i];
    float s2 = s[i] + grad * grad;
    so[i] = s2;
    po[i] = p[i] - (grad / (std::sqrt(s2) + eps)) * lr;
  }
}

HOT void adam_loop(const float* p, const float* g, const float* m, const float* v, float* po, float* mo, float* vo,
                   int64_t b, int64_t e, float b1, float omb1, float b2, float omb2, float sbc2, float eps, float step,
                   float decay) {
  for (int64_t i = b; i < e; i++) {
    float m2 = m[i] * b1 + g[i] * omb1;
    float v2 = v[i] * b2 + (g[i] * g[i]) * omb2;
    mo[i] = m2;
    vo[i] = v2;
    float denom = std::sqrt(v2) / sbc2 + eps;
    float next = p[i] - (m2 / denom) * step;
    if (decay > 0) next = next - p[i] * decay;
    po[i] = next;
  }
}

// adagradStep(p, g, sum, pOut, sumOut, lr, eps, wd)
Napi::Value AdagradStepFn(const Napi::CallbackInfo& info) {
  size_t n, ng, ns, npo, nso;
  const float* p = f32(info[0], &n);
  const float* g = f32(info[1], &ng);
  const float* s = f32(info[2], &ns);
  float* po = f32(info[3], &npo);
  float* so = f32(info[4], &nso);
  if (ng != n || ns != n || npo != n || nso != n) {
    Napi::Error::New(info.Env(), "adagradStep: length mismatch").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  float lr = info[5].As<Napi::Number>().FloatValue(), eps = info[6].As<Napi::Number>().FloatValue(),
        wd = info[7].As<Napi::Number>().FloatValue();
  parallel_for((int64_t)n, kGrain, [&](int64_t b, int64_t e) { adagrad_loop(p, g, s, po, so, b, e, lr, eps, wd); });
  return info.Env().Undefined();
}

// adamStep(p, g, m, v, pOut, mOut, vOut, beta1, 1-beta1, beta2, 1-beta2, sqrt(bc2), eps, lr/bc1, lr·wd)
// (the scalars as the JS side computes them in double; each is rounded to float32 like a tfjs scalar)
Napi::Value AdamStepFn(const Napi::CallbackInfo& info) {
  size_t n, n1, n2, n3, n4, n5, n6;
  const float* p = f32(info[0], &n);
  const float* g = f32(info[1], &n1);
  const float* m = f32(info[2], &n2);
  const float* v = f32(info[3], &n3);
  float* po = f32(info[4], &n4);
  float* mo = f32(info[5], &n5);
  float* vo = f32(info[6], &n6);
  if (n1 != n || n2 != n || n3 != n || n4 != n || n5 != n || n6 != n) {
    Napi::Error::New(info.Env(), "adamStep: length mismatch").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  float k[8];
  for (int i = 0; i < 8; i++) k[i] = info[7 + i].As<Napi::Number>().FloatValue();
  parallel_for((int64_t)n, kGrain, [&](int64_t b, int64_t e) {
    adam_loop(p, g, m, v, po, mo, vo, b, e, k[0], k[1], k[2], k[3], k[4], k[5], k[6], k[7]);
  });
  return info.Env().Undefined();
}

// ---- transpose ----
// transpose(x, y, dims: Int32Array (output dims), strides: Int32Array (input stride of each output dim))
// The JS side collapses the permutation. If the last output dim is contiguous in x, rows are
// copied; otherwise the output dim p whose input stride is 1 and the last output dim form 2-D
// tiles, transposed block by block.
template <typename T>
void transpose_impl(const T* x, T* y, const std::vector<int64_t>& dims, const std::vector<int64_t>& st) {
  int nd = (int)dims.size();
  int64_t total = 1;
  for (auto d : dims) total *= d;
  if (total == 0) return;
  std::vector<int64_t> ost(nd);
  { int64_t s = 1; for (int d = nd - 1; d >= 0; d--) { ost[d] = s; s *= dims[d]; } }
  int last = nd - 1;
  if (st[last] == 1) {
    int64_t inner = dims[last];
    int64_t rows = total / inner;
    parallel_for(rows, std::max<int64_t>(1, kGrain / inner), [&](int64_t b, int64_t e) {
      for (int64_t row = b; row < e; row++) {
        int64_t r = row, off = 0;
        for (int d = nd - 2; d >= 0; d--) { off += (r % dims[d]) * st[d]; r /= dims[d]; }
        std::memcpy(y + row * inner, x + off, inner * sizeof(T));
      }
    });
    return;
  }
  int p = -1;
  for (int d = 0; d < nd; d++) if (st[d] == 1) p = d;
  // Outer index space: all dims except p and last.
  std::vector<int> od;
  for (int d = 0; d < nd - 1; d++) if (d != p) od.push_back(d);
  int64_t outerN = 1;
  for (int d : od) outerN *= dims[d];
  int64_t P = p >= 0 ? dims[p] : 1, L = dims[last];
  int64_t sL = st[last], oP = p >= 0 ? ost[p] : 0;
  constexpr int64_t TB = 32;
  int64_t tilesP = (P + TB - 1) / TB, tilesL = (L + TB - 1) / TB;
  int64_t work = outerN * tilesP * tilesL;
  parallel_for(work, std::max<int64_t>(1, kGrain / (TB * TB)), [&](int64_t b, int64_t e) {
    for (int64_t w = b; w < e; w++) {
      int64_t tl = w % tilesL, tp = (w / tilesL) % tilesP, o = w / (tilesL * tilesP);
      int64_t xoff = 0, yoff = 0, r = o;
      for (int k = (int)od.size() - 1; k >= 0; k--) {
        int d = od[k];
        int64_t idx = r % dims[d];
        r /= dims[d];
        xoff += idx * st[d];
        yoff += idx * ost[d];
      }
      int64_t p0 = tp * TB, p1 = std::min(P, p0 + TB), l0 = tl * TB, l1 = std::min(L, l0 + TB);
      for (int64_t i = p0; i < p1; i++)
        for (int64_t j = l0; j < l1; j++) y[yoff + i * oP + j] = x[xoff + i + j * sL];
    }
  });
}

Napi::Value TransposeFn(const Napi::CallbackInfo& info) {
  auto dimsA = info[2].As<Napi::Int32Array>();
  auto stA = info[3].As<Napi::Int32Array>();
  int nd = (int)dimsA.ElementLength();
  std::vector<int64_t> dims(nd), st(nd);
  for (int i = 0; i < nd; i++) { dims[i] = dimsA[i]; st[i] = stA[i]; }
  auto xa = info[0].As<Napi::TypedArray>();
  if (xa.TypedArrayType() == napi_float32_array || xa.TypedArrayType() == napi_int32_array) {
    const int32_t* x = reinterpret_cast<const int32_t*>(static_cast<uint8_t*>(xa.ArrayBuffer().Data()) + xa.ByteOffset());
    auto ya = info[1].As<Napi::TypedArray>();
    int32_t* y = reinterpret_cast<int32_t*>(static_cast<uint8_t*>(ya.ArrayBuffer().Data()) + ya.ByteOffset());
    transpose_impl<int32_t>(x, y, dims, st);
  } else if (xa.TypedArrayType() == napi_uint8_array) {
    const uint8_t* x = static_cast<uint8_t*>(xa.ArrayBuffer().Data()) + xa.ByteOffset();
    auto ya = info[1].As<Napi::TypedArray>();
    uint8_t* y = static_cast<uint8_t*>(ya.ArrayBuffer().Data()) + ya.ByteOffset();
    transpose_impl<uint8_t>(x, y, dims, st);
  } else {
    Napi::TypeError::New(info.Env(), "transpose: unsupported array type").ThrowAsJavaScriptException();
  }
  return info.Env().Undefined();
}

// gather(x, idx: Int32Array, y, outer, dimSize, slice): y[o, i, :] = x[o, idx[i], :]
Napi::Value GatherFn(const Napi::CallbackInfo& info) {
  auto xa = info[0].As<Napi::TypedArray>();
  auto idxA = info[1].As<Napi::Int32Array>();
  auto ya = info[2].As<Napi::TypedArray>();
  int64_t outer = info[3].As<Napi::Number>().Int64Value();
  int64_t dimSize = info[4].As<Napi::Number>().Int64Value();
  int64_t slice = info[5].As<Napi::Number>().Int64Value();
  size_t es = xa.ElementSize();
  const uint8_t* x = static_cast<uint8_t*>(xa.ArrayBuffer().Data()) + xa.ByteOffset();
  uint8_t* y = static_cast<uint8_t*>(ya.ArrayBuffer().Data()) + ya.ByteOffset();
  const int32_t* idx = idxA.Data();
  int64_t ni = idxA.ElementLength();
  for (int64_t i = 0; i < ni; i++)
    if (idx[i] < 0 || idx[i] >= dimSize) {
      Napi::RangeError::New(info.Env(), "GatherV2: the index value " + std::to_string(idx[i]) + " is not in [0, " +
                                            std::to_string(dimSize - 1) + "]").ThrowAsJavaScriptException();
      return info.Env().Undefined();
    }
  int64_t rows = outer * ni;
  size_t bytes = slice * es;
  parallel_for(rows, std::max<int64_t>(1, kGrain / std::max<int64_t>(1, slice)), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; r++) {
      int64_t o = r / ni, i = r % ni;
      std::memcpy(y + r * bytes, x + ((o * dimSize + idx[i]) * slice) * es, bytes);
    }
  });
  return info.Env().Undefined();
}

// segmentSum(x, ids: Int32Array, y, numSegments, slice): y[ids[i], :] += x[i, :]; ids out of
// range are dropped (as TensorFlow does for negative ids).
Napi::Value SegmentSumFn(const Napi::CallbackInfo& info) {
  const float* x = f32(info[0]);
  auto idsA = info[1].As<Napi::Int32Array>();
  float* y = f32(info[2]);
  int64_t numSeg = info[3].As<Napi::Number>().Int64Value();
  int64_t slice = info[4].As<Napi::Number>().Int64Value();
  const int32_t* ids = idsA.Data();
  int64_t n = idsA.ElementLength();
  std::fill(y, y + numSeg * slice, 0.0f);
  // Split the columns over threads: no two threads touch the same output element.
  parallel_for(slice, std::max<int64_t>(16, kGrain / std::max<int64_t>(1, n)), [&](int64_t c0, int64_t c1) {
    for (int64_t i = 0; i < n; i++) {
      int64_t s = ids[i];
      if (s < 0 || s >= numSeg) continue;
      const float* p = x + i * slice;
      float* q = y + s * slice;
      for (int64_t j = c0; j < c1; j++) q[j] += p[j];
    }
  });
  return info.Env().Undefined();
}

// select(cond: Uint8Array, a, b, y, inner): y[i] = cond[i / inner] ? a[i] : b[i]
Napi::Value SelectFn(const Napi::CallbackInfo& info) {
  auto cA = info[0].As<Napi::Uint8Array>();
  const uint8_t* c = cA.Data();
  const float* a = f32(info[1]);
  const float* b = f32(info[2]);
  size_t n;
  float* y = f32(info[3], &n);
  int64_t inner = info[4].As<Napi::Number>().Int64Value();
  parallel_for((int64_t)n, kGrain, [&](int64_t beg, int64_t end) {
    if (inner == 1) {
      for (int64_t i = beg; i < end; i++) y[i] = c[i] ? a[i] : b[i];
    } else {
      for (int64_t i = beg; i < end; i++) y[i] = c[i / inner] ? a[i] : b[i];
    }
  });
  return info.Env().Undefined();
}

// concat(y, [x0, x1, ...], inners: Int32Array, outer): row r of y is row r of x0, x1, ... with
// x_i viewed as [outer, inners[i]]
Napi::Value ConcatFn(const Napi::CallbackInfo& info) {
  float* y = f32(info[0]);
  auto arr = info[1].As<Napi::Array>();
  auto innersA = info[2].As<Napi::Int32Array>();
  int64_t outer = info[3].As<Napi::Number>().Int64Value();
  std::vector<const float*> xs;
  std::vector<int64_t> inner, off;
  int64_t row = 0;
  for (uint32_t i = 0; i < arr.Length(); i++) {
    xs.push_back(f32(arr.Get(i)));
    inner.push_back(innersA[i]);
    off.push_back(row);
    row += innersA[i];
  }
  parallel_for(outer, std::max<int64_t>(1, kGrain / std::max<int64_t>(1, row)), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; r++)
      for (size_t i = 0; i < xs.size(); i++)
        std::memcpy(y + r * row + off[i], xs[i] + r * inner[i], inner[i] * sizeof(float));
  });
  return info.Env().Undefined();
}

// addN(y, [x0, x1, ...])
Napi::Value AddNFn(const Napi::CallbackInfo& info) {
  size_t n;
  float* y = f32(info[0], &n);
  auto arr = info[1].As<Napi::Array>();
  std::vector<const float*> xs;
  for (uint32_t i = 0; i < arr.Length(); i++) xs.push_back(f32(arr.Get(i)));
  parallel_for((int64_t)n, kGrain, [&](int64_t b, int64_t e) {
    std::memcpy(y + b, xs[0] + b, (e - b) * sizeof(float));
    for (size_t k = 1; k < xs.size(); k++) binary_loop(B_ADD, y + b, 1, xs[k] + b, 1, y + b, e - b);
  });
  return info.Env().Undefined();
}

// biasAct(y, bias|null, rows, cols, act, alpha): y[r, c] = act(y[r, c] + bias[c]) in place
// act: 0 linear, 1 relu, 2 relu6, 3 elu, 4 sigmoid, 5 leakyrelu
Napi::Value BiasActFn(const Napi::CallbackInfo& info) {
  size_t n;
  float* y = f32(info[0], &n);
  const float* bias = info[1].IsTypedArray() ? f32(info[1]) : nullptr;
  int64_t cols = info[2].As<Napi::Number>().Int64Value();
  int act = info[3].As<Napi::Number>().Int32Value();
  float alpha = info[4].As<Napi::Number>().FloatValue();
  int64_t rows = cols ? (int64_t)n / cols : 0;
  parallel_for(rows, std::max<int64_t>(1, kGrain / std::max<int64_t>(1, cols)), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; r++) {
      float* row = y + r * cols;
      if (bias) binary_loop(B_ADD, row, 1, bias, 1, row, cols);
      switch (act) {
        case 1: unary_loop(U_RELU, row, row, cols, 0); break;
        case 2: unary_loop(U_RELU6, row, row, cols, 0); break;
        case 3: unary_loop(U_ELU, row, row, cols, 0); break;
        case 4: unary_loop(U_SIGMOID, row, row, cols, 0); break;
        case 5: unary_loop(U_LEAKYRELU, row, row, cols, alpha); break;
        default: break;
      }
    }
  });
  return info.Env().Undefined();
}

// ---- per-channel scale: Affine (α ⊙ x + β) and LayerScale residuals (h + s ⊙ t) ----
// x is viewed as rows × d with the scale (and shift) indexed by the column. One pass forward and
// one backward instead of the 2 + 4 kernels of the composed multiply/add and their gradients.

// y[r, j] = x[r, j]·s[j] + (mode 1: add[j]; mode 2: add[r, j]) for rows [r0, r1)
HOT void channel_scale_rows(const float* __restrict x, const float* __restrict s, const float* __restrict add,
                            float* __restrict y, int64_t r0, int64_t r1, int64_t d, int mode) {
  for (int64_t r = r0; r < r1; r++) {
    const float* __restrict xr = x + r * d;
    float* __restrict yr = y + r * d;
    if (mode == 1) for (int64_t j = 0; j < d; j++) yr[j] = xr[j] * s[j] + add[j];
    else {
      const float* __restrict ar = add + r * d;
      for (int64_t j = 0; j < d; j++) yr[j] = ar[j] + xr[j] * s[j];
    }
  }
}

// channelScale(x, s, add, y, d, mode): mode 1 = Affine (add is the shift, length d), mode 2 =
// residual (add has x's length)
Napi::Value ChannelScaleFn(const Napi::CallbackInfo& info) {
  size_t n, ns, na, ny;
  const float* x = f32(info[0], &n);
  const float* s = f32(info[1], &ns);
  const float* add = f32(info[2], &na);
  float* y = f32(info[3], &ny);
  int64_t d = info[4].As<Napi::Number>().Int64Value();
  int mode = info[5].As<Napi::Number>().Int32Value();
  if (d <= 0 || n % d != 0 || ns != (size_t)d || ny != n || (mode == 1 ? na != (size_t)d : na != n) || (mode != 1 && mode != 2)) {
    Napi::Error::New(info.Env(), "channelScale: length mismatch").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  int64_t rows = (int64_t)n / d;
  parallel_for(rows, std::max<int64_t>(1, kGrain / d), [&](int64_t b, int64_t e) { channel_scale_rows(x, s, add, y, b, e, d, mode); });
  return info.Env().Undefined();
}

// Rows [r0, r1): dx = dy·s[j]; ds[j] += Σ dy·x; db[j] += Σ dy (db null: skipped). Float sums of
// 64-row blocks (vectorised over j), added to the double accumulators block by block, as the
// row-split Sum.
HOT void channel_scale_grad_rows(const float* __restrict dy, const float* __restrict x, const float* __restrict s,
                                 float* __restrict dx, double* __restrict ds, double* __restrict db, int64_t r0, int64_t r1, int64_t d) {
  std::vector<float> bs(d), bb(db ? d : 0);
  for (int64_t rb = r0; rb < r1; rb += 64) {
    int64_t re = std::min(r1, rb + 64);
    float* __restrict ps = bs.data();
    float* __restrict pb = bb.data();
    std::fill(bs.begin(), bs.end(), 0.0f);
    std::fill(bb.begin(), bb.end(), 0.0f);
    for (int64_t r = rb; r < re; r++) {
      const float* __restrict g = dy + r * d;
      const float* __restrict xr = x + r * d;
      float* __restrict o = dx + r * d;
      for (int64_t j = 0; j < d; j++) {
        o[j] = g[j] * s[j];
        ps[j] += g[j] * xr[j];
      }
      if (db) for (int64_t j = 0; j < d; j++) pb[j] += g[j];
    }
    for (int64_t j = 0; j < d; j++) ds[j] += ps[j];
    if (db) for (int64_t j = 0; j < d; j++) db[j] += pb[j];
  }
}

// channelScaleGrad(dy, x, s, dx, ds, db|null, d): the gradients of y = x·s (+ shift or + h):
// dx = dy·s, ds = Σ_rows dy·x, db = Σ_rows dy (the shift's; the residual h's gradient is dy itself)
Napi::Value ChannelScaleGradFn(const Napi::CallbackInfo& info) {
  size_t n, nx, ns, ndx, nds, ndb = 0;
  const float* dy = f32(info[0], &n);
  const float* x = f32(info[1], &nx);
  const float* s = f32(info[2], &ns);
  float* dx = f32(info[3], &ndx);
  float* ds = f32(info[4], &nds);
  float* db = info[5].IsTypedArray() ? f32(info[5], &ndb) : nullptr;
  int64_t d = info[6].As<Napi::Number>().Int64Value();
  if (d <= 0 || n % d != 0 || nx != n || ndx != n || ns != (size_t)d || nds != (size_t)d || (db && ndb != (size_t)d)) {
    Napi::Error::New(info.Env(), "channelScaleGrad: length mismatch").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  int64_t rows = (int64_t)n / d;
  int nt = (g_threads > 1 && rows >= 128 && (int64_t)n >= 4 * kGrain) ? (int)std::min<int64_t>(g_threads, rows / 64) : 1;
  std::vector<double> ps((size_t)nt * d, 0.0), pb(db ? (size_t)nt * d : 0, 0.0);
  parallel_for(nt, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; t++) {
      channel_scale_grad_rows(dy, x, s, dx, ps.data() + t * d, db ? pb.data() + t * d : nullptr, rows * t / nt, rows * (t + 1) / nt, d);
    }
  });
  for (int64_t j = 0; j < d; j++) {
    double a = 0, b = 0;
    for (int t = 0; t < nt; t++) {
      a += ps[(size_t)t * d + j];
      if (db) b += pb[(size_t)t * d + j];
    }
    ds[j] = (float)a;
    if (db) db[j] = (float)b;
  }
  return info.Env().Undefined();
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

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // Kernel outputs are fresh TypedArrays (calloc in V8). Above glibc's mmap threshold each one
  // is a new mapping, and first-touch page faults then cost more than the kernels themselves
  // (~2 ns per float on these VMs). Keeping large blocks in the heap lets freed ones be reused.
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  g_threads = std::max(1, omp_get_num_procs());
  g_blas_openmp = openblas_get_parallel() == 2;
  set_openblas_threads(blas_threads());
  exports.Set("unary", Napi::Function::New(env, WithFlushedDenormals<UnaryFn>));
  exports.Set("binary", Napi::Function::New(env, WithFlushedDenormals<BinaryFn>));
  exports.Set("sgemm", Napi::Function::New(env, WithFlushedDenormals<SgemmFn>));
  exports.Set("rawSgemmGflops", Napi::Function::New(env, WithFlushedDenormals<RawSgemmFn>));
  exports.Set("reduce", Napi::Function::New(env, WithFlushedDenormals<ReduceFn>));
  exports.Set("softmax", Napi::Function::New(env, WithFlushedDenormals<SoftmaxFn>));
  exports.Set("logSoftmaxGrad", Napi::Function::New(env, WithFlushedDenormals<LogSoftmaxGradFn>));
  exports.Set("transpose", Napi::Function::New(env, WithFlushedDenormals<TransposeFn>));
  exports.Set("gather", Napi::Function::New(env, WithFlushedDenormals<GatherFn>));
  exports.Set("segmentSum", Napi::Function::New(env, WithFlushedDenormals<SegmentSumFn>));
  exports.Set("select", Napi::Function::New(env, WithFlushedDenormals<SelectFn>));
  exports.Set("addN", Napi::Function::New(env, WithFlushedDenormals<AddNFn>));
  exports.Set("concat", Napi::Function::New(env, WithFlushedDenormals<ConcatFn>));
  exports.Set("xentRows", Napi::Function::New(env, WithFlushedDenormals<XentRowsFn>));
  exports.Set("dropout", Napi::Function::New(env, WithFlushedDenormals<DropoutFn>));
  exports.Set("xentRowsGrad", Napi::Function::New(env, WithFlushedDenormals<XentRowsGradFn>));
  exports.Set("biasAct", Napi::Function::New(env, WithFlushedDenormals<BiasActFn>));
  exports.Set("channelScale", Napi::Function::New(env, WithFlushedDenormals<ChannelScaleFn>));
  exports.Set("channelScaleGrad", Napi::Function::New(env, WithFlushedDenormals<ChannelScaleGradFn>));
  exports.Set("setThreads", Napi::Function::New(env, SetThreadsFn));
  exports.Set("setMatmulSplit", Napi::Function::New(env, SetMatmulSplitFn));
  exports.Set("getThreads", Napi::Function::New(env, GetThreadsFn));
  exports.Set("blasCore", Napi::Function::New(env, BlasCoreFn));
  exports.Set("adagradStep", Napi::Function::New(env, WithFlushedDenormals<AdagradStepFn>));
  exports.Set("adamStep", Napi::Function::New(env, WithFlushedDenormals<AdamStepFn>));
  return exports;
}

}  // namespace

NODE_API_MODULE(resmlp_native, Init)
