// Transpose and concat: kernels that move data without arithmetic. The JS side collapses a permutation into the fewest
// output dims with their input strides (src/backend/native/kernels-layout.ts), so one kernel
// also serves strided slices.
#include "exports.h"

#include <cstring>
#include <vector>

namespace resmlp {

namespace {

// If the last output dim is contiguous in x, rows are copied; otherwise the output dim p whose
// input stride is 1 and the last output dim form 2-D tiles, transposed block by block.
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

}  // namespace

// transpose(x, y, dims: Int32Array (output dims), strides: Int32Array (input stride of each output dim))
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

}  // namespace resmlp
