// einnet's own loops for the kernels oneDNN has no fast primitive for: data movement (slice, pad,
// transpose, concat, tile, reverse as one strided copy), broadcasting binary operations,
// select, reductions over any axes, arg-max/min and a few unary operations. See loops.cc.
#pragma once

#include <napi.h>

#include <stdexcept>

namespace einnet {

// A bad argument from the TypeScript side; addon.cc's Guard reports it as a JS error, which the
// kernel wrapper turns into a CPU fallback.
struct LoopArgError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

void StridedCopy(const Napi::CallbackInfo& info);
void BroadcastBinary(const Napi::CallbackInfo& info);
void SelectLoop(const Napi::CallbackInfo& info);
void ReduceLoop(const Napi::CallbackInfo& info);
void ArgReduce(const Napi::CallbackInfo& info);
void UnaryLoop(const Napi::CallbackInfo& info);
void BatchNormLoop(const Napi::CallbackInfo& info);

// normalize.cc: the batch-normalization route's statistics, normalization and gradients.
void BatchStatsLoop(const Napi::CallbackInfo& info);
void BatchStatsGradLoop(const Napi::CallbackInfo& info);
void BatchNormalizeLoop(const Napi::CallbackInfo& info);
void BatchNormalizeGradLoop(const Napi::CallbackInfo& info);

// update.cc: one SGD or Adam step of a parameter; a running statistic's moving average.
void SgdUpdateLoop(const Napi::CallbackInfo& info);
void AdamUpdateLoop(const Napi::CallbackInfo& info);
void MovingAverageLoop(const Napi::CallbackInfo& info);

// fused.cc: relu(a + b), the relu gradient, the tiling average-pool gradient, tanh/sigmoid gradients.
void AddReluLoop(const Napi::CallbackInfo& info);
void ReluGradLoop(const Napi::CallbackInfo& info);
void AvgPoolTileGradLoop(const Napi::CallbackInfo& info);
void ActivationGradLoop(const Napi::CallbackInfo& info);

// loss.cc: softmax cross-entropy and its gradient in one pass.
void SoftmaxCrossEntropyLoop(const Napi::CallbackInfo& info);

// max_pool_nan.cc: 2-D max pooling in which a window holding a NaN gives NaN.
void MaxPoolNaNLoop(const Napi::CallbackInfo& info);

// max_pool_grad.cc: the gradient of 2-D max pooling, to each window's first maximum.
void MaxPoolGradLoop(const Napi::CallbackInfo& info);

}  // namespace einnet
