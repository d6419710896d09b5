# node-gyp build of the MPI addon (native/mpi/src/*.cc → build/Release/resmlp_mpi.node) against
# Open MPI, with the compile and link flags Open MPI's own wrapper reports (mpicc --showme:…).
# Built by native/mpi/build.mjs (run from native/build.mjs) only where mpicc is installed; the
# kernels' addon (native/binding.gyp) never links MPI, so it builds and loads without it.
{
  "targets": [
    {
      "target_name": "resmlp_mpi",
      "sources": ["src/addon.cc", "src/world.cc", "src/collectives.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "<!@(mpicc --showme:incdirs)"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "OMPI_SKIP_MPICXX=1", "MPICH_SKIP_MPICXX=1"],
      "cflags!": ["-O2", "-O0"],
      "cflags_cc!": ["-O2", "-O0"],
      "cflags_cc": ["-O2", "-std=c++17"],
      "libraries": ["<!@(mpicc --showme:link)", "-ldl"]
    }
  ]
}
