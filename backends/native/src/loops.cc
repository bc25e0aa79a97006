// einnet's own loops for the kernels oneDNN has no fast primitive for.
//
// tfjs' CPU kernels for data movement (Slice, PadV2, Transpose, Tile, Reverse, Concat) walk
// every element through TensorBuffer.get/indexToLoc in JS, a microsecond or more per element;
// oneDNN's binary and reduction primitives are fast only for a few broadcast patterns and fall
// back to reference code (slower still) for the ones a lowered program produces, such as a
// per-batch scale [16,1,1,1] or a reduction of every axis but the last. The loops here are
// plain C++ over the CPU backend's typed arrays, written so that the compiler vectorises the
// innermost run.
//
// Every operation first *simplifies* its index space: axes of extent 1 are dropped and adjacent
// axes merged wherever every operand walks them contiguously, so a [32,32,32,16] tensor with a
// per-channel operand becomes a [32768,16] walk and a per-batch one a [16,32768] walk. What is
// left is an odometer over the outer axes and a tight loop over the innermost one.
//
// Semantics follow tfjs' CPU kernels, including NaN (max/min propagate it; arg-max never picks
// it unless first) and signed zeros in Maximum/Minimum. Sums accumulate in double, as tfjs'
// JS loops do. Everything runs on the calling thread: these loops are memory-bound, and a
// second OpenMP thread buys little on a loaded machine while a descheduled one costs a lot.

#include "loops.h"
#include "parallel.h"
#include "typed_args.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

