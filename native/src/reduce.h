// Reductions (sum, mean, max, min, prod) over the middle axis of x viewed as [outer, R, inner].
#pragma once

#include "kernel.h"

namespace resmlp {

// reduce(op, x, y, outer, R, inner), op a ReduceOp
Napi::Value ReduceFn(const Napi::CallbackInfo& info);

}  // namespace resmlp
