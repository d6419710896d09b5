// Elementwise kernels: unary ops, binary ops with broadcasting, select, addN, and a matmul's
// bias + activation in place, on the branch-free math of vec_math.h. Semantics
// follow the tfjs cpu backend's kernels (NaN propagation of Max/Min, Round half to even, Step's
// alpha for x ≤ 0), except Erf, which is accurate where the cpu backend approximates; Gelu is the
// exact form x·Φ(x).
#include "exports.h"

#include <cstring>
#include <vector>

#include "ops.h"
#include "vec_math.h"

namespace resmlp {

namespace {

HOT void unary_loop(UnaryOp op, const float* x, float* y, int64_t n, float alpha) {
  switch (op) {
    case UnaryOp::Exp: for (int64_t i = 0; i < n; i++) y[i] = exp_f(x[i]); break;
    case UnaryOp::Log: for (int64_t i = 0; i < n; i++) y[i] = log_f(x[i]); break;
    case UnaryOp::Tanh: for (int64_t i = 0; i < n; i++) y[i] = tanh_f(x[i]); break;
    case UnaryOp::Erf: for (int64_t i = 0; i < n; i++) y[i] = erf_f(x[i]); break;
    case UnaryOp::Sqrt: for (int64_t i = 0; i < n; i++) y[i] = std::sqrt(x[i]); break;
    case UnaryOp::Rsqrt: for (int64_t i = 0; i < n; i++) y[i] = 1.0f / std::sqrt(x[i]); break;
    case UnaryOp::Square: for (int64_t i = 0; i < n; i++) y[i] = x[i] * x[i]; break;
    case UnaryOp::Neg: for (int64_t i = 0; i < n; i++) y[i] = -x[i]; break;
    case UnaryOp::Relu: for (int64_t i = 0; i < n; i++) y[i] = x[i] < 0 ? 0.0f : x[i]; break;
    case UnaryOp::Sigmoid: for (int64_t i = 0; i < n; i++) y[i] = sigmoid_f(x[i]); break;
    case UnaryOp::Abs: for (int64_t i = 0; i < n; i++) y[i] = std::fabs(x[i]); break;
    case UnaryOp::Reciprocal: for (int64_t i = 0; i < n; i++) y[i] = 1.0f / x[i]; break;
    case UnaryOp::Gelu:
      for (int64_t i = 0; i < n; i++) y[i] = x[i] * phi_f(x[i]);
      break;
    case UnaryOp::Step:
      for (int64_t i = 0; i < n; i++) y[i] = x[i] != x[i] ? x[i] : (x[i] > 0 ? 1.0f : alpha);
      break;
    case UnaryOp::LeakyRelu: for (int64_t i = 0; i < n; i++) y[i] = x[i] < 0 ? alpha * x[i] : x[i]; break;
    case UnaryOp::Elu: for (int64_t i = 0; i < n; i++) y[i] = x[i] >= 0 ? x[i] : exp_f(x[i]) - 1.0f; break;
    case UnaryOp::Relu6: for (int64_t i = 0; i < n; i++) y[i] = std::min(std::max(x[i], 0.0f), 6.0f); break;
    case UnaryOp::Softplus: for (int64_t i = 0; i < n; i++) y[i] = std::log1p(std::exp(-std::fabs(x[i]))) + std::max(x[i], 0.0f); break;
    case UnaryOp::Log1p: for (int64_t i = 0; i < n; i++) y[i] = std::log1p(x[i]); break;
    case UnaryOp::Expm1: for (int64_t i = 0; i < n; i++) y[i] = std::expm1(x[i]); break;
    case UnaryOp::Sin: for (int64_t i = 0; i < n; i++) y[i] = std::sin(x[i]); break;
    case UnaryOp::Cos: for (int64_t i = 0; i < n; i++) y[i] = std::cos(x[i]); break;
    case UnaryOp::Sign: for (int64_t i = 0; i < n; i++) y[i] = x[i] > 0 ? 1.0f : (x[i] < 0 ? -1.0f : 0.0f); break;
    case UnaryOp::Floor: for (int64_t i = 0; i < n; i++) y[i] = std::floor(x[i]); break;
    case UnaryOp::Ceil: for (int64_t i = 0; i < n; i++) y[i] = std::ceil(x[i]); break;
    case UnaryOp::Round: for (int64_t i = 0; i < n; i++) y[i] = std::nearbyint(x[i]); break;  // half to even, as tfjs
  }
}

// ---- binary with broadcasting over a collapsed shape ----
#define BIN_LOOPS(EXPR)                                                                  \
  if (sa && sb) { for (int64_t i = 0; i < n; i++) { float u = a[i], v = b[i]; y[i] = (EXPR); } } \
  else if (sa) { float v = b[0]; for (int64_t i = 0; i < n; i++) { float u = a[i]; y[i] = (EXPR); } } \
  else if (sb) { float u = a[0]; for (int64_t i = 0; i < n; i++) { float v = b[i]; y[i] = (EXPR); } } \
  else { float u = a[0], v = b[0]; float r = (EXPR); for (int64_t i = 0; i < n; i++) y[i] = r; }

HOT void binary_loop(BinaryOp op, const float* a, int sa, const float* b, int sb,
                     float* y, int64_t n) {
  switch (op) {
    case BinaryOp::Add: BIN_LOOPS(u + v) break;
    case BinaryOp::Sub: BIN_LOOPS(u - v) break;
    case BinaryOp::Mul: BIN_LOOPS(u * v) break;
    case BinaryOp::Div: BIN_LOOPS(u / v) break;
    case BinaryOp::Max: BIN_LOOPS((u != u || v != v) ? NAN : (u > v ? u : v)) break;
    case BinaryOp::Min: BIN_LOOPS((u != u || v != v) ? NAN : (u < v ? u : v)) break;
    case BinaryOp::Pow: BIN_LOOPS(std::pow(u, v)) break;
    case BinaryOp::SqDiff: BIN_LOOPS((u - v) * (u - v)) break;
    case BinaryOp::GeluGrad: BIN_LOOPS(gelu_grad(u, v)) break;  // u = dy, v = x
    case BinaryOp::Prelu: BIN_LOOPS(u < 0 ? u * v : u) break;
  }
}

}  // namespace

// unary(op, x, y, alpha)
Napi::Value UnaryFn(const Napi::CallbackInfo& info) {
  UnaryOp op;
  if (!read_op(info, 0, kUnaryOps, "unary", "unary op", &op)) return info.Env().Undefined();
  size_t n, ny;
  const float* x = f32(info[1], &n);
  float* y = f32(info[2], &ny);
  float alpha = info.Length() > 3 ? info[3].As<Napi::Number>().FloatValue() : 0.0f;
  if (ny != n) return throw_error(info, "unary: length mismatch");
  int64_t grain = (op == UnaryOp::Square || op == UnaryOp::Neg || op == UnaryOp::Relu || op == UnaryOp::Abs) ? kGrain * 4 : kGrain / 4;
  parallel_for((int64_t)n, grain, [&](int64_t b, int64_t e) { unary_loop(op, x + b, y + b, e - b, alpha); });
  return info.Env().Undefined();
}

// binary(op, a, b, y, dims: Int32Array, aStrides: Int32Array, bStrides: Int32Array)
// dims/strides describe the output shape collapsed by the JS side; the last dim has strides in
// {0, 1} for both inputs (0 = broadcast).
Napi::Value BinaryFn(const Napi::CallbackInfo& info) {
  BinaryOp op;
  if (!read_op(info, 0, kBinaryOps, "binary", "binary op", &op)) return info.Env().Undefined();
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
  parallel_for(total, op == BinaryOp::Pow || op == BinaryOp::GeluGrad ? kGrain / 8 : kGrain, [&](int64_t beg, int64_t end) {
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

// addN(y, [x0, x1, ...])
Napi::Value AddNFn(const Napi::CallbackInfo& info) {
  size_t n;
  float* y = f32(info[0], &n);
  auto arr = info[1].As<Napi::Array>();
  std::vector<const float*> xs;
  for (uint32_t i = 0; i < arr.Length(); i++) xs.push_back(f32(arr.Get(i)));
  parallel_for((int64_t)n, kGrain, [&](int64_t b, int64_t e) {
    std::memcpy(y + b, xs[0] + b, (e - b) * sizeof(float));
    for (size_t k = 1; k < xs.size(); k++) binary_loop(BinaryOp::Add, y + b, 1, xs[k] + b, 1, y + b, e - b);
  });
  return info.Env().Undefined();
}

// biasAct(y, bias|null, cols, act, alpha): y[r, c] = act(y[r, c] + bias[c]) in place, act an
// Activation (alpha: leakyrelu's slope)
Napi::Value BiasActFn(const Napi::CallbackInfo& info) {
  size_t n;
  float* y = f32(info[0], &n);
  const float* bias = info[1].IsTypedArray() ? f32(info[1]) : nullptr;
  int64_t cols = info[2].As<Napi::Number>().Int64Value();
  Activation act;
  if (!read_op(info, 3, kActivations, "biasAct", "activation", &act)) return info.Env().Undefined();
  float alpha = info[4].As<Napi::Number>().FloatValue();
  int64_t rows = cols ? (int64_t)n / cols : 0;
  parallel_for(rows, std::max<int64_t>(1, kGrain / std::max<int64_t>(1, cols)), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; r++) {
      float* row = y + r * cols;
      if (bias) binary_loop(BinaryOp::Add, row, 1, bias, 1, row, cols);
      switch (act) {
        case Activation::relu: unary_loop(UnaryOp::Relu, row, row, cols, 0); break;
        case Activation::relu6: unary_loop(UnaryOp::Relu6, row, row, cols, 0); break;
        case Activation::elu: unary_loop(UnaryOp::Elu, row, row, cols, 0); break;
        case Activation::sigmoid: unary_loop(UnaryOp::Sigmoid, row, row, cols, 0); break;
        case Activation::leakyrelu: unary_loop(UnaryOp::LeakyRelu, row, row, cols, alpha); break;
        case Activation::linear: break;
      }
    }
  });
  return info.Env().Undefined();
}

}  // namespace resmlp
