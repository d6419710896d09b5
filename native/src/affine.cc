// Per-channel scale (ResMLP, Touvron et al. 2021, sec. 2: Affine α ⊙ x + β and the LayerScale
// residuals h + s ⊙ t). x is viewed as rows × d with the scale (and shift) indexed by the
// column. One pass forward and one backward instead of the 2 + 4 kernels of the composed
// multiply/add and their gradients; the column sums of the gradient accumulate as the row-split
// Sum of reduce.cc does.
#include "exports.h"

#include <vector>

#include "ops.h"

namespace resmlp {

namespace {

// y[r, j] = x[r, j]·s[j] + (Shift: add[j]; Residual: add[r, j]) for rows [r0, r1)
HOT void channel_scale_rows(const float* __restrict x, const float* __restrict s, const float* __restrict add,
                            float* __restrict y, int64_t r0, int64_t r1, int64_t d, ChannelScaleMode mode) {
  for (int64_t r = r0; r < r1; r++) {
    const float* __restrict xr = x + r * d;
    float* __restrict yr = y + r * d;
    if (mode == ChannelScaleMode::Shift) for (int64_t j = 0; j < d; j++) yr[j] = xr[j] * s[j] + add[j];
    else {
      const float* __restrict ar = add + r * d;
      for (int64_t j = 0; j < d; j++) yr[j] = ar[j] + xr[j] * s[j];
    }
  }
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

}  // namespace

// channelScale(x, s, add, y, d, mode): mode Shift = Affine (add is the shift, length d),
// Residual = LayerScale residual (add has x's length)
Napi::Value ChannelScaleFn(const Napi::CallbackInfo& info) {
  size_t n, ns, na, ny;
  const float* x = f32(info[0], &n);
  const float* s = f32(info[1], &ns);
  const float* add = f32(info[2], &na);
  float* y = f32(info[3], &ny);
  int64_t d = info[4].As<Napi::Number>().Int64Value();
  ChannelScaleMode mode;
  if (!read_op(info, 5, kChannelScaleModes, "channelScale", "channel-scale mode", &mode)) return info.Env().Undefined();
  if (d <= 0 || n % d != 0 || ns != (size_t)d || ny != n || (mode == ChannelScaleMode::Shift ? na != (size_t)d : na != n)) {
    return throw_error(info, "channelScale: length mismatch");
  }
  int64_t rows = (int64_t)n / d;
  parallel_for(rows, std::max<int64_t>(1, kGrain / d), [&](int64_t b, int64_t e) { channel_scale_rows(x, s, add, y, b, e, d, mode); });
  return info.Env().Undefined();
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
    return throw_error(info, "channelScaleGrad: length mismatch");
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

}  // namespace resmlp
