// Output buffers handed to JS (the C++ side of backends/native/recycle.ts and kernel.ts, output).
// Output buffers. A fresh multi-megabyte Float32Array costs more than many kernels: the kernel
// hands V8 fresh pages to zero and fault in (~2 ms for 8 MB here). Kernel outputs therefore come
// from a pool of 64-byte-aligned blocks wrapped as external ArrayBuffers; a block returns to the
// pool only when V8 finalises its ArrayBuffer, i.e. when no JS reference to it is left (tfjs
// hands the very array to callers of dataSync, so recycling on tensor disposal would be unsafe).
// Pool contents are not zeroed: every kernel writes all of its output.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdlib>
#include <new>
#include <unordered_map>
#include <vector>

namespace einnet {

class BufferPool {
 public:
  void* Take(size_t bytes) {
    auto it = free_.find(bytes);
    if (it != free_.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      pooled_ -= bytes;
      return p;
    }
    const size_t rounded = (bytes + 63) / 64 * 64;
    void* p = std::aligned_alloc(64, rounded);
    if (p == nullptr) throw std::bad_alloc();
    return p;
  }
  void Give(void* p, size_t bytes) {
    if (pooled_ + bytes > capacity_) {
      std::free(p);
      return;
    }
    free_[bytes].push_back(p);
    pooled_ += bytes;
  }
  void Clear() {
    for (auto& kv : free_)
      for (void* p : kv.second) std::free(p);
    free_.clear();
    pooled_ = 0;
  }
  size_t pooled_ = 0;
  size_t capacity_ = size_t(1) << 30;  // at most 1 GiB of idle blocks

 private:
  std::unordered_map<size_t, std::vector<void*>> free_;
};

inline BufferPool& Pool() {
  static BufferPool p;
  return p;
}
// alloc(n, report), release(array), escaped(array): see buffers.cc.
Napi::Value Alloc(const Napi::CallbackInfo& info);
Napi::Value Release(const Napi::CallbackInfo& info);
void Escaped(const Napi::CallbackInfo& info);

}  // namespace einnet
