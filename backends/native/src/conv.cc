// Convolutions on oneDNN: forward (with fused bias and activation), backward-data and
// backward-weights, dense and depthwise, 1-3 spatial dims (backends/native/conv.ts plans them).
// Activations are wrapped in place in the layout tfjs stores (NHWC/NCHW/NDHWC); weights are
// described by their tfjs strides and reordered on every call into the layout the chosen kernel
// wants (conv_layout.h). No activation is copied, except where a Winograd convolution reads
// and writes nChw16c (ConvGeometry::WinogradCandidate).

#include <cstring>
#include <memory>
#include <unordered_map>
#include <vector>

#include "conv_geometry.h"
#include "conv_layout.h"
#include "kernels.h"
#include "parallel.h"
#include "primitive_cache.h"

namespace einnet {

// Whether convolutions may use Winograd (ConvGeometry::WinogradCandidate); setWinograd() sets
// it (backends/native/winograd.ts: EINNET_WINOGRAD, setNativeWinograd).
bool& WinogradEnabled() {
  static bool on = true;
  return on;
}

// Convolution primitives made with the Winograd algorithm so far (info().winogradPrimitives).
uint64_t& WinogradCount() {
  static uint64_t n = 0;
  return n;
}

// Convolution primitives made from oneDNN's reference loops so far (info().referenceConvolutions).
uint64_t& ReferenceConvolutionCount() {
  static uint64_t n = 0;
  return n;
}

uint64_t& OwnWinogradCount() {
  static uint64_t n = 0;
  return n;
}

namespace {

// The algorithms to try for a convolution, best first, with the activation layout each takes
// and the propagation kind of its forward pass. Winograd's forward runs as forward_training:
// for inference oneDNN wants the filter pre-transformed, a reorder of 0.7 ms for a 3x3 64x64
// filter on every call (filters change every step), slower than the convolution itself.
struct ConvChoice {
  algorithm alg;
  tag act;
  prop_kind forward;
};
std::vector<ConvChoice> ConvChoices(const ConvGeometry& g, bool forward) {
  std::vector<ConvChoice> v;
  if (g.WinogradCandidate()) v.push_back({algorithm::convolution_winograd, tag::nChw16c, prop_kind::forward_training});
  if (g.Blocked16() && !forward) v.push_back({algorithm::convolution_direct, tag::nChw16c, prop_kind::forward_inference});
  v.push_back({algorithm::convolution_direct, g.ActTag(), prop_kind::forward_inference});
  return v;
}

// Whether oneDNN made a primitive from its reference loops ("ref:any"), which it does rather
// than fail when no optimised kernel takes the layouts asked for: hundreds of times slower.
template <class Pd>
bool IsReference(const Pd& pd) {
  return std::strncmp(pd.impl_info_str(), "ref", 3) == 0;
}

// The first choice oneDNN has an optimised kernel for (Winograd has limits on padding and ISA
// that are its own to check; a blocked layout may have only reference loops on this CPU). The
// last choice, the direct algorithm on the caller's layout, is taken whatever oneDNN offers;
// when even that is a reference kernel, referenceConvolutions counts it.
template <class Make>
auto FirstChoice(const ConvGeometry& g, bool forward, Make make) -> decltype(make(ConvChoice{})) {
  const auto choices = ConvChoices(g, forward);
  for (size_t i = 0; i + 1 < choices.size(); ++i) {
    try {
      auto e = make(choices[i]);
      if (IsReference(e)) continue;
      if (choices[i].alg == algorithm::convolution_winograd) ++WinogradCount();
      return e;
    } catch (const dnnl::error&) {
    }
  }
  auto e = make(choices.back());
  if (IsReference(e)) ++ReferenceConvolutionCount();
  return e;
}

struct ConvForwardEntry : Entry {
  dnnl::convolution_forward::primitive_desc pd;
  dnnl::convolution_forward prim;
  std::unique_ptr<WeightsIn> weights;
  Relayout src, dst;
  memory scratch;
};

struct ConvBackwardDataEntry : Entry {
  dnnl::convolution_backward_data::primitive_desc pd;
  dnnl::convolution_backward_data prim;
  std::unique_ptr<WeightsIn> weights;
  Relayout dy, dx;
  memory scratch;
};

struct ConvBackwardWeightsEntry : Entry {
  dnnl::convolution_backward_weights::primitive_desc pd;
  dnnl::convolution_backward_weights prim;
  Relayout src, dy;
  memory::desc user;
  memory diffWeights;  // in the primitive's layout when it differs from the user's
  dnnl::reorder toUser;
  std::vector<int32_t> map;  // LayoutMap(user, primitive's), when it applies
  bool needs = false;
  memory scratch;
};

dnnl::convolution_forward::primitive_desc ForwardPd(const ConvGeometry& g, const ConvChoice& k, bool bias, prop_kind pk,
                                                   const dnnl::primitive_attr& attr) {
  auto d = bias ? dnnl::convolution_forward::desc(pk, k.alg, g.Src(k.act), g.AnyWeights(), g.Bias(), g.Dst(k.act),
                                                  g.stride, g.dilation, g.padL, g.padR)
                : dnnl::convolution_forward::desc(pk, k.alg, g.Src(k.act), g.AnyWeights(), g.Dst(k.act), g.stride,
                                                  g.dilation, g.padL, g.padR);
  return dnnl::convolution_forward::primitive_desc(d, attr, Engine());
}


}  // namespace

// convForward(params, src, weights, bias | null, dst, activation, alpha)
void ConvForward(const Napi::CallbackInfo& info) {
  auto p = Params(info[0]);
  ConvGeometry g(p);
  ThreadScope threads(g.Flops());
  float* src = F32(info[1], g.SrcSize(), "input");
  float* w = F32(info[2], g.WeightsSize(), "filter");
  float* bias = OptionalF32(info[3], g.oc, "bias");
  float* dst = F32(info[4], g.DstSize(), "output");
  int32_t act = info[5].As<Napi::Number>().Int32Value();
  float alpha = info[6].As<Napi::Number>().FloatValue();
  // einnet's Winograd fuses relu into its output transform; relu6 follows as a pass of its own.
  if (g.OwnWinogradCandidate() && (act == kNone || act == kRelu || act == kRelu6)) {
    WinogradConv3x3(g.WinogradShape(), src, w, false, bias, act == kRelu, dst, ParallelThreads());
    ++OwnWinogradCount();
    if (act == kRelu6) FinishActivation(act, dst, g.DstSize());
    return;
  }
  auto& e = TheCache().Get<ConvForwardEntry>(Key('c', p, act * 2 + (bias ? 1 : 0), alpha), [&] {
    auto attr = UserScratchAttr();
    AppendActivation(attr, act, alpha);
    auto x = std::make_unique<ConvForwardEntry>();
    x->pd = FirstChoice(g, true, [&](const ConvChoice& k) {
      return ForwardPd(g, k, bias != nullptr, k.forward, attr);
    });
    x->prim = dnnl::convolution_forward(x->pd);
    x->weights = std::make_unique<WeightsIn>(g.UserWeights(), x->pd.weights_desc());
    x->src = Relayout(g.UserSrc(x->pd.src_desc()), x->pd.src_desc(), Relayout::kIn, 0);
    x->dst = Relayout(g.UserDst(x->pd.dst_desc()), x->pd.dst_desc(), Relayout::kOut, 1);
    x->scratch = Scratch(x->pd);
    return x;
  });
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, e.src.In(src)},
                                       {DNNL_ARG_WEIGHTS, e.weights->Get(w)},
                                       {DNNL_ARG_DST, e.dst.Out(dst)},
                                       {DNNL_ARG_SCRATCHPAD, e.scratch}};
  if (bias) args[DNNL_ARG_BIAS] = memory(g.Bias(), Engine(), bias);
  e.prim.execute(Stream(), args);
  e.dst.Finish(dst);
  Stream().wait();
  FinishActivation(act, dst, g.DstSize());
}

