// int8 linear layers for decoding: y = epilogue(dequant(q(x) · Wq) + bias) with Wq int8 weights
// packed once (quantised on the TypeScript side: src/quant/quantize.ts), x quantised per row on
// every call. Built without oneDNN (no oneapi/dnnl/dnnl.hpp when native/build.mjs ran), every
// function is present and int8Support() says why int8 is off. On oneDNN's matmul primitive: u8 activations × s8 weights → s32,
// which dispatches on the CPU (brgemm with AVX512-VNNI here, AMX or AVX2-VNNI elsewhere). Why
// oneDNN and not kernels of our own: docs/precision.md (its brgemm ran ~2× our first VNNI kernel).
// The scheme (as CTranslate2's and FBGEMM's dynamic quantisation):
//   weights  W[n,:] ≈ sw[n]·Wq[n,:], Wq in [−127, 127]     (per output channel, symmetric; packed once)
//   inputs   x[m,:] ≈ sa[m]·(xq[m,:] − za[m]), xq in [0, 255]  (per row, asymmetric; every call)
//   output   y[m,n] = sa[m]·sw[n]·(Σ_k xq·Wq − za[m]·Σ_k Wq[n,k]) + b[n], then the epilogue
//            (none, exact GELU, or log-softmax of the row), all while the row is in cache.
// The weight's blocked layout is oneDNN's choice for a representative M; a primitive per row count
// M reuses it (primitives are cached by (K, N, M); runtime M would take a slower reference kernel).
#include "exports.h"

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "ops.h"
#include "vec_math.h"

#if RESMLP_HAVE_DNNL
#include <oneapi/dnnl/dnnl.hpp>
#include <unordered_map>
#endif

