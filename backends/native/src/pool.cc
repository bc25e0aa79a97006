// Pooling on oneDNN, forward and backward (backends/native/pool.ts).
// Pooling. Parameters: [nsp, N, C, in[nsp], out[nsp], kernel[nsp], stride[nsp], padL[nsp],
// padR[nsp]], channels last. Algorithm: 0 max, 1 average (padding excluded, like TensorFlow).

#include <limits>
#include <memory>
#include <unordered_map>
#include <vector>

#include "kernels.h"
#include "primitive_cache.h"

namespace einnet {
namespace {

struct PoolGeometry {
  int nsp;
  memory::dim n, c;
  memory::dims in, out, kernel, stride, padL, padR, dilation;
  explicit PoolGeometry(const std::vector<int32_t>& p) {
    using namespace pool_params;
    if (p.size() < kHead) throw ArgError("pooling parameters too short");
    nsp = p[kNsp];
    if (nsp < 1 || nsp > 3 || p.size() != static_cast<size_t>(kHead + kAxisArrays * nsp)) {
      throw ArgError("pooling parameters have the wrong length");
    }
    n = p[kN];
    c = p[kC];
    auto take = [&](Axis k) {
      memory::dims d;
      for (int i = 0; i < nsp; ++i) d.push_back(p[kHead + k * nsp + i]);
      return d;
    };
    in = take(kIn), out = take(kOut), kernel = take(kKernel), stride = take(kStride), padL = take(kPadL), padR = take(kPadR);
    dilation = memory::dims(nsp, 0);
  }
  tag Tag() const { return nsp == 1 ? tag::nwc : nsp == 2 ? tag::nhwc : tag::ndhwc; }
  memory::dims Dims(const memory::dims& sp) const {
    memory::dims d{n, c};
    d.insert(d.end(), sp.begin(), sp.end());
    return d;
  }
  memory::desc Src() const { return memory::desc(Dims(in), dt::f32, Tag()); }
  memory::desc Dst() const { return memory::desc(Dims(out), dt::f32, Tag()); }
  int64_t SrcSize() const { return Product(Dims(in)); }
  int64_t DstSize() const { return Product(Dims(out)); }
};

algorithm PoolAlg(int32_t a) {
  if (a == kPoolMax) return algorithm::pooling_max;
  if (a == kPoolAvg) return algorithm::pooling_avg_exclude_padding;
  throw ArgError("unknown pooling algorithm");
}

dnnl::pooling_v2_forward::primitive_desc PoolForwardPd(const PoolGeometry& g, algorithm alg, prop_kind pk) {
  dnnl::pooling_v2_forward::desc d(pk, alg, g.Src(), g.Dst(), g.stride, g.kernel, g.dilation, g.padL, g.padR);
  return dnnl::pooling_v2_forward::primitive_desc(d, UserScratchAttr(), Engine());
}

struct PoolForwardEntry : Entry {
  dnnl::pooling_v2_forward::primitive_desc pd;
  dnnl::pooling_v2_forward prim;
  memory scratch;
};

// oneDNN's max pooling starts every window at the lowest finite float and skips NaN, so a window
// with nothing above that (all NaN, all -∞) gives -3.4e38, where tfjs' CPU kernel, which also
// skips NaN, starts at -∞. Outputs at the lowest float (rare: a scan of the output finds them)
// are recomputed from the input the way tfjs does: the largest value by `>`, from -∞.
void RedoLowestWindows(const PoolGeometry& g, const float* src, float* dst) {
  const float lowest = std::numeric_limits<float>::lowest();
  const int64_t total = g.DstSize();
  for (int64_t i = 0; i < total; ++i) {
    if (dst[i] != lowest) continue;
    int64_t rest = i;
    const int64_t c = rest % g.c;
    rest /= g.c;
    int64_t o[3] = {0, 0, 0}, k[3] = {0, 0, 0};
    for (int d = g.nsp - 1; d >= 0; --d) {
      o[d] = rest % g.out[d];
      rest /= g.out[d];
    }
    float best = -std::numeric_limits<float>::infinity();
    for (;;) {
      int64_t at = rest;  // the batch index, then the row-major position of the window cell
      bool inside = true;
      for (int d = 0; d < g.nsp && inside; ++d) {
        const int64_t x = o[d] * g.stride[d] - g.padL[d] + k[d];
        inside = x >= 0 && x < g.in[d];
        at = at * g.in[d] + x;
      }
      if (inside && src[at * g.c + c] > best) best = src[at * g.c + c];
      int d = g.nsp - 1;
      while (d >= 0 && ++k[d] == g.kernel[d]) k[d--] = 0;
      if (d < 0) break;
    }
    dst[i] = best;
  }
}

}  // namespace

// poolForward(params, src, dst, algorithm)
void PoolForward(const Napi::CallbackInfo& info) {
  auto p = Params(info[0]);
  PoolGeometry g(p);
  ThreadScope threads(static_cast<double>(g.DstSize()) * static_cast<double>(Product(g.kernel)));
  float* src = F32(info[1], g.SrcSize(), "input");
  float* dst = F32(info[2], g.DstSize(), "output");
  int32_t a = info[3].As<Napi::Number>().Int32Value();
  auto& e = TheCache().Get<PoolForwardEntry>(Key('p', p, a), [&] {
    auto x = std::make_unique<PoolForwardEntry>();
    x->pd = PoolForwardPd(g, PoolAlg(a), prop_kind::forward_inference);
    x->prim = dnnl::pooling_v2_forward(x->pd);
    x->scratch = Scratch(x->pd);
    return x;
  });
  e.prim.execute(Stream(), {{DNNL_ARG_SRC, memory(g.Src(), Engine(), src)},
                            {DNNL_ARG_DST, memory(g.Dst(), Engine(), dst)},
                            {DNNL_ARG_SCRATCHPAD, e.scratch}});
  Stream().wait();
  if (a == kPoolMax) RedoLowestWindows(g, src, dst);
}

namespace {

struct PoolBackwardEntry : Entry {
  // Max pooling's backward pass needs the argmax workspace of a training forward pass; tfjs
  // hands us the input, so we recompute the forward pass into scratch buffers.
  dnnl::pooling_v2_forward::primitive_desc fpd;
  dnnl::pooling_v2_forward fwd;
  memory fdst, workspace, fscratch;
  dnnl::pooling_v2_backward::primitive_desc pd;
  dnnl::pooling_v2_backward prim;
  memory scratch;
  bool max = false;
};


}  // namespace

// poolBackward(params, diffDst, src, diffSrc, algorithm)
void PoolBackward(const Napi::CallbackInfo& info) {
  auto p = Params(info[0]);
  PoolGeometry g(p);
  ThreadScope threads(static_cast<double>(g.DstSize()) * static_cast<double>(Product(g.kernel)));
  float* dy = F32(info[1], g.DstSize(), "dy");
  int32_t a = info[4].As<Napi::Number>().Int32Value();
  float* src = a == kPoolMax ? F32(info[2], g.SrcSize(), "input") : nullptr;
  float* dx = F32(info[3], g.SrcSize(), "dx");
  auto& e = TheCache().Get<PoolBackwardEntry>(Key('q', p, a), [&] {
    auto x = std::make_unique<PoolBackwardEntry>();
    x->max = a == kPoolMax;
    x->fpd = PoolForwardPd(g, PoolAlg(a), prop_kind::forward_training);
    if (x->max) {
      x->fwd = dnnl::pooling_v2_forward(x->fpd);
      x->fdst = memory(g.Dst(), Engine());
      x->workspace = memory(x->fpd.workspace_desc(), Engine());
      x->fscratch = Scratch(x->fpd);
    }
    dnnl::pooling_v2_backward::desc d(PoolAlg(a), g.Src(), g.Dst(), g.stride, g.kernel, g.dilation, g.padL,
                                      g.padR);
    x->pd = dnnl::pooling_v2_backward::primitive_desc(d, UserScratchAttr(), Engine(), x->fpd);
    x->prim = dnnl::pooling_v2_backward(x->pd);
    x->scratch = Scratch(x->pd);
    return x;
  });
  std::unordered_map<int, memory> args{{DNNL_ARG_DIFF_DST, memory(g.Dst(), Engine(), dy)},
                                       {DNNL_ARG_DIFF_SRC, memory(g.Src(), Engine(), dx)},
                                       {DNNL_ARG_SCRATCHPAD, e.scratch}};
  if (e.max) {
    e.fwd.execute(Stream(), {{DNNL_ARG_SRC, memory(g.Src(), Engine(), src)},
                             {DNNL_ARG_DST, e.fdst},
                             {DNNL_ARG_WORKSPACE, e.workspace},
                             {DNNL_ARG_SCRATCHPAD, e.fscratch}});
    args[DNNL_ARG_WORKSPACE] = e.workspace;
  }
  e.prim.execute(Stream(), args);
  Stream().wait();
}

}  // namespace einnet