namespace einnet {
namespace {

using Dims = std::vector<int64_t>;

int64_t Product(const Dims& n) {
  int64_t p = 1;
  for (auto x : n) p *= x;
  return p;
}

Dims RowMajorStrides(const Dims& n) {
  Dims s(n.size());
  int64_t acc = 1;
  for (int i = static_cast<int>(n.size()) - 1; i >= 0; --i) {
    s[i] = acc;
    acc *= n[i];
  }
  return s;
}

// Lowest and one-past-highest element offsets a strided walk touches (n has no zero extent).
std::pair<int64_t, int64_t> Extent(int64_t offset, const Dims& n, const Dims& s) {
  int64_t lo = offset, hi = offset;
  for (size_t i = 0; i < n.size(); ++i) {
    const int64_t span = (n[i] - 1) * s[i];
    if (span < 0) lo += span; else hi += span;
  }
  return {lo, hi + 1};
}

void CheckInside(int64_t offset, const Dims& n, const Dims& s, int64_t length, const char* what) {
  auto [lo, hi] = Extent(offset, n, s);
  if (lo < 0 || hi > length) {
    throw LoopArgError(std::string(what) + " walk [" + std::to_string(lo) + ", " + std::to_string(hi) +
                       ") leaves its array of " + std::to_string(length) + " elements");
  }
}

int64_t ElementLength(const Napi::Value& v, int64_t elemBytes, const char* what) {
  if (!v.IsTypedArray()) throw LoopArgError(std::string(what) + " must be a typed array");
  return static_cast<int64_t>(v.As<Napi::TypedArray>().ByteLength()) / elemBytes;
}

// Drops extent-1 axes and merges adjacent axes that every operand walks contiguously (the
// outer stride equals the inner stride times the inner extent). Leaves at least one axis.
template <size_t K>
void Simplify(Dims& n, std::array<Dims, K>& st) {
  Dims m;
  std::array<Dims, K> ms;
  for (size_t a = 0; a < n.size(); ++a) {
    if (n[a] == 1) continue;
    bool merge = !m.empty();
    for (size_t k = 0; k < K && merge; ++k) merge = ms[k].back() == st[k][a] * n[a];
    if (merge) {
      m.back() *= n[a];
      for (size_t k = 0; k < K; ++k) ms[k].back() = st[k][a];
    } else {
      m.push_back(n[a]);
      for (size_t k = 0; k < K; ++k) ms[k].push_back(st[k][a]);
    }
  }
  if (m.empty()) {
    m.push_back(1);
    for (size_t k = 0; k < K; ++k) ms[k].push_back(0);
  }
  n = std::move(m);
  st = std::move(ms);
}

// Calls f(offsets) for every index of axes [0, axes) of n in row-major order, with one running
// offset per operand (operand k moves by st[k][a] along axis a).
template <size_t K, class F>
void Walk(const Dims& n, size_t axes, const std::array<Dims, K>& st, std::array<int64_t, K> off, F&& f) {
  int64_t total = 1;
  for (size_t a = 0; a < axes; ++a) total *= n[a];
  std::vector<int64_t> idx(axes, 0);
  for (int64_t r = 0; r < total; ++r) {
    f(off);
    for (int a = static_cast<int>(axes) - 1; a >= 0; --a) {
      if (++idx[a] < n[a]) {
        for (size_t k = 0; k < K; ++k) off[k] += st[k][a];
        break;
      }
      idx[a] = 0;
      for (size_t k = 0; k < K; ++k) off[k] -= st[k][a] * (n[a] - 1);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Strided copy: dst[dOff + Σ i·ds] = src[sOff + Σ i·ss] over the index space n. Slice, pad's
// interior, transpose (permuted strides), reverse (negative strides), tile and broadcast (zero
// strides over a split index space) and each piece of a concat are all this one walk.

template <class T>
void CopyRun(const T* src, int64_t ss, T* dst, int64_t ds, int64_t n) {
  if (ss == 1 && ds == 1) {
    std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(T));
  } else if (ss == 0 && ds == 1) {
    const T v = *src;
    for (int64_t i = 0; i < n; ++i) dst[i] = v;
  } else if (ds == 1) {
    for (int64_t i = 0; i < n; ++i) dst[i] = src[i * ss];
  } else {
    for (int64_t i = 0; i < n; ++i) dst[i * ds] = src[i * ss];
  }
}

template <class T>
void CopyWalk(const T* src, int64_t srcOff, Dims ss, T* dst, int64_t dstOff, Dims ds, Dims n) {
  std::array<Dims, 2> st{std::move(ss), std::move(ds)};
  Simplify(n, st);
  const size_t r = n.size(), last = r - 1;
  // A transpose: the destination runs along the last axis but the source along another one.
  // Copy in square tiles so both sides stay in cache instead of striding through memory.
  if (r >= 2 && st[1][last] == 1 && st[0][last] != 1 && n[last] >= 8) {
    size_t a = r;
    for (size_t k = 0; k < last; ++k)
      if (st[0][k] == 1 && n[k] >= 8) a = k;
    if (a < r) {
      Dims on;
      std::array<Dims, 2> ost;
      for (size_t k = 0; k < last; ++k) {
        if (k == a) continue;
        on.push_back(n[k]);
        ost[0].push_back(st[0][k]);
        ost[1].push_back(st[1][k]);
      }
      const int64_t na = n[a], nl = n[last], sl = st[0][last], da = st[1][a];
      constexpr int64_t B = 32;
      Walk(on, on.size(), ost, {srcOff, dstOff}, [&](const std::array<int64_t, 2>& o) {
        const T* s = src + o[0];
        T* d = dst + o[1];
        for (int64_t i0 = 0; i0 < na; i0 += B) {
          const int64_t i1 = std::min(na, i0 + B);
          for (int64_t j0 = 0; j0 < nl; j0 += B) {
            const int64_t j1 = std::min(nl, j0 + B);
            for (int64_t i = i0; i < i1; ++i)
              for (int64_t j = j0; j < j1; ++j) d[i * da + j] = s[i + j * sl];
          }
        }
      });
      return;
    }
  }
  const int64_t inner = n[last], si = st[0][last], di = st[1][last];
  Walk(n, last, st, {srcOff, dstOff}, [&](const std::array<int64_t, 2>& o) { CopyRun(src + o[0], si, dst + o[1], di, inner); });
}

}  // namespace

// stridedCopy(params [elemBytes, rank, n[rank], srcOffset, srcStrides[rank], dstOffset,
// dstStrides[rank]], src, dst): any typed arrays whose elements are elemBytes wide (1, 2, 4, 8).
void StridedCopy(const Napi::CallbackInfo& info) {
  auto p = IntParams(info[0]);
  if (p.size() < 2) throw LoopArgError("copy parameters too short");
  const int64_t elem = p[0];
  const int rank = p[1];
  if (rank < 0 || p.size() != static_cast<size_t>(4 + 3 * rank)) throw LoopArgError("copy parameters have the wrong length");
  Dims n(p.begin() + 2, p.begin() + 2 + rank);
  const int64_t srcOff = p[2 + rank];
  Dims ss(p.begin() + 3 + rank, p.begin() + 3 + 2 * rank);
  const int64_t dstOff = p[3 + 2 * rank];
  Dims ds(p.begin() + 4 + 2 * rank, p.end());
  for (auto x : n) {
    if (x < 0) throw LoopArgError("negative extent");
    if (x == 0) return;
  }
  if (elem != 1 && elem != 2 && elem != 4 && elem != 8) throw LoopArgError("element size must be 1, 2, 4 or 8 bytes");
  const int64_t srcLen = ElementLength(info[1], elem, "src"), dstLen = ElementLength(info[2], elem, "dst");
  CheckInside(srcOff, n, ss, srcLen, "src");
  CheckInside(dstOff, n, ds, dstLen, "dst");
  uint8_t* src = Raw(info[1], 0, elem, "src");
  uint8_t* dst = Raw(info[2], 0, elem, "dst");
  switch (elem) {
    case 1: CopyWalk(src, srcOff, ss, dst, dstOff, ds, n); break;
    case 2: CopyWalk(reinterpret_cast<uint16_t*>(src), srcOff, ss, reinterpret_cast<uint16_t*>(dst), dstOff, ds, n); break;
    case 4: CopyWalk(reinterpret_cast<uint32_t*>(src), srcOff, ss, reinterpret_cast<uint32_t*>(dst), dstOff, ds, n); break;
    default: CopyWalk(reinterpret_cast<uint64_t*>(src), srcOff, ss, reinterpret_cast<uint64_t*>(dst), dstOff, ds, n); break;
  }
}

// ---------------------------------------------------------------------------------------------
// Broadcasting binary operations on float32. Codes shared with backends/native/loops.ts.

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
// gradients' sums): compiled per ISA. (Split over two threads it was slower in a training step.)
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
      flat(a, fa, b, fb, reinterpret_cast<float*>(c), n[0]);
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

// ---------------------------------------------------------------------------------------------
// select(params [elemBytes, n], condition (Uint8Array), a, b, out): out[i] = cond[i] == 1 ? a[i] : b[i]
// (tfjs' Select after tf.where broadcast all three to one shape).

namespace {
template <class T>
void SelectRun(const uint8_t* c, const T* a, const T* b, T* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = c[i] == 1 ? a[i] : b[i];
}
}  // namespace

void SelectLoop(const Napi::CallbackInfo& info) {
  auto p = IntParams(info[0]);
  if (p.size() != 2) throw LoopArgError("select parameters have the wrong length");
  const int64_t elem = p[0], n = p[1];
  if (n < 0) throw LoopArgError("negative size");
  const uint8_t* c = Bytes(info[1], n, "condition");
  const uint8_t* a = Raw(info[2], n, elem, "a");
  const uint8_t* b = Raw(info[3], n, elem, "b");
  uint8_t* out = Raw(info[4], n, elem, "out");
  switch (elem) {
    case 1: SelectRun(c, a, b, out, n); break;
    case 4: SelectRun(c, reinterpret_cast<const uint32_t*>(a), reinterpret_cast<const uint32_t*>(b), reinterpret_cast<uint32_t*>(out), n); break;
    default: throw LoopArgError("select takes 1- or 4-byte elements");
  }
}

// ---------------------------------------------------------------------------------------------
// reduceAxes(params [op, rank, n[rank], outStrides[rank]], x, y): y[Σ i·outStride] ⊕= x[i] over
// the row-major x; outStrides are 0 on reduced axes. op: 0 sum, 1 mean, 2 max, 3 min, 4 prod.
// Sums and products accumulate in double (as tfjs' JS loops do); max/min propagate NaN.

namespace {

double SumRun(const float* x, int64_t n) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  int64_t j = 0;
  for (; j + 4 <= n; j += 4) {
    s0 += x[j];
    s1 += x[j + 1];
    s2 += x[j + 2];
    s3 += x[j + 3];
  }
  for (; j < n; ++j) s0 += x[j];
  return (s0 + s1) + (s2 + s3);
}

// NaN-propagating max/min of an accumulator and a value (a NaN accumulator stays NaN).
inline float MaxStep(float acc, float v) { return (v > acc || v != v) ? v : acc; }
inline float MinStep(float acc, float v) { return (v < acc || v != v) ? v : acc; }

// Max (or min) of a contiguous run, NaN if any element is NaN: eight independent lanes, so the
// loop is not one long dependency chain; lanes are combined in the same NaN-propagating way.
template <bool IsMax>
float RunExtreme(const float* x, int64_t n) {
  constexpr int L = 8;
  float lane[L];
  const float init = IsMax ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity();
  for (int l = 0; l < L; ++l) lane[l] = init;
  int64_t j = 0;
  for (; j + L <= n; j += L)
    for (int l = 0; l < L; ++l) lane[l] = IsMax ? MaxStep(lane[l], x[j + l]) : MinStep(lane[l], x[j + l]);
  float r = init;
  for (; j < n; ++j) r = IsMax ? MaxStep(r, x[j]) : MinStep(r, x[j]);
  for (int l = 0; l < L; ++l) r = IsMax ? MaxStep(r, lane[l]) : MinStep(r, lane[l]);
  return r;
}

template <class Acc, class RunF, class ElemF>
void ReduceWalk(const float* x, Acc* acc, const Dims& n, const std::array<Dims, 2>& st, RunF run, ElemF elem) {
  const size_t last = n.size() - 1;
  const int64_t inner = n[last], oi = st[1][last];
  Walk(n, last, st, {0, 0}, [&](const std::array<int64_t, 2>& o) {
    const float* xs = x + o[0];
    Acc* a = acc + o[1];
    if (oi == 0) {
      *a = run(*a, xs, inner);
    } else {
      for (int64_t j = 0; j < inner; ++j) a[j] = elem(a[j], xs[j]);
    }
  });
}

}  // namespace

namespace {
// acc[j] += Σ_r x[r, j]: the sum over all but the last axis (a bias gradient), row by row in
// double — the order and precision of the general walk, compiled per ISA.
EINNET_CLONES void ColumnSums(int64_t rows, int64_t C, const float* __restrict x, double* __restrict acc) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < C; ++j) acc[j] += x[r * C + j];
}
}  // namespace

