// A small LRU cache of compiled primitives and the buffers they need between calls, keyed by the
// operation and its parameters (kernel.h, Key), so that a training loop pays oneDNN's JIT
// compilation once per layer shape; and the attributes every cached primitive is made with.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>

#include "kernel.h"
#include "kernels.h"
#include "params.h"

namespace einnet {

struct Entry {
  virtual ~Entry() = default;
};

class Cache {
 public:
  static constexpr size_t kCapacity = 256;

  template <class T, class Make>
  T& Get(const std::string& key, Make make) {
    auto it = map_.find(key);
    if (it != map_.end()) {
      order_.splice(order_.begin(), order_, it->second.second);
      ++hits_;
      return static_cast<T&>(*it->second.first);
    }
    ++misses_;
    std::unique_ptr<Entry> e = make();
    T& ref = static_cast<T&>(*e);
    order_.push_front(key);
    map_.emplace(key, std::make_pair(std::move(e), order_.begin()));
    if (map_.size() > kCapacity) {
      map_.erase(order_.back());
      order_.pop_back();
    }
    return ref;
  }
  void Clear() {
    map_.clear();
    order_.clear();
  }
  size_t Size() const { return map_.size(); }
  uint64_t hits_ = 0, misses_ = 0;

 private:
  std::list<std::string> order_;
  std::unordered_map<std::string, std::pair<std::unique_ptr<Entry>, std::list<std::string>::iterator>> map_;
};

inline Cache& TheCache() {
  static Cache c;
  return c;
}
// Scratchpad memory owned by a cache entry (we ask oneDNN for user-managed scratchpads so that
// repeated calls do not allocate).
inline memory Scratch(const dnnl::primitive_desc_base& pd) {
  return memory(pd.scratchpad_desc(), Engine());
}

inline dnnl::primitive_attr UserScratchAttr() {
  dnnl::primitive_attr a;
  a.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return a;
}

// The fused activation `op` (params.h, PostOp) as a oneDNN post-op.
// Relu and relu6 are not post-ops: oneDNN's relu and clip turn NaN into 0 (its leaky relu, elu
// and logistic keep NaN), and a NaN must survive an activation so that a diverging training run
// stays visible, as on the CPU backend. The kernel runs them as its own pass afterwards
// (FinishActivation).
inline void AppendActivation(dnnl::primitive_attr& attr, int32_t op, float alpha) {
  if (op == kNone || op == kRelu || op == kRelu6) return;
  dnnl::post_ops po;
  switch (op) {
    case kLeakyRelu: po.append_eltwise(1.f, algorithm::eltwise_relu, alpha, 0.f); break;
    case kElu: po.append_eltwise(1.f, algorithm::eltwise_elu, 1.f, 0.f); break;
    case kSigmoid: po.append_eltwise(1.f, algorithm::eltwise_logistic, 0.f, 0.f); break;
    default: throw ArgError("unknown activation code " + std::to_string(op));
  }
  attr.set_post_ops(po);
}

// The activations AppendActivation leaves out, applied in place to the kernel's n outputs.
inline void FinishActivation(int32_t op, float* y, int64_t n) {
  if (op == kRelu) ReluRun(y, y, n, 0.f);
  else if (op == kRelu6) ReluRun(y, y, n, 6.f);
}

}  // namespace einnet
