// relu(a + b) and its gradient, one pass each (dsl/lower/builder.ts folds a relu of a sum into
// one `addRelu` step; kernels/residual.ts calls these on the native backend).

#include <cstdint>

#include "loops.h"
#include "parallel.h"
#include "typed_args.h"

namespace einnet {
namespace {

EINNET_CLONES void AddReluChunk(int64_t begin, int64_t end, const float* __restrict a, const float* __restrict b,
                                float* __restrict y) {
  for (int64_t i = begin; i < end; ++i) {
    const float v = a[i] + b[i];
    y[i] = v < 0.f ? 0.f : v;  // NaN stays NaN
  }
}

EINNET_CLONES void ReluGradChunk(int64_t begin, int64_t end, const float* __restrict dy, const float* __restrict y,
                                 float* __restrict dx) {
  for (int64_t i = begin; i < end; ++i) dx[i] = Masked(dy[i], y[i]);
}

}  // namespace

// addRelu(n, a, b, y): y = max(a + b, 0).
void AddReluLoop(const Napi::CallbackInfo& info) {
  const int64_t n = info[0].As<Napi::Number>().Int64Value();
  if (n <= 0) throw LoopArgError("addRelu needs n > 0");
  const float* a = Floats(info[1], n, "a");
  const float* b = Floats(info[2], n, "b");
  float* y = Floats(info[3], n, "y");
  AddReluChunk(0, n, a, b, y);
}

// reluGrad(n, dy, y, dx): dx = dy where y > 0, else 0 (y the relu's output).
void ReluGradLoop(const Napi::CallbackInfo& info) {
  const int64_t n = info[0].As<Napi::Number>().Int64Value();
  if (n <= 0) throw LoopArgError("reluGrad needs n > 0");
  const float* dy = Floats(info[1], n, "dy");
  const float* y = Floats(info[2], n, "y");
  float* dx = Floats(info[3], n, "dx");
  ReluGradChunk(0, n, dy, y, dx);
}

}  // namespace einnet
