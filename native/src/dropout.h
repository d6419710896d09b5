// Inverted dropout whose mask is a hash of (seed, element index): nothing is stored between the
// forward and the backward pass.
#pragma once

#include "kernel.h"

namespace resmlp {

// dropout(x, y, rate, seedLo, seedHi, group)
Napi::Value DropoutFn(const Napi::CallbackInfo& info);

}  // namespace resmlp
