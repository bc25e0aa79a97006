// Batch normalization over the leading axis of x viewed as [rows, C] (dsl/lower/routes/batchnorm.ts
// recognizes it; ops/batchnorm.ts calls these when the averaged axes are the leading ones):
// the statistics μ, σ = sqrt(var + ε), the normalization (x − μ)/σ·γ + β with an optional relu,
// and their gradients. Large tensors are split by rows over the OpenMP threads (the statistics
// per thread, then combined in a fixed order, so a result depends only on the thread count).
//
// Sums over rows accumulate in float within blocks of kBlock rows and in double across blocks,
// so the inner loops are plain float arithmetic over a row, which vectorises; the loops are
// compiled for AVX-512, AVX2 and baseline x86-64 and picked at load time (EINNET_CLONES), since
// the addon itself is built for baseline x86-64 to run on any machine.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "loops.h"
#include "typed_args.h"

#include "parallel.h"


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

// The chunk kernels. Row sums accumulate in float over kBlock rows, then in double.

// s1[j] += Σ (x[r, j] − k[j]), s2[j] += Σ (x[r, j] − k[j])² over rows [begin, end).
EINNET_CLONES void MomentsChunk(int64_t begin, int64_t end, int64_t C, const float* __restrict x, const float* __restrict k,
                                double* __restrict s1, double* __restrict s2) {
  std::vector<float> av(C), bv(C);
  float* __restrict a = av.data();
  float* __restrict b = bv.data();
  for (int64_t r0 = begin; r0 < end; r0 += kBlock) {
    const int64_t r1 = r0 + kBlock < end ? r0 + kBlock : end;
    for (int64_t j = 0; j < C; ++j) a[j] = b[j] = 0.f;
    for (int64_t r = r0; r < r1; ++r)
      for (int64_t j = 0; j < C; ++j) {
        const float d = x[r * C + j] - k[j];
        a[j] += d;
        b[j] += d * d;
      }
    for (int64_t j = 0; j < C; ++j) {
      s1[j] += a[j];
      s2[j] += b[j];
    }
  }
}

// dx = b + (x − μ)·a over rows [begin, end).
EINNET_CLONES void AffineChunk(int64_t begin, int64_t end, int64_t C, const float* __restrict x, const float* __restrict mu,
                               const float* __restrict a, const float* __restrict b, bool relu, float* __restrict y) {
  if (relu) {
    for (int64_t r = begin; r < end; ++r)
      for (int64_t j = 0; j < C; ++j) {
        const float v = (x[r * C + j] - mu[j]) * a[j] + b[j];
        y[r * C + j] = v < 0.f ? 0.f : v;
      }
  } else {
    for (int64_t r = begin; r < end; ++r)
      for (int64_t j = 0; j < C; ++j) y[r * C + j] = (x[r * C + j] - mu[j]) * a[j] + b[j];
  }
}

// sb[j] += Σ dz, sg[j] += Σ dz·(x − μ)·inv over rows [begin, end), dz = dy masked by y > 0 when y.
EINNET_CLONES void GradSumsChunk(int64_t begin, int64_t end, int64_t C, const float* __restrict dy, const float* __restrict x,
                                 const float* __restrict y, const float* __restrict mu, const float* __restrict inv,
                                 double* __restrict sb, double* __restrict sg) {
  std::vector<float> bv(C), gv(C);
  float* __restrict b = bv.data();
  float* __restrict g = gv.data();
  for (int64_t r0 = begin; r0 < end; r0 += kBlock) {
    const int64_t r1 = r0 + kBlock < end ? r0 + kBlock : end;
    for (int64_t j = 0; j < C; ++j) b[j] = g[j] = 0.f;
    for (int64_t r = r0; r < r1; ++r)
      for (int64_t j = 0; j < C; ++j) {
        const float d = y != nullptr ? Masked(dy[r * C + j], y[r * C + j]) : dy[r * C + j];
        b[j] += d;
        g[j] += d * ((x[r * C + j] - mu[j]) * inv[j]);
      }
    for (int64_t j = 0; j < C; ++j) {
      sb[j] += b[j];
      sg[j] += g[j];
    }
  }
}

// dx = k·(dz − mb − (x − μ)·inv·mg) over rows [begin, end).
EINNET_CLONES void GradDxChunk(int64_t begin, int64_t end, int64_t C, const float* __restrict dy, const float* __restrict x,
                               const float* __restrict y, const float* __restrict mu, const float* __restrict inv,
                               const float* __restrict k, const float* __restrict mb, const float* __restrict mg,
                               float* __restrict dx) {
  for (int64_t r = begin; r < end; ++r)
    for (int64_t j = 0; j < C; ++j) {
      const float d = y != nullptr ? Masked(dy[r * C + j], y[r * C + j]) : dy[r * C + j];
      dx[r * C + j] = k[j] * (d - mb[j] - (x[r * C + j] - mu[j]) * inv[j] * mg[j]);
    }
}

