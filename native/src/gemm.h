// Matrix products on OpenBLAS's cblas_sgemm, single and batched, split over our threads.
#pragma once

#include "kernel.h"

namespace resmlp {

// sgemm(transA, transB, M, N, K, a, b, y[, aOffsets, bOffsets | batch, aStride, bStride])
Napi::Value SgemmFn(const Napi::CallbackInfo& info);
// rawSgemmGflops(M, N, K, batch, reps): the bench's reference, cblas_sgemm in a C loop
Napi::Value RawSgemmFn(const Napi::CallbackInfo& info);

}  // namespace resmlp
