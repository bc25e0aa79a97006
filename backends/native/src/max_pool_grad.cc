// The gradient of 2-D max pooling, channels last: each window's gradient goes to the first
// input of the window (row-major) larger than everything before it, starting from -∞, as tfjs'
// CPU kernel picks it; a window of nothing but NaN and -∞ passes no gradient. oneDNN's pooling
// kernels vectorise over blocks of 8 or 16 channels, and with 6 (LeNet-5's first pooling) its
// forward + backward pair took 7 ms for a [64,28,28,6] input where this pass takes under one.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "loops.h"
#include "parallel.h"
#include "typed_args.h"

namespace einnet {
namespace {

struct MaxPoolGradShape {
  int64_t N, H, W, C, kh, kw, sh, sw, padT, padL, OH, OW;
};

// Images [begin, end): dx starts at zero; for each output pixel every channel's best value and
// its cell are found, then dy is added at that cell. With fewer than 8 channels, known at compile
// time (0 < kC < 8), a pixel's channels are the first lanes of one vector of bests and one of
// cells; otherwise (kC = 0, s.C channels) the channel loop is innermost and contiguous, over the
// s.C entries of `best` and `at`.
template <int kC>
EINNET_INLINE void MaxPoolGradImagesOf(int64_t begin, int64_t end, const MaxPoolGradShape& s, const float* __restrict x,
                                       const float* __restrict dy, float* __restrict dx, float* __restrict best,
                                       int32_t* __restrict at) {
  const int64_t C = kC > 0 ? kC : s.C, image = s.H * s.W * C;
  const float* xEnd = x + s.N * image;
  // Window cell k = (dy, dx)'s offset from the window's corner, in all 8 lanes of entry k: a
  // vector of one value read whole, where building it per cell took longer than the comparison.
  std::vector<int32_t> offsets(kC > 0 ? 8 * s.kh * s.kw : 0);
  for (size_t k = 0; k < offsets.size(); ++k)
    offsets[k] = static_cast<int32_t>(((k / 8) / s.kw * s.W + (k / 8) % s.kw) * C);
  for (int64_t n = begin; n < end; ++n) {
    const float* xi = x + n * image;
    float* dxi = dx + n * image;
    std::memset(dxi, 0, sizeof(float) * image);
    for (int64_t oy = 0; oy < s.OH; ++oy) {
      const int64_t y0 = oy * s.sh - s.padT, ya = std::max<int64_t>(y0, 0), yb = std::min<int64_t>(y0 + s.kh, s.H);
      for (int64_t ox = 0; ox < s.OW; ++ox) {
        const int64_t x0 = ox * s.sw - s.padL, xa = std::max<int64_t>(x0, 0), xb = std::min<int64_t>(x0 + s.kw, s.W);
        const float* g = dy + ((n * s.OH + oy) * s.OW + ox) * C;
        if constexpr (kC > 0) {
          // The best cell as its offset from the window's corner (y0, x0), from `offsets`.
          const int64_t corner = (y0 * s.W + x0) * kC;
          F32x8 top = Splat<F32x8>(-std::numeric_limits<float>::infinity());
          I32x8 where = Splat<I32x8>(-1);
          for (int64_t yy = ya; yy < yb; ++yy)
            for (int64_t xx = xa; xx < xb; ++xx) {
              const F32x8 v = LoadLanes<kC>(xi + (yy * s.W + xx) * kC, xEnd);
              const I32x8 larger = v > top;
              top = larger ? v : top;
              I32x8 offset;
              std::memcpy(&offset, &offsets[8 * ((yy - y0) * s.kw + (xx - x0))], sizeof offset);
              where = larger ? offset : where;
            }
          for (int c = 0; c < kC; ++c)
            if (where[c] >= 0) dxi[corner + where[c] + c] += g[c];
        } else {
          for (int64_t c = 0; c < C; ++c) {
            best[c] = -std::numeric_limits<float>::infinity();
            at[c] = -1;
          }
          for (int64_t yy = ya; yy < yb; ++yy)
            for (int64_t xx = xa; xx < xb; ++xx) {
              const int32_t cell = static_cast<int32_t>((yy * s.W + xx) * C);
              const float* in = xi + cell;
              for (int64_t c = 0; c < C; ++c) {
                const bool larger = in[c] > best[c];  // selects, not a branch: random data mispredicts
                best[c] = larger ? in[c] : best[c];
                at[c] = larger ? cell : at[c];
              }
            }
          for (int64_t c = 0; c < C; ++c)
            if (at[c] >= 0) dxi[at[c] + c] += g[c];
        }
      }
    }
  }
}

// One function per ISA clone and channel count below 8 (LeNet-5's first pooling has 6; the
// general loop, one channel at a time, took 2.5 ns a read there).
#define EINNET_POOL_GRAD_IMAGES(kC)                                                                          \
  EINNET_CLONES void MaxPoolGradImages##kC(int64_t begin, int64_t end, const MaxPoolGradShape& s, const float* x, \
                                           const float* dy, float* dx, float* best, int32_t* at) {            \
    MaxPoolGradImagesOf<kC>(begin, end, s, x, dy, dx, best, at);                                          \
  }
EINNET_POOL_GRAD_IMAGES(0)
EINNET_POOL_GRAD_IMAGES(1)
EINNET_POOL_GRAD_IMAGES(2)
EINNET_POOL_GRAD_IMAGES(3)
EINNET_POOL_GRAD_IMAGES(4)
EINNET_POOL_GRAD_IMAGES(5)
EINNET_POOL_GRAD_IMAGES(6)
EINNET_POOL_GRAD_IMAGES(7)
#undef EINNET_POOL_GRAD_IMAGES

void MaxPoolGradImages(int64_t begin, int64_t end, const MaxPoolGradShape& s, const float* x, const float* dy, float* dx,
                       float* best, int32_t* at) {
  using Images = void (*)(int64_t, int64_t, const MaxPoolGradShape&, const float*, const float*, float*, float*, int32_t*);
  static constexpr Images kByChannels[8] = {MaxPoolGradImages0, MaxPoolGradImages1, MaxPoolGradImages2,
                                            MaxPoolGradImages3, MaxPoolGradImages4, MaxPoolGradImages5,
                                            MaxPoolGradImages6, MaxPoolGradImages7};
  kByChannels[s.C < 8 ? s.C : 0](begin, end, s, x, dy, dx, best, at);
}

}  // namespace