void ReduceLoop(const Napi::CallbackInfo& info) {
  auto p = IntParams(info[0]);
  if (p.size() < 2) throw LoopArgError("reduction parameters too short");
  const int op = p[0], rank = p[1];
  if (rank < 0 || p.size() != static_cast<size_t>(2 + 2 * rank)) throw LoopArgError("reduction parameters have the wrong length");
  Dims n(p.begin() + 2, p.begin() + 2 + rank), os(p.begin() + 2 + rank, p.end());
  int64_t outSize = 1, count = 1;
  for (int i = 0; i < rank; ++i) {
    if (n[i] <= 0) throw LoopArgError("reduction extents must be positive");
    if (os[i] < 0) throw LoopArgError("output strides must not be negative");
    if (os[i] == 0) count *= n[i]; else outSize *= n[i];
  }
  const float* x = Floats(info[1], Product(n), "x");
  float* y = Floats(info[2], Extent(0, n, os).second, "y");
  std::array<Dims, 2> st{RowMajorStrides(n), os};
  Simplify(n, st);
  const int64_t ySize = Extent(0, n, st[1]).second;
  if (op == 0 || op == 1) {
    std::vector<double> acc(ySize, 0.0);
    if (n.size() == 2 && st[1][0] == 0 && st[1][1] == 1) ColumnSums(n[0], n[1], x, acc.data());
    else
      ReduceWalk(x, acc.data(), n, st, [](double a, const float* xs, int64_t m) { return a + SumRun(xs, m); },
                 [](double a, float v) { return a + v; });
    const double scale = op == 1 ? 1.0 / static_cast<double>(count) : 1.0;
    for (int64_t i = 0; i < ySize; ++i) y[i] = static_cast<float>(op == 1 ? acc[i] * scale : acc[i]);
  } else if (op == 4) {
    std::vector<double> acc(ySize, 1.0);
    ReduceWalk(x, acc.data(), n, st,
               [](double a, const float* xs, int64_t m) {
                 for (int64_t j = 0; j < m; ++j) a *= xs[j];
                 return a;
               },
               [](double a, float v) { return a * v; });
    for (int64_t i = 0; i < ySize; ++i) y[i] = static_cast<float>(acc[i]);
  } else if (op == 2 || op == 3) {
    const bool isMax = op == 2;
    const float init = isMax ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity();
    for (int64_t i = 0; i < ySize; ++i) y[i] = init;
    if (isMax) {
      ReduceWalk(x, y, n, st,
                 [](float a, const float* xs, int64_t m) { return MaxStep(a, RunExtreme<true>(xs, m)); },
                 MaxStep);
    } else {
      ReduceWalk(x, y, n, st,
                 [](float a, const float* xs, int64_t m) { return MinStep(a, RunExtreme<false>(xs, m)); },
                 MinStep);
    }
  } else {
    throw LoopArgError("unknown reduction " + std::to_string(op));
  }
  (void)outSize;
}

