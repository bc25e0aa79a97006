// Batch normalization over the leading axis of x viewed as [rows, C] (dsl/lower/routes/batchnorm.ts
// recognizes it; kernels/batchnorm.ts calls these when the averaged axes are the leading ones):
// the statistics μ, σ = sqrt(var + ε), the normalization (x − μ)/σ·γ + β with an optional relu,
// and their gradients. Single-threaded like the other loops: each pass is memory-bound.
//
// Sums over rows accumulate in float within blocks of kBlock rows and in double across blocks,
// so the inner loops are plain float arithmetic over a row, which vectorises; the loops are
// compiled for AVX-512, AVX2 and baseline x86-64 and picked at load time (EINNET_CLONES), since
// the addon itself is built for baseline x86-64 to run on any machine.

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "loops.h"
#include "typed_args.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define EINNET_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define EINNET_CLONES
#endif
#define EINNET_INLINE __attribute__((always_inline)) inline

namespace einnet {
namespace {

constexpr int64_t kBlock = 64;

struct Shape {
  int64_t rows, channels;
};

Shape RowsAndChannels(const std::vector<int32_t>& p, size_t length) {
  if (p.size() != length) throw LoopArgError("batch-norm parameters have the wrong length");
  if (p[0] <= 0 || p[1] <= 0) throw LoopArgError("batch-norm extents must be positive");
  return {p[0], p[1]};
}

// dy where y > 0, else 0, without a branch: y's bits as an integer are in (0, +∞] exactly when
// y > 0, and the comparison's all-ones mask keeps dy's bits. Written as a condition (or as
// dy·(y > 0)) it compiled to a branch, mispredicted half the time on real activations, which
// made the gradient pass 13x slower.
EINNET_INLINE float Masked(float dy, float y) {
  int32_t yi, di;
  std::memcpy(&yi, &y, 4);
  std::memcpy(&di, &dy, 4);
  di &= -static_cast<int32_t>((yi > 0) & (yi <= 0x7f800000));
  float out;
  std::memcpy(&out, &di, 4);
  return out;
}

// Σ over rows of f(r, j) per channel j, into sum[C] (double), f returning float.
template <class F>
EINNET_INLINE void SumRows(int64_t rows, int64_t C, double* sum, float* block, F f) {
  for (int64_t r0 = 0; r0 < rows; r0 += kBlock) {
    const int64_t r1 = r0 + kBlock < rows ? r0 + kBlock : rows;
    for (int64_t j = 0; j < C; ++j) block[j] = 0.f;
    for (int64_t r = r0; r < r1; ++r)
      for (int64_t j = 0; j < C; ++j) block[j] += f(r, j);
    for (int64_t j = 0; j < C; ++j) sum[j] += block[j];
  }
}

// Two such sums in one pass: f(r, j, a, b) adds its terms to a and b.
template <class F>
EINNET_INLINE void SumRows2(int64_t rows, int64_t C, double* sumA, double* sumB, float* blockA, float* blockB, F f) {
  for (int64_t r0 = 0; r0 < rows; r0 += kBlock) {
    const int64_t r1 = r0 + kBlock < rows ? r0 + kBlock : rows;
    for (int64_t j = 0; j < C; ++j) blockA[j] = blockB[j] = 0.f;
    for (int64_t r = r0; r < r1; ++r)
      for (int64_t j = 0; j < C; ++j) f(r, j, blockA[j], blockB[j]);
    for (int64_t j = 0; j < C; ++j) {
      sumA[j] += blockA[j];
      sumB[j] += blockB[j];
    }
  }
}

EINNET_CLONES void Stats(int64_t rows, int64_t C, double eps, const float* __restrict x, float* __restrict out) {
  std::vector<double> sum(C, 0.0), sq(C, 0.0);
  std::vector<float> block(C), mu(C);
  SumRows(rows, C, sum.data(), block.data(), [&](int64_t r, int64_t j) { return x[r * C + j]; });
  for (int64_t j = 0; j < C; ++j) mu[j] = static_cast<float>(sum[j] / static_cast<double>(rows));
  // Deviations from the float mean: exact enough, and the same μ the normalization subtracts.
  const float* m = mu.data();
  SumRows(rows, C, sq.data(), block.data(), [&](int64_t r, int64_t j) {
    const float d = x[r * C + j] - m[j];
    return d * d;
  });
  for (int64_t j = 0; j < C; ++j) {
    out[j] = mu[j];
    out[C + j] = static_cast<float>(std::sqrt(sq[j] / static_cast<double>(rows) + eps));
  }
}

EINNET_CLONES void StatsGrad(int64_t rows, int64_t C, const float* __restrict d, const float* __restrict x,
                             const float* __restrict stats, float* __restrict dx) {
  std::vector<float> a(C), b(C);
  for (int64_t j = 0; j < C; ++j) {
    a[j] = static_cast<float>(d[C + j] / (static_cast<double>(stats[C + j]) * rows));
    b[j] = static_cast<float>(d[j] / static_cast<double>(rows));
  }
  const float *pa = a.data(), *pb = b.data();
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < C; ++j) dx[r * C + j] = pb[j] + (x[r * C + j] - stats[j]) * pa[j];
}

template <bool kRelu>
EINNET_INLINE void NormalizeRows(int64_t rows, int64_t C, const float* __restrict x, const float* __restrict mu,
                                 const float* __restrict a, const float* __restrict b, float* __restrict y) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < C; ++j) {
      const float v = (x[r * C + j] - mu[j]) * a[j] + b[j];
      y[r * C + j] = kRelu ? (v < 0.f ? 0.f : v) : v;
    }
}

