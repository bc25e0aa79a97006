// One-pass loops for what oneDNN or tfjs do in several passes or slowly: relu(a + b) and its
// gradient (dsl/lower/builder.ts folds a relu of a sum into one `addRelu` step; ops/residual.ts
// calls these on the native backend; split over the threads from 64K elements), the gradient of
// average pooling whose windows tile the input (oneDNN's took 0.43 ms for LeNet-5's 6-channel
// layer, 7x its forward), and the tanh and sigmoid gradients (three tfjs ops each).

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

// dx[n, y, x, c] = dy[n, y / kh, x / kw, c] / (kh·kw) inside the pooled area, 0 beyond it.
EINNET_CLONES void AvgPoolTileGradRows(int64_t N, int64_t H, int64_t W, int64_t C, int64_t kh, int64_t kw, int64_t OH,
                                       int64_t OW, const float* __restrict dy, float* __restrict dx) {
  const float scale = 1.f / static_cast<float>(kh * kw);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t y = 0; y < H; ++y) {
      float* row = dx + ((n * H + y) * W) * C;
      const int64_t oy = y / kh;
      if (oy >= OH) {
        for (int64_t i = 0; i < W * C; ++i) row[i] = 0.f;
        continue;
      }
      for (int64_t x = 0; x < W; ++x) {
        const int64_t ox = x / kw;
        float* out = row + x * C;
        if (ox >= OW) {
          for (int64_t c = 0; c < C; ++c) out[c] = 0.f;
          continue;
        }
        const float* g = dy + ((n * OH + oy) * OW + ox) * C;
        for (int64_t c = 0; c < C; ++c) out[c] = g[c] * scale;
      }
    }
}

// The gradients of tanh and sigmoid from their outputs: dy·(1 − y²) and dy·y·(1 − y), computed
// in float in tfjs' order of operations.
EINNET_CLONES void TanhGradChunk(int64_t n, const float* __restrict dy, const float* __restrict y, float* __restrict dx) {
  for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * (1.f - y[i] * y[i]);
}
EINNET_CLONES void SigmoidGradChunk(int64_t n, const float* __restrict dy, const float* __restrict y, float* __restrict dx) {
  for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * (y[i] * (1.f - y[i]));
}

}  // namespace

// activationGrad(params [op (0 tanh, 1 sigmoid), n], dy, y, dx).
void ActivationGradLoop(const Napi::CallbackInfo& info) {
  const auto p = IntParams(info[0]);
  if (p.size() != 2 || p[1] <= 0) throw LoopArgError("activationGrad parameters are [op, n > 0]");
  const int64_t n = p[1];
  const float* dy = Floats(info[1], n, "dy");
  const float* y = Floats(info[2], n, "y");
  float* dx = Floats(info[3], n, "dx");
  if (p[0] == 0) TanhGradChunk(n, dy, y, dx);
  else if (p[0] == 1) SigmoidGradChunk(n, dy, y, dx);
  else throw LoopArgError("unknown activation gradient");
}

// avgPoolTileGrad(params [N, H, W, C, kh, kw, OH, OW], dy, dx): the gradient of 2-D average
// pooling, channels last, stride = window, no padding.
void AvgPoolTileGradLoop(const Napi::CallbackInfo& info) {
  const auto p = IntParams(info[0]);
  if (p.size() != 8) throw LoopArgError("avgPoolTileGrad parameters have the wrong length");
  for (auto v : p)
    if (v <= 0) throw LoopArgError("avgPoolTileGrad extents must be positive");
  const int64_t N = p[0], H = p[1], W = p[2], C = p[3], kh = p[4], kw = p[5], OH = p[6], OW = p[7];
  if (OH * kh > H || OW * kw > W) throw LoopArgError("avgPoolTileGrad windows leave the input");
  const float* dy = Floats(info[1], N * OH * OW * C, "dy");
  float* dx = Floats(info[2], N * H * W * C, "dx");
  AvgPoolTileGradRows(N, H, W, C, kh, kw, OH, OW, dy, dx);
}

// addRelu(n, a, b, y): y = max(a + b, 0).
void AddReluLoop(const Napi::CallbackInfo& info) {
  const int64_t n = info[0].As<Napi::Number>().Int64Value();
  if (n <= 0) throw LoopArgError("addRelu needs n > 0");
  const float* a = Floats(info[1], n, "a");
  const float* b = Floats(info[2], n, "b");
  float* y = Floats(info[3], n, "y");
  ForRows(n, Threads(n), [&](int64_t begin, int64_t end, int) { AddReluChunk(begin, end, a, b, y); });
}

// reluGrad(n, dy, y, dx): dx = dy where y > 0, else 0 (y the relu's output).
void ReluGradLoop(const Napi::CallbackInfo& info) {
  const int64_t n = info[0].As<Napi::Number>().Int64Value();
  if (n <= 0) throw LoopArgError("reluGrad needs n > 0");
  const float* dy = Floats(info[1], n, "dy");
  const float* y = Floats(info[2], n, "y");
  float* dx = Floats(info[3], n, "dx");
  ForRows(n, Threads(n), [&](int64_t begin, int64_t end, int) { ReluGradChunk(begin, end, dy, y, dx); });
}

}  // namespace einnet
