// Fused optimizer updates: one pass per parameter for Adagrad and Adam(W).
#pragma once

#include "kernel.h"

namespace resmlp {

// adagradStep(p, g, sum, pOut, sumOut, lr, eps, wd)
Napi::Value AdagradStepFn(const Napi::CallbackInfo& info);
// adamStep(p, g, m, v, pOut, mOut, vOut, beta1, 1-beta1, beta2, 1-beta2, sqrt(bc2), eps, lr/bc1, lr·wd)
Napi::Value AdamStepFn(const Napi::CallbackInfo& info);

}  // namespace resmlp
