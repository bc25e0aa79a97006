// The oneDNN kernels addon.cc exports, each reading its parameters as params.h lays them out, and
// the switches and state of the convolutions that the library controls reach.
#pragma once

#include <napi.h>

#include <cstdint>

namespace einnet {

// conv.cc. convForward(params, src, weights, bias | null, dst, activation, alpha);
// convBackwardData(params, diffDst, weights, diffSrc); convBackwardWeights(params, src, diffDst, diffWeights).
void ConvForward(const Napi::CallbackInfo& info);
void ConvBackwardData(const Napi::CallbackInfo& info);
void ConvBackwardWeights(const Napi::CallbackInfo& info);
// Whether convolutions may use Winograd (ConvGeometry::WinogradCandidate); setWinograd() sets
// it (backends/native/winograd.ts: EINNET_WINOGRAD, setNativeWinograd).
bool& WinogradEnabled();
// Convolution primitives made with the Winograd algorithm so far (info().winogradPrimitives).
uint64_t& WinogradCount();
// Convolution primitives made from oneDNN's reference loops so far (info().referenceConvolutions).
uint64_t& ReferenceConvolutionCount();
// Convolution passes (forward and both gradients) run by einnet's own Winograd kernel so far (winograd.h;
// info().ownWinogradPasses).
uint64_t& OwnWinogradCount();

// matmul.cc. matmul(params, a, b, bias | null, c, activation, alpha).
void Matmul(const Napi::CallbackInfo& info);

// pool.cc. poolForward(params, src, dst, algorithm); poolBackward(params, diffDst, src, diffSrc, algorithm).
void PoolForward(const Napi::CallbackInfo& info);
void PoolBackward(const Napi::CallbackInfo& info);

// eltwise.cc. eltwise(params, alpha, beta, src, dst); relu(n, cap, src, dst); binary(params, a, b, c).
void Eltwise(const Napi::CallbackInfo& info);
void Relu(const Napi::CallbackInfo& info);
// y = max(x, 0) over n floats (y may be x), capped at `cap` when cap > 0; NaN stays NaN.
void ReluRun(const float* x, float* y, int64_t n, float cap);
void Binary(const Napi::CallbackInfo& info);

// reduce.cc. reduce(params, src, dst).
void Reduce(const Napi::CallbackInfo& info);

}  // namespace einnet
