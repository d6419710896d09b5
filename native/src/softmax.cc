// Row-wise kernels along the last axis (softmax, log-softmax and its gradient, the fused
// label-smoothed cross-entropy and its gradient): each row is read once or twice while it
// stays in cache, max-subtracted before exp as tfjs does. The cross-entropy follows
// src/core/loss.ts (target distribution c·onehot(t) + s).
#include "exports.h"

#include <cmath>
#include <string>
#include <vector>

#include "vec_math.h"

namespace resmlp {

namespace {

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

HOT void lsm_grad_rows(const float* __restrict dy, const float* __restrict v, float* __restrict dx, int64_t rows, int64_t C) {
  for (int64_t o = 0; o < rows; o++) {
    const float* g = dy + o * C;
    const float* p = v + o * C;
    float* q = dx + o * C;
    float sf = (float)lane_sum(g, C);
    for (int64_t j = 0; j < C; j++) q[j] = g[j] - sf * exp_f(p[j]);
  }
}

// Label-smoothed cross-entropy per row (fused):
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

}  // namespace

// softmax(x, y, rows, cols, log): softmax or log-softmax along the last axis
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

}  // namespace resmlp
