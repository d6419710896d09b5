// Kernels that move data without arithmetic: transpose (also a strided slice) and concat.
#pragma once

#include "kernel.h"

namespace resmlp {

// transpose(x, y, dims, strides) on Float32Array, Int32Array or Uint8Array
Napi::Value TransposeFn(const Napi::CallbackInfo& info);
// concat(y, [x0, x1, ...], inners, outer)
Napi::Value ConcatFn(const Napi::CallbackInfo& info);

}  // namespace resmlp
