// einnet's reductions over any axes and arg-max/min (see loops.cc for what the loops share).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "index_space.h"
#include "loops.h"
#include "parallel.h"
#include "typed_args.h"

namespace einnet {

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
// double — the order and precision of the general walk, compiled per ISA. With few columns,
// known at compile time (0 < kC ≤ 8), the sums stay in registers; otherwise (kC = 0, C columns)
// they are updated in `acc` row by row.
template <int kC>
EINNET_INLINE void ColumnSumsOf(int64_t rows, int64_t C, const float* __restrict x, double* __restrict acc) {
  if constexpr (kC > 0) {
    double a[kC];
    for (int j = 0; j < kC; ++j) a[j] = acc[j];
    for (int64_t r = 0; r < rows; ++r)
      for (int j = 0; j < kC; ++j) a[j] += x[r * kC + j];
    for (int j = 0; j < kC; ++j) acc[j] = a[j];
  } else {
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < C; ++j) acc[j] += x[r * C + j];
  }
}

#define EINNET_COLUMN_SUMS(kC)                                                                              \
  EINNET_CLONES void ColumnSums##kC(int64_t rows, int64_t C, const float* x, double* acc) {                  \
    ColumnSumsOf<kC>(rows, C, x, acc);                                                                     \
  }
EINNET_COLUMN_SUMS(0)
EINNET_COLUMN_SUMS(1)
EINNET_COLUMN_SUMS(2)
EINNET_COLUMN_SUMS(3)
EINNET_COLUMN_SUMS(4)
EINNET_COLUMN_SUMS(5)
EINNET_COLUMN_SUMS(6)
EINNET_COLUMN_SUMS(7)
EINNET_COLUMN_SUMS(8)
#undef EINNET_COLUMN_SUMS

void ColumnSums(int64_t rows, int64_t C, const float* x, double* acc) {
  using Sums = void (*)(int64_t, int64_t, const float*, double*);
  static constexpr Sums kByColumns[9] = {ColumnSums0, ColumnSums1, ColumnSums2, ColumnSums3, ColumnSums4,
                                         ColumnSums5, ColumnSums6, ColumnSums7, ColumnSums8};
  kByColumns[C <= 8 ? C : 0](rows, C, x, acc);
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

}  // namespace einnet
