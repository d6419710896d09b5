// Row gather and scatter-add: an embedding's forward (gather) and backward (segment sum).
#pragma once

#include "kernel.h"

namespace resmlp {

// gather(x, idx, y, outer, dimSize, slice) on Float32Array or Int32Array
Napi::Value GatherFn(const Napi::CallbackInfo& info);
// segmentSum(x, ids, y, numSegments, slice)
Napi::Value SegmentSumFn(const Napi::CallbackInfo& info);

}  // namespace resmlp