// argReduce(params [isMin, outer, n, inner], x, out Int32Array): x viewed as [outer, n, inner];
// out[o, i] = the first j with the largest (smallest) x[o, j, i], comparing like tfjs (a NaN
// never replaces the running best, so it wins only in first place).
void ArgReduce(const Napi::CallbackInfo& info) {
  auto p = IntParams(info[0]);
  if (p.size() != 4) throw LoopArgError("arg-reduction parameters have the wrong length");
  const bool isMin = p[0] != 0;
  const int64_t outer = p[1], n = p[2], inner = p[3];
  if (outer <= 0 || n <= 0 || inner <= 0) throw LoopArgError("arg-reduction extents must be positive");
  const float* x = Floats(info[1], outer * n * inner, "x");
  auto* out = reinterpret_cast<int32_t*>(Raw(info[2], outer * inner, 4, "out"));
  std::vector<float> best(inner);
  for (int64_t o = 0; o < outer; ++o) {
    const float* xo = x + o * n * inner;
    int32_t* idx = out + o * inner;
    for (int64_t i = 0; i < inner; ++i) {
      best[i] = xo[i];
      idx[i] = 0;
    }
    for (int64_t j = 1; j < n; ++j) {
      const float* row = xo + j * inner;
      for (int64_t i = 0; i < inner; ++i) {
        const bool better = isMin ? row[i] < best[i] : row[i] > best[i];
        best[i] = better ? row[i] : best[i];
        idx[i] = better ? static_cast<int32_t>(j) : idx[i];
      }
    }
  }
}

