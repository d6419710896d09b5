// Fused optimizer updates (Adagrad, Duchi et al. 2011; Adam with decoupled weight decay,
// Loshchilov & Hutter 2019): one pass per parameter instead of 7–9 elementwise kernels, the same
// float32 operations in the same order as the composed tfjs versions in src/backend/fused.ts
// (adagradStep, adamStep), so both agree to rounding (GCC may contract a·b+c into one FMA in the
// AVX2 clone).
#include "exports.h"

#include <cmath>

namespace resmlp {

namespace {

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

}  // namespace

// adagradStep(p, g, sum, pOut, sumOut, lr, eps, wd)
Napi::Value AdagradStepFn(const Napi::CallbackInfo& info) {
  size_t n, ng, ns, npo, nso;
  const float* p = f32(info[0], &n);
  const float* g = f32(info[1], &ng);
  const float* s = f32(info[2], &ns);
  float* po = f32(info[3], &npo);
  float* so = f32(info[4], &nso);
  if (ng != n || ns != n || npo != n || nso != n) {
    return throw_error(info, "adagradStep: length mismatch");
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
    return throw_error(info, "adamStep: length mismatch");
  }
  float k[8];
  for (int i = 0; i < 8; i++) k[i] = info[7 + i].As<Napi::Number>().FloatValue();
  parallel_for((int64_t)n, kGrain, [&](int64_t b, int64_t e) {
    adam_loop(p, g, m, v, po, mo, vo, b, e, k[0], k[1], k[2], k[3], k[4], k[5], k[6], k[7]);
  });
  return info.Env().Undefined();
}

}  // namespace resmlp
