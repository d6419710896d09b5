// Elementwise kernels: unary ops, binary ops with broadcasting, select, addN, and a matmul's
// bias + activation in place.
#pragma once

#include "kernel.h"

namespace resmlp {

// unary(op, x, y, alpha), op a UnaryOp
Napi::Value UnaryFn(const Napi::CallbackInfo& info);
// binary(op, a, b, y, dims, aStrides, bStrides), op a BinaryOp, over a collapsed broadcast
Napi::Value BinaryFn(const Napi::CallbackInfo& info);
// select(cond: Uint8Array, a, b, y, inner)
Napi::Value SelectFn(const Napi::CallbackInfo& info);
// addN(y, [x0, x1, ...])
Napi::Value AddNFn(const Napi::CallbackInfo& info);
// biasAct(y, bias | null, cols, act, alpha), act an Activation
Napi::Value BiasActFn(const Napi::CallbackInfo& info);

}  // namespace resmlp
