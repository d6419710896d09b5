// Per-row top-k of a (rows, V) matrix (topk.cc): the beam search's candidates of each row
// (src/mt/decoding/search.ts), so that JavaScript ranks rows × k values per step, not rows × V.
#pragma once

#include "kernel.h"

namespace resmlp {

// rowTopK(x: Float32Array (rows·V), rows, V, k, values: Float32Array (rows·k), ids: Int32Array (rows·k))
Napi::Value RowTopKFn(const Napi::CallbackInfo& info);

}  // namespace resmlp
