// einnet's Winograd F(2x2, 3x3) convolution (winograd.h). With d a 4x4 patch of one input
// channel and g the 3x3 window of one (input, output) channel pair, a 2x2 block of outputs is
//
//   Y = Aᵀ [ Σ_c (G g Gᵀ) ⊙ (Bᵀ d B) ] A,   Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],
//   G = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1],     Aᵀ = [1 1 1 0; 0 1 -1 -1],
//
// so the sum over input channels is 16 independent matrix products, one per point p of the 4x4
// transformed tile: M_p[tile, k] = Σ_c V_p[tile, c] · U_p[c, k] with V = Bᵀ d B and U = G g Gᵀ.
//
// The work goes in blocks of tiles small enough that a block's V and M stay in the core's
// caches: transform the block's input patches, multiply (a 6x16 register-blocked kernel), then
// transform back to outputs, with bias and relu. Threads take whole blocks. U is computed once per
// call, as filters change every training step.
//
// The filter gradient follows from y = Aᵀ (U ⊙ V) A: dL/dU = (A dy Aᵀ) ⊙ V for each tile, so
// dW = Gᵀ [ Σ_tiles (A dy Aᵀ) ⊙ (Bᵀ x B) ] G, the sum over tiles again 16 matrix products
// (C x tiles by tiles x K), which each thread adds up over its blocks before the threads' sums
// are added and transformed.

#include "winograd.h"

#include <immintrin.h>

#include <algorithm>
#include <vector>

#include "parallel.h"

