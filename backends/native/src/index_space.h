// The index spaces einnet's own loops walk (loops.cc, broadcast.cc, reduce_loops.cc): extents and
// strides per axis, checked to stay inside their arrays, simplified (extent-1 axes dropped,
// contiguous axes merged) and walked as an odometer over the outer axes.
#pragma once

#include <napi.h>

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "loops.h"

namespace einnet {
namespace {

using Dims = std::vector<int64_t>;

inline int64_t Product(const Dims& n) {
  int64_t p = 1;
  for (auto x : n) p *= x;
  return p;
}

inline Dims RowMajorStrides(const Dims& n) {
  Dims s(n.size());
  int64_t acc = 1;
  for (int i = static_cast<int>(n.size()) - 1; i >= 0; --i) {
    s[i] = acc;
    acc *= n[i];
  }
  return s;
}

// Lowest and one-past-highest element offsets a strided walk touches (n has no zero extent).
inline std::pair<int64_t, int64_t> Extent(int64_t offset, const Dims& n, const Dims& s) {
  int64_t lo = offset, hi = offset;
  for (size_t i = 0; i < n.size(); ++i) {
    const int64_t span = (n[i] - 1) * s[i];
    if (span < 0) lo += span; else hi += span;
  }
  return {lo, hi + 1};
}

inline void CheckInside(int64_t offset, const Dims& n, const Dims& s, int64_t length, const char* what) {
  auto [lo, hi] = Extent(offset, n, s);
  if (lo < 0 || hi > length) {
    throw LoopArgError(std::string(what) + " walk [" + std::to_string(lo) + ", " + std::to_string(hi) +
                       ") leaves its array of " + std::to_string(length) + " elements");
  }
}

inline int64_t ElementLength(const Napi::Value& v, int64_t elemBytes, const char* what) {
  if (!v.IsTypedArray()) throw LoopArgError(std::string(what) + " must be a typed array");
  return static_cast<int64_t>(v.As<Napi::TypedArray>().ByteLength()) / elemBytes;
}

// Drops extent-1 axes and merges adjacent axes that every operand walks contiguously (the
// outer stride equals the inner stride times the inner extent). Leaves at least one axis.
template <size_t K>
inline void Simplify(Dims& n, std::array<Dims, K>& st) {
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
inline void Walk(const Dims& n, size_t axes, const std::array<Dims, K>& st, std::array<int64_t, K> off, F&& f) {
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

}  // namespace
}  // namespace einnet
