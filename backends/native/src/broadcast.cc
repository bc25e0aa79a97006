// einnet's broadcasting binary loops on float32 (see loops.cc for what the loops share).

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>

#include "index_space.h"
#include "loops.h"
#include "parallel.h"
#include "typed_args.h"

namespace einnet {

// ---------------------------------------------------------------------------------------------
// Broadcasting binary operations on float32. Codes shared with backends/native/elementwise.ts (BINARY).

namespace {

uint32_t Bits(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  return u;
}
float FromBits(uint32_t u) {
  float x;
  std::memcpy(&x, &u, 4);
  return x;
}

struct AddOp { using Out = float; static Out F(float a, float b) { return a + b; } };
struct SubOp { using Out = float; static Out F(float a, float b) { return a - b; } };
struct MulOp { using Out = float; static Out F(float a, float b) { return a * b; } };
struct DivOp { using Out = float; static Out F(float a, float b) { return a / b; } };
// JS Math.max/min: NaN wins, and max(+0, -0) = +0, min(+0, -0) = -0 (bitwise and / or of equal values).
struct MaxOp {
  using Out = float;
  static Out F(float a, float b) { return a > b ? a : b > a ? b : a == b ? FromBits(Bits(a) & Bits(b)) : a + b; }
};
struct MinOp {
  using Out = float;
  static Out F(float a, float b) { return a < b ? a : b < a ? b : a == b ? FromBits(Bits(a) | Bits(b)) : a + b; }
};
// tfjs computes these in double and rounds once.
struct SquaredDiffOp {
  using Out = float;
  static Out F(float a, float b) {
    const double d = static_cast<double>(a) - b;
    return static_cast<float>(d * d);
  }
};
struct PowOp { using Out = float; static Out F(float a, float b) { return static_cast<float>(std::pow(static_cast<double>(a), static_cast<double>(b))); } };
struct EqualOp { using Out = uint8_t; static Out F(float a, float b) { return a == b; } };
struct NotEqualOp { using Out = uint8_t; static Out F(float a, float b) { return a != b; } };
struct LessOp { using Out = uint8_t; static Out F(float a, float b) { return a < b; } };
struct LessEqualOp { using Out = uint8_t; static Out F(float a, float b) { return a <= b; } };
struct GreaterOp { using Out = uint8_t; static Out F(float a, float b) { return a > b; } };
struct GreaterEqualOp { using Out = uint8_t; static Out F(float a, float b) { return a >= b; } };

template <class Op>
void BinaryRun(const float* a, int64_t sa, const float* b, int64_t sb, typename Op::Out* c, int64_t n) {
  if (sa == 1 && sb == 1) {
    for (int64_t i = 0; i < n; ++i) c[i] = Op::F(a[i], b[i]);
  } else if (sa == 1 && sb == 0) {
    const float bv = *b;
    for (int64_t i = 0; i < n; ++i) c[i] = Op::F(a[i], bv);
  } else if (sa == 0 && sb == 1) {
    const float av = *a;
    for (int64_t i = 0; i < n; ++i) c[i] = Op::F(av, b[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) c[i] = Op::F(a[i * sa], b[i * sb]);
  }
}

// The hottest case, a contiguous walk (same shapes, or one operand a scalar) of +, −, · (the
// gradients' sums): compiled per ISA, and split over the threads from 64K elements (a ResNet-20
// step's residual gradients: 2 % less time for the step on two threads).
#define EINNET_FLAT_BINARY(NAME, EXPR)                                                                        \
  EINNET_CLONES void NAME(const float* __restrict a, int64_t sa, const float* __restrict b, int64_t sb,   \
                          float* __restrict c, int64_t n) {                                                 \
    if (sa == 1 && sb == 1) {                                                                              \
      for (int64_t i = 0; i < n; ++i) { const float x = a[i], y = b[i]; c[i] = EXPR; }                      \
    } else if (sa == 1) {                                                                                  \
      const float y = *b;                                                                                  \
      for (int64_t i = 0; i < n; ++i) { const float x = a[i]; c[i] = EXPR; }                                \
    } else {                                                                                               \
      const float x = *a;                                                                                  \
      for (int64_t i = 0; i < n; ++i) { const float y = b[i]; c[i] = EXPR; }                                \
    }                                                                                                      \
  }
EINNET_FLAT_BINARY(FlatAdd, x + y)
EINNET_FLAT_BINARY(FlatSub, x - y)
EINNET_FLAT_BINARY(FlatMul, x * y)
#undef EINNET_FLAT_BINARY

template <class Op>
constexpr auto FlatOf() {
  using F = void (*)(const float*, int64_t, const float*, int64_t, float*, int64_t);
  if constexpr (std::is_same_v<Op, AddOp>) return static_cast<F>(FlatAdd);
  else if constexpr (std::is_same_v<Op, SubOp>) return static_cast<F>(FlatSub);
  else if constexpr (std::is_same_v<Op, MulOp>) return static_cast<F>(FlatMul);
  else return static_cast<F>(nullptr);
}

template <class Op>
void BinaryWalk(const float* a, const float* b, uint8_t* out, Dims n, Dims sa, Dims sb) {
  using Out = typename Op::Out;
  Out* c = reinterpret_cast<Out*>(out);
  std::array<Dims, 3> st{std::move(sa), std::move(sb), RowMajorStrides(n)};
  Simplify(n, st);
  constexpr auto flat = FlatOf<Op>();
  if constexpr (flat != nullptr) {
    const int64_t fa = st[0][0], fb = st[1][0];
    if (n.size() == 1 && fa <= 1 && fb <= 1 && fa + fb >= 1) {
      float* out = reinterpret_cast<float*>(c);
      ForRows(n[0], Threads(n[0]), [&](int64_t begin, int64_t end, int) {
        flat(a + begin * fa, fa, b + begin * fb, fb, out + begin, end - begin);
      });
      return;
    }
  }
  const size_t last = n.size() - 1;
  const int64_t inner = n[last], ia = st[0][last], ib = st[1][last];
  Walk(n, last, st, {0, 0, 0}, [&](const std::array<int64_t, 3>& o) { BinaryRun<Op>(a + o[0], ia, b + o[1], ib, c + o[2], inner); });
}

}  // namespace

// broadcastBinary(params [op, rank, n[rank], aStrides[rank], bStrides[rank]], a, b, out):
// out (row-major over n) = op(a, b) with a and b read at the given (0 = broadcast) strides.
// out is a Float32Array, or a Uint8Array for comparisons (op ≥ 10).
void BroadcastBinary(const Napi::CallbackInfo& info) {
  auto p = IntParams(info[0]);
  if (p.size() < 2) throw LoopArgError("binary parameters too short");
  const int op = p[0], rank = p[1];
  if (rank < 0 || p.size() != static_cast<size_t>(2 + 3 * rank)) throw LoopArgError("binary parameters have the wrong length");
  Dims n(p.begin() + 2, p.begin() + 2 + rank), sa(p.begin() + 2 + rank, p.begin() + 2 + 2 * rank), sb(p.begin() + 2 + 2 * rank, p.end());
  for (int i = 0; i < rank; ++i) {
    if (n[i] <= 0) throw LoopArgError("binary extents must be positive");
    if (sa[i] < 0 || sb[i] < 0) throw LoopArgError("binary strides must not be negative");
  }
  const float* a = Floats(info[1], Extent(0, n, sa).second, "a");
  const float* b = Floats(info[2], Extent(0, n, sb).second, "b");
  const int64_t size = Product(n);
  uint8_t* out = op >= 10 ? Bytes(info[3], size, "out") : reinterpret_cast<uint8_t*>(Floats(info[3], size, "out"));
  switch (op) {
    case 0: BinaryWalk<AddOp>(a, b, out, n, sa, sb); break;
    case 1: BinaryWalk<SubOp>(a, b, out, n, sa, sb); break;
    case 2: BinaryWalk<MulOp>(a, b, out, n, sa, sb); break;
    case 3: BinaryWalk<DivOp>(a, b, out, n, sa, sb); break;
    case 4: BinaryWalk<MaxOp>(a, b, out, n, sa, sb); break;
    case 5: BinaryWalk<MinOp>(a, b, out, n, sa, sb); break;
    case 6: BinaryWalk<SquaredDiffOp>(a, b, out, n, sa, sb); break;
    case 7: BinaryWalk<PowOp>(a, b, out, n, sa, sb); break;
    case 10: BinaryWalk<EqualOp>(a, b, out, n, sa, sb); break;
    case 11: BinaryWalk<NotEqualOp>(a, b, out, n, sa, sb); break;
    case 12: BinaryWalk<LessOp>(a, b, out, n, sa, sb); break;
    case 13: BinaryWalk<LessEqualOp>(a, b, out, n, sa, sb); break;
    case 14: BinaryWalk<GreaterOp>(a, b, out, n, sa, sb); break;
    case 15: BinaryWalk<GreaterEqualOp>(a, b, out, n, sa, sb); break;
    default: throw LoopArgError("unknown binary operation " + std::to_string(op));
  }
}

}  // namespace einnet
