// A convolution's geometry as the TypeScript side packs it (params.h, ConvParams; conv.ts,
// convParams), and the oneDNN memory descriptors it implies.
#pragma once

#include <cstdint>
#include <vector>

#include "kernel.h"
#include "kernels.h"
#include "params.h"
#include "winograd.h"

namespace einnet {

struct ConvGeometry {
  int nsp;
  bool channelsLast, depthwise;
  memory::dim n, c, oc;
  memory::dims in, out, kernel, stride, dilation, padL, padR;

  explicit ConvGeometry(const std::vector<int32_t>& p) {
    using namespace conv_params;
    if (p.size() < kHead) throw ArgError("convolution parameters too short");
    nsp = p[kNsp];
    if (nsp < 1 || nsp > 3 || p.size() != static_cast<size_t>(kHead + kAxisArrays * nsp)) {
      throw ArgError("convolution parameters have the wrong length");
    }
    channelsLast = p[kChannelsLast] != 0;
    depthwise = p[kDepthwise] != 0;
    n = p[kN];
    c = p[kC];
    oc = p[kOC];
    auto take = [&](Axis k) {
      memory::dims d;
      for (int i = 0; i < nsp; ++i) d.push_back(p[kHead + k * nsp + i]);
      return d;
    };
    in = take(kIn), out = take(kOut), kernel = take(kKernel), stride = take(kStride), dilation = take(kDilation);
    padL = take(kPadL), padR = take(kPadR);
    if (n <= 0 || c <= 0 || oc <= 0) throw ArgError("empty convolution");
    if (depthwise && oc % c != 0) throw ArgError("depthwise output channels must be a multiple of C");
  }