// convBackwardData(params, diffDst, weights, diffSrc)
void ConvBackwardData(const Napi::CallbackInfo& info) {
  auto p = Params(info[0]);
  ConvGeometry g(p);
  ThreadScope threads(g.Flops());
  float* dy = F32(info[1], g.DstSize(), "dy");
  float* w = F32(info[2], g.WeightsSize(), "filter");
  float* dx = F32(info[3], g.SrcSize(), "dx");
  if (g.OwnWinogradCandidate()) {
    // The input gradient is the forward convolution of dy with the window turned round and the
    // channels swapped, padded by 2 - pad at the top and left.
    const Winograd3x3Shape s{g.n, g.out[0], g.out[1], g.oc, g.in[0], g.in[1], g.c, 2 - g.padL[0], 2 - g.padL[1]};
    WinogradConv3x3(s, dy, w, true, nullptr, false, dx, ParallelThreads());
    ++OwnWinogradCount();
    return;
  }
  auto& e = TheCache().Get<ConvBackwardDataEntry>(Key('d', p), [&] {
    auto x = std::make_unique<ConvBackwardDataEntry>();
    x->pd = FirstChoice(g, false, [&](const ConvChoice& k) {
      auto hint = ForwardPd(g, k, false, prop_kind::forward_training, dnnl::primitive_attr());
      dnnl::convolution_backward_data::desc d(k.alg, g.Src(k.act), g.AnyWeights(), g.Dst(k.act), g.stride,
                                              g.dilation, g.padL, g.padR);
      return dnnl::convolution_backward_data::primitive_desc(d, UserScratchAttr(), Engine(), hint);
    });
    x->prim = dnnl::convolution_backward_data(x->pd);
    x->weights = std::make_unique<WeightsIn>(g.UserWeights(), x->pd.weights_desc());
    x->dy = Relayout(g.UserDst(x->pd.diff_dst_desc()), x->pd.diff_dst_desc(), Relayout::kIn, 0);
    x->dx = Relayout(g.UserSrc(x->pd.diff_src_desc()), x->pd.diff_src_desc(), Relayout::kOut, 1);
    x->scratch = Scratch(x->pd);
    return x;
  });
  e.prim.execute(Stream(), {{DNNL_ARG_DIFF_DST, e.dy.In(dy)},
                            {DNNL_ARG_WEIGHTS, e.weights->Get(w)},
                            {DNNL_ARG_DIFF_SRC, e.dx.Out(dx)},
                            {DNNL_ARG_SCRATCHPAD, e.scratch}});
  e.dx.Finish(dx);
  Stream().wait();
}

