// N-API addon: the float32 kernels of the `native` TensorFlow.js backend (src/backend/native.ts).
// This file is the module's front door: what it exports, by name. Every kernel runs under
// flush-to-zero (kernel.h); `ops` is the table of op codes by family and name (ops.h), which the
// TypeScript side reads at load instead of numbering ops itself (src/backend/native/addon.ts).
// The kernels live by concern: gemm.cc (OpenBLAS matmul), elementwise.cc, reduce.cc, softmax.cc
// (softmax, cross-entropy), layout.cc (transpose, concat), gather.cc (gather, segment sum),
// affine.cc (per-channel scale), dropout.cc, optim.cc (Adagrad, Adam), topk.cc (the beam search's
// per-row top-k), int8.cc (int8 linear layers on oneDNN, when built with it), threads.cc.
#include <malloc.h>

#include <initializer_list>
#include <utility>

#include "exports.h"
#include "kernel.h"
#include "ops.h"
#include "threads.h"

namespace resmlp {
namespace {

// A kernel export run under FlushDenormals (the caller's MXCSR is restored when it returns).
template <ExportFn F>
Napi::Value WithFlushedDenormals(const Napi::CallbackInfo& info) {
  FlushDenormals ftz;
  return F(info);
}

struct Export {
  const char* name;
  ExportFn fn;
};

// The kernels (exports.h), by the name the TypeScript side calls (NativeAddon in src/backend/native/addon.ts).
#define RESMLP_KERNEL_EXPORT(name, fn) {#name, WithFlushedDenormals<fn>},
const Export kKernels[] = {RESMLP_KERNELS(RESMLP_KERNEL_EXPORT)};
#undef RESMLP_KERNEL_EXPORT

// Settings and reports (exports.h; no float work: they run with the caller's MXCSR).
#define RESMLP_CONTROL_EXPORT(name, fn) {#name, fn},
const Export kControls[] = {RESMLP_CONTROLS(RESMLP_CONTROL_EXPORT)};
#undef RESMLP_CONTROL_EXPORT

// { name: code } of one family, frozen.
template <typename E>
Napi::Object Codes(Napi::Env env, std::initializer_list<std::pair<const char*, E>> entries) {
  Napi::Object o = Napi::Object::New(env);
  for (const auto& [name, code] : entries) o.Set(name, Napi::Number::New(env, static_cast<int>(code)));
  o.Freeze();
  return o;
}

// ops: { unary, binary, reduce, activation, channelScaleMode, linearEpilogue }, each { name: code },
// made from the lists in ops.h, so a name and its code cannot drift apart.
Napi::Object OpTable(Napi::Env env) {
  Napi::Object t = Napi::Object::New(env);
#define RESMLP_CODE(name) {#name, E::name},
  { using E = UnaryOp; t.Set("unary", Codes<E>(env, {RESMLP_UNARY_OPS(RESMLP_CODE)})); }
  { using E = BinaryOp; t.Set("binary", Codes<E>(env, {RESMLP_BINARY_OPS(RESMLP_CODE)})); }
  { using E = ReduceOp; t.Set("reduce", Codes<E>(env, {RESMLP_REDUCE_OPS(RESMLP_CODE)})); }
  { using E = Activation; t.Set("activation", Codes<E>(env, {RESMLP_ACTIVATIONS(RESMLP_CODE)})); }
  { using E = ChannelScaleMode; t.Set("channelScaleMode", Codes<E>(env, {RESMLP_CHANNEL_SCALE_MODES(RESMLP_CODE)})); }
  { using E = LinearEpilogue; t.Set("linearEpilogue", Codes<E>(env, {RESMLP_LINEAR_EPILOGUES(RESMLP_CODE)})); }
#undef RESMLP_CODE
  t.Freeze();
  return t;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // Kernel outputs are fresh TypedArrays (calloc in V8). Above glibc's mmap threshold each one
  // is a new mapping, and first-touch page faults then cost more than the kernels themselves.
  // Keeping large blocks in the heap lets freed ones be reused.
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  init_threads();
  for (const Export& e : kKernels) exports.Set(e.name, Napi::Function::New(env, e.fn, e.name));
  for (const Export& e : kControls) exports.Set(e.name, Napi::Function::New(env, e.fn, e.name));
  exports.Set("ops", OpTable(env));
  return exports;
}

}  // namespace
}  // namespace resmlp

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return resmlp::Init(env, exports); }

NODE_API_MODULE(resmlp_native, InitModule)