  tag ActTag() const {
    if (nsp == 1) return channelsLast ? tag::nwc : tag::ncw;
    if (nsp == 2) return channelsLast ? tag::nhwc : tag::nchw;
    return channelsLast ? tag::ndhwc : tag::ncdhw;
  }
  memory::dims Act(memory::dim ch, const memory::dims& sp) const {
    memory::dims d{n, ch};
    d.insert(d.end(), sp.begin(), sp.end());
    return d;
  }
  // With 16 channels in and out, a channels-last 2-D activation is byte for byte oneDNN's
  // blocked nChw16c, and saying so lets the backward passes take oneDNN's blocked kernels, which
  // beat its nhwc ones at this width on AVX-512 (a ResNet-20 step's backward-data convs 16.8 →
  // 7.1 ms, backward-weights 14.4 → 7.9 ms, measured with ONEDNN_VERBOSE on a Zen 5). The forward
  // pass stays nhwc, where oneDNN has its brgemm-based kernels: 5.8 ms a step against 7.4 ms for
  // the blocked ones (Zen 4). Without AVX-512 oneDNN has no kernel for nChw16c but its reference
  // loops (3 s a call on AVX2, 400x the nhwc kernel), so FirstChoice falls through to nhwc there.
  // Only when both sides qualify: a blocked source with an nhwc destination gets a reference kernel.
  bool Blocked16() const { return nsp == 2 && channelsLast && !depthwise && c == 16 && oc == 16; }
  memory::desc Src(tag t) const { return memory::desc(Act(c, in), dt::f32, t); }
  memory::desc Dst(tag t) const { return memory::desc(Act(oc, out), dt::f32, t); }
  // The caller's source or destination array as oneDNN should see it beside a primitive that
  // wants `wanted`: with 16 channels a channels-last array is byte for byte nChw16c, so it is
  // described so when that is wanted (no reorder); otherwise it is what tfjs stores.
  memory::desc UserSrc(const memory::desc& wanted) const { return UserAct(c, in, wanted); }
  memory::desc UserDst(const memory::desc& wanted) const { return UserAct(oc, out, wanted); }
  memory::desc UserAct(memory::dim ch, const memory::dims& sp, const memory::desc& wanted) const {
    if (nsp == 2 && channelsLast && ch == 16 && wanted == memory::desc(Act(ch, sp), dt::f32, tag::nChw16c)) return wanted;
    return memory::desc(Act(ch, sp), dt::f32, ActTag());
  }
  // Whether to try oneDNN's Winograd F(4x4, 3x3) kernels: dense 3x3 windows at stride 1 with 32
  // or more channels (multiples of 16) on both sides, and at least one 4x4 tile of output. They
  // take nChw16c activations only, so channels-last arrays are reordered in and out (a ResNet-20
  // activation: 0.02 ms alone, ~0.06 ms inside a training step); the three passes still take
  // 0.37-0.45 ms where the direct kernels take 0.69-0.73 ms (Zen 4; 32 channels on 16x16, batch
  // 32; 64 on 8x8 alike; with the reorders a ResNet-20 step's oneDNN time fell 45.4 -> 37 ms). With 16
  // channels they were slower than the direct kernels. Results agree with the direct kernels to
  // ~1.5e-6 of the largest output. Padding must be the same on both sides of an axis: with
  // uneven padding oneDNN 2.6's Winograd backward-data pass returns wrong values (found by
  // test/native/conv.test.ts). EINNET_WINOGRAD=0 or setNativeWinograd(false) turn them off.
  bool WinogradCandidate() const {
    return WinogradEnabled() && nsp == 2 && channelsLast && !depthwise && kernel[0] == 3 && kernel[1] == 3 &&
           stride[0] == 1 && stride[1] == 1 && dilation[0] == 0 && dilation[1] == 0 && c >= 32 && oc >= 32 &&
           c % 16 == 0 && oc % 16 == 0 && out[0] >= 4 && out[1] >= 4 && padL == padR;
  }
  // Whether einnet's own Winograd kernels (winograd.h) may take this convolution's three passes:
  // where oneDNN has no Winograd (no AVX-512) and Winograd is allowed, dense 3x3 windows at
  // stride 1 over channels-last arrays with 16 to 256 channels on each side (multiples of 8, at
  // most 256 x 256 pairs). On AVX2 they take 0.55-0.90 of the time of oneDNN's direct kernels from
  // 16 to 256 channels (docs/native-backend.md); with 8 channels the input gradient took 1.19x
  // (the transforms outweigh the products), and with 512 x 512 it took 1.38x, the transformed
  // filter (16 MB) no longer staying in cache between blocks of tiles. Results agree with the
  // direct kernels to ~1e-6 of the largest output.
  bool OwnWinogradCandidate() const {
    return WinogradEnabled() && OwnWinogradAvailable() && nsp == 2 && channelsLast && !depthwise && kernel[0] == 3 &&
           kernel[1] == 3 && stride[0] == 1 && stride[1] == 1 && dilation[0] == 0 && dilation[1] == 0 && c % 8 == 0 &&
           oc % 8 == 0 && c >= 16 && oc >= 16 && c * oc <= 256 * 256;
  }
  // The forward convolution as winograd.h describes it (the filter gradient's too).
  Winograd3x3Shape WinogradShape() const { return {n, in[0], in[1], c, out[0], out[1], oc, padL[0], padL[1]}; }
  int64_t SrcSize() const { return Product(Act(c, in)); }
  int64_t DstSize() const { return Product(Act(oc, out)); }
  int64_t WeightsSize() const { return Product(kernel) * c * (depthwise ? oc / c : oc); }
  // Multiply-adds ×2 of the forward pass (each backward pass does as many).
  double Flops() const { return 2.0 * static_cast<double>(DstSize()) * static_cast<double>(Product(kernel)) * (depthwise ? 1.0 : static_cast<double>(c)); }

  // Logical oneDNN weight dims and the strides of the tfjs layout.
  memory::dims WeightDims() const {
    memory::dims d;
    if (depthwise) d = {c, oc / c, 1};
    else d = {oc, c};
    d.insert(d.end(), kernel.begin(), kernel.end());
    return d;
  }
  memory::desc UserWeights() const {
    memory::dims strides;
    // Spatial strides: the innermost spatial axis steps over C * (OC or multiplier) elements.
    const memory::dim inner = depthwise ? oc : c * oc;
    memory::dims sp(nsp);
    memory::dim s = inner;
    for (int i = nsp - 1; i >= 0; --i) {
      sp[i] = s;
      s *= kernel[i];
    }
    if (depthwise) strides = {oc / c, 1, 1};
    else strides = {1, oc};
    strides.insert(strides.end(), sp.begin(), sp.end());
    return memory::desc(WeightDims(), dt::f32, strides);
  }
  memory::desc AnyWeights() const { return memory::desc(WeightDims(), dt::f32, tag::any); }
  memory::desc Bias() const { return memory::desc({oc}, dt::f32, tag::x); }
};

}  // namespace einnet
