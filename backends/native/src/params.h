// The parameter layouts the TypeScript side packs and the kernels read: every Int32Array of
// parameters of a oneDNN kernel and every numeric code, in one place. Each names its packer on
// the TypeScript side (backends/native/*.ts); a change here is a change there. einnet's own loops
// (loops.h) document their layouts beside their entry points.
#pragma once

#include <cstdint>

namespace einnet {

// Fused activations of convForward and matmul (addon.ts, ACTIVATION_CODES).
enum PostOp : int32_t { kNone = 0, kRelu = 1, kLeakyRelu = 2, kRelu6 = 3, kElu = 4, kSigmoid = 5 };

// Pooling algorithms of poolForward and poolBackward (addon.ts, POOL_MAX and POOL_AVG); average
// pooling excludes the padding, like TensorFlow.
enum PoolAlgorithm : int32_t { kPoolMax = 0, kPoolAvg = 1 };

// Unary operations of eltwise (elementwise.ts, UNARY); linear is alpha·x + beta.
enum EltwiseOp : int32_t {
  kEltRelu = 0, kEltRelu6 = 1, kEltElu = 2, kEltSigmoid = 3, kEltTanh = 4, kEltExp = 5,
  kEltLog = 6, kEltSqrt = 7, kEltSquare = 8, kEltAbs = 9, kEltLinear = 10,
};

// Operations of binary (oneDNN's broadcasting primitive).
enum BinaryOp : int32_t { kAdd = 0, kSub = 1, kMul = 2, kDiv = 3, kMax = 4, kMin = 5 };

// Operations of reduce (reduce.ts).
enum ReduceOp : int32_t { kReduceSum = 0, kReduceMean = 1 };

// convForward, convBackwardData, convBackwardWeights (conv.ts, convParams), nsp = number of
// spatial dims (1-3), then seven arrays of nsp values each:
//   [nsp, channelsLast, depthwise, N, C, OC,
//    in[nsp], out[nsp], kernel[nsp], stride[nsp], dilation[nsp] (oneDNN form: rate - 1),
//    padL[nsp], padR[nsp]]
// Weights are in tfjs layout: dense [k..., C, OC]; depthwise [k..., C, OC / C].
namespace conv_params {
enum : int { kNsp = 0, kChannelsLast, kDepthwise, kN, kC, kOC, kHead };
enum Axis : int { kIn = 0, kOut, kKernel, kStride, kDilation, kPadL, kPadR, kAxisArrays };
}  // namespace conv_params

// matmul (matmul.ts, matmulPlan): A is stored [batchA, M, K] (or [batchA, K, M] when
// transposed), B [batchB, K, N] (or [batchB, N, K]); a batch of 1 broadcasts. C is
// [max(batchA, batchB), M, N].
namespace matmul_params {
enum : int { kBatchA = 0, kBatchB, kM, kK, kN, kTransposeA, kTransposeB, kLength };
}  // namespace matmul_params

// poolForward, poolBackward (pool.ts, poolParams), channels last, then six arrays of nsp values:
//   [nsp, N, C, in[nsp], out[nsp], kernel[nsp], stride[nsp], padL[nsp], padR[nsp]]
namespace pool_params {
enum : int { kNsp = 0, kN, kC, kHead };
enum Axis : int { kIn = 0, kOut, kKernel, kStride, kPadL, kPadR, kAxisArrays };
}  // namespace pool_params

// eltwise (elementwise.ts): [op (EltwiseOp), n], alpha and beta as numbers.
// binary: [op (BinaryOp), rank, aDims[rank], bDims[rank]]; c has a's dims, b broadcasts.
// reduce (reduce.ts): [op (ReduceOp), rank, srcDims[rank], dstDims[rank]], dst extents 1 on
// reduced axes.

}  // namespace einnet
