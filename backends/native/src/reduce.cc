// Reductions (Sum, Mean) over any set of axes on oneDNN (backends/native/reduce.ts): dst has the
// source's dims with 1 on reduced axes.

#include <memory>

#include "kernels.h"
#include "primitive_cache.h"

namespace einnet {
namespace {

memory::desc RowMajor(const memory::dims& d) {
  memory::dims strides(d.size());
  memory::dim s = 1;
  for (int i = static_cast<int>(d.size()) - 1; i >= 0; --i) {
    strides[i] = s;
    s *= d[i];
  }
  return memory::desc(d, dt::f32, strides);
}

struct ReductionEntry : Entry {
  dnnl::reduction::primitive_desc pd;
  dnnl::reduction prim;
  memory::desc src, dst;
  memory scratch;
};

}  // namespace

// reduce(params [op (0 sum, 1 mean), rank, srcDims[rank], dstDims[rank]], src, dst)
void Reduce(const Napi::CallbackInfo& info) {
  auto p = Params(info[0]);
  if (p.size() < 2) throw ArgError("reduction parameters too short");
  const int rank = p[1];
  if (rank < 1 || rank > 12 || p.size() != static_cast<size_t>(2 + 2 * rank)) throw ArgError("reduction parameters have the wrong length");
  memory::dims sd(p.begin() + 2, p.begin() + 2 + rank), dd(p.begin() + 2 + rank, p.end());
  for (int i = 0; i < rank; ++i) {
    if (sd[i] <= 0 || (dd[i] != sd[i] && dd[i] != 1)) throw ArgError("reduced extents must be 1");
  }
  float* src = F32(info[1], Product(sd), "x");
  float* dst = F32(info[2], Product(dd), "y");
  auto& e = TheCache().Get<ReductionEntry>(Key('r', p), [&] {
    auto x = std::make_unique<ReductionEntry>();
    x->src = RowMajor(sd);
    x->dst = RowMajor(dd);
    algorithm alg = p[0] == kReduceSum ? algorithm::reduction_sum : p[0] == kReduceMean ? algorithm::reduction_mean : throw ArgError("unknown reduction");
    dnnl::reduction::desc d(alg, x->src, x->dst, 0.f, 0.f);
    x->pd = dnnl::reduction::primitive_desc(d, UserScratchAttr(), Engine());
    x->prim = dnnl::reduction(x->pd);
    x->scratch = Scratch(x->pd);
    return x;
  });
  e.prim.execute(Stream(), {{DNNL_ARG_SRC, memory(e.src, Engine(), src)},
                            {DNNL_ARG_DST, memory(e.dst, Engine(), dst)},
                            {DNNL_ARG_SCRATCHPAD, e.scratch}});
  Stream().wait();
}

}  // namespace einnet