// Per-channel sums over all rows, split over threads and combined in thread order.
template <class Chunk>
void SumRowsParallel(int64_t rows, int64_t C, int K, std::vector<double>* sums, Chunk chunk) {
  const int threads = Threads(rows * C);
  std::vector<double> partial(static_cast<size_t>(threads) * K * C, 0.0);
  ForRows(rows, threads, [&](int64_t begin, int64_t end, int t) { chunk(begin, end, partial.data() + static_cast<size_t>(t) * K * C); });
  for (int t = 0; t < threads; ++t)
    for (int k = 0; k < K; ++k)
      for (int64_t j = 0; j < C; ++j) sums[k][j] += partial[(static_cast<size_t>(t) * K + k) * C + j];
}

// One pass over x: sums of x − k and (x − k)² with k = x's first row, a sample of each channel,
// so that the variance S2/n − (S1/n)² does not cancel (as E[x²] − μ² would for |μ| ≫ σ).
void Stats(int64_t rows, int64_t C, double eps, const float* x, float* out) {
  std::vector<double> sums[2] = {std::vector<double>(C, 0.0), std::vector<double>(C, 0.0)};
  const std::vector<float> shift(x, x + C);
  SumRowsParallel(rows, C, 2, sums, [&](int64_t b, int64_t e, double* p) { MomentsChunk(b, e, C, x, shift.data(), p, p + C); });
  const double n = static_cast<double>(rows);
  for (int64_t j = 0; j < C; ++j) {
    const double m1 = sums[0][j] / n;
    const double var = std::max(0.0, sums[1][j] / n - m1 * m1);
    out[j] = static_cast<float>(shift[j] + m1);
    out[C + j] = static_cast<float>(std::sqrt(var + eps));
  }
}

void StatsGrad(int64_t rows, int64_t C, const float* d, const float* x, const float* stats, float* dx) {
  std::vector<float> a(C), b(C);
  for (int64_t j = 0; j < C; ++j) {
    a[j] = static_cast<float>(d[C + j] / (static_cast<double>(stats[C + j]) * rows));
    b[j] = static_cast<float>(d[j] / static_cast<double>(rows));
  }
  ForRows(rows, Threads(rows * C), [&](int64_t s, int64_t e, int) { AffineChunk(s, e, C, x, stats, a.data(), b.data(), false, dx); });
}

void Normalize(bool relu, int64_t rows, int64_t C, const float* x, const float* mu, const float* a, const float* b, float* y) {
  ForRows(rows, Threads(rows * C), [&](int64_t s, int64_t e, int) { AffineChunk(s, e, C, x, mu, a, b, relu, y); });
}

// The two passes of the normalization's gradient: the sums, then dx. y is null without relu.
void NormalizeGrad(int64_t rows, int64_t C, const float* dy, const float* x, const float* y, const float* mu, const float* inv,
                   const float* k, float* dx, float* dscale, float* doffset) {
  std::vector<double> sums[2] = {std::vector<double>(C, 0.0), std::vector<double>(C, 0.0)};
  SumRowsParallel(rows, C, 2, sums, [&](int64_t s, int64_t e, double* p) { GradSumsChunk(s, e, C, dy, x, y, mu, inv, p, p + C); });
  std::vector<float> mb(C), mg(C);
  for (int64_t j = 0; j < C; ++j) {
    mb[j] = static_cast<float>(sums[0][j] / static_cast<double>(rows));
    mg[j] = static_cast<float>(sums[1][j] / static_cast<double>(rows));
    doffset[j] = static_cast<float>(sums[0][j]);
    dscale[j] = static_cast<float>(sums[1][j]);
  }
  ForRows(rows, Threads(rows * C), [&](int64_t s, int64_t e, int) { GradDxChunk(s, e, C, dy, x, y, mu, inv, k, mb.data(), mg.data(), dx); });
}

}  // namespace

// batchStats(params [rows, C], epsilon, x, out [2·C]): the mean over rows, then sqrt(mean of
// squared deviations + epsilon).
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
  NormalizeGrad(rows, C, dy, x, relu ? y : nullptr, stats, inv.data(), k.data(), dx, dscale, doffset);
}

}  // namespace einnet
