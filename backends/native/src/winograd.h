// einnet's own Winograd convolution, F(2x2, 3x3), for CPUs on which oneDNN 2.6 has none (its
// Winograd kernels need AVX-512): 3x3 windows at stride 1, channels-last, channel counts that are
// multiples of 8. Each 2x2 block of outputs costs 16 multiply-adds per input channel instead of
// 36; the transforms are additions. conv.cc sends the three passes of eligible convolutions here.
#pragma once

#include <cstdint>

namespace einnet {

// A stride-1 3x3 convolution of NHWC arrays: y[n, oy, ox, k] = Σ x[n, oy+i-padT, ox+j-padL, c] ·
// f(i, j, c, k) over i, j < 3 and c, reading zeros outside x. The output size is given, not
// derived, so any padding works: the far sides' follows from it, and a negative one (the input
// gradient of a convolution padded by more than 2) starts the windows inside x.
struct Winograd3x3Shape {
  int64_t n, inH, inW, c, outH, outW, k;
  int64_t padT, padL;
};

// Whether the CPU runs WinogradConv3x3 (AVX2 with FMA) and oneDNN has no Winograd of its own
// (no AVX-512), so that einnet's is the faster choice for the shapes it takes.
bool OwnWinogradAvailable();

// Runs the convolution on `threads` threads. `filter` is tfjs' HWIO array [3, 3, C, K], read as
// f(i, j, c, k) = filter[i, j, c, k]; with `backwardData` it is the filter of the forward
// convolution whose input gradient this is, [3, 3, K, C], read as f(i, j, c, k) =
// filter[2-i, 2-j, k, c] (the window turned round, in and out channels swapped). `bias` (K values)
// may be null; `relu` applies max(0, ·) last. x and y must not overlap.
void WinogradConv3x3(const Winograd3x3Shape& s, const float* x, const float* filter, bool backwardData, const float* bias,
                     bool relu, float* y, int threads);

// The filter gradient of that convolution (forward orientation, no bias): dw[i, j, c, k] =
// Σ x[n, oy+i-padT, ox+j-padL, c] · dy[n, oy, ox, k], as tfjs' HWIO array [3, 3, C, K].
void WinogradFilterGradient3x3(const Winograd3x3Shape& s, const float* x, const float* dy, float* dw, int threads);

}  // namespace einnet