// unary(params [op, n], alpha, x, y): 0 step (x > 0 ? 1 : alpha, NaN stays NaN), 1 neg,
// 2 isFinite (Float32Array → Uint8Array), 3 logicalNot (Uint8Array → Uint8Array).
void UnaryLoop(const Napi::CallbackInfo& info) {
  auto p = IntParams(info[0]);
  if (p.size() != 2) throw LoopArgError("unary parameters have the wrong length");
  const int op = p[0];
  const int64_t n = p[1];
  if (n < 0) throw LoopArgError("negative size");
  const float alpha = info[1].As<Napi::Number>().FloatValue();
  switch (op) {
    case 0: {
      const float* x = Floats(info[2], n, "x");
      float* y = Floats(info[3], n, "y");
      for (int64_t i = 0; i < n; ++i) y[i] = x[i] != x[i] ? x[i] : x[i] > 0.f ? 1.f : alpha;
      break;
    }
    case 1: {
      const float* x = Floats(info[2], n, "x");
      float* y = Floats(info[3], n, "y");
      for (int64_t i = 0; i < n; ++i) y[i] = -x[i];
      break;
    }
    case 2: {
      const float* x = Floats(info[2], n, "x");
      uint8_t* y = Bytes(info[3], n, "y");
      for (int64_t i = 0; i < n; ++i) y[i] = std::isfinite(x[i]) ? 1 : 0;
      break;
    }
    case 3: {
      const uint8_t* x = Bytes(info[2], n, "x");
      uint8_t* y = Bytes(info[3], n, "y");
      for (int64_t i = 0; i < n; ++i) y[i] = x[i] ? 0 : 1;
      break;
    }
    default: throw LoopArgError("unknown unary operation " + std::to_string(op));
  }
}

