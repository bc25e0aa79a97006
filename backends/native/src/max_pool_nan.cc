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

// Output rows [begin, end) of the N·OH rows: each output pixel starts at -∞ and takes a value v
// when v is larger or is NaN; once NaN, nothing is larger, so it stays NaN. The channel loop is
// innermost and contiguous, so it runs as vector compares and blends.
EINNET_CLONES void MaxPoolNaNRows(int64_t begin, int64_t end, int64_t H, int64_t W, int64_t C, int64_t kh, int64_t kw,
                                  int64_t sh, int64_t sw, int64_t OH, int64_t OW, const float* __restrict x,
                                  float* __restrict y) {
  const float lowest = -std::numeric_limits<float>::infinity();
  for (int64_t row = begin; row < end; ++row) {
    const int64_t n = row / OH, oy = row % OH;
    for (int64_t ox = 0; ox < OW; ++ox) {
      float* out = y + (row * OW + ox) * C;
      for (int64_t c = 0; c < C; ++c) out[c] = lowest;
      for (int64_t dy = 0; dy < kh; ++dy) {
        const float* in = x + ((n * H + oy * sh + dy) * W + ox * sw) * C;
        for (int64_t dx = 0; dx < kw; ++dx, in += C)
          for (int64_t c = 0; c < C; ++c) {
            const float v = in[c];
            out[c] = (v > out[c] || v != v) ? v : out[c];
          }
      }
    }
  }
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
  ForRows(rows, threads,
          [&](int64_t begin, int64_t end, int) { MaxPoolNaNRows(begin, end, H, W, C, kh, kw, sh, sw, OH, OW, x, y); });
}

}  // namespace einnet
