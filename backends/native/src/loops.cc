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
//
// This file: strided copy, select, the unary loops and tfjs' FusedBatchNorm; broadcast.cc the
// binary operations; reduce_loops.cc the reductions; index_space.h what they share.

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "index_space.h"
#include "loops.h"
#include "parallel.h"
#include "typed_args.h"

namespace einnet {
namespace {

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