// convBackwardWeights(params, src, diffDst, diffWeights)
void ConvBackwardWeights(const Napi::CallbackInfo& info) {
  auto p = Params(info[0]);
  ConvGeometry g(p);
  ThreadScope threads(g.Flops());
  float* x = F32(info[1], g.SrcSize(), "input");
  float* dy = F32(info[2], g.DstSize(), "dy");
  float* dw = F32(info[3], g.WeightsSize(), "dfilter");
  if (g.OwnWinogradCandidate()) {
    WinogradFilterGradient3x3(g.WinogradShape(), x, dy, dw, ParallelThreads());
    ++OwnWinogradCount();
    return;
  }
  auto& e = TheCache().Get<ConvBackwardWeightsEntry>(Key('w', p), [&] {
    auto n = std::make_unique<ConvBackwardWeightsEntry>();
    n->pd = FirstChoice(g, false, [&](const ConvChoice& k) {
      auto hint = ForwardPd(g, k, false, prop_kind::forward_training, dnnl::primitive_attr());
      dnnl::convolution_backward_weights::desc d(k.alg, g.Src(k.act), g.AnyWeights(), g.Dst(k.act), g.stride,
                                                 g.dilation, g.padL, g.padR);
      return dnnl::convolution_backward_weights::primitive_desc(d, UserScratchAttr(), Engine(), hint);
    });
    n->prim = dnnl::convolution_backward_weights(n->pd);
    n->src = Relayout(g.UserSrc(n->pd.src_desc()), n->pd.src_desc(), Relayout::kIn, 0);
    n->dy = Relayout(g.UserDst(n->pd.diff_dst_desc()), n->pd.diff_dst_desc(), Relayout::kIn, 1);
    n->user = g.UserWeights();
    n->needs = n->pd.diff_weights_desc() != n->user;
    if (n->needs) {
      n->diffWeights = memory(n->pd.diff_weights_desc(), Engine());
      n->map = LayoutMap(n->user, n->pd.diff_weights_desc());
      if (n->map.empty()) n->toUser = dnnl::reorder(n->diffWeights, memory(n->user, Engine(), DNNL_MEMORY_NONE));
    }
    n->scratch = Scratch(n->pd);
    return n;
  });
  memory user(e.user, Engine(), dw);
  e.prim.execute(Stream(), {{DNNL_ARG_SRC, e.src.In(x)},
                            {DNNL_ARG_DIFF_DST, e.dy.In(dy)},
                            {DNNL_ARG_DIFF_WEIGHTS, e.needs ? e.diffWeights : user},
                            {DNNL_ARG_SCRATCHPAD, e.scratch}});
  if (e.needs) {
    Stream().wait();
    if (!e.map.empty()) {
      const float* src = static_cast<const float*>(e.diffWeights.get_data_handle());
      const int32_t* t = e.map.data();
      for (size_t i = 0, n = e.map.size(); i < n; ++i) dw[i] = src[t[i]];
    } else {
      ThreadScope one(0);
      e.toUser.execute(Stream(), e.diffWeights, user);
    }
  }
  Stream().wait();
}

}  // namespace einnet
