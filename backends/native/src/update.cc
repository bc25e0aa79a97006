// One SGD step of a parameter, and a running statistic's moving average, in one pass each (models/optimizers.ts, through backends/native/update.ts):
// the four tfjs ops of the update (and their four passes and kernel calls) as one loop.

#include <cstdint>

#include "loops.h"
#include "parallel.h"
#include "typed_args.h"

namespace einnet {
namespace {

// g' = g + wd·w;  v' = μ·v + g';  w' = w − lr·(nesterov ? g' + μ·v' : v')   (v only when μ > 0),
// over elements [begin, end), each step rounded to float as the tfjs ops are.
EINNET_CLONES void SgdChunk(int64_t begin, int64_t end, bool momentum, bool nesterov, float lr, float mu, float wd,
                            const float* __restrict w, const float* __restrict g, const float* __restrict v,
                            float* __restrict wOut, float* __restrict vOut) {
  for (int64_t i = begin; i < end; ++i) {
    float grad = g[i];
    if (wd != 0.f) grad = grad + w[i] * wd;
    float step = grad;
    if (momentum) {
      const float vNew = v[i] * mu + grad;
      vOut[i] = vNew;
      step = nesterov ? grad + vNew * mu : vNew;
    }
    wOut[i] = w[i] - step * lr;
  }
}

// out = v·m + b·(1 − m) over elements [begin, end).
EINNET_CLONES void AverageChunk(int64_t begin, int64_t end, float m, const float* __restrict v, const float* __restrict b,
                                float* __restrict out) {
  const float k = 1.f - m;
  for (int64_t i = begin; i < end; ++i) out[i] = v[i] * m + b[i] * k;
}

}  // namespace

// movingAverage(n, momentum, v, batch, out): a running statistic moved toward its batch value.
void MovingAverageLoop(const Napi::CallbackInfo& info) {
  const int64_t n = info[0].As<Napi::Number>().Int64Value();
  if (n <= 0) throw LoopArgError("moving average needs n > 0");
  const float m = info[1].As<Napi::Number>().FloatValue();
  const float* v = Floats(info[2], n, "v");
  const float* b = Floats(info[3], n, "batch");
  float* out = Floats(info[4], n, "out");
  AverageChunk(0, n, m, v, b, out);
}

// sgdUpdate(params [n, momentum, nesterov], [lr, mu, wd] (Float64Array), w, g, v | null, wOut,
// vOut | null).
void SgdUpdateLoop(const Napi::CallbackInfo& info) {
  const auto p = IntParams(info[0]);
  if (p.size() != 3 || p[0] <= 0) throw LoopArgError("sgd parameters have the wrong length");
  const int64_t n = p[0];
  const bool momentum = p[1] != 0, nesterov = p[2] != 0;
  auto h = info[1].As<Napi::Float64Array>();
  if (h.ElementLength() != 3) throw LoopArgError("sgd hyperparameters must be [lr, momentum, weightDecay]");
  const float lr = static_cast<float>(h[0]), mu = static_cast<float>(h[1]), wd = static_cast<float>(h[2]);
  const float* w = Floats(info[2], n, "w");
  const float* g = Floats(info[3], n, "g");
  const float* v = momentum ? Floats(info[4], n, "v") : nullptr;
  float* wOut = Floats(info[5], n, "wOut");
  float* vOut = momentum ? Floats(info[6], n, "vOut") : nullptr;
  ForRows(n, Threads(n), [&](int64_t b, int64_t e, int) { SgdChunk(b, e, momentum, nesterov, lr, mu, wd, w, g, v, wOut, vOut); });
}

}  // namespace einnet
