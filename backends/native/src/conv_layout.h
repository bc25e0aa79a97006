// Moving a convolution's operands between the layouts tfjs stores and the ones a primitive wants:
// filters (reordered on every call, they change every step) and activations that a Winograd
// primitive reads and writes in nChw16c.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "buffers.h"
#include "kernel.h"

namespace einnet {

// Where each element of a plain strided layout (`user`, tfjs' filter) lands in a blocked one
// (`wanted`, the primitive's): table[user offset] = wanted offset, from oneDNN's blocking
// descriptor (the computation of memory_desc_wrapper::off_v). Empty when either layout is not
// plain/blocked or the filter is large. Filters are reordered on every call (they change every
// training step); oneDNN's reorder primitive took 40–80 µs for a 3x3 filter of 16–64 channels,
// mostly overhead, this table walk a few microseconds.
std::vector<int32_t> LayoutMap(const memory::desc& user, const memory::desc& wanted);

// Wraps user weights, reordering into the primitive's layout when it differs.
struct WeightsIn {
  memory::desc user, wanted;
  memory buffer;  // the reordered weights, when needed
  dnnl::reorder reorder;
  std::vector<int32_t> map;  // LayoutMap(user, wanted), when it applies
  bool needs = false;

  WeightsIn(const memory::desc& u, const memory::desc& w) : user(u), wanted(w) {
    needs = u != w;
    if (!needs) return;
    buffer = memory(w, Engine());
    map = LayoutMap(u, w);
    if (map.empty()) reorder = dnnl::reorder(memory(u, Engine(), DNNL_MEMORY_NONE), buffer);
    // Blocks padded past the logical extents must read as zeros; the table never writes them.
    else std::memset(buffer.get_data_handle(), 0, w.get_size());
  }
  memory Get(float* data) {
    memory m(user, Engine(), data);
    if (!needs) return m;
    if (!map.empty()) {
      float* dst = static_cast<float*>(buffer.get_data_handle());
      const int32_t* t = map.data();
      for (size_t i = 0, n = map.size(); i < n; ++i) dst[t[i]] = data[i];
      return buffer;
    }
    ThreadScope one(0);
    reorder.execute(Stream(), m, buffer);
    return buffer;
  }
};

// Room for activations in a primitive's own layout (Winograd's nChw16c), shared by every
// convolution: a call needs two at most (forward: source and destination; backward-data: dy and
// dx; backward-weights: source and dy), and calls run one at a time on the JS thread. Each slot
// grows to the largest activation seen, so this costs twice the largest activation, not an
// activation-sized buffer per cached primitive (VGG-16 at batch 32 would have kept gigabytes).
class Workspace {
 public:
  static constexpr int kSlots = 2;
  // Blocks come from and go back to the output pool (64-byte aligned).
  void* Get(int slot, size_t bytes) {
    Slot& s = slots_[slot];
    if (bytes > s.bytes) {
      Release(s);
      s.p = Pool().Take(bytes);
      s.bytes = bytes;
    }
    return s.p;
  }
  void Clear() {
    for (Slot& s : slots_) Release(s);
  }

 private:
  struct Slot {
    void* p = nullptr;
    size_t bytes = 0;
  };
  static void Release(Slot& s) {
    if (s.p != nullptr) Pool().Give(s.p, s.bytes);
    s = Slot();
  }
  Slot slots_[kSlots];
};

inline Workspace& TheWorkspace() {
  static Workspace w;
  return w;
}

// An activation that the caller keeps in its own layout (`user`) and a primitive reads or writes
// in another (Winograd's nChw16c): reordered through a workspace slot. When the two layouts are
// the same, the caller's array is handed to the primitive as it is.
struct Relayout {
  enum Direction { kIn, kOut };
  memory::desc user, wanted;
  int slot = 0;
  dnnl::reorder reorder;  // user -> workspace for an input, workspace -> user for an output
  bool needed = false;

  Relayout() = default;
  Relayout(const memory::desc& u, const memory::desc& w, Direction d, int workspaceSlot)
      : user(u), wanted(w), slot(workspaceSlot), needed(u != w) {
    if (!needed) return;
    memory inside(w, Engine(), DNNL_MEMORY_NONE), outside(u, Engine(), DNNL_MEMORY_NONE);
    reorder = d == kIn ? dnnl::reorder(outside, inside) : dnnl::reorder(inside, outside);
  }
  // The primitive's argument for input data at `data`.
  memory In(float* data) {
    memory m(user, Engine(), data);
    if (!needed) return m;
    memory buffer = Buffer();
    reorder.execute(Stream(), m, buffer);
    return buffer;
  }
  // The primitive's argument for an output that belongs at `data`; Finish(data) after it ran.
  memory Out(float* data) { return needed ? Buffer() : memory(user, Engine(), data); }
  void Finish(float* data) {
    if (!needed) return;
    memory m(user, Engine(), data), buffer = Buffer();
    reorder.execute(Stream(), buffer, m);
  }

 private:
  memory Buffer() const { return memory(wanted, Engine(), TheWorkspace().Get(slot, wanted.get_size())); }
};

}  // namespace einnet