namespace resmlp {

namespace {

#if RESMLP_HAVE_DNNL

// Per-row asymmetric u8: the range [min(x, 0), max(x, 0)] onto [0, 255] (0 exactly representable).
// NaN inputs quantise to 0 (the int8 path does not propagate them).
HOT void quantize_rows(const float* __restrict x, int64_t rows, int64_t K, uint8_t* __restrict q, float* __restrict scale,
                       int32_t* __restrict zero) {
  for (int64_t r = 0; r < rows; r++) {
    const float* p = x + r * K;
    // min and max in 8-lane vectors (a scalar reduction would not vectorise)
    v8f vmn = {0}, vmx = {0};
    int64_t k = 0;
    for (; k + 8 <= K; k += 8) {
      v8f v = load8(p + k);
      vmn = v < vmn ? v : vmn;
      vmx = v > vmx ? v : vmx;
    }
    float mn = 0.0f, mx = 0.0f;
    for (int j = 0; j < 8; j++) {
      mn = vmn[j] < mn ? vmn[j] : mn;
      mx = vmx[j] > mx ? vmx[j] : mx;
    }
    for (; k < K; k++) {
      mn = p[k] < mn ? p[k] : mn;
      mx = p[k] > mx ? p[k] : mx;
    }
    float s = (mx - mn) / 255.0f;
    if (!(s > 0.0f) || !std::isfinite(s)) s = 1.0f;  // an all-zero row (or a non-finite range)
    const float inv = 1.0f / s;
    float zf = std::min(std::max(-mn * inv, 0.0f), 255.0f);
    const int32_t z = (int32_t)(zf + 0.5f);
    scale[r] = s;
    zero[r] = z;
    uint8_t* o = q + r * K;
    const float zz = (float)z + 0.5f;  // + 0.5 then truncation rounds the non-negative value
    for (k = 0; k < K; k++) {
      float v = p[k] * inv + zz;
      v = v >= 0.5f ? v : 0.0f;  // also maps NaN to 0
      v = v < 255.0f ? v : 255.0f;
      o[k] = (uint8_t)(int32_t)v;
    }
  }
}

// y = sa·sw·(c − za·colsum) + bias per row, then the epilogue.
HOT void dequant_rows(const int32_t* __restrict c, int64_t rows, int64_t N, const float* __restrict sa, const int32_t* __restrict za,
                      const float* __restrict sw, const int32_t* __restrict colsum, const float* __restrict bias, float* __restrict y,
                      LinearEpilogue ep, float* __restrict tmp) {
  for (int64_t r = 0; r < rows; r++) {
    const int32_t* cr = c + r * N;
    float* yr = y + r * N;
    const float s = sa[r];
    const int32_t z = za[r];
    if (bias) {
      for (int64_t n = 0; n < N; n++) yr[n] = (float)(cr[n] - z * colsum[n]) * (s * sw[n]) + bias[n];
    } else {
      for (int64_t n = 0; n < N; n++) yr[n] = (float)(cr[n] - z * colsum[n]) * (s * sw[n]);
    }
    if (ep == LinearEpilogue::Gelu) {
      for (int64_t n = 0; n < N; n++) yr[n] = yr[n] * phi_f(yr[n]);
    } else if (ep == LinearEpilogue::LogSoftmax) {
      const float m = lane_max(yr, N);
      for (int64_t n = 0; n < N; n++) tmp[n] = exp_f(yr[n] - m);
      const float ls = m + (float)std::log(lane_sum(tmp, N));
      for (int64_t n = 0; n < N; n++) yr[n] -= ls;
    }
  }
}

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;
using md = dnnl::memory::desc;

// Below this much work (M·N·K multiply-adds) a call stays on the calling thread.
constexpr int64_t kParallelMNK = 1 << 17;
// A row block's int32 product is at most this big, so it is dequantised from cache (L2 for the
// MLP's and attention's widths, L3 for the vocabulary). Smaller blocks re-read the packed weight
// more often: the 8k-vocabulary projection took 9.4 ms with 256 KB blocks, 6.0 ms with 4 MB
// (1000 rows, 2 threads, 2026-12-07).
constexpr int64_t kBlockBytes = 4 << 20;

// Rows per block: the product of a block fits kBlockBytes (8 ≤ rows ≤ 256, a multiple of 8), and
// with fewer rows than that per thread, each thread gets one block.
int64_t block_rows(int64_t M, int64_t N, int threads) {
  int64_t b = std::min<int64_t>(256, std::max<int64_t>(8, kBlockBytes / (4 * N) / 8 * 8));
  int64_t per = ((M + threads - 1) / threads + 7) / 8 * 8;
  return std::min(b, std::max<int64_t>(8, per));
}

// A thread's buffers for one row block.
struct Scratch {
  std::vector<uint8_t> xq, scratch;
  std::vector<int32_t> c, za;
  std::vector<float> sa, tmp;
  void reserve(int64_t xqn, int64_t cn, int64_t rows, int64_t N, size_t scratchBytes) {
    if ((int64_t)xq.size() < xqn) xq.resize(xqn);
    if ((int64_t)c.size() < cn) c.resize(cn);
    if ((int64_t)sa.size() < rows) { sa.resize(rows); za.resize(rows); }
    if ((int64_t)tmp.size() < N) tmp.resize(N);
    if (scratch.size() < scratchBytes) scratch.resize(scratchBytes);
  }
};

// The row count whose primitive picks the weights' blocked layout (every M then reuses it).
constexpr int64_t kLayoutRows = 256;
// Primitives kept (each a few KB; a decode sees a few hundred row counts per layer shape).
constexpr size_t kMaxPrimitives = 4096;

// A matmul for M rows of one weight shape, and the scratchpad it needs.
struct Matmul {
  dnnl::matmul prim;
  md scratch;
};

struct Dnnl {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  std::unordered_map<std::string, Matmul> primitives;
};

Dnnl& dnnl_ctx() {
  static Dnnl ctx;
  return ctx;
}

md rows_md(int64_t M, int64_t C, dt type) { return md({M, C}, type, tag::ab); }

dnnl::matmul::primitive_desc matmul_pd(int64_t M, int64_t K, int64_t N, const md& weights) {
  dnnl::primitive_attr attr;
  // the caller's scratchpad: the same primitive runs on several threads at once (one row block each)
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return dnnl::matmul::primitive_desc(dnnl::matmul::desc(rows_md(M, K, dt::u8), weights, rows_md(M, N, dt::s32)), attr, dnnl_ctx().engine);
}

// The packed layout oneDNN's kernel wants for a (K, N) s8 weight.
md packed_weights_md(int64_t K, int64_t N) { return matmul_pd(kLayoutRows, K, N, md({K, N}, dt::s8, tag::any)).weights_desc(); }

struct Int8Weight {
  int64_t N = 0, K = 0;
  md wmd;
  dnnl::memory w;  // packed, owns its buffer
  std::vector<float> scale;
  std::vector<int32_t> colsum;
  size_t bytes = 0;
};

// The primitive for M rows of this weight's shape (cached by K, N, M; not thread-safe: called
// before a parallel region).
Matmul primitive_for(const Int8Weight& w, int64_t M) {
  Dnnl& ctx = dnnl_ctx();
  std::string key = std::to_string(w.K) + "x" + std::to_string(w.N) + "x" + std::to_string(M);
  auto it = ctx.primitives.find(key);
  if (it != ctx.primitives.end()) return it->second;
  if (ctx.primitives.size() >= kMaxPrimitives) ctx.primitives.clear();
  auto pd = matmul_pd(M, w.K, w.N, w.wmd);
  return ctx.primitives.emplace(key, Matmul{dnnl::matmul(pd), pd.scratchpad_desc()}).first->second;
}

const char* isa_name(dnnl::cpu_isa isa) {
  switch (isa) {
    case dnnl::cpu_isa::sse41: return "sse41";
    case dnnl::cpu_isa::avx: return "avx";
    case dnnl::cpu_isa::avx2: return "avx2";
    case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
    case dnnl::cpu_isa::avx512_core: return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
    default: return "other";
  }
}

bool isa_has_vnni(dnnl::cpu_isa isa) {
  return isa == dnnl::cpu_isa::avx2_vnni || isa == dnnl::cpu_isa::avx512_core_vnni || isa == dnnl::cpu_isa::avx512_core_bf16 ||
         isa == dnnl::cpu_isa::avx512_core_amx;
}

struct Support {
  bool available = false;
  std::string reason, isa, kernel;
};

// Decided once: the ISA oneDNN dispatches on (DNNL_MAX_CPU_ISA lowers it) and the kernel a test
// primitive gets.
const Support& support() {
  static Support s = [] {
    Support r;
    try {
      dnnl::cpu_isa isa = dnnl::get_effective_cpu_isa();
      r.isa = isa_name(isa);
      r.kernel = matmul_pd(32, 64, 64, md({64, 64}, dt::s8, tag::any)).impl_info_str();
      if (!isa_has_vnni(isa)) {
        r.reason = "this CPU has no VNNI int8 instructions (oneDNN dispatches on " + r.isa + ", int8 kernel " + r.kernel +
                   "): int8 would not be faster than fp32 here";
      } else {
        r.available = true;
      }
    } catch (const dnnl::error& e) {
      r.reason = std::string("oneDNN failed to set up an int8 matmul: ") + e.what();
    }
    return r;
  }();
  return s;
}

// What an External holds: the weight, until int8Release or the finalizer frees it.
struct Holder {
  std::unique_ptr<Int8Weight> w;
};

#endif  // RESMLP_HAVE_DNNL

}  // namespace

#if RESMLP_HAVE_DNNL

Napi::Value Int8SupportFn(const Napi::CallbackInfo& info) {
  const Support& s = support();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("available", Napi::Boolean::New(info.Env(), s.available));
  o.Set("reason", Napi::String::New(info.Env(), s.reason));
  o.Set("isa", Napi::String::New(info.Env(), s.isa));
  o.Set("kernel", Napi::String::New(info.Env(), s.kernel));
  o.Set("library", Napi::String::New(info.Env(), "oneDNN " + std::to_string(DNNL_VERSION_MAJOR) + "." + std::to_string(DNNL_VERSION_MINOR) + "." +
                                                      std::to_string(DNNL_VERSION_PATCH)));
  return o;
}

Napi::Value Int8PackFn(const Napi::CallbackInfo& info) {
  if (!support().available) return throw_error(info, "int8Pack: int8 is unavailable: " + support().reason);
  auto qa = info[0].As<Napi::Int8Array>();
  size_t ns;
  const float* scales = f32(info[1], &ns);
  const int64_t N = info[2].As<Napi::Number>().Int64Value();
  const int64_t K = info[3].As<Napi::Number>().Int64Value();
  if (N < 1 || K < 1 || K > 65535) return throw_error(info, "int8Pack: expected 1 ≤ N and 1 ≤ K ≤ 65535, found N " + std::to_string(N) + ", K " + std::to_string(K));
  if ((int64_t)qa.ElementLength() != N * K || (int64_t)ns != N) {
    return throw_error(info, "int8Pack: expected " + std::to_string(N * K) + " weights and " + std::to_string(N) + " scales, found " +
                                 std::to_string(qa.ElementLength()) + " and " + std::to_string(ns));
  }
  const int8_t* q = qa.Data();
  auto w = std::make_unique<Int8Weight>();
  w->N = N;
  w->K = K;
  w->scale.assign(scales, scales + N);
  w->colsum.assign(N, 0);
  for (int64_t n = 0; n < N; n++) {
    int32_t s = 0;
    for (int64_t k = 0; k < K; k++) s += q[n * K + k];
    w->colsum[n] = s;
  }
  try {
    Dnnl& ctx = dnnl_ctx();
    w->wmd = packed_weights_md(K, N);
    // the plain weight (N, K) row-major is the (K, N) matrix in format ba
    dnnl::memory plain(md({K, N}, dt::s8, tag::ba), ctx.engine, const_cast<int8_t*>(q));
    w->w = dnnl::memory(w->wmd, ctx.engine);
    dnnl::reorder(plain, w->w).execute(ctx.stream, plain, w->w);
    ctx.stream.wait();
  } catch (const dnnl::error& e) {
    return throw_error(info, std::string("int8Pack: oneDNN: ") + e.what());
  }
  w->bytes = w->wmd.get_size() + N * (sizeof(float) + sizeof(int32_t));
  const int64_t bytes = (int64_t)w->bytes;
  auto* h = new Holder{std::move(w)};
  Napi::MemoryManagement::AdjustExternalMemory(info.Env(), bytes);
  return Napi::External<Holder>::New(info.Env(), h, [](Napi::Env env, Holder* p) {
    if (p->w) Napi::MemoryManagement::AdjustExternalMemory(env, -(int64_t)p->w->bytes);
    delete p;
  });
}

Napi::Value Int8ReleaseFn(const Napi::CallbackInfo& info) {
  Holder* h = info[0].As<Napi::External<Holder>>().Data();
  if (h && h->w) {
    Napi::MemoryManagement::AdjustExternalMemory(info.Env(), -(int64_t)h->w->bytes);
    h->w.reset();
  }
  return info.Env().Undefined();
}

Napi::Value Int8LinearFn(const Napi::CallbackInfo& info) {
  Holder* h = info[0].As<Napi::External<Holder>>().Data();
  if (!h || !h->w) return throw_error(info, "int8Linear: the weight was released");
  const Int8Weight& w = *h->w;
  size_t nx, ny, nb = 0;
  const float* x = f32(info[1], &nx);
  const int64_t M = info[2].As<Napi::Number>().Int64Value();
  const float* bias = info[3].IsNull() || info[3].IsUndefined() ? nullptr : f32(info[3], &nb);
  float* y = f32(info[4], &ny);
  LinearEpilogue ep;
  if (!read_op(info, 5, kLinearEpilogues, "int8Linear", "linearEpilogue", &ep)) return info.Env().Undefined();
  if (M < 0 || (int64_t)nx != M * w.K || (int64_t)ny != M * w.N || (bias && (int64_t)nb != w.N)) {
    return throw_error(info, "int8Linear: expected x of " + std::to_string(M) + "×" + std::to_string(w.K) + ", y of " + std::to_string(M) + "×" +
                                 std::to_string(w.N) + " and a bias of " + std::to_string(w.N) + ", found " + std::to_string(nx) + ", " +
                                 std::to_string(ny) + (bias ? " and " + std::to_string(nb) : " and none"));
  }
  if (M == 0) return info.Env().Undefined();
  const int64_t K = w.K, N = w.N;
  // Row blocks: quantise, multiply and dequantise each block while its int32 product is in cache,
  // one block after another on each thread (one parallel region; oneDNN runs single-threaded in it).
  const int threads = (M * N * K < kParallelMNK) ? 1 : g_threads;
  const int64_t Mb = block_rows(M, N, threads);
  const int64_t blocks = (M + Mb - 1) / Mb;
  Matmul full, rest;
  try {
    full = primitive_for(w, std::min(Mb, M));
    if (M > Mb && M % Mb != 0) rest = primitive_for(w, M % Mb);
  } catch (const dnnl::error& e) {
    return throw_error(info, std::string("int8Linear: oneDNN: ") + e.what());
  }
  std::string error;
  auto run = [&](int64_t b0, int64_t b1) {
    thread_local Scratch s;
    thread_local dnnl::stream stream(dnnl_ctx().engine);
    for (int64_t b = b0; b < b1; b++) {
      const int64_t r0 = b * Mb, rows = std::min(Mb, M - r0);
      const Matmul& mm = rows == Mb || b == 0 ? full : rest;
      s.reserve(rows * K, rows * N, rows, N, mm.scratch.get_size());
      quantize_rows(x + r0 * K, rows, K, s.xq.data(), s.sa.data(), s.za.data());
      try {
        const dnnl::engine& eng = dnnl_ctx().engine;
        dnnl::memory src(rows_md(rows, K, dt::u8), eng, s.xq.data());
        dnnl::memory dst(rows_md(rows, N, dt::s32), eng, s.c.data());
        std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, w.w}, {DNNL_ARG_DST, dst}};
        if (mm.scratch.get_size() > 0) args.emplace(DNNL_ARG_SCRATCHPAD, dnnl::memory(mm.scratch, eng, s.scratch.data()));
        mm.prim.execute(stream, args);
        stream.wait();
      } catch (const dnnl::error& e) {
#pragma omp critical(resmlp_int8_error)
        error = e.what();
        return;
      }
      dequant_rows(s.c.data(), rows, N, s.sa.data(), s.za.data(), w.scale.data(), w.colsum.data(), bias, y + r0 * N, ep, s.tmp.data());
    }
  };
  const int nt = (int)std::min<int64_t>(threads, blocks);
  if (nt <= 1) {
    run(0, blocks);
  } else {
#pragma omp parallel num_threads(nt)
    {
      flush_denormals_here();
      const int t = omp_get_thread_num(), T = omp_get_num_threads();
      run(blocks * t / T, blocks * (t + 1) / T);
    }
  }
  if (!error.empty()) return throw_error(info, "int8Linear: oneDNN: " + error);
  return info.Env().Undefined();
}