// batchNorm(params [n, meanLen, varLen, offsetLen, scaleLen], epsilon, x, mean, variance,
// offset | null, scale | null, out): tfjs' FusedBatchNorm, whose parameters repeat along x in
// flat order (each index wraps at its own length):
//   out = offset + (x - mean) · scale / sqrt(variance + epsilon), in double.
// When every parameter has one common length L (or length 1), scale / sqrt(variance + epsilon)
// is computed once per index, which may differ from tfjs in the last bit of a double before the
// rounding to float.
void BatchNormLoop(const Napi::CallbackInfo& info) {
  auto p = IntParams(info[0]);
  if (p.size() != 5) throw LoopArgError("batch-norm parameters have the wrong length");
  const int64_t n = p[0], lm = p[1], lv = p[2], lo = p[3], ls = p[4];
  if (n < 0 || lm <= 0 || lv <= 0 || lo < 0 || ls < 0) throw LoopArgError("batch-norm sizes must be positive");
  const double eps = info[1].As<Napi::Number>().DoubleValue();
  const float* x = Floats(info[2], n, "x");
  const float* mean = Floats(info[3], lm, "mean");
  const float* var = Floats(info[4], lv, "variance");
  const float one = 1.f, zero = 0.f;
  const float* off = lo > 0 ? Floats(info[5], lo, "offset") : &zero;
  const float* scale = ls > 0 ? Floats(info[6], ls, "scale") : &one;
  const int64_t offLen = lo > 0 ? lo : 1, scaleLen = ls > 0 ? ls : 1;
  float* out = Floats(info[7], n, "out");
  const int64_t L = std::max({lm, lv, offLen, scaleLen});
  auto fits = [L](int64_t len) { return len == L || len == 1; };
  if (fits(lm) && fits(lv) && fits(offLen) && fits(scaleLen) && n % L == 0) {
    std::vector<double> mul(L), add(L);
    for (int64_t j = 0; j < L; ++j) {
      mul[j] = static_cast<double>(scale[scaleLen == 1 ? 0 : j]) / std::sqrt(static_cast<double>(var[lv == 1 ? 0 : j]) + eps);
      add[j] = static_cast<double>(off[offLen == 1 ? 0 : j]) - static_cast<double>(mean[lm == 1 ? 0 : j]) * mul[j];
    }
    // out = off + (x - m)·mul = x·mul + (off - m·mul)
    for (int64_t r = 0; r < n; r += L)
      for (int64_t j = 0; j < L; ++j) out[r + j] = static_cast<float>(static_cast<double>(x[r + j]) * mul[j] + add[j]);
    return;
  }
  int64_t mi = 0, vi = 0, oi = 0, si = 0;
  for (int64_t i = 0; i < n; ++i) {
    out[i] = static_cast<float>(static_cast<double>(off[oi]) +
                                (static_cast<double>(x[i]) - mean[mi]) * static_cast<double>(scale[si]) / std::sqrt(static_cast<double>(var[vi]) + eps));
    if (++mi == lm) mi = 0;
    if (++vi == lv) vi = 0;
    if (++oi == offLen) oi = 0;
    if (++si == scaleLen) si = 0;
  }
}

}  // namespace einnet
