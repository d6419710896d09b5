// Row-wise kernels along the last axis: softmax, log-softmax and its gradient, and the fused
// label-smoothed cross-entropy (value and gradient).
#pragma once

#include "kernel.h"

namespace resmlp {

// softmax(x, y, rows, cols, log)
Napi::Value SoftmaxFn(const Napi::CallbackInfo& info);
// logSoftmaxGrad(dy, value, dx, rows, cols)
Napi::Value LogSoftmaxGradFn(const Napi::CallbackInfo& info);
// xentRows(x, targets, loss, lse, rows, V, c, s)
Napi::Value XentRowsFn(const Napi::CallbackInfo& info);
// xentRowsGrad(dy, x, targets, lse, dx, rows, V, c, s)
Napi::Value XentRowsGradFn(const Napi::CallbackInfo& info);

}  // namespace resmlp
