// Reductions over the middle axis of x viewed as [outer, R, inner] (the JS side moves the reduced
// axes together). Sums and means accumulate in double (float lanes over a block first); Max and
// Min propagate NaN as tfjs does.
#include "exports.h"

#include <cmath>
#include <vector>

#include "ops.h"
#include "vec_math.h"

namespace resmlp {

namespace {

HOT void reduce_rows(ReduceOp op, const float* __restrict x, float* __restrict y, int64_t rows, int64_t R) {
  for (int64_t o = 0; o < rows; o++) {
    const float* p = x + o * R;
    if (op == ReduceOp::Sum || op == ReduceOp::Mean) {
      double s = lane_sum(p, R);
      y[o] = (float)(op == ReduceOp::Mean ? s / (double)R : s);
    } else if (op == ReduceOp::Prod) {
      double s = 1;
      for (int64_t r = 0; r < R; r++) s *= p[r];
      y[o] = (float)s;
    } else if (op == ReduceOp::Max) {
      y[o] = lane_max(p, R);
    } else {
      float m = p[0];
      for (int64_t r = 1; r < R; r++) m = (p[r] < m || p[r] != p[r]) ? p[r] : m;
      y[o] = m;
    }
  }
}

// columns [c0, c1) of one outer block: acc[j] over r of x[r*inner + j]
HOT void reduce_cols(ReduceOp op, const float* __restrict x, double* __restrict acc, float* __restrict accf, int64_t R,
                     int64_t inner, int64_t c0, int64_t c1) {
  if (op == ReduceOp::Sum || op == ReduceOp::Mean || op == ReduceOp::Prod) {
    for (int64_t j = c0; j < c1; j++) acc[j] = op == ReduceOp::Prod ? 1.0 : 0.0;
    for (int64_t r = 0; r < R; r++) {
      const float* p = x + r * inner;
      if (op == ReduceOp::Prod) for (int64_t j = c0; j < c1; j++) acc[j] *= p[j];
      else for (int64_t j = c0; j < c1; j++) acc[j] += p[j];
    }
  } else {
    for (int64_t j = c0; j < c1; j++) accf[j] = x[j];
    for (int64_t r = 1; r < R; r++) {
      const float* p = x + r * inner;
      if (op == ReduceOp::Max) for (int64_t j = c0; j < c1; j++) accf[j] = (p[j] > accf[j] || p[j] != p[j]) ? p[j] : accf[j];
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

}  // namespace

// reduce(op, x, y, outer, R, inner)
Napi::Value ReduceFn(const Napi::CallbackInfo& info) {
  ReduceOp op;
  if (!read_op(info, 0, kReduceOps, "reduce", "reduce op", &op)) return info.Env().Undefined();
  const float* x = f32(info[1]);
  float* y = f32(info[2]);
  int64_t outer = info[3].As<Napi::Number>().Int64Value();
  int64_t R = info[4].As<Napi::Number>().Int64Value();
  int64_t inner = info[5].As<Napi::Number>().Int64Value();
  if (R == 0) {
    float v = (op == ReduceOp::Prod) ? 1.0f : (op == ReduceOp::Mean ? NAN : (op == ReduceOp::Max ? -INFINITY : (op == ReduceOp::Sum ? 0.0f : INFINITY)));
    std::fill(y, y + outer * inner, v);
    return info.Env().Undefined();
  }
  if (inner == 1) {
    parallel_for(outer, std::max<int64_t>(1, kGrain / R), [&](int64_t b, int64_t e) { reduce_rows(op, x + b * R, y + b, e - b, R); });
  } else if ((op == ReduceOp::Sum || op == ReduceOp::Mean) && g_threads > 1 && R >= 256 && R * inner >= 4 * kGrain) {
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
        yo[j] = (float)(op == ReduceOp::Mean ? s / (double)R : s);
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
          if (op == ReduceOp::Sum || op == ReduceOp::Prod) yo[j] = (float)acc[j];
          else if (op == ReduceOp::Mean) yo[j] = (float)(acc[j] / (double)R);
          else yo[j] = accf[j];
        }
      });
    }
  }
  return info.Env().Undefined();
}

}  // namespace resmlp
