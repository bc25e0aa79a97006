// Running einnet's own loops fast on any x86-64: per-ISA clones of the hot loops, splitting a
// loop over the OpenMP threads, and a branch-free relu mask.
#pragma once

#include <cstdint>
#include <cstring>

#ifdef _OPENMP
#include <omp.h>
#endif

// The addon is built for baseline x86-64 so that it runs on any machine; functions marked
// EINNET_CLONES are also compiled for AVX-512 and AVX2, and the dynamic loader picks the best
// the CPU has (GCC target_clones, an ifunc). Functions they call must be inlined into them
// (EINNET_INLINE) to benefit.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define EINNET_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define EINNET_CLONES
#endif
#define EINNET_INLINE __attribute__((always_inline)) inline

namespace einnet {

// The threads a parallel region gets: OpenMP's current setting, 1 without OpenMP.
inline int ParallelThreads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

// Threads for a pass over n elements: one below 64K elements, where waking a second costs more
// than it saves.
inline int Threads(int64_t n) { return n < (int64_t(1) << 16) ? 1 : ParallelThreads(); }

// Calls chunk(begin, end, t) on consecutive row ranges, one per thread t < threads. The parallel
// region lives here, outside the per-ISA clones: GCC compiles a region's body as a function of its
// own, which would not be cloned, so the clones are the chunk functions it calls.
template <class Chunk>
inline void ForRows(int64_t rows, int threads, Chunk chunk) {
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
#ifdef _OPENMP
    const int t = omp_get_thread_num();
#else
    const int t = 0;
#endif
    chunk(rows * t / threads, rows * (t + 1) / threads, t);
  }
}

// Eight float32 or int32 lanes as one value (GCC's vector extensions, compiled by each ISA clone
// to one AVX register or two SSE ones), for loops over fewer channels than a vector holds.
typedef float F32x8 __attribute__((vector_size(32)));
typedef int32_t I32x8 __attribute__((vector_size(32)));

// The floats at p as eight lanes, of which the first k ≤ 8 are used: all eight read at once while
// they lie before `end`; nearer the end only the first k (the other lanes then zero). A partial
// read goes through memory, and the next vector read of it stalls, so it is kept to the end.
template <int k>
EINNET_INLINE F32x8 LoadLanes(const float* p, const float* end) {
  if (end - p >= 8) {
    F32x8 v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  F32x8 v{};
  std::memcpy(&v, p, sizeof(float) * k);
  return v;
}

// Writes the first k ≤ 8 lanes of v to p (from its two halves, so that nothing goes through memory).
template <int k>
EINNET_INLINE void StoreFirst(float* p, F32x8 v) {
  typedef float F32x4 __attribute__((vector_size(16)));
  const F32x4 low = {v[0], v[1], v[2], v[3]}, high = {v[4], v[5], v[6], v[7]};
  if constexpr (k <= 4) {
    std::memcpy(p, &low, sizeof(float) * k);
  } else {
    std::memcpy(p, &low, sizeof low);
    std::memcpy(p + 4, &high, sizeof(float) * (k - 4));
  }
}

// Eight lanes of one value.
template <class V, class T>
EINNET_INLINE V Splat(T value) {
  return V{value, value, value, value, value, value, value, value};
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

}  // namespace einnet