EINNET_CLONES void Normalize(bool relu, int64_t rows, int64_t C, const float* x, const float* mu, const float* a,
                             const float* b, float* y) {
  if (relu) NormalizeRows<true>(rows, C, x, mu, a, b, y);
  else NormalizeRows<false>(rows, C, x, mu, a, b, y);
}

// The two passes of the normalization's gradient: the sums, then dx.
template <bool kRelu>
EINNET_INLINE void NormalizeGradRows(int64_t rows, int64_t C, const float* __restrict dy, const float* __restrict x,
                                     const float* __restrict y, const float* __restrict mu,
                                     const float* __restrict inv, const float* __restrict k, float* __restrict dx,
                                     float* dscale, float* doffset) {
  auto dz = [&](int64_t r, int64_t j) { return kRelu ? Masked(dy[r * C + j], y[r * C + j]) : dy[r * C + j]; };
  std::vector<double> sb(C, 0.0), sg(C, 0.0);
  std::vector<float> blockB(C), blockG(C);
  SumRows2(rows, C, sb.data(), sg.data(), blockB.data(), blockG.data(), [&](int64_t r, int64_t j, float& b, float& g) {
    const float d = dz(r, j);
    b += d;
    g += d * ((x[r * C + j] - mu[j]) * inv[j]);
  });
  std::vector<float> mb(C), mg(C);
  for (int64_t j = 0; j < C; ++j) {
    mb[j] = static_cast<float>(sb[j] / static_cast<double>(rows));
    mg[j] = static_cast<float>(sg[j] / static_cast<double>(rows));
    doffset[j] = static_cast<float>(sb[j]);
    dscale[j] = static_cast<float>(sg[j]);
  }
  const float *pb = mb.data(), *pg = mg.data();
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < C; ++j) dx[r * C + j] = k[j] * (dz(r, j) - pb[j] - (x[r * C + j] - mu[j]) * inv[j] * pg[j]);
}

EINNET_CLONES void NormalizeGrad(bool relu, int64_t rows, int64_t C, const float* dy, const float* x, const float* y,
                                 const float* mu, const float* inv, const float* k, float* dx, float* dscale,
                                 float* doffset) {
  if (relu) NormalizeGradRows<true>(rows, C, dy, x, y, mu, inv, k, dx, dscale, doffset);
  else NormalizeGradRows<false>(rows, C, dy, x, y, mu, inv, k, dx, dscale, doffset);
}

}  // namespace

