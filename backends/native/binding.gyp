# Builds backends/native/build/Release/einnet_native.node against the system's oneDNN.
# Deliberately NOT at the package root: npm would then run `node-gyp rebuild` on every install
# and fail on machines without oneDNN. scripts/build-native.js runs it only when oneDNN exists.
{
  "targets": [
    {
      "target_name": "einnet_native",
      "sources": [
        "src/addon.cc", "src/buffers.cc", "src/conv.cc", "src/conv_layout.cc", "src/matmul.cc", "src/pool.cc",
        "src/eltwise.cc", "src/reduce.cc", "src/loops.cc", "src/broadcast.cc", "src/reduce_loops.cc", "src/normalize.cc", "src/update.cc", "src/fused.cc",
        "src/max_pool_nan.cc", "src/max_pool_grad.cc", "src/loss.cc", "src/winograd.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!@(node -p \"process.env.EINNET_DNNL_INCLUDE || ''\")"
      ],
      "libraries": [
        "<!@(node -p \"process.env.EINNET_DNNL_LIB ? '-L' + process.env.EINNET_DNNL_LIB + ' -Wl,-rpath,' + process.env.EINNET_DNNL_LIB : ''\")",
        "-ldnnl"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O3"],
      "conditions": [
        ["OS=='linux'", {
          # -Wno-psabi: GCC notes that 32-byte vectors (src/parallel.h) are passed differently
          # without AVX; they never cross a call (always inlined into per-ISA clones).
          "cflags_cc": ["-fopenmp", "-Wno-psabi"],
          "ldflags": ["-fopenmp"]
        }],
        ["OS=='mac'", {
          "xcode_settings": {
            "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
            "GCC_ENABLE_CPP_RTTI": "YES",
            "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
            "MACOSX_DEPLOYMENT_TARGET": "11.0",
          }
        }]
      ]
    }
  ]
}
