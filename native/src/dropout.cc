// Dropout (Srivastava et al. 2014, inverted: kept values scaled by 1/(1−rate)) with a
// counter-based mask: keep(k) = hash(k, seed) / 2^24 ≥ rate, so the same (seed, k) gives the same
// mask in the forward and the backward pass and for any thread count. lowbias32 (Wellons)
// mixing, 32-bit ops only so the loop vectorises. The JS side is src/backend/fused.ts dropout.
#include "exports.h"

#include <cmath>

namespace resmlp {

namespace {

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

}  // namespace

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

}  // namespace resmlp
