// Every function the addon exports, listed once: the name the TypeScript side calls (NativeAddon in
// src/backend/native/addon.ts), the C++ function, its arguments, and the file that defines it. This
// header declares them from the lists and addon.cc registers them from the same lists, so a name
// and its function cannot drift apart; to add one, define it in its .cc and add a line here.
#pragma once

#include "kernel.h"

// Kernels, run under flush-to-zero (addon.cc): X(name, function).
#define RESMLP_KERNELS(X)                                                                                          \
  /* elementwise.cc */                                                                                             \
  X(unary, UnaryFn)     /* (op, x, y, alpha), op a UnaryOp */                                                      \
  X(binary, BinaryFn)   /* (op, a, b, y, dims, aStrides, bStrides), op a BinaryOp, over a collapsed broadcast */   \
  X(select, SelectFn)   /* (cond: Uint8Array, a, b, y, inner) */                                                   \
  X(addN, AddNFn)       /* (y, [x0, x1, ...]) */                                                                   \
  X(biasAct, BiasActFn) /* (y, bias | null, cols, act, alpha), act an Activation: a matmul's epilogue in place */ \
  /* gemm.cc: matrix products on OpenBLAS's cblas_sgemm, split over our threads */                                \
  X(sgemm, SgemmFn)            /* (transA, transB, M, N, K, a, b, y[, aOffsets, bOffsets | batch, aStride, bStride]) */ \
  X(rawSgemmGflops, RawSgemmFn) /* (M, N, K, batch, reps): the bench's reference, cblas_sgemm in a C loop */        \
  /* reduce.cc: over the middle axis of x viewed as [outer, R, inner] */                                          \
  X(reduce, ReduceFn) /* (op, x, y, outer, R, inner), op a ReduceOp */                                             \
  /* softmax.cc: row-wise along the last axis, and the fused label-smoothed cross-entropy */                      \
  X(softmax, SoftmaxFn)               /* (x, y, rows, cols, log) */                                                \
  X(logSoftmaxGrad, LogSoftmaxGradFn) /* (dy, value, dx, rows, cols) */                                            \
  X(xentRows, XentRowsFn)             /* (x, targets, loss, lse, rows, V, c, s) */                                 \
  X(xentRowsGrad, XentRowsGradFn)     /* (dy, x, targets, lse, dx, rows, V, c, s) */                               \
  /* layout.cc: data moved without arithmetic */                                                                   \
  X(transpose, TransposeFn) /* (x, y, dims, strides) on Float32Array, Int32Array or Uint8Array */                  \
  X(concat, ConcatFn)       /* (y, [x0, x1, ...], inners, outer) */                                                \
  /* gather.cc: an embedding's forward (gather) and backward (segment sum) */                                      \
  X(gather, GatherFn)         /* (x, idx, y, outer, dimSize, slice) on Float32Array or Int32Array */               \
  X(segmentSum, SegmentSumFn) /* (x, ids, y, numSegments, slice) */                                                \
  /* affine.cc: ResMLP's Affine (α ⊙ x + β) and LayerScale residuals (h + s ⊙ t) */                               \
  X(channelScale, ChannelScaleFn)         /* (x, s, add, y, d, mode), mode a ChannelScaleMode */                   \
  X(channelScaleGrad, ChannelScaleGradFn) /* (dy, x, s, dx, ds, db | null, d) */                                   \
  /* dropout.cc: inverted dropout with a hash mask, nothing stored between passes */                              \
  X(dropout, DropoutFn) /* (x, y, rate, seedLo, seedHi, group) */                                                  \
  /* optim.cc: one pass per parameter */                                                                           \
  X(adagradStep, AdagradStepFn) /* (p, g, sum, pOut, sumOut, lr, eps, wd) */                                       \
  X(adamStep, AdamStepFn) /* (p, g, m, v, pOut, mOut, vOut, beta1, 1-beta1, beta2, 1-beta2, sqrt(bc2), eps, lr/bc1, lr·wd) */ \
  /* topk.cc: the beam search's candidates of each row */                                                          \
  X(rowTopK, RowTopKFn) /* (x: Float32Array (rows·V), rows, V, k, values: Float32Array (rows·k), ids: Int32Array (rows·k)) */ \
  /* int8.cc: int8 linear layers for decoding */                                                                   \
  X(int8Pack, Int8PackFn) /* (q: Int8Array (N·K), scales: Float32Array (N), N, K): an External holding the packed weight */ \
  X(int8Linear, Int8LinearFn) /* (w, x: Float32Array (M·K), M, bias: Float32Array (N) | null, y: Float32Array (M·N), epilogue) */

// Settings and reports, no float work (they run with the caller's MXCSR): X(name, function).
#define RESMLP_CONTROLS(X)                                                                                         \
  /* threads.cc */                                                                                                 \
  X(setThreads, SetThreadsFn)         /* (n) → n */                                                                \
  X(getThreads, GetThreadsFn)         /* () → n */                                                                 \
  X(setMatmulSplit, SetMatmulSplitFn) /* (on) → on */                                                              \
  X(blasCore, BlasCoreFn)             /* () → { core, config, threading } */                                       \
  /* int8.cc */                                                                                                    \
  X(int8Support, Int8SupportFn) /* () → { available, reason, isa, kernel, library } */                             \
  X(int8Release, Int8ReleaseFn) /* (w): frees a packed weight now (its finalizer would later); idempotent */

namespace resmlp {

#define RESMLP_DECLARE_EXPORT(name, fn) Napi::Value fn(const Napi::CallbackInfo& info);
RESMLP_KERNELS(RESMLP_DECLARE_EXPORT)
RESMLP_CONTROLS(RESMLP_DECLARE_EXPORT)
#undef RESMLP_DECLARE_EXPORT

}  // namespace resmlp
