// Per-row top-k of a (rows, V) matrix: the beam search's candidates of each row
// (src/mt/decoding/search.ts), so that JavaScript ranks rows × k values per step, not rows × V; in the beam search's order: larger value first, the lower id among
// equal values, NaN as −∞; rows with fewer than k entries fill the rest with (−∞, −1). A row is
// scanned in blocks of 16: a block whose maximum does not beat the current k-th value is skipped
// with one vector compare, so a row costs about one pass of loads (k ≪ V).
#include "exports.h"

#include <cmath>
#include <string>

#include "vec_math.h"

namespace resmlp {

namespace {

constexpr int kMaxK = 256;

// a before b in the order: larger value, then lower id
inline bool before(float va, int32_t ia, float vb, int32_t ib) { return va > vb || (va == vb && ia < ib); }

// The k best of one row, best first, into vals/ids (k ≤ kMaxK).
HOT void row_topk(const float* __restrict x, int64_t V, int k, float* __restrict vals, int32_t* __restrict ids) {
  int n = 0;  // kept so far, sorted best first
  auto insert = [&](float v, int32_t id) {
    int j = n < k ? n++ : k - 1;  // the slot the new entry may take (the last one when full)
    while (j > 0 && before(v, id, vals[j - 1], ids[j - 1])) {
      vals[j] = vals[j - 1];
      ids[j] = ids[j - 1];
      j--;
    }
    vals[j] = v;
    ids[j] = id;
  };
  int64_t i = 0;
  for (; i < V && n < k; i++) insert(x[i] == x[i] ? x[i] : -INFINITY, (int32_t)i);
  const v8f ninf = {-INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY};
  for (; i + 16 <= V; i += 16) {
    // one vector max per block, NaN read as −∞; ids ascend, so a tie loses: strict >
    v8f a = load8(x + i), b = load8(x + i + 8);
    a = a == a ? a : ninf;
    b = b == b ? b : ninf;
    a = b > a ? b : a;
    float m = -INFINITY;
    for (int j = 0; j < 8; j++) m = a[j] > m ? a[j] : m;
    if (!(m > vals[k - 1])) continue;
    for (int64_t j = i; j < i + 16; j++)
      if (x[j] > vals[k - 1]) insert(x[j], (int32_t)j);
  }
  for (; i < V; i++)
    if (x[i] > vals[k - 1]) insert(x[i], (int32_t)i);
  for (; n < k; n++) {
    vals[n] = -INFINITY;
    ids[n] = -1;
  }
}

}  // namespace

Napi::Value RowTopKFn(const Napi::CallbackInfo& info) {
  size_t nx, nv;
  const float* x = f32(info[0], &nx);
  const int64_t rows = info[1].As<Napi::Number>().Int64Value();
  const int64_t V = info[2].As<Napi::Number>().Int64Value();
  const int k = info[3].As<Napi::Number>().Int32Value();
  float* vals = f32(info[4], &nv);
  auto idsA = info[5].As<Napi::Int32Array>();
  int32_t* ids = idsA.Data();
  if (rows < 0 || V < 1 || k < 1 || k > kMaxK || (int64_t)nx < rows * V || (int64_t)nv < rows * k || (int64_t)idsA.ElementLength() < rows * k) {
    return throw_error(info, "rowTopK: expected 1 ≤ k ≤ " + std::to_string(kMaxK) + ", x of " + std::to_string(rows) + "×" + std::to_string(V) +
                                 " and outputs of " + std::to_string(rows) + "×" + std::to_string(k) + ", found k " + std::to_string(k) + ", " +
                                 std::to_string(nx) + ", " + std::to_string(nv) + " and " + std::to_string(idsA.ElementLength()));
  }
  parallel_for(rows, std::max<int64_t>(1, kGrain / V), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; r++) row_topk(x + r * V, V, k, vals + r * k, ids + r * k);
  });
  return info.Env().Undefined();
}

}  // namespace resmlp
