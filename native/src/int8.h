// int8 linear layers for decoding (int8.cc): y = epilogue(dequant(q(x) · Wq) + bias) with Wq int8
// weights packed once (per-output-channel symmetric scales, quantised on the TypeScript side:
// src/quant/quantize.ts) and x quantised per row to u8 (asymmetric, dynamic) on every call, the
// product in int32 on oneDNN's matmul primitive (VNNI/AMX kernels). Built without oneDNN (no
// oneapi/dnnl/dnnl.hpp when native/build.mjs ran), every function is present and int8Support()
// says why int8 is off.
#pragma once

#include "kernel.h"

namespace resmlp {

// int8Support(): { available, reason, isa, kernel, library }
Napi::Value Int8SupportFn(const Napi::CallbackInfo& info);
// int8Pack(q: Int8Array (N·K), scales: Float32Array (N), N, K): an External holding the packed weight
Napi::Value Int8PackFn(const Napi::CallbackInfo& info);
// int8Release(w): frees a packed weight now (its finalizer would later); idempotent
Napi::Value Int8ReleaseFn(const Napi::CallbackInfo& info);
// int8Linear(w, x: Float32Array (M·K), M, bias: Float32Array (N) | null, y: Float32Array (M·N), epilogue)
Napi::Value Int8LinearFn(const Napi::CallbackInfo& info);

}  // namespace resmlp
