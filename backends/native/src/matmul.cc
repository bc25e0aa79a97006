// Matrix multiplication on oneDNN, with fused bias and activation (backends/native/matmul.ts).
// Matrix multiplication. Parameters: [batchA, batchB, M, K, N, transposeA, transposeB].
// A is stored [batchA, M, K] (or [batchA, K, M] when transposed), B [batchB, K, N] (or
// [batchB, N, K]); a batch of 1 broadcasts. C is [max(batchA, batchB), M, N].

#include <algorithm>
#include <memory>
#include <unordered_map>

#include "kernels.h"
#include "primitive_cache.h"

namespace einnet {
namespace {

struct MatmulEntry : Entry {
  dnnl::matmul::primitive_desc pd;
  dnnl::matmul prim;
  memory::desc a, b, bias, c;
  memory scratch;
};

}  // namespace

// matmul(params, a, b, bias | null, c, activation, alpha)
void Matmul(const Napi::CallbackInfo& info) {
  auto p = Params(info[0]);
  using namespace matmul_params;
  if (p.size() != kLength) throw ArgError("matmul parameters have the wrong length");
  const memory::dim ba = p[kBatchA], bb = p[kBatchB], m = p[kM], k = p[kK], n = p[kN];
  const bool ta = p[kTransposeA] != 0, tb = p[kTransposeB] != 0;
  if (ba <= 0 || bb <= 0 || m <= 0 || k <= 0 || n <= 0) throw ArgError("empty matmul");
  if (ba != bb && ba != 1 && bb != 1) throw ArgError("matmul batches do not broadcast");
  const memory::dim bc = std::max(ba, bb);
  ThreadScope threads(2.0 * static_cast<double>(bc) * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k));
  float* a = F32(info[1], ba * m * k, "a");
  float* b = F32(info[2], bb * k * n, "b");
  float* bias = OptionalF32(info[3], n, "bias");
  float* c = F32(info[4], bc * m * n, "c");
  int32_t act = info[5].As<Napi::Number>().Int32Value();
  float alpha = info[6].As<Napi::Number>().FloatValue();
  auto& e = TheCache().Get<MatmulEntry>(Key('m', p, act * 2 + (bias ? 1 : 0), alpha), [&] {
    auto x = std::make_unique<MatmulEntry>();
    x->a = memory::desc({ba, m, k}, dt::f32, ta ? memory::dims{m * k, 1, m} : memory::dims{m * k, k, 1});
    x->b = memory::desc({bb, k, n}, dt::f32, tb ? memory::dims{k * n, 1, k} : memory::dims{k * n, n, 1});
    x->c = memory::desc({bc, m, n}, dt::f32, tag::abc);
    x->bias = memory::desc({1, 1, n}, dt::f32, tag::abc);
    auto attr = UserScratchAttr();
    AppendActivation(attr, act, alpha);
    auto d = bias ? dnnl::matmul::desc(x->a, x->b, x->bias, x->c) : dnnl::matmul::desc(x->a, x->b, x->c);
    x->pd = dnnl::matmul::primitive_desc(d, attr, Engine());
    x->prim = dnnl::matmul(x->pd);
    x->scratch = Scratch(x->pd);
    return x;
  });
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, memory(e.a, Engine(), a)},
                                       {DNNL_ARG_WEIGHTS, memory(e.b, Engine(), b)},
                                       {DNNL_ARG_DST, memory(e.c, Engine(), c)},
                                       {DNNL_ARG_SCRATCHPAD, e.scratch}};
  if (bias) args[DNNL_ARG_BIAS] = memory(e.bias, Engine(), bias);
  e.prim.execute(Stream(), args);
  Stream().wait();
  FinishActivation(act, c, bc * m * n);
}

}  // namespace einnet
