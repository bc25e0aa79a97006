// Element-wise operations on large float32 tensors (backends/native/elementwise.ts; the CPU
// backend's JS loops are single-threaded and scalar). Unary: eltwise_forward over the flat array,
// and relu as a NaN-preserving loop. Binary: oneDNN's binary primitive with row-major dims of
// equal rank, where src1 may broadcast (extent 1) along any axis.

#include <memory>
#include <string>

#include "kernels.h"
#include "primitive_cache.h"

namespace einnet {
namespace {

// Unary codes: params.h, EltwiseOp.
algorithm EltwiseAlg(int32_t code) {
  switch (code) {
    case kEltRelu: return algorithm::eltwise_relu;
    case kEltRelu6: return algorithm::eltwise_clip;  // relu6 = clip(0, 6)
    case kEltElu: return algorithm::eltwise_elu;
    case kEltSigmoid: return algorithm::eltwise_logistic;
    case kEltTanh: return algorithm::eltwise_tanh;
    case kEltExp: return algorithm::eltwise_exp;
    case kEltLog: return algorithm::eltwise_log;
    case kEltSqrt: return algorithm::eltwise_sqrt;
    case kEltSquare: return algorithm::eltwise_square;
    case kEltAbs: return algorithm::eltwise_abs;
    case kEltLinear: return algorithm::eltwise_linear;  // alpha * x + beta
    default: throw ArgError("unknown element-wise operation " + std::to_string(code));
  }
}

struct EltwiseEntry : Entry {
  dnnl::eltwise_forward::primitive_desc pd;
  dnnl::eltwise_forward prim;
  memory::desc md;
  memory scratch;
};

}  // namespace

// eltwise(params [op, n], alpha, beta, src, dst)
void Eltwise(const Napi::CallbackInfo& info) {
  auto p = Params(info[0]);
  if (p.size() != 2 || p[1] <= 0) throw ArgError("element-wise parameters are [op, n > 0]");
  const float alpha = info[1].As<Napi::Number>().FloatValue();
  const float beta = info[2].As<Napi::Number>().FloatValue();
  float* src = F32(info[3], p[1], "x");
  float* dst = F32(info[4], p[1], "y");
  ThreadScope threads(20.0 * p[1]);  // transcendental functions: some tens of flops each
  std::string key = Key('e', p, 0, alpha);
  key.append(reinterpret_cast<const char*>(&beta), sizeof beta);
  auto& e = TheCache().Get<EltwiseEntry>(key, [&] {
    auto x = std::make_unique<EltwiseEntry>();
    x->md = memory::desc({p[1]}, dt::f32, tag::a);
    dnnl::eltwise_forward::desc d(prop_kind::forward_inference, EltwiseAlg(p[0]), x->md, alpha, beta);
    x->pd = dnnl::eltwise_forward::primitive_desc(d, UserScratchAttr(), Engine());
    x->prim = dnnl::eltwise_forward(x->pd);
    x->scratch = Scratch(x->pd);
    return x;
  });
  e.prim.execute(Stream(), {{DNNL_ARG_SRC, memory(e.md, Engine(), src)},
                            {DNNL_ARG_DST, memory(e.md, Engine(), dst)},
                            {DNNL_ARG_SCRATCHPAD, e.scratch}});
  Stream().wait();
}

// relu(n, cap, src, dst): max(x, 0), capped at `cap` when cap > 0 (relu6). Written here rather
// than as oneDNN's eltwise_relu / eltwise_clip because those turn NaN into 0, and a NaN must
// survive an activation so that a diverging training run stays visible (as on the CPU backend).
// One thread: the loop is memory-bound, and on a loaded machine an OpenMP team waiting for a
// descheduled worker made it 8x slower than this.
void Relu(const Napi::CallbackInfo& info) {
  const int64_t n = info[0].As<Napi::Number>().Int64Value();
  const float cap = info[1].As<Napi::Number>().FloatValue();
  if (n <= 0) throw ArgError("relu needs n > 0");
  ReluRun(F32(info[2], n, "x"), F32(info[3], n, "y"), n, cap);
}

void ReluRun(const float* x, float* y, int64_t n, float cap) {
  if (cap > 0) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] < 0.f ? 0.f : (x[i] > cap ? cap : x[i]);
  } else {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] < 0.f ? 0.f : x[i];
  }
}

namespace {

algorithm BinaryAlg(int32_t code) {
  switch (code) {
    case kAdd: return algorithm::binary_add;
    case kSub: return algorithm::binary_sub;
    case kMul: return algorithm::binary_mul;
    case kDiv: return algorithm::binary_div;
    case kMax: return algorithm::binary_max;
    case kMin: return algorithm::binary_min;
    default: throw ArgError("unknown binary operation " + std::to_string(code));
  }
}

tag PlainTag(int rank) {
  switch (rank) {
    case 1: return tag::a;
    case 2: return tag::ab;
    case 3: return tag::abc;
    case 4: return tag::abcd;
    case 5: return tag::abcde;
    case 6: return tag::abcdef;
    default: throw ArgError("binary operations take rank 1 to 6");
  }
}

struct BinaryEntry : Entry {
  dnnl::binary::primitive_desc pd;
  dnnl::binary prim;
  memory::desc a, b, c;
  memory scratch;
};

}  // namespace


// binary(params [op, rank, aDims[rank], bDims[rank]], a, b, c); c has a's dims, b broadcasts.
void Binary(const Napi::CallbackInfo& info) {
  auto p = Params(info[0]);
  if (p.size() < 2) throw ArgError("binary parameters too short");
  const int rank = p[1];
  if (rank < 1 || rank > 6 || p.size() != static_cast<size_t>(2 + 2 * rank)) throw ArgError("binary parameters have the wrong length");
  memory::dims ad(p.begin() + 2, p.begin() + 2 + rank), bd(p.begin() + 2 + rank, p.end());
  for (int i = 0; i < rank; ++i) {
    if (ad[i] <= 0 || (bd[i] != ad[i] && bd[i] != 1)) throw ArgError("second operand does not broadcast to the first");
  }
  float* a = F32(info[1], Product(ad), "a");
  float* b = F32(info[2], Product(bd), "b");
  float* c = F32(info[3], Product(ad), "c");
  auto& e = TheCache().Get<BinaryEntry>(Key('b', p), [&] {
    auto x = std::make_unique<BinaryEntry>();
    x->a = memory::desc(ad, dt::f32, PlainTag(rank));
    x->b = memory::desc(bd, dt::f32, PlainTag(rank));
    x->c = memory::desc(ad, dt::f32, PlainTag(rank));
    dnnl::binary::desc d(BinaryAlg(p[0]), x->a, x->b, x->c);
    x->pd = dnnl::binary::primitive_desc(d, UserScratchAttr(), Engine());
    x->prim = dnnl::binary(x->pd);
    x->scratch = Scratch(x->pd);
    return x;
  });
  e.prim.execute(Stream(), {{DNNL_ARG_SRC_0, memory(e.a, Engine(), a)},
                            {DNNL_ARG_SRC_1, memory(e.b, Engine(), b)},
                            {DNNL_ARG_DST, memory(e.c, Engine(), c)},
                            {DNNL_ARG_SCRATCHPAD, e.scratch}});
  Stream().wait();
}

}  // namespace einnet
