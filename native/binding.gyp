# node-gyp build of the native kernels (native/src/*.cc; addon.cc is the module's exports) against
# OpenBLAS and OpenMP. OpenBLAS's OpenMP build (Debian libopenblas-openmp-dev) is linked by path and
# found at run time by rpath, so its threads are our OpenMP threads (one pool, see gemm.cc); where it
# is not installed the linker and loader take the system default (libopenblas-dev, usually the
# pthreads build). No -march=native: the binary must run on any x86-64 CPU; the hot loops are cloned
# for AVX-512 and AVX2+FMA and picked at run time (target_clones, the HOT attribute of kernel.h).
# oneDNN (Debian libdnnl-dev) is linked only when native/build.mjs found its header and passed
# -Dresmlp_dnnl=1; without it src/int8.cc builds a stub that reports int8 unavailable.
{
  "variables": { "resmlp_dnnl%": 0 },
  "targets": [
    {
      "target_name": "resmlp_native",
      "sources": [
        "src/addon.cc", "src/threads.cc", "src/gemm.cc", "src/elementwise.cc", "src/reduce.cc", "src/softmax.cc",
        "src/layout.cc", "src/gather.cc", "src/affine.cc", "src/dropout.cc", "src/optim.cc", "src/topk.cc", "src/int8.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "/usr/include/x86_64-linux-gnu", "/usr/include/openblas"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions", "-O2", "-O0"],
      "cflags_cc!": ["-fno-exceptions", "-O2", "-O0"],
      "cflags": ["-O3", "-fopenmp", "-ftree-vectorize", "-fno-math-errno", "-fno-trapping-math"],
      "cflags_cc": ["-O3", "-fopenmp", "-ftree-vectorize", "-fno-math-errno", "-fno-trapping-math", "-std=c++17"],
      "ldflags": ["-fopenmp", "-L/usr/lib/x86_64-linux-gnu/openblas-openmp", "-Wl,-rpath,/usr/lib/x86_64-linux-gnu/openblas-openmp"],
      "libraries": ["-lopenblas", "-lgomp"],
      "conditions": [
        ["resmlp_dnnl==1", { "defines": ["RESMLP_HAVE_DNNL=1"], "libraries": ["-ldnnl"] }, { "defines": ["RESMLP_HAVE_DNNL=0"] }]
      ]
    }
  ]
}
