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
  int64_t H, W, C, kh, kw, sh, sw, padT, padL, OH, OW;
};

// Images [begin, end): dx starts at zero; for each output pixel the channel loop, innermost and
// contiguous, keeps every channel's best value and its cell, then adds dy at that cell (with
// fewer than 8 channels, too few for a vector, each channel is scanned on its own).
EINNET_CLONES void MaxPoolGradImages(int64_t begin, int64_t end, const MaxPoolGradShape& s, const float* __restrict x,
                                     const float* __restrict dy, float* __restrict dx, float* __restrict best,
                                     int32_t* __restrict at) {
  const int64_t C = s.C, image = s.H * s.W * C;
  for (int64_t n = begin; n < end; ++n) {
    const float* xi = x + n * image;
    float* dxi = dx + n * image;
    std::memset(dxi, 0, sizeof(float) * image);
    for (int64_t oy = 0; oy < s.OH; ++oy) {
      const int64_t y0 = oy * s.sh - s.padT, ya = std::max<int64_t>(y0, 0), yb = std::min<int64_t>(y0 + s.kh, s.H);
      for (int64_t ox = 0; ox < s.OW; ++ox) {
        const int64_t x0 = ox * s.sw - s.padL, xa = std::max<int64_t>(x0, 0), xb = std::min<int64_t>(x0 + s.kw, s.W);
        const float* g = dy + ((n * s.OH + oy) * s.OW + ox) * C;
        if (C < 8) {
          // Fewer channels than a vector holds: one channel at a time, its best in registers.
          for (int64_t c = 0; c < C; ++c) {
            float top = -std::numeric_limits<float>::infinity();
            int64_t where = -1;
            for (int64_t yy = ya; yy < yb; ++yy)
              for (int64_t xx = xa; xx < xb; ++xx) {
                const int64_t i = (yy * s.W + xx) * C + c;
                const bool larger = xi[i] > top;  // selects, not a branch: random data mispredicts
                top = larger ? xi[i] : top;
                where = larger ? i : where;
              }
            if (where >= 0) dxi[where] += g[c];
          }
          continue;
        }
        for (int64_t c = 0; c < C; ++c) {
          best[c] = -std::numeric_limits<float>::infinity();
          at[c] = -1;
        }
        for (int64_t yy = ya; yy < yb; ++yy)
          for (int64_t xx = xa; xx < xb; ++xx) {
            const int32_t cell = static_cast<int32_t>((yy * s.W + xx) * C);
            const float* in = xi + cell;
            for (int64_t c = 0; c < C; ++c) {
              const bool larger = in[c] > best[c];
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
  const MaxPoolGradShape s{p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11]};
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
