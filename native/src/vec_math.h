// Branch-free float32 math for the vectorised loops: exp and log (Cephes), tanh, sigmoid, erf
// and the normal CDF Φ (Numerical Recipes' erfc), the exact-GELU gradient, and sum / max of a
// row in explicit 8-lane vectors. Branch-free so that GCC vectorises the loops that call them
// (with -fno-trapping-math); every function is inlined into its caller's target clones.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernel.h"

namespace resmlp {

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

constexpr float kInvSqrt2Pi = 0.39894228040143267794f;

// d/dx [x·Φ(x)] · dy = dy · (Φ(x) + x·φ(x)), the gradient of the exact GELU.
ALWAYS_INLINE static inline float gelu_grad(float dy, float x) {
  float cdf = phi_f(x);
  float pdf = kInvSqrt2Pi * exp_f(-0.5f * x * x);
  return dy * (cdf + x * pdf);
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

}  // namespace resmlp
