// Gather and segment sum (an embedding's forward and backward), as tfjs's GatherV2 and UnsortedSegmentSum: an index out
// of range is an error for gather; a segment id out of range is dropped (TensorFlow drops negative
// ids). The segment sum splits columns over threads, so no two threads add into one element.
#include "exports.h"

#include <cstring>
#include <string>

namespace resmlp {

// gather(x, idx: Int32Array, y, outer, dimSize, slice): y[o, i, :] = x[o, idx[i], :]
Napi::Value GatherFn(const Napi::CallbackInfo& info) {
  auto xa = info[0].As<Napi::TypedArray>();
  auto idxA = info[1].As<Napi::Int32Array>();
  auto ya = info[2].As<Napi::TypedArray>();
  int64_t outer = info[3].As<Napi::Number>().Int64Value();
  int64_t dimSize = info[4].As<Napi::Number>().Int64Value();
  int64_t slice = info[5].As<Napi::Number>().Int64Value();
  size_t es = xa.ElementSize();
  const uint8_t* x = static_cast<uint8_t*>(xa.ArrayBuffer().Data()) + xa.ByteOffset();
  uint8_t* y = static_cast<uint8_t*>(ya.ArrayBuffer().Data()) + ya.ByteOffset();
  const int32_t* idx = idxA.Data();
  int64_t ni = idxA.ElementLength();
  for (int64_t i = 0; i < ni; i++)
    if (idx[i] < 0 || idx[i] >= dimSize) {
      Napi::RangeError::New(info.Env(), "GatherV2: the index value " + std::to_string(idx[i]) + " is not in [0, " +
                                            std::to_string(dimSize - 1) + "]").ThrowAsJavaScriptException();
      return info.Env().Undefined();
    }
  int64_t rows = outer * ni;
  size_t bytes = slice * es;
  parallel_for(rows, std::max<int64_t>(1, kGrain / std::max<int64_t>(1, slice)), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; r++) {
      int64_t o = r / ni, i = r % ni;
      std::memcpy(y + r * bytes, x + ((o * dimSize + idx[i]) * slice) * es, bytes);
    }
  });
  return info.Env().Undefined();
}

// segmentSum(x, ids: Int32Array, y, numSegments, slice): y[ids[i], :] += x[i, :]; ids out of
// range are dropped (as TensorFlow does for negative ids).
Napi::Value SegmentSumFn(const Napi::CallbackInfo& info) {
  const float* x = f32(info[0]);
  auto idsA = info[1].As<Napi::Int32Array>();
  float* y = f32(info[2]);
  int64_t numSeg = info[3].As<Napi::Number>().Int64Value();
  int64_t slice = info[4].As<Napi::Number>().Int64Value();
  const int32_t* ids = idsA.Data();
  int64_t n = idsA.ElementLength();
  std::fill(y, y + numSeg * slice, 0.0f);
  // Split the columns over threads: no two threads touch the same output element.
  parallel_for(slice, std::max<int64_t>(16, kGrain / std::max<int64_t>(1, n)), [&](int64_t c0, int64_t c1) {
    for (int64_t i = 0; i < n; i++) {
      int64_t s = ids[i];
      if (s < 0 || s >= numSeg) continue;
      const float* p = x + i * slice;
      float* q = y + s * slice;
      for (int64_t j = c0; j < c1; j++) q[j] += p[j];
    }
  });
  return info.Env().Undefined();
}

}  // namespace resmlp