// batchStats(params [rows, C], epsilon, x, out [2, C]): out[0] = mean over rows, out[1] =
// sqrt(mean of squared deviations + epsilon). Two passes (the second over data still in cache)
// rather than E[x²] − μ², which cancels.
void BatchStatsLoop(const Napi::CallbackInfo& info) {
  const auto [rows, C] = RowsAndChannels(IntParams(info[0]), 2);
  const double eps = info[1].As<Napi::Number>().DoubleValue();
  Stats(rows, C, eps, Floats(info[2], rows * C, "x"), Floats(info[3], 2 * C, "out"));
}

// batchStatsGrad(params [rows, C], dstats [2, C], x, stats [2, C], dx): the gradient of x
// through μ and σ alone, dx = (dμ + dσ · (x − μ)/σ) / rows.
void BatchStatsGradLoop(const Napi::CallbackInfo& info) {
  const auto [rows, C] = RowsAndChannels(IntParams(info[0]), 2);
  StatsGrad(rows, C, Floats(info[1], 2 * C, "dstats"), Floats(info[2], rows * C, "x"), Floats(info[3], 2 * C, "stats"),
            Floats(info[4], rows * C, "dx"));
}

// batchNormalize(params [rows, C, relu, hasScale, hasOffset], x, stats, scale | null,
// offset | null, y): y = (x − μ)·(γ/σ) + β, then max(y, 0) when relu (NaN stays NaN).
void BatchNormalizeLoop(const Napi::CallbackInfo& info) {
  const auto p = IntParams(info[0]);
  const auto [rows, C] = RowsAndChannels(p, 5);
  const bool relu = p[2] != 0, hasScale = p[3] != 0, hasOffset = p[4] != 0;
  const float* x = Floats(info[1], rows * C, "x");
  const float* stats = Floats(info[2], 2 * C, "stats");
  const float* scale = hasScale ? Floats(info[3], C, "scale") : nullptr;
  const float* offset = hasOffset ? Floats(info[4], C, "offset") : nullptr;
  float* y = Floats(info[5], rows * C, "y");
  std::vector<float> a(C), b(C);
  for (int64_t j = 0; j < C; ++j) {
    a[j] = static_cast<float>((hasScale ? static_cast<double>(scale[j]) : 1.0) / stats[C + j]);
    b[j] = hasOffset ? offset[j] : 0.f;
  }
  Normalize(relu, rows, C, x, stats, a.data(), b.data(), y);
}

// batchNormalizeGrad(params [rows, C, relu, hasScale], dy, x, y | null, stats, scale | null,
// dx, dscale [C], doffset [C]): with dz = dy (where y > 0 under relu, else 0) and x̂ = (x − μ)/σ,
//   doffset = Σ dz,  dscale = Σ dz·x̂,  dx = γ/σ · (dz − doffset/rows − x̂·dscale/rows),
// the gradient of the whole normalization, μ and σ included.
void BatchNormalizeGradLoop(const Napi::CallbackInfo& info) {
  const auto p = IntParams(info[0]);
  const auto [rows, C] = RowsAndChannels(p, 4);
  const bool relu = p[2] != 0, hasScale = p[3] != 0;
  const int64_t n = rows * C;
  const float* dy = Floats(info[1], n, "dy");
  const float* x = Floats(info[2], n, "x");
  const float* y = relu ? Floats(info[3], n, "y") : nullptr;
  const float* stats = Floats(info[4], 2 * C, "stats");
  const float* scale = hasScale ? Floats(info[5], C, "scale") : nullptr;
  float* dx = Floats(info[6], n, "dx");
  float* dscale = Floats(info[7], C, "dscale");
  float* doffset = Floats(info[8], C, "doffset");
  std::vector<float> inv(C), k(C);
  for (int64_t j = 0; j < C; ++j) {
    inv[j] = static_cast<float>(1.0 / stats[C + j]);
    k[j] = static_cast<float>((hasScale ? static_cast<double>(scale[j]) : 1.0) / stats[C + j]);
  }
  NormalizeGrad(relu, rows, C, dy, x, y, stats, inv.data(), k.data(), dx, dscale, doffset);
}

}  // namespace einnet
