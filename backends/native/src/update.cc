// One SGD or Adam step of a parameter, and a running statistic's moving average, in one pass each
// (models/optimizers.ts, through ops/update.ts and backends/native/update.ts): the tfjs ops of an
// update (four for SGD, up to fourteen for Adam, each a pass and a kernel call) as one loop.

#include <cmath>
#include <cstdint>

#include "loops.h"
#include "parallel.h"
#include "typed_args.h"

// GCC contracts a·b + c into a fused multiply-add in the AVX2 and AVX-512 clones of C++ code
// (-ffp-contract=fast); the updates round each product and sum to float as tfjs' ops do, so that
// they give the tfjs path's values bit for bit.
#if defined(__GNUC__) && !defined(__clang__)
#define EINNET_NO_FMA __attribute__((optimize("fp-contract=off")))
#else
#define EINNET_NO_FMA
#endif

namespace einnet {
namespace {

// g' = g + wd·w;  v' = μ·v + g';  w' = w − lr·(nesterov ? g' + μ·v' : v')   (v only when μ > 0),
// over elements [begin, end), each step rounded to float as the tfjs ops are.
EINNET_CLONES EINNET_NO_FMA void SgdChunk(int64_t begin, int64_t end, bool momentum, bool nesterov, float lr, float mu, float wd,
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

struct AdamHyper {
  float lr, beta1, beta2, epsilon, weightDecay, c1, c2, oneMinusBeta1, oneMinusBeta2, lrWeightDecay;
  bool decoupled;
};

// g' = g + wd·w (L2, not decoupled);  m' = β1·m + (1−β1)·g';  v' = β2·v + (1−β2)·g'²;
// w' = w − (m'/c1)/(sqrt(v'/c2) + ε)·lr, then w' − w·(lr·wd) when decoupled; each step rounded to
// float in the order of the tfjs ops of ops/update.ts.
EINNET_CLONES EINNET_NO_FMA void AdamChunk(int64_t begin, int64_t end, const AdamHyper h, const float* __restrict w, const float* __restrict g,
                             const float* __restrict m, const float* __restrict v, float* __restrict wOut, float* __restrict mOut,
                             float* __restrict vOut) {
  const bool l2 = h.weightDecay != 0.f && !h.decoupled;
  const bool decay = h.weightDecay != 0.f && h.decoupled;
  for (int64_t i = begin; i < end; ++i) {
    float grad = g[i];
    if (l2) grad = grad + w[i] * h.weightDecay;
    const float mNew = m[i] * h.beta1 + grad * h.oneMinusBeta1;
    const float vNew = v[i] * h.beta2 + (grad * grad) * h.oneMinusBeta2;
    mOut[i] = mNew;
    vOut[i] = vNew;
    const float denominator = std::sqrt(vNew / h.c2) + h.epsilon;
    float next = w[i] - ((mNew / h.c1) / denominator) * h.lr;
    if (decay) next = next - w[i] * h.lrWeightDecay;
    wOut[i] = next;
  }
}

// out = v·m + b·k over elements [begin, end), k = 1 − m (rounded from double, as tfjs' scalar).
EINNET_CLONES EINNET_NO_FMA void AverageChunk(int64_t begin, int64_t end, float m, float k, const float* __restrict v,
                                              const float* __restrict b, float* __restrict out) {
  for (int64_t i = begin; i < end; ++i) out[i] = v[i] * m + b[i] * k;
}

}  // namespace

// movingAverage(n, momentum, v, batch, out): a running statistic moved toward its batch value.
void MovingAverageLoop(const Napi::CallbackInfo& info) {
  const int64_t n = info[0].As<Napi::Number>().Int64Value();
  if (n <= 0) throw LoopArgError("moving average needs n > 0");
  const double momentum = info[1].As<Napi::Number>().DoubleValue();
  const float m = static_cast<float>(momentum), k = static_cast<float>(1.0 - momentum);
  const float* v = Floats(info[2], n, "v");
  const float* b = Floats(info[3], n, "batch");
  float* out = Floats(info[4], n, "out");
  AverageChunk(0, n, m, k, v, b, out);
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

// adamUpdate(params [n, decoupled], [lr, β1, β2, ε, wd, c1, c2, 1−β1, 1−β2, lr·wd] (Float64Array,
// each rounded to float as tfjs rounds its scalars), w, g, m, v, wOut, mOut, vOut).
void AdamUpdateLoop(const Napi::CallbackInfo& info) {
  const auto p = IntParams(info[0]);
  if (p.size() != 2 || p[0] <= 0) throw LoopArgError("adam parameters have the wrong length");
  const int64_t n = p[0];
  if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array ||
      info[1].As<Napi::Float64Array>().ElementLength() != 10) {
    throw LoopArgError("adam hyperparameters must be a Float64Array of 10");
  }
  auto hv = info[1].As<Napi::Float64Array>();
  const auto f = [&](size_t k) { return static_cast<float>(hv[k]); };
  const AdamHyper h{f(0), f(1), f(2), f(3), f(4), f(5), f(6), f(7), f(8), f(9), p[1] != 0};
  const float* w = Floats(info[2], n, "w");
  const float* g = Floats(info[3], n, "g");
  const float* m = Floats(info[4], n, "m");
  const float* v = Floats(info[5], n, "v");
  float* wOut = Floats(info[6], n, "wOut");
  float* mOut = Floats(info[7], n, "mOut");
  float* vOut = Floats(info[8], n, "vOut");
  ForRows(n, Threads(n), [&](int64_t b, int64_t e, int) { AdamChunk(b, e, h, w, g, m, v, wOut, mOut, vOut); });
}

}  // namespace einnet
