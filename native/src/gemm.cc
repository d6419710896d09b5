// Matrix products (batch × M × N = op(A)·op(B)) on OpenBLAS's cblas_sgemm. Our OpenMP threads
// split each call (whole products of a batch, or tiles of one product) with OpenBLAS on one
// thread in each; one large product goes to OpenBLAS's own threads when it is its OpenMP build.
// Why, and the measurements behind the thresholds: docs/backends.md and native/README.md.
#include "exports.h"

#include <cblas.h>

#include <chrono>
#include <vector>

#include "threads.h"

namespace resmlp {

namespace {
// Below this much work (M·N·K summed over the batch, ~0.26 MFLOP) a call stays on one thread: a
// parallel region costs a few microseconds.
constexpr int64_t kParallelMNK = 1 << 17;
// From this much work (M·N·K ≥ 2^29, ~1 GFLOP) a single product (batch 1) is threaded by OpenBLAS
// even in split mode, if OpenBLAS is its OpenMP build (g_blas_openmp, see SgemmFn).
constexpr int64_t kOpenblasThreadsMNK = 1 << 29;
}  // namespace

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
    return throw_error(info, "sgemm: output length mismatch");
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

}  // namespace resmlp