// maxPoolGrad(params [N, H, W, C, kh, kw, sh, sw, padT, padL, OH, OW], x, dy, dx): dx [N, H, W, C]
// from the input x [N, H, W, C] and dy [N, OH, OW, C]; window (oy, ox) starts at row
// oy·sh − padT and column ox·sw − padL, and its cells outside the input are skipped.
void MaxPoolGradLoop(const Napi::CallbackInfo& info) {
  const auto p = IntParams(info[0]);
  if (p.size() != 12) throw LoopArgError("maxPoolGrad parameters have the wrong length");
  for (size_t i = 0; i < p.size(); ++i)
    if (i == 8 || i == 9 ? p[i] < 0 : p[i] <= 0) throw LoopArgError("maxPoolGrad extents must be positive");
  const int64_t N = p[0];
  const MaxPoolGradShape s{N, p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11]};
  if (s.H * s.W * s.C > INT32_MAX) throw LoopArgError("maxPoolGrad image too large");
  const float* x = Floats(info[1], N * s.H * s.W * s.C, "x");
  const float* dy = Floats(info[2], N * s.OH * s.OW * s.C, "dy");
  float* dx = Floats(info[3], N * s.H * s.W * s.C, "dx");
  // As maxPoolNaN: one thread below 2^24 window reads, where waking the second costs more.
  const int64_t work = N * s.OH * s.OW * s.C * s.kh * s.kw;
  const int threads = work < (int64_t(1) << 24) ? 1 : static_cast<int>(std::min<int64_t>(Threads(work), N));
  std::vector<float> best(static_cast<size_t>(threads * s.C));
  std::vector<int32_t> at(static_cast<size_t>(threads * s.C));
  ForRows(N, threads, [&](int64_t begin, int64_t end, int t) {
    MaxPoolGradImages(begin, end, s, x, dy, dx, best.data() + t * s.C, at.data() + t * s.C);
  });
}

}  // namespace einnet
