// Per-channel scale: ResMLP's Affine (α ⊙ x + β) and LayerScale residuals (h + s ⊙ t), forward
// and backward.
#pragma once

#include "kernel.h"

namespace resmlp {

// channelScale(x, s, add, y, d, mode), mode a ChannelScaleMode
Napi::Value ChannelScaleFn(const Napi::CallbackInfo& info);
// channelScaleGrad(dy, x, s, dx, ds, db | null, d)
Napi::Value ChannelScaleGradFn(const Napi::CallbackInfo& info);

}  // namespace resmlp
