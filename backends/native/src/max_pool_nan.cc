// 2-D max pooling that keeps NaN, in one pass: a window holding a NaN gives NaN, any other window
// its largest value (±∞ included), as a plain max over the window does. oneDNN's and tfjs' max
// pooling skip NaN. Channels last, 'valid' windows (the caller pads with -∞ first).

#include <algorithm>
#include <cstdint>
#include <limits>

#include "loops.h"
#include "parallel.h"
#include "typed_args.h"

namespace einnet {
namespace {

struct PoolShape {
  int64_t N, H, W, C, kh, kw, sh, sw, OH, OW;
};

// Output rows [begin, end) of the N·OH rows: each output pixel starts at -∞ and takes a value v
// when v is larger or is NaN; once NaN, nothing is larger, so it stays NaN. With fewer than 8
// channels, known at compile time (0 < kC < 8), a pixel's channels are the first lanes of one
// vector through its window; otherwise (kC = 0, s.C channels) the channel loop is innermost and
// contiguous, so it runs as vector compares and blends over the output pixel in memory.
template <int kC>
EINNET_INLINE void MaxPoolNaNRowsOf(int64_t begin, int64_t end, const PoolShape& s, const float* __restrict x,
                                    float* __restrict y) {
  const float lowest = -std::numeric_limits<float>::infinity();
  const int64_t C = kC > 0 ? kC : s.C;
  const float* xEnd = x + s.N * s.H * s.W * C;
  for (int64_t row = begin; row < end; ++row) {
    const int64_t n = row / s.OH, oy = row % s.OH;
    for (int64_t ox = 0; ox < s.OW; ++ox) {
      float* out = y + (row * s.OW + ox) * C;
      if constexpr (kC > 0) {
        // The largest value and, apart, whether a NaN was seen.
        F32x8 best = Splat<F32x8>(lowest);
        I32x8 nan{};
        for (int64_t dy = 0; dy < s.kh; ++dy) {
          const float* in = x + ((n * s.H + oy * s.sh + dy) * s.W + ox * s.sw) * kC;
          for (int64_t dx = 0; dx < s.kw; ++dx, in += kC) {
            const F32x8 v = LoadLanes<kC>(in, xEnd);
            best = v > best ? v : best;
            nan |= v != v;
          }
        }
        StoreFirst<kC>(out, nan ? Splat<F32x8>(std::numeric_limits<float>::quiet_NaN()) : best);
      } else {
        for (int64_t c = 0; c < C; ++c) out[c] = lowest;
        for (int64_t dy = 0; dy < s.kh; ++dy) {
          const float* in = x + ((n * s.H + oy * s.sh + dy) * s.W + ox * s.sw) * C;
          for (int64_t dx = 0; dx < s.kw; ++dx, in += C)
            for (int64_t c = 0; c < C; ++c) {
              const float v = in[c];
              out[c] = (v > out[c] || v != v) ? v : out[c];
            }
        }
      }
    }
  }
}

// One function per ISA clone and channel count below 8 (LeNet-5's first pooling has 6; on the
// general loop it took 7 cycles a read).
#define EINNET_POOL_ROWS(kC)                                                                                    \
  EINNET_CLONES void MaxPoolNaNRows##kC(int64_t begin, int64_t end, const PoolShape& s, const float* x, float* y) { \
    MaxPoolNaNRowsOf<kC>(begin, end, s, x, y);                                                                \
  }
EINNET_POOL_ROWS(0)
EINNET_POOL_ROWS(1)
EINNET_POOL_ROWS(2)
EINNET_POOL_ROWS(3)
EINNET_POOL_ROWS(4)
EINNET_POOL_ROWS(5)
EINNET_POOL_ROWS(6)
EINNET_POOL_ROWS(7)
#undef EINNET_POOL_ROWS

void MaxPoolNaNRows(int64_t begin, int64_t end, const PoolShape& s, const float* x, float* y) {
  using Rows = void (*)(int64_t, int64_t, const PoolShape&, const float*, float*);
  static constexpr Rows kByChannels[8] = {MaxPoolNaNRows0, MaxPoolNaNRows1, MaxPoolNaNRows2, MaxPoolNaNRows3,
                                          MaxPoolNaNRows4, MaxPoolNaNRows5, MaxPoolNaNRows6, MaxPoolNaNRows7};
  kByChannels[s.C < 8 ? s.C : 0](begin, end, s, x, y);
}

}  // namespace

// maxPoolNaN(params [N, H, W, C, kh, kw, sh, sw], x, y): y [N, OH, OW, C] with
// OH = (H − kh) / sh + 1, OW = (W − kw) / sw + 1.
void MaxPoolNaNLoop(const Napi::CallbackInfo& info) {
  const auto p = IntParams(info[0]);
  if (p.size() != 8) throw LoopArgError("maxPoolNaN parameters have the wrong length");
  for (auto v : p)
    if (v <= 0) throw LoopArgError("maxPoolNaN extents must be positive");
  const int64_t N = p[0], H = p[1], W = p[2], C = p[3], kh = p[4], kw = p[5], sh = p[6], sw = p[7];
  if (kh > H || kw > W) throw LoopArgError("maxPoolNaN window larger than the input");
  const int64_t OH = (H - kh) / sh + 1, OW = (W - kw) / sw + 1;
  const float* x = Floats(info[1], N * H * W * C, "x");
  float* y = Floats(info[2], N * OH * OW * C, "y");
  const int64_t rows = N * OH;
  // One thread below 2^24 window reads (a few ms of work): a [32,32,32,64] 3x3/2 pool (4M reads)
  // took 0.5 ms on one thread and 7–8 ms on two, waiting for the second OpenMP thread to wake on
  // a loaded 2-core machine.
  const int64_t work = rows * OW * C * kh * kw;
  const int threads = work < (int64_t(1) << 24) ? 1 : static_cast<int>(std::min<int64_t>(Threads(work), rows));
  const PoolShape s{N, H, W, C, kh, kw, sh, sw, OH, OW};
  ForRows(rows, threads, [&](int64_t begin, int64_t end, int) { MaxPoolNaNRows(begin, end, s, x, y); });
}

}  // namespace einnet
