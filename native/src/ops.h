// The op codes that cross from TypeScript to C++, one list per family. Each list makes the C++
// enum and, in addon.cc, the table the addon exports as `ops` ({ unary: { Exp: 0, … }, … }), from
// which src/backend/native/addon.ts looks every code up by name when the addon loads: a code is a
// position in one of these lists and is never written down on the TypeScript side. To add an op,
// add it here, handle it in its kernel, and name it in OP_NAMES (src/backend/native/addon.ts).
#pragma once

#include <napi.h>

#include <string>

// Elementwise x → y (elementwise.cc). Names are the tfjs kernels' (Gelu: the exact erf form).
#define RESMLP_UNARY_OPS(X)                                                                        \
  X(Exp) X(Log) X(Tanh) X(Erf) X(Sqrt) X(Rsqrt) X(Square) X(Neg) X(Relu) X(Sigmoid) X(Abs)          \
  X(Reciprocal) X(Gelu) X(Step) X(LeakyRelu) X(Elu) X(Relu6) X(Softplus) X(Log1p) X(Expm1) X(Sin) \
  X(Cos) X(Sign) X(Floor) X(Ceil) X(Round)

// Elementwise (a, b) → y with broadcasting (elementwise.cc). GeluGrad takes (dy, x).
#define RESMLP_BINARY_OPS(X) X(Add) X(Sub) X(Mul) X(Div) X(Max) X(Min) X(Pow) X(SqDiff) X(GeluGrad) X(Prelu)

// Reductions over the middle axis of [outer, R, inner] (reduce.cc).
#define RESMLP_REDUCE_OPS(X) X(Sum) X(Mean) X(Max) X(Min) X(Prod)

// The activation applied after a matmul's bias (elementwise.cc biasAct). Lowercase: these are
// the values of tfjs's `activation` attribute, looked up as they come.
#define RESMLP_ACTIVATIONS(X) X(linear) X(relu) X(relu6) X(elu) X(sigmoid) X(leakyrelu)

// What channelScale adds to x·s (affine.cc): a shift of one value per channel (Affine), or a
// tensor of x's shape (a LayerScale residual).
#define RESMLP_CHANNEL_SCALE_MODES(X) X(Shift) X(Residual)

// What int8Linear applies to each output row after its bias (int8.cc): nothing, the exact GELU,
// or a log-softmax over the row (the decoder's output projection).
#define RESMLP_LINEAR_EPILOGUES(X) X(None) X(Gelu) X(LogSoftmax)

namespace resmlp {

#define RESMLP_ENUMERATOR(name) name,
#define RESMLP_PLUS_ONE(name) +1
enum class UnaryOp : int { RESMLP_UNARY_OPS(RESMLP_ENUMERATOR) };
enum class BinaryOp : int { RESMLP_BINARY_OPS(RESMLP_ENUMERATOR) };
enum class ReduceOp : int { RESMLP_REDUCE_OPS(RESMLP_ENUMERATOR) };
enum class Activation : int { RESMLP_ACTIVATIONS(RESMLP_ENUMERATOR) };
enum class ChannelScaleMode : int { RESMLP_CHANNEL_SCALE_MODES(RESMLP_ENUMERATOR) };
enum class LinearEpilogue : int { RESMLP_LINEAR_EPILOGUES(RESMLP_ENUMERATOR) };
constexpr int kUnaryOps = 0 RESMLP_UNARY_OPS(RESMLP_PLUS_ONE);
constexpr int kBinaryOps = 0 RESMLP_BINARY_OPS(RESMLP_PLUS_ONE);
constexpr int kReduceOps = 0 RESMLP_REDUCE_OPS(RESMLP_PLUS_ONE);
constexpr int kActivations = 0 RESMLP_ACTIVATIONS(RESMLP_PLUS_ONE);
constexpr int kChannelScaleModes = 0 RESMLP_CHANNEL_SCALE_MODES(RESMLP_PLUS_ONE);
constexpr int kLinearEpilogues = 0 RESMLP_LINEAR_EPILOGUES(RESMLP_PLUS_ONE);
#undef RESMLP_ENUMERATOR
#undef RESMLP_PLUS_ONE

[[gnu::cold, gnu::noinline]] inline void throw_bad_code(const Napi::CallbackInfo& info, int code, int count, const char* kernel,
                                                     const char* family) {
  Napi::RangeError::New(info.Env(), std::string(kernel) + ": " + std::to_string(code) + " is not one of this build's " + family +
                                        " codes (0.." + std::to_string(count - 1) + ")").ThrowAsJavaScriptException();
}

// Reads argument i as a code of a family of `count` ops into *op; a code outside it throws a JS
// RangeError naming the kernel and the family, and returns false (the kernel returns at once).
template <typename E>
inline bool read_op(const Napi::CallbackInfo& info, size_t i, int count, const char* kernel, const char* family, E* op) {
  int code = info[i].As<Napi::Number>().Int32Value();
  if (code < 0 || code >= count) {
    throw_bad_code(info, code, count, kernel, family);
    return false;
  }
  *op = static_cast<E>(code);
  return true;
}

}  // namespace resmlp