#else  // built without oneDNN: int8 reports itself unavailable; fp32 is unaffected

namespace {
const char* kNoDnnl =
    "this build of the native addon has no oneDNN (oneapi/dnnl/dnnl.hpp was not found when native/build.mjs ran): install it with "
    "`apt-get install libdnnl-dev` (scripts/setup.sh does) and rebuild with: node native/build.mjs";
}  // namespace

Napi::Value Int8SupportFn(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("available", Napi::Boolean::New(info.Env(), false));
  o.Set("reason", Napi::String::New(info.Env(), kNoDnnl));
  o.Set("isa", Napi::String::New(info.Env(), ""));
  o.Set("kernel", Napi::String::New(info.Env(), ""));
  o.Set("library", Napi::String::New(info.Env(), ""));
  return o;
}

Napi::Value Int8PackFn(const Napi::CallbackInfo& info) { return throw_error(info, std::string("int8Pack: ") + kNoDnnl); }
Napi::Value Int8ReleaseFn(const Napi::CallbackInfo& info) { return info.Env().Undefined(); }
Napi::Value Int8LinearFn(const Napi::CallbackInfo& info) { return throw_error(info, std::string("int8Linear: ") + kNoDnnl); }

#endif  // RESMLP_HAVE_DNNL

}  // namespace resmlp