namespace einnet {

bool OwnWinogradAvailable() {
#if defined(__x86_64__) && defined(__GNUC__)
  static const bool available =
      __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && !__builtin_cpu_supports("avx512f");
  return available;
#else
  return false;
#endif
}

#if defined(__x86_64__) && defined(__GNUC__)

#define WINOGRAD_TARGET __attribute__((target("avx2,fma")))
#define WINOGRAD_INLINE __attribute__((target("avx2,fma"), always_inline)) inline

namespace {

constexpr int kRows = 6;  // tiles per register block of the product

// Tiles per block: a block's V (16 x tiles x C) and M (16 x tiles x K) fill about 64 KB, which
// measured faster than a block filling L2 (192 KB: 1.6 against 1.43 ms for 32x32x16, batch 32).
int64_t TilesPerBlock(int64_t c, int64_t k) {
  const int64_t t = 1024 / (c + k);
  return std::max<int64_t>(kRows, t / kRows * kRows);
}

// Tiles per block of the filter gradient: V and Ŷ of a block fill 32 KB (at least 8 tiles, over
// which each block's accumulators are loaded and stored once). Blocks of 256 KB made the
// transforms twice as slow and 32x32x16 (batch 32) 2.4 against 1.5 ms on one thread.
int64_t GradientTilesPerBlock(int64_t c, int64_t k) { return std::max<int64_t>(8, 512 / (c + k)); }

// The 2x2 output tiles of a batch, numbered image by image, row by row (odd sizes round up).
struct Tiles {
  int64_t images, x, y;  // images, and tiles across and down one image
  explicit Tiles(const Winograd3x3Shape& s) : images(s.n), x((s.outW + 1) / 2), y((s.outH + 1) / 2) {}
  int64_t Count() const { return images * x * y; }
  // Tile t's image and its top-left output row and column.
  void At(int64_t t, int64_t& n, int64_t& oy, int64_t& ox) const {
    n = t / (x * y);
    const int64_t rest = t % (x * y);
    oy = rest / x * 2;
    ox = rest % x * 2;
  }
};

// A thread's buffers for one block of `tb` tiles: the transformed inputs (16 x tb x C), the
// products or transformed output gradients (16 x tb x K), and one 4x4 patch (16 x C). The
// workers are OpenMP's persistent threads, so each keeps its buffer from call to call.
float* BlockScratch(const Winograd3x3Shape& s, int64_t tb) {
  static thread_local std::vector<float> scratch;
  const size_t need = static_cast<size_t>(16 * tb * (s.c + s.k) + 16 * s.c);
  if (scratch.size() < need) scratch.resize(need);
  return scratch.data();
}

// U_p[c, k] for the 16 points p, as u[(p * C + c) * K + k], for input channels [c0, c1).
WINOGRAD_TARGET void TransformFilter(const Winograd3x3Shape& s, const float* filter, bool backwardData, int64_t c0,
                                     int64_t c1, float* u) {
  const int64_t C = s.c, K = s.k;
  const __m256 half = _mm256_set1_ps(0.5f);
  for (int64_t c = c0; c < c1; ++c) {
    for (int64_t k0 = 0; k0 < K; k0 += 8) {
      __m256 g[3][3];
      for (int i = 0; i < 3; ++i) {
        for (int j = 0; j < 3; ++j) {
          if (!backwardData) {
            g[i][j] = _mm256_loadu_ps(filter + ((i * 3 + j) * C + c) * K + k0);
          } else {
            // The forward filter is [3, 3, K, C]: lanes over k are C apart.
            alignas(32) float lanes[8];
            const float* at = filter + ((2 - i) * 3 + (2 - j)) * K * C + k0 * C + c;
            for (int l = 0; l < 8; ++l) lanes[l] = at[l * C];
            g[i][j] = _mm256_load_ps(lanes);
          }
        }
      }
      __m256 a[4][3];  // G g
      for (int j = 0; j < 3; ++j) {
        const __m256 sum = _mm256_add_ps(g[0][j], g[2][j]);
        a[0][j] = g[0][j];
        a[1][j] = _mm256_mul_ps(half, _mm256_add_ps(sum, g[1][j]));
        a[2][j] = _mm256_mul_ps(half, _mm256_sub_ps(sum, g[1][j]));
        a[3][j] = g[2][j];
      }
      for (int i = 0; i < 4; ++i) {  // (G g) Gᵀ
        const __m256 sum = _mm256_add_ps(a[i][0], a[i][2]);
        const __m256 row[4] = {a[i][0], _mm256_mul_ps(half, _mm256_add_ps(sum, a[i][1])),
                               _mm256_mul_ps(half, _mm256_sub_ps(sum, a[i][1])), a[i][2]};
        for (int j = 0; j < 4; ++j) _mm256_storeu_ps(u + ((i * 4 + j) * C + c) * K + k0, row[j]);
      }
    }
  }
}

// Eight channels of a patch's row i, column j.
WINOGRAD_INLINE __m256 Load(const float* q, int64_t rowStride, int64_t C, int i, int j) {
  return _mm256_loadu_ps(q + i * rowStride + j * C);
}

// Bᵀ d B of one 4x4 patch, every channel: the patch's row i, column j, channel c at
// p[i * rowStride + j * C + c]; the 16 points to out[point * pointStride + c]. Row by row of the
// result, each from the two or three patch rows it combines, so that nothing leaves the registers.
WINOGRAD_INLINE void TransformPatch(const float* p, int64_t rowStride, int64_t C, float* out, int64_t pointStride) {
  for (int64_t c = 0; c < C; c += 8) {
    const float* q = p + c;
    for (int i = 0; i < 4; ++i) {
      // Row i of Bᵀ d: d0 - d2, d1 + d2, d2 - d1, d1 - d3.
      __m256 r[4];
      for (int j = 0; j < 4; ++j) {
        switch (i) {
          case 0: r[j] = _mm256_sub_ps(Load(q, rowStride, C, 0, j), Load(q, rowStride, C, 2, j)); break;
          case 1: r[j] = _mm256_add_ps(Load(q, rowStride, C, 1, j), Load(q, rowStride, C, 2, j)); break;
          case 2: r[j] = _mm256_sub_ps(Load(q, rowStride, C, 2, j), Load(q, rowStride, C, 1, j)); break;
          default: r[j] = _mm256_sub_ps(Load(q, rowStride, C, 1, j), Load(q, rowStride, C, 3, j)); break;
        }
      }
      float* o = out + i * 4 * pointStride + c;
      _mm256_storeu_ps(o, _mm256_sub_ps(r[0], r[2]));
      _mm256_storeu_ps(o + pointStride, _mm256_add_ps(r[1], r[2]));
      _mm256_storeu_ps(o + 2 * pointStride, _mm256_sub_ps(r[2], r[1]));
      _mm256_storeu_ps(o + 3 * pointStride, _mm256_sub_ps(r[1], r[3]));
    }
  }
}

// V_p[t, c] = (Bᵀ d B)_p for the block's tiles [t0, t1), as v[(p * TB + t - t0) * C + c]. A patch
// that reaches past the input is first copied, with zeros outside, into `patch` (16 C floats).
WINOGRAD_TARGET void TransformInput(const Winograd3x3Shape& s, const float* x, int64_t t0, int64_t t1, int64_t tb,
                                    float* patch, float* v) {
  const int64_t C = s.c;
  const Tiles tiles(s);
  for (int64_t t = t0; t < t1; ++t) {
    int64_t n, oy, ox;
    tiles.At(t, n, oy, ox);
    const int64_t iy0 = oy - s.padT, ix0 = ox - s.padL;
    float* out = v + (t - t0) * C;
    if (iy0 >= 0 && ix0 >= 0 && iy0 + 4 <= s.inH && ix0 + 4 <= s.inW) {
      TransformPatch(x + ((n * s.inH + iy0) * s.inW + ix0) * C, s.inW * C, C, out, tb * C);
      continue;
    }
    std::fill(patch, patch + 16 * C, 0.f);
    const int64_t j0 = std::max<int64_t>(0, -ix0), j1 = std::min<int64_t>(4, s.inW - ix0);
    for (int64_t i = std::max<int64_t>(0, -iy0); i < std::min<int64_t>(4, s.inH - iy0); ++i) {
      if (j0 < j1) std::copy_n(x + ((n * s.inH + iy0 + i) * s.inW + ix0 + j0) * C, (j1 - j0) * C, patch + (i * 4 + j0) * C);
    }
    TransformPatch(patch, 4 * C, C, out, tb * C);
  }
}

// c[r, 0:8·NB] = (c[r, 0:8·NB] if `add`) + Σ_d a[r·aRow + d·aStep] · b[d·bStep + 0:8·NB] for R
// rows r, with the R·NB sums in registers: the matrix products of both passes, V_p U_p
// (the convolution: rows are tiles, d input channels) and V_pᵀ Ŷ_p (the filter gradient: rows
// are input channels, d tiles).
template <int R, int NB>
WINOGRAD_INLINE void Product(const float* a, int64_t aRow, int64_t aStep, const float* b, int64_t bStep, int64_t depth,
                             bool add, float* c, int64_t cRow) {
  __m256 sum[R][NB];
  for (int r = 0; r < R; ++r)
    for (int n = 0; n < NB; ++n) sum[r][n] = add ? _mm256_loadu_ps(c + r * cRow + 8 * n) : _mm256_setzero_ps();
  for (int64_t d = 0; d < depth; ++d) {
    __m256 col[NB];
    for (int n = 0; n < NB; ++n) col[n] = _mm256_loadu_ps(b + d * bStep + 8 * n);
    for (int r = 0; r < R; ++r) {
      const __m256 x = _mm256_broadcast_ss(a + r * aRow + d * aStep);
      for (int n = 0; n < NB; ++n) sum[r][n] = _mm256_fmadd_ps(x, col[n], sum[r][n]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int n = 0; n < NB; ++n) _mm256_storeu_ps(c + r * cRow + 8 * n, sum[r][n]);
}

template <int NB>
WINOGRAD_INLINE void ProductRows(int rows, const float* a, int64_t aRow, int64_t aStep, const float* b, int64_t bStep,
                                 int64_t depth, bool add, float* c, int64_t cRow) {
  switch (rows) {
    case 1: Product<1, NB>(a, aRow, aStep, b, bStep, depth, add, c, cRow); break;
    case 2: Product<2, NB>(a, aRow, aStep, b, bStep, depth, add, c, cRow); break;
    case 3: Product<3, NB>(a, aRow, aStep, b, bStep, depth, add, c, cRow); break;
    case 4: Product<4, NB>(a, aRow, aStep, b, bStep, depth, add, c, cRow); break;
    case 5: Product<5, NB>(a, aRow, aStep, b, bStep, depth, add, c, cRow); break;
    default: Product<6, NB>(a, aRow, aStep, b, bStep, depth, add, c, cRow); break;
  }
}

// `Product` for rows ≤ kRows rows and `cols` columns (a multiple of 8): 16 columns at a time,
// then 8.
WINOGRAD_INLINE void Products(int rows, int64_t cols, const float* a, int64_t aRow, int64_t aStep, const float* b,
                              int64_t bStep, int64_t depth, bool add, float* c, int64_t cRow) {
  int64_t k = 0;
  for (; k + 16 <= cols; k += 16) ProductRows<2>(rows, a, aRow, aStep, b + k, bStep, depth, add, c + k, cRow);
  if (k < cols) ProductRows<1>(rows, a, aRow, aStep, b + k, bStep, depth, add, c + k, cRow);
}

// M_p = V_p U_p for the 16 points, `tiles` rows each, as m[(p * TB + t) * K + k].
WINOGRAD_TARGET void Multiply(const Winograd3x3Shape& s, const float* v, const float* u, int64_t tiles, int64_t tb,
                              float* m) {
  const int64_t C = s.c, K = s.k;
  for (int p = 0; p < 16; ++p) {
    for (int64_t r = 0; r < tiles; r += kRows) {
      const int rows = static_cast<int>(std::min<int64_t>(kRows, tiles - r));
      Products(rows, K, v + (p * tb + r) * C, C, 1, u + p * C * K, K, C, false, m + (p * tb + r) * K, K);
    }
  }
}

// y's 2x2 blocks of the tiles [t0, t1) from M: Aᵀ M A, plus bias, then relu; blocks that stick out
// of an odd-sized output write only their inside.
WINOGRAD_TARGET void TransformOutput(const Winograd3x3Shape& s, const float* m, int64_t t0, int64_t t1, int64_t tb,
                                     const float* bias, bool relu, float* y) {
  const int64_t K = s.k;
  const Tiles tiles(s);
  const __m256 zero = _mm256_setzero_ps();
  for (int64_t t = t0; t < t1; ++t) {
    int64_t n, oy, ox;
    tiles.At(t, n, oy, ox);
    const float* in = m + (t - t0) * K;
    for (int64_t k = 0; k < K; k += 8) {
      __m256 q[4][4];
      for (int p = 0; p < 16; ++p) q[p / 4][p % 4] = _mm256_loadu_ps(in + p * tb * K + k);
      __m256 r[2][4];  // Aᵀ M
      for (int j = 0; j < 4; ++j) {
        r[0][j] = _mm256_add_ps(_mm256_add_ps(q[0][j], q[1][j]), q[2][j]);
        r[1][j] = _mm256_sub_ps(_mm256_sub_ps(q[1][j], q[2][j]), q[3][j]);
      }
      const __m256 b = bias ? _mm256_loadu_ps(bias + k) : zero;
      for (int i = 0; i < 2 && oy + i < s.outH; ++i) {
        __m256 out[2] = {_mm256_add_ps(_mm256_add_ps(r[i][0], r[i][1]), r[i][2]),
                         _mm256_sub_ps(_mm256_sub_ps(r[i][1], r[i][2]), r[i][3])};
        for (int j = 0; j < 2 && ox + j < s.outW; ++j) {
          __m256 o = _mm256_add_ps(out[j], b);
          if (relu) o = _mm256_max_ps(o, zero);
          _mm256_storeu_ps(y + ((n * s.outH + oy + i) * s.outW + ox + j) * K + k, o);
        }
      }
    }
  }
}

// One thread's blocks [b0, b1).
WINOGRAD_TARGET void RunBlocks(const Winograd3x3Shape& s, const float* x, const float* u, const float* bias, bool relu,
                               float* y, int64_t tiles, int64_t tb, int64_t b0, int64_t b1) {
  float* v = BlockScratch(s, tb);
  float* m = v + 16 * tb * s.c;
  float* patch = m + 16 * tb * s.k;
  for (int64_t b = b0; b < b1; ++b) {
    const int64_t t0 = b * tb, t1 = std::min(tiles, t0 + tb);
    TransformInput(s, x, t0, t1, tb, patch, v);
    Multiply(s, v, u, t1 - t0, tb, m);
    TransformOutput(s, m, t0, t1, tb, bias, relu, y);
  }
}

// Ŷ_p[t, k] = (A dy A^T)_p for the block's tiles [t0, t1), as w[(p * TB + t - t0) * K + k]: the
// tile's 2x2 output gradient (zeros where the tile sticks out of the output) spread over the 16
// points, A = [1 0; 1 1; 1 -1; 0 -1].
WINOGRAD_TARGET void TransformOutputGradient(const Winograd3x3Shape& s, const float* dy, int64_t t0, int64_t t1,
                                             int64_t tb, float* w) {
  const int64_t K = s.k;
  const Tiles tiles(s);
  for (int64_t t = t0; t < t1; ++t) {
    int64_t n, oy, ox;
    tiles.At(t, n, oy, ox);
    const bool down = oy + 1 < s.outH, right = ox + 1 < s.outW;
    const float* at = dy + ((n * s.outH + oy) * s.outW + ox) * K;
    float* out = w + (t - t0) * K;
    for (int64_t k = 0; k < K; k += 8) {
      const __m256 zero = _mm256_setzero_ps();
      const __m256 d[2][2] = {{_mm256_loadu_ps(at + k), right ? _mm256_loadu_ps(at + K + k) : zero},
                              {down ? _mm256_loadu_ps(at + s.outW * K + k) : zero,
                               down && right ? _mm256_loadu_ps(at + (s.outW + 1) * K + k) : zero}};
      __m256 e[4][2];  // A dy
      for (int j = 0; j < 2; ++j) {
        e[0][j] = d[0][j];
        e[1][j] = _mm256_add_ps(d[0][j], d[1][j]);
        e[2][j] = _mm256_sub_ps(d[0][j], d[1][j]);
        e[3][j] = _mm256_sub_ps(zero, d[1][j]);
      }
      for (int i = 0; i < 4; ++i) {  // (A dy) Aᵀ
        const __m256 row[4] = {e[i][0], _mm256_add_ps(e[i][0], e[i][1]), _mm256_sub_ps(e[i][0], e[i][1]),
                               _mm256_sub_ps(zero, e[i][1])};
        for (int j = 0; j < 4; ++j) _mm256_storeu_ps(out + (i * 4 + j) * tb * K + k, row[j]);
      }
    }
  }
}

// acc_p[c, k] += Σ_t V_p[t, c] Ŷ_p[t, k] for the 16 points, as acc[(p * C + c) * K + k].
WINOGRAD_TARGET void Accumulate(const Winograd3x3Shape& s, const float* v, const float* w, int64_t tiles, int64_t tb,
                                float* acc) {
  const int64_t C = s.c, K = s.k;
  for (int p = 0; p < 16; ++p) {
    for (int64_t c = 0; c < C; c += kRows) {
      const int rows = static_cast<int>(std::min<int64_t>(kRows, C - c));
      Products(rows, K, v + p * tb * C + c, 1, C, w + p * tb * K, K, tiles, true, acc + (p * C + c) * K, K);
    }
  }
}

// One thread's share of the filter gradient: blocks [b0, b1) summed into acc (16 C K values).
WINOGRAD_TARGET void AccumulateBlocks(const Winograd3x3Shape& s, const float* x, const float* dy, int64_t tiles,
                                      int64_t tb, int64_t b0, int64_t b1, float* acc) {
  float* v = BlockScratch(s, tb);
  float* w = v + 16 * tb * s.c;
  float* patch = w + 16 * tb * s.k;
  std::fill(acc, acc + 16 * s.c * s.k, 0.f);
  for (int64_t b = b0; b < b1; ++b) {
    const int64_t t0 = b * tb, t1 = std::min(tiles, t0 + tb);
    TransformInput(s, x, t0, t1, tb, patch, v);
    TransformOutputGradient(s, dy, t0, t1, tb, w);
    Accumulate(s, v, w, t1 - t0, tb, acc);
  }
}

// dW = Gᵀ (Σ_threads acc) G for input channels [c0, c1), into tfjs' HWIO filter [3, 3, C, K];
// Gᵀ = [1 ½ ½ 0; 0 ½ -½ 0; 0 ½ ½ 1].
WINOGRAD_TARGET void FilterGradient(const Winograd3x3Shape& s, const float* const* acc, int parts, int64_t c0,
                                    int64_t c1, float* dw) {
  const int64_t C = s.c, K = s.k;
  const __m256 half = _mm256_set1_ps(0.5f);
  for (int64_t c = c0; c < c1; ++c) {
    for (int64_t k = 0; k < K; k += 8) {
      __m256 m[4][4];
      for (int p = 0; p < 16; ++p) {
        __m256 sum = _mm256_loadu_ps(acc[0] + (p * C + c) * K + k);
        for (int q = 1; q < parts; ++q) sum = _mm256_add_ps(sum, _mm256_loadu_ps(acc[q] + (p * C + c) * K + k));
        m[p / 4][p % 4] = sum;
      }
      __m256 r[3][4];  // Gᵀ M
      for (int j = 0; j < 4; ++j) {
        const __m256 mid = _mm256_mul_ps(half, _mm256_add_ps(m[1][j], m[2][j]));
        r[0][j] = _mm256_add_ps(m[0][j], mid);
        r[1][j] = _mm256_mul_ps(half, _mm256_sub_ps(m[1][j], m[2][j]));
        r[2][j] = _mm256_add_ps(mid, m[3][j]);
      }
      for (int i = 0; i < 3; ++i) {  // (Gᵀ M) G
        const __m256 mid = _mm256_mul_ps(half, _mm256_add_ps(r[i][1], r[i][2]));
        const __m256 row[3] = {_mm256_add_ps(r[i][0], mid), _mm256_mul_ps(half, _mm256_sub_ps(r[i][1], r[i][2])),
                               _mm256_add_ps(mid, r[i][3])};
        for (int j = 0; j < 3; ++j) _mm256_storeu_ps(dw + ((i * 3 + j) * C + c) * K + k, row[j]);
      }
    }
  }
}

}  // namespace

void WinogradConv3x3(const Winograd3x3Shape& s, const float* x, const float* filter, bool backwardData, const float* bias,
                     bool relu, float* y, int threads) {
  // The calling thread's buffer: the workers see it through `up`, never by name.
  static thread_local std::vector<float> u;
  u.resize(static_cast<size_t>(16 * s.c * s.k));
  float* up = u.data();
  ForRows(s.c, threads, [&](int64_t c0, int64_t c1, int) { TransformFilter(s, filter, backwardData, c0, c1, up); });
  const int64_t tiles = Tiles(s).Count();
  const int64_t tb = TilesPerBlock(s.c, s.k);
  const int64_t blocks = (tiles + tb - 1) / tb;
  ForRows(blocks, static_cast<int>(std::min<int64_t>(threads, blocks)),
          [&](int64_t b0, int64_t b1, int) { RunBlocks(s, x, up, bias, relu, y, tiles, tb, b0, b1); });
}

void WinogradFilterGradient3x3(const Winograd3x3Shape& s, const float* x, const float* dy, float* dw, int threads) {
  const int64_t tiles = Tiles(s).Count();
  const int64_t tb = GradientTilesPerBlock(s.c, s.k);
  const int64_t blocks = (tiles + tb - 1) / tb;
  const int parts = static_cast<int>(std::min<int64_t>(threads, blocks));
  // The calling thread's buffers: the workers see them through the pointers, never by name.
  static thread_local std::vector<float> sums;
  sums.resize(static_cast<size_t>(parts * 16 * s.c * s.k));
  std::vector<float*> acc(parts);
  for (int q = 0; q < parts; ++q) acc[q] = sums.data() + q * 16 * s.c * s.k;
  ForRows(blocks, parts, [&](int64_t b0, int64_t b1, int q) { AccumulateBlocks(s, x, dy, tiles, tb, b0, b1, acc[q]); });
  ForRows(s.c, threads, [&](int64_t c0, int64_t c1, int) { FilterGradient(s, acc.data(), parts, c0, c1, dw); });
}

#else

void WinogradConv3x3(const Winograd3x3Shape&, const float*, const float*, bool, const float*, bool, float*, int) {}
void WinogradFilterGradient3x3(const Winograd3x3Shape&, const float*, const float*, float*, int) {}

#endif

}  // namespace einnet
