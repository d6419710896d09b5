// Threads of the kernels and of OpenBLAS: how many, whether matmuls are split over our threads
// or threaded by OpenBLAS itself, and which OpenBLAS build loaded (native/README.md, "Threads").
#pragma once

#include "kernel.h"

extern "C" void openblas_set_num_threads(int);
extern "C" int openblas_get_parallel(void);  // 0 sequential, 1 pthreads, 2 OpenMP

namespace resmlp {

// Matmul threading: true (default) = our threads split each sgemm call and OpenBLAS runs on one
// thread; false = OpenBLAS threads each product itself (see gemm.cc). setMatmulSplit switches.
extern bool g_matmul_split;
// OpenBLAS's threading model (openblas_get_parallel() == 2): its threads are libgomp's, ours.
extern bool g_blas_openmp;

// Reads the OpenBLAS build and applies the default threads (all cores); called once at load.
void init_threads();
// Sets OpenBLAS's thread count, its workers started with FTZ/DAZ set.
void set_openblas_threads(int n);

}  // namespace resmlp
