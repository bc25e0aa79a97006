// What every oneDNN kernel of the addon shares (the C++ side of backends/native/kernel.ts): the
// engine and stream, reading the TypeScript side's arguments (checked: a wrong type or a short
// array is an ArgError, reported to JS by addon.cc's Guard), and running small problems on one
// thread. Everything runs synchronously on the calling (JS main) thread; oneDNN parallelises
// inside each primitive with OpenMP.
#pragma once

#include <napi.h>

#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "oneapi/dnnl/dnnl.hpp"

// Thread control is OpenMP's when oneDNN was built with OpenMP (Debian's, and most Linux builds).
// With another runtime (TBB, threadpool) the library manages its own threads and we report -1.
#if DNNL_CPU_RUNTIME == DNNL_RUNTIME_OMP
#include <omp.h>
#define EINNET_OMP 1
#else
#define EINNET_OMP 0
#endif

namespace einnet {

using dnnl::algorithm;
using dnnl::memory;
using dnnl::prop_kind;
using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

inline dnnl::engine& Engine() {
  static dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  return eng;
}

inline dnnl::stream& Stream() {
  static dnnl::stream s(Engine());
  return s;
}

// ---------------------------------------------------------------------------------------------
// Argument helpers

struct ArgError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

inline std::vector<int32_t> Params(const Napi::Value& v) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    throw ArgError("parameters must be an Int32Array");
  }
  auto a = v.As<Napi::Int32Array>();
  return std::vector<int32_t>(a.Data(), a.Data() + a.ElementLength());
}

// A Float32Array's data pointer, checked to hold at least `need` elements.
inline float* F32(const Napi::Value& v, int64_t need, const char* what) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw ArgError(std::string(what) + " must be a Float32Array");
  }
  auto a = v.As<Napi::Float32Array>();
  if (static_cast<int64_t>(a.ElementLength()) < need) {
    throw ArgError(std::string(what) + " has " + std::to_string(a.ElementLength()) +
                   " elements, needs " + std::to_string(need));
  }
  return a.Data();
}

inline float* OptionalF32(const Napi::Value& v, int64_t need, const char* what) {
  if (v.IsNull() || v.IsUndefined()) return nullptr;
  return F32(v, need, what);
}

inline int64_t Product(const memory::dims& d) {
  int64_t p = 1;
  for (auto x : d) p *= x;
  return p;
}

// Problems below this many floating-point operations run on the calling thread alone. Waking
// a sleeping OpenMP team costs tens of microseconds, and on a loaded machine (other processes on
// the cores) a worker that is not scheduled makes every barrier wait for a time slice: with
// workers that slept at once, LeNet's small layers took 10-20 ms each on two threads. With
// libgomp's default spinning the team is usually awake, and LeNet-5's 15-30 MFLOP convolutions
// gain from the second thread (a training step's median 2.9 → 2.3 ms with 10^7 instead of
// 5·10^7). EINNET_PARALLEL_MIN_FLOPS overrides the threshold.
inline double ParallelMinFlops() {
  static const double v = [] {
    const char* e = std::getenv("EINNET_PARALLEL_MIN_FLOPS");
    return e != nullptr && *e != '\0' ? std::atof(e) : 1e7;
  }();
  return v;
}

// Runs the enclosing call with one OpenMP thread when its work is small (see ParallelMinFlops).
// Primitives are cached per thread count (Key includes it), since oneDNN sizes its work split
// and scratchpad for the count in force at creation.
class ThreadScope {
 public:
  explicit ThreadScope(double flops) {
#if EINNET_OMP
    if (flops < ParallelMinFlops() && omp_get_max_threads() > 1) {
      saved_ = omp_get_max_threads();
      omp_set_num_threads(1);
    }
#else
    (void)flops;
#endif
  }
  ~ThreadScope() {
#if EINNET_OMP
    if (saved_ > 0) omp_set_num_threads(saved_);
#endif
  }
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;

 private:
  int saved_ = 0;
};

// The cache key: an operation tag, the thread count in force, and the raw bytes of the parameters.
inline std::string Key(char op, const std::vector<int32_t>& p, int32_t extra1 = 0, float extra2 = 0.f) {
  std::string k(1, op);
#if EINNET_OMP
  const int32_t threads = omp_get_max_threads();
  k.append(reinterpret_cast<const char*>(&threads), sizeof threads);
#endif
  k.append(reinterpret_cast<const char*>(p.data()), p.size() * sizeof(int32_t));
  k.append(reinterpret_cast<const char*>(&extra1), sizeof extra1);
  k.append(reinterpret_cast<const char*>(&extra2), sizeof extra2);
  return k;
}

}  // namespace einnet
