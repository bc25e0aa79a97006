// einnet's native CPU kernels: a thin N-API layer over oneDNN primitives.
//
// The TypeScript side (backends/native/*.ts) works out every shape, padding and stride from the
// tfjs attributes and passes them here as one Int32Array of parameters, together with the CPU
// backend's own Float32Arrays. Activations are wrapped in place (NHWC/NCHW/NDHWC, exactly the
// layouts tfjs stores); weights are described by their tfjs strides and reordered once per
// call into whatever blocked layout the chosen oneDNN kernel wants (weights are small).
// The output array is allocated by the caller and written in place: no activation is copied,
// except where a Winograd convolution reads and writes nChw16c (ConvGeometry::WinogradCandidate).
//
// Primitives are cached by a key made of the operation and its parameters, so that a training
// loop pays oneDNN's JIT compilation once per layer shape. Everything runs synchronously on the
// calling (JS main) thread; oneDNN parallelises inside each primitive with OpenMP.

#include <napi.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "oneapi/dnnl/dnnl.hpp"

#include "loops.h"

// Thread control is OpenMP's when oneDNN was built with OpenMP (Debian's, and most Linux builds).
// With another runtime (TBB, threadpool) the library manages its own threads and we report -1.
#if DNNL_CPU_RUNTIME == DNNL_RUNTIME_OMP
#include <omp.h>
#define EINNET_OMP 1
#else
#define EINNET_OMP 0
#endif

namespace {

using dnnl::algorithm;
using dnnl::memory;
using dnnl::prop_kind;
using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

dnnl::engine& Engine() {
  static dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  return eng;
}

dnnl::stream& Stream() {
  static dnnl::stream s(Engine());
  return s;
}

// ---------------------------------------------------------------------------------------------
// Argument helpers

struct ArgError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::vector<int32_t> Params(const Napi::Value& v) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    throw ArgError("parameters must be an Int32Array");
  }
  auto a = v.As<Napi::Int32Array>();
  return std::vector<int32_t>(a.Data(), a.Data() + a.ElementLength());
}

// A Float32Array's data pointer, checked to hold at least `need` elements.
float* F32(const Napi::Value& v, int64_t need, const char* what) {
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

float* OptionalF32(const Napi::Value& v, int64_t need, const char* what) {
  if (v.IsNull() || v.IsUndefined()) return nullptr;
  return F32(v, need, what);
}

int64_t Product(const memory::dims& d) {
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
double ParallelMinFlops() {
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
std::string Key(char op, const std::vector<int32_t>& p, int32_t extra1 = 0, float extra2 = 0.f) {
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

// ---------------------------------------------------------------------------------------------
// A small LRU cache of compiled primitives and the buffers they need between calls.

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

Cache& TheCache() {
  static Cache c;
  return c;
}

// Whether convolutions may use Winograd (ConvGeometry::WinogradCandidate); setWinograd() sets
// it (backends/native/winograd.ts: EINNET_WINOGRAD, setNativeWinograd).
bool& WinogradEnabled() {
  static bool on = true;
  return on;
}

// Convolution primitives made with the Winograd algorithm so far (info().winogradPrimitives).
uint64_t& WinogradCount() {
  static uint64_t n = 0;
  return n;
}

// Scratchpad memory owned by a cache entry (we ask oneDNN for user-managed scratchpads so that
// repeated calls do not allocate).
memory Scratch(const dnnl::primitive_desc_base& pd) {
  return memory(pd.scratchpad_desc(), Engine());
}

dnnl::primitive_attr UserScratchAttr() {
  dnnl::primitive_attr a;
  a.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return a;
}

// Post-op codes shared with the TypeScript side (backends/native/addon.ts).
enum PostOp { kNone = 0, kRelu = 1, kLeakyRelu = 2, kRelu6 = 3, kElu = 4, kSigmoid = 5 };

void AppendActivation(dnnl::primitive_attr& attr, int32_t op, float alpha) {
  if (op == kNone) return;
  dnnl::post_ops po;
  switch (op) {
    case kRelu: po.append_eltwise(1.f, algorithm::eltwise_relu, 0.f, 0.f); break;
    case kLeakyRelu: po.append_eltwise(1.f, algorithm::eltwise_relu, alpha, 0.f); break;
    case kRelu6: po.append_eltwise(1.f, algorithm::eltwise_clip, 0.f, 6.f); break;
    case kElu: po.append_eltwise(1.f, algorithm::eltwise_elu, 1.f, 0.f); break;
    case kSigmoid: po.append_eltwise(1.f, algorithm::eltwise_logistic, 0.f, 0.f); break;
    default: throw ArgError("unknown activation code " + std::to_string(op));
  }
  attr.set_post_ops(po);
}

// ---------------------------------------------------------------------------------------------
// Output buffers. A fresh multi-megabyte Float32Array costs more than many kernels: the kernel
// hands V8 fresh pages to zero and fault in (~2 ms for 8 MB here). Kernel outputs therefore come
// from a pool of 64-byte-aligned blocks wrapped as external ArrayBuffers; a block returns to the
// pool only when V8 finalises its ArrayBuffer, i.e. when no JS reference to it is left (tfjs
// hands the very array to callers of dataSync, so recycling on tensor disposal would be unsafe).
// Pool contents are not zeroed: every kernel writes all of its output.

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

BufferPool& Pool() {
  static BufferPool p;
  return p;
}

// ---------------------------------------------------------------------------------------------
// Convolution geometry. Parameter layout (Int32Array), nsp = number of spatial dims:
//   [nsp, channelsLast, depthwise, N, C, OC,
//    in[nsp], out[nsp], kernel[nsp], stride[nsp], dilation[nsp] (oneDNN form: rate - 1),
//    padL[nsp], padR[nsp]]
// Weights are in tfjs layout: dense [k..., C, OC]; depthwise [k..., C, OC / C].

struct ConvGeometry {
  int nsp;
  bool channelsLast, depthwise;
  memory::dim n, c, oc;
  memory::dims in, out, kernel, stride, dilation, padL, padR;

  explicit ConvGeometry(const std::vector<int32_t>& p) {
    if (p.size() < 6) throw ArgError("convolution parameters too short");
    nsp = p[0];
    if (nsp < 1 || nsp > 3 || p.size() != static_cast<size_t>(6 + 7 * nsp)) {
      throw ArgError("convolution parameters have the wrong length");
    }
    channelsLast = p[1] != 0;
    depthwise = p[2] != 0;
    n = p[3];
    c = p[4];
    oc = p[5];
    auto take = [&](int k) {
      memory::dims d;
      for (int i = 0; i < nsp; ++i) d.push_back(p[6 + k * nsp + i]);
      return d;
    };
    in = take(0), out = take(1), kernel = take(2), stride = take(3), dilation = take(4);
    padL = take(5), padR = take(6);
    if (n <= 0 || c <= 0 || oc <= 0) throw ArgError("empty convolution");
    if (depthwise && oc % c != 0) throw ArgError("depthwise output channels must be a multiple of C");
  }

  tag ActTag() const {
    if (nsp == 1) return channelsLast ? tag::nwc : tag::ncw;
    if (nsp == 2) return channelsLast ? tag::nhwc : tag::nchw;
    return channelsLast ? tag::ndhwc : tag::ncdhw;
  }
  memory::dims Act(memory::dim ch, const memory::dims& sp) const {
    memory::dims d{n, ch};
    d.insert(d.end(), sp.begin(), sp.end());
    return d;
  }
  // With 16 channels in and out, a channels-last 2-D activation is byte for byte oneDNN's
  // blocked nChw16c, and saying so lets the backward passes take oneDNN's blocked kernels, which
  // beat its nhwc ones at this width (a ResNet-20 step's backward-data convs 16.8 → 7.1 ms,
  // backward-weights 14.4 → 7.9 ms, measured with ONEDNN_VERBOSE on a Zen 5). The forward pass
  // stays nhwc, where oneDNN has its brgemm-based kernels: 5.8 ms a step against 7.4 ms for the
  // blocked ones (Zen 4).
  // Only when both sides qualify: a blocked source with an nhwc destination gets a reference kernel.
  bool Blocked16() const { return nsp == 2 && channelsLast && !depthwise && c == 16 && oc == 16; }
  // The activation layout of the direct algorithm's primitives, by pass.
  tag DirectTag(bool forward) const { return Blocked16() && !forward ? tag::nChw16c : ActTag(); }
  memory::desc Src(tag t) const { return memory::desc(Act(c, in), dt::f32, t); }
  memory::desc Dst(tag t) const { return memory::desc(Act(oc, out), dt::f32, t); }
  // The caller's source or destination array as oneDNN should see it beside a primitive that
  // wants `wanted`: with 16 channels a channels-last array is byte for byte nChw16c, so it is
  // described so when that is wanted (no reorder); otherwise it is what tfjs stores.
  memory::desc UserSrc(const memory::desc& wanted) const { return UserAct(c, in, wanted); }
  memory::desc UserDst(const memory::desc& wanted) const { return UserAct(oc, out, wanted); }
  memory::desc UserAct(memory::dim ch, const memory::dims& sp, const memory::desc& wanted) const {
    if (nsp == 2 && channelsLast && ch == 16 && wanted == memory::desc(Act(ch, sp), dt::f32, tag::nChw16c)) return wanted;
    return memory::desc(Act(ch, sp), dt::f32, ActTag());
  }
  // Whether to try oneDNN's Winograd F(4x4, 3x3) kernels: dense 3x3 windows at stride 1 with 32
  // or more channels (multiples of 16) on both sides, and at least one 4x4 tile of output. They
  // take nChw16c activations only, so channels-last arrays are reordered in and out (a ResNet-20
  // activation: 0.02 ms alone, ~0.06 ms inside a training step); the three passes still take
  // 0.37-0.45 ms where the direct kernels take 0.69-0.73 ms (Zen 4; 32 channels on 16x16, batch
  // 32; 64 on 8x8 alike; with the reorders a ResNet-20 step's oneDNN time fell 45.4 -> 37 ms). With 16
  // channels they were slower than the direct kernels. Results agree with the direct kernels to
  // ~1.5e-6 of the largest output. Padding must be the same on both sides of an axis: with
  // uneven padding oneDNN 2.6's Winograd backward-data pass returns wrong values (found by
  // test/native/conv.test.ts). EINNET_WINOGRAD=0 or setNativeWinograd(false) turn them off.
  bool WinogradCandidate() const {
    return WinogradEnabled() && nsp == 2 && channelsLast && !depthwise && kernel[0] == 3 && kernel[1] == 3 &&
           stride[0] == 1 && stride[1] == 1 && dilation[0] == 0 && dilation[1] == 0 && c >= 32 && oc >= 32 &&
           c % 16 == 0 && oc % 16 == 0 && out[0] >= 4 && out[1] >= 4 && padL == padR;
  }
  int64_t SrcSize() const { return Product(Act(c, in)); }
  int64_t DstSize() const { return Product(Act(oc, out)); }
  int64_t WeightsSize() const { return Product(kernel) * c * (depthwise ? oc / c : oc); }
  // Multiply-adds ×2 of the forward pass (each backward pass does as many).
  double Flops() const { return 2.0 * static_cast<double>(DstSize()) * static_cast<double>(Product(kernel)) * (depthwise ? 1.0 : static_cast<double>(c)); }

  // Logical oneDNN weight dims and the strides of the tfjs layout.
  memory::dims WeightDims() const {
    memory::dims d;
    if (depthwise) d = {c, oc / c, 1};
    else d = {oc, c};
    d.insert(d.end(), kernel.begin(), kernel.end());
    return d;
  }
  memory::desc UserWeights() const {
    memory::dims strides;
    // Spatial strides: the innermost spatial axis steps over C * (OC or multiplier) elements.
    const memory::dim inner = depthwise ? oc : c * oc;
    memory::dims sp(nsp);
    memory::dim s = inner;
    for (int i = nsp - 1; i >= 0; --i) {
      sp[i] = s;
      s *= kernel[i];
    }
    if (depthwise) strides = {oc / c, 1, 1};
    else strides = {1, oc};
    strides.insert(strides.end(), sp.begin(), sp.end());
    return memory::desc(WeightDims(), dt::f32, strides);
  }
  memory::desc AnyWeights() const { return memory::desc(WeightDims(), dt::f32, tag::any); }
  memory::desc Bias() const { return memory::desc({oc}, dt::f32, tag::x); }
};

// Where each element of a plain strided layout (`user`, tfjs' filter) lands in a blocked one
// (`wanted`, the primitive's): table[user offset] = wanted offset, from oneDNN's blocking
// descriptor (the computation of memory_desc_wrapper::off_v). Empty when either layout is not
// plain/blocked or the filter is large. Filters are reordered on every call (they change every
// training step); oneDNN's reorder primitive took 40–80 µs for a 3x3 filter of 16–64 channels,
// mostly overhead, this table walk a few microseconds.
std::vector<int32_t> LayoutMap(const memory::desc& user, const memory::desc& wanted) {
  const dnnl_memory_desc_t& u = user.data;
  const dnnl_memory_desc_t& w = wanted.data;
  if (u.format_kind != dnnl_blocked || w.format_kind != dnnl_blocked || u.ndims != w.ndims) return {};
  if (u.format_desc.blocking.inner_nblks != 0 || u.offset0 != 0 || w.offset0 != 0) return {};
  const int nd = u.ndims;
  int64_t n = 1;
  for (int d = 0; d < nd; ++d) {
    if (u.dims[d] != w.dims[d]) return {};
    n *= u.dims[d];
  }
  // Offsets are int32; tables for filters beyond 2M elements are not worth their memory.
  if (n <= 0 || n > (int64_t(1) << 21) || wanted.get_size() / sizeof(float) > size_t(INT32_MAX)) return {};
  std::vector<int32_t> table(static_cast<size_t>(n), -1);
  const auto& wb = w.format_desc.blocking;
  std::vector<int64_t> pos(nd, 0);
  for (int64_t k = 0; k < n; ++k) {
    int64_t src = 0;
    for (int d = 0; d < nd; ++d) src += pos[d] * u.format_desc.blocking.strides[d];
    std::vector<int64_t> q(pos);
    int64_t dst = 0, blk = 1;
    for (int i = wb.inner_nblks - 1; i >= 0; --i) {
      const int d = wb.inner_idxs[i];
      dst += (q[d] % wb.inner_blks[i]) * blk;
      q[d] /= wb.inner_blks[i];
      blk *= wb.inner_blks[i];
    }
    for (int d = 0; d < nd; ++d) dst += q[d] * wb.strides[d];
    if (src < 0 || src >= n || table[src] != -1) return {};  // not a dense user layout
    table[src] = static_cast<int32_t>(dst);
    for (int d = nd - 1; d >= 0; --d) {
      if (++pos[d] < u.dims[d]) break;
      pos[d] = 0;
    }
  }
  return table;
}

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

// ---------------------------------------------------------------------------------------------
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

Workspace& TheWorkspace() {
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

// The algorithms to try for a convolution, best first, with the activation layout each takes
// and the propagation kind of its forward pass. Winograd's forward runs as forward_training:
// for inference oneDNN wants the filter pre-transformed, a reorder of 0.7 ms for a 3x3 64x64
// filter on every call (filters change every step), slower than the convolution itself.
struct ConvChoice {
  algorithm alg;
  tag act;
  prop_kind forward;
};
std::vector<ConvChoice> ConvChoices(const ConvGeometry& g, bool forward) {
  std::vector<ConvChoice> v;
  if (g.WinogradCandidate()) v.push_back({algorithm::convolution_winograd, tag::nChw16c, prop_kind::forward_training});
  v.push_back({algorithm::convolution_direct, g.DirectTag(forward), prop_kind::forward_inference});
  return v;
}

// The first choice oneDNN can make a primitive for (Winograd has limits on padding and ISA that
// are its own to check); the direct algorithm always exists, so its error is the one reported.
template <class Make>
auto FirstChoice(const ConvGeometry& g, bool forward, Make make) -> decltype(make(ConvChoice{})) {
  const auto choices = ConvChoices(g, forward);
  for (size_t i = 0; i + 1 < choices.size(); ++i) {
    try {
      auto e = make(choices[i]);
      if (choices[i].alg == algorithm::convolution_winograd) ++WinogradCount();
      return e;
    } catch (const dnnl::error&) {
    }
  }
  return make(choices.back());
}

struct ConvForwardEntry : Entry {
  dnnl::convolution_forward::primitive_desc pd;
  dnnl::convolution_forward prim;
  std::unique_ptr<WeightsIn> weights;
  Relayout src, dst;
  memory scratch;
};

struct ConvBackwardDataEntry : Entry {
  dnnl::convolution_backward_data::primitive_desc pd;
  dnnl::convolution_backward_data prim;
  std::unique_ptr<WeightsIn> weights;
  Relayout dy, dx;
  memory scratch;
};

struct ConvBackwardWeightsEntry : Entry {
  dnnl::convolution_backward_weights::primitive_desc pd;
  dnnl::convolution_backward_weights prim;
  Relayout src, dy;
  memory::desc user;
  memory diffWeights;  // in the primitive's layout when it differs from the user's
  dnnl::reorder toUser;
  std::vector<int32_t> map;  // LayoutMap(user, primitive's), when it applies
  bool needs = false;
  memory scratch;
};

dnnl::convolution_forward::primitive_desc ForwardPd(const ConvGeometry& g, const ConvChoice& k, bool bias, prop_kind pk,
                                                   const dnnl::primitive_attr& attr) {
  auto d = bias ? dnnl::convolution_forward::desc(pk, k.alg, g.Src(k.act), g.AnyWeights(), g.Bias(), g.Dst(k.act),
                                                  g.stride, g.dilation, g.padL, g.padR)
                : dnnl::convolution_forward::desc(pk, k.alg, g.Src(k.act), g.AnyWeights(), g.Dst(k.act), g.stride,
                                                  g.dilation, g.padL, g.padR);
  return dnnl::convolution_forward::primitive_desc(d, attr, Engine());
}

// convForward(params, src, weights, bias | null, dst, activation, alpha)
void ConvForward(const Napi::CallbackInfo& info) {
  auto p = Params(info[0]);
  ConvGeometry g(p);
  ThreadScope threads(g.Flops());
  float* src = F32(info[1], g.SrcSize(), "input");
  float* w = F32(info[2], g.WeightsSize(), "filter");
  float* bias = OptionalF32(info[3], g.oc, "bias");
  float* dst = F32(info[4], g.DstSize(), "output");
  int32_t act = info[5].As<Napi::Number>().Int32Value();
  float alpha = info[6].As<Napi::Number>().FloatValue();
  auto& e = TheCache().Get<ConvForwardEntry>(Key('c', p, act * 2 + (bias ? 1 : 0), alpha), [&] {
    auto attr = UserScratchAttr();
    AppendActivation(attr, act, alpha);
    auto x = std::make_unique<ConvForwardEntry>();
    x->pd = FirstChoice(g, true, [&](const ConvChoice& k) {
      return ForwardPd(g, k, bias != nullptr, k.forward, attr);
    });
    x->prim = dnnl::convolution_forward(x->pd);
    x->weights = std::make_unique<WeightsIn>(g.UserWeights(), x->pd.weights_desc());
    x->src = Relayout(g.UserSrc(x->pd.src_desc()), x->pd.src_desc(), Relayout::kIn, 0);
    x->dst = Relayout(g.UserDst(x->pd.dst_desc()), x->pd.dst_desc(), Relayout::kOut, 1);
    x->scratch = Scratch(x->pd);
    return x;
  });
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, e.src.In(src)},
                                       {DNNL_ARG_WEIGHTS, e.weights->Get(w)},
                                       {DNNL_ARG_DST, e.dst.Out(dst)},
                                       {DNNL_ARG_SCRATCHPAD, e.scratch}};
  if (bias) args[DNNL_ARG_BIAS] = memory(g.Bias(), Engine(), bias);
  e.prim.execute(Stream(), args);
  e.dst.Finish(dst);
  Stream().wait();
}

// convBackwardData(params, diffDst, weights, diffSrc)
void ConvBackwardData(const Napi::CallbackInfo& info) {
  auto p = Params(info[0]);
  ConvGeometry g(p);
  ThreadScope threads(g.Flops());
  float* dy = F32(info[1], g.DstSize(), "dy");
  float* w = F32(info[2], g.WeightsSize(), "filter");
  float* dx = F32(info[3], g.SrcSize(), "dx");
  auto& e = TheCache().Get<ConvBackwardDataEntry>(Key('d', p), [&] {
    auto x = std::make_unique<ConvBackwardDataEntry>();
    x->pd = FirstChoice(g, false, [&](const ConvChoice& k) {
      auto hint = ForwardPd(g, k, false, prop_kind::forward_training, dnnl::primitive_attr());
      dnnl::convolution_backward_data::desc d(k.alg, g.Src(k.act), g.AnyWeights(), g.Dst(k.act), g.stride,
                                              g.dilation, g.padL, g.padR);
      return dnnl::convolution_backward_data::primitive_desc(d, UserScratchAttr(), Engine(), hint);
    });
    x->prim = dnnl::convolution_backward_data(x->pd);
    x->weights = std::make_unique<WeightsIn>(g.UserWeights(), x->pd.weights_desc());
    x->dy = Relayout(g.UserDst(x->pd.diff_dst_desc()), x->pd.diff_dst_desc(), Relayout::kIn, 0);
    x->dx = Relayout(g.UserSrc(x->pd.diff_src_desc()), x->pd.diff_src_desc(), Relayout::kOut, 1);
    x->scratch = Scratch(x->pd);
    return x;
  });
  e.prim.execute(Stream(), {{DNNL_ARG_DIFF_DST, e.dy.In(dy)},
                            {DNNL_ARG_WEIGHTS, e.weights->Get(w)},
                            {DNNL_ARG_DIFF_SRC, e.dx.Out(dx)},
                            {DNNL_ARG_SCRATCHPAD, e.scratch}});
  e.dx.Finish(dx);
  Stream().wait();
}

// convBackwardWeights(params, src, diffDst, diffWeights)
void ConvBackwardWeights(const Napi::CallbackInfo& info) {
  auto p = Params(info[0]);
  ConvGeometry g(p);
  ThreadScope threads(g.Flops());
  float* x = F32(info[1], g.SrcSize(), "input");
  float* dy = F32(info[2], g.DstSize(), "dy");
  float* dw = F32(info[3], g.WeightsSize(), "dfilter");
  auto& e = TheCache().Get<ConvBackwardWeightsEntry>(Key('w', p), [&] {
    auto n = std::make_unique<ConvBackwardWeightsEntry>();
    n->pd = FirstChoice(g, false, [&](const ConvChoice& k) {
      auto hint = ForwardPd(g, k, false, prop_kind::forward_training, dnnl::primitive_attr());
      dnnl::convolution_backward_weights::desc d(k.alg, g.Src(k.act), g.AnyWeights(), g.Dst(k.act), g.stride,
                                                 g.dilation, g.padL, g.padR);
      return dnnl::convolution_backward_weights::primitive_desc(d, UserScratchAttr(), Engine(), hint);
    });
    n->prim = dnnl::convolution_backward_weights(n->pd);
    n->src = Relayout(g.UserSrc(n->pd.src_desc()), n->pd.src_desc(), Relayout::kIn, 0);
    n->dy = Relayout(g.UserDst(n->pd.diff_dst_desc()), n->pd.diff_dst_desc(), Relayout::kIn, 1);
    n->user = g.UserWeights();
    n->needs = n->pd.diff_weights_desc() != n->user;
    if (n->needs) {
      n->diffWeights = memory(n->pd.diff_weights_desc(), Engine());
      n->map = LayoutMap(n->user, n->pd.diff_weights_desc());
      if (n->map.empty()) n->toUser = dnnl::reorder(n->diffWeights, memory(n->user, Engine(), DNNL_MEMORY_NONE));
    }
    n->scratch = Scratch(n->pd);
    return n;
  });
  memory user(e.user, Engine(), dw);
  e.prim.execute(Stream(), {{DNNL_ARG_SRC, e.src.In(x)},
                            {DNNL_ARG_DIFF_DST, e.dy.In(dy)},
                            {DNNL_ARG_DIFF_WEIGHTS, e.needs ? e.diffWeights : user},
                            {DNNL_ARG_SCRATCHPAD, e.scratch}});
  if (e.needs) {
    Stream().wait();
    if (!e.map.empty()) {
      const float* src = static_cast<const float*>(e.diffWeights.get_data_handle());
      const int32_t* t = e.map.data();
      for (size_t i = 0, n = e.map.size(); i < n; ++i) dw[i] = src[t[i]];
    } else {
      ThreadScope one(0);
      e.toUser.execute(Stream(), e.diffWeights, user);
    }
  }
  Stream().wait();
}

// ---------------------------------------------------------------------------------------------
// Matrix multiplication. Parameters: [batchA, batchB, M, K, N, transposeA, transposeB].
// A is stored [batchA, M, K] (or [batchA, K, M] when transposed), B [batchB, K, N] (or
// [batchB, N, K]); a batch of 1 broadcasts. C is [max(batchA, batchB), M, N].

struct MatmulEntry : Entry {
  dnnl::matmul::primitive_desc pd;
  dnnl::matmul prim;
  memory::desc a, b, bias, c;
  memory scratch;
};

// matmul(params, a, b, bias | null, c, activation, alpha)
void Matmul(const Napi::CallbackInfo& info) {
  auto p = Params(info[0]);
  if (p.size() != 7) throw ArgError("matmul parameters have the wrong length");
  const memory::dim ba = p[0], bb = p[1], m = p[2], k = p[3], n = p[4];
  const bool ta = p[5] != 0, tb = p[6] != 0;
  if (ba <= 0 || bb <= 0 || m <= 0 || k <= 0 || n <= 0) throw ArgError("empty matmul");
  if (ba != bb && ba != 1 && bb != 1) throw ArgError("matmul batches do not broadcast");
  const memory::dim bc = std::max(ba, bb);
  ThreadScope threads(2.0 * static_cast<double>(bc) * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k));
  float* a = F32(info[1], ba * m * k, "a");
  float* b = F32(info[2], bb * k * n, "b");
  float* bias = OptionalF32(info[3], n, "bias");
  float* c = F32(info[4], bc * m * n, "c");
  int32_t act = info[5].As<Napi::Number>().Int32Value();
  float alpha = info[6].As<Napi::Number>().FloatValue();
  auto& e = TheCache().Get<MatmulEntry>(Key('m', p, act * 2 + (bias ? 1 : 0), alpha), [&] {
    auto x = std::make_unique<MatmulEntry>();
    x->a = memory::desc({ba, m, k}, dt::f32, ta ? memory::dims{m * k, 1, m} : memory::dims{m * k, k, 1});
    x->b = memory::desc({bb, k, n}, dt::f32, tb ? memory::dims{k * n, 1, k} : memory::dims{k * n, n, 1});
    x->c = memory::desc({bc, m, n}, dt::f32, tag::abc);
    x->bias = memory::desc({1, 1, n}, dt::f32, tag::abc);
    auto attr = UserScratchAttr();
    AppendActivation(attr, act, alpha);
    auto d = bias ? dnnl::matmul::desc(x->a, x->b, x->bias, x->c) : dnnl::matmul::desc(x->a, x->b, x->c);
    x->pd = dnnl::matmul::primitive_desc(d, attr, Engine());
    x->prim = dnnl::matmul(x->pd);
    x->scratch = Scratch(x->pd);
    return x;
  });
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, memory(e.a, Engine(), a)},
                                       {DNNL_ARG_WEIGHTS, memory(e.b, Engine(), b)},
                                       {DNNL_ARG_DST, memory(e.c, Engine(), c)},
                                       {DNNL_ARG_SCRATCHPAD, e.scratch}};
  if (bias) args[DNNL_ARG_BIAS] = memory(e.bias, Engine(), bias);
  e.prim.execute(Stream(), args);
  Stream().wait();
}

// ---------------------------------------------------------------------------------------------
// Pooling. Parameters: [nsp, N, C, in[nsp], out[nsp], kernel[nsp], stride[nsp], padL[nsp],
// padR[nsp]], channels last. Algorithm: 0 max, 1 average (padding excluded, like TensorFlow).

struct PoolGeometry {
  int nsp;
  memory::dim n, c;
  memory::dims in, out, kernel, stride, padL, padR, dilation;
  explicit PoolGeometry(const std::vector<int32_t>& p) {
    if (p.size() < 3) throw ArgError("pooling parameters too short");
    nsp = p[0];
    if (nsp < 1 || nsp > 3 || p.size() != static_cast<size_t>(3 + 6 * nsp)) {
      throw ArgError("pooling parameters have the wrong length");
    }
    n = p[1];
    c = p[2];
    auto take = [&](int k) {
      memory::dims d;
      for (int i = 0; i < nsp; ++i) d.push_back(p[3 + k * nsp + i]);
      return d;
    };
    in = take(0), out = take(1), kernel = take(2), stride = take(3), padL = take(4), padR = take(5);
    dilation = memory::dims(nsp, 0);
  }
  tag Tag() const { return nsp == 1 ? tag::nwc : nsp == 2 ? tag::nhwc : tag::ndhwc; }
  memory::dims Dims(const memory::dims& sp) const {
    memory::dims d{n, c};
    d.insert(d.end(), sp.begin(), sp.end());
    return d;
  }
  memory::desc Src() const { return memory::desc(Dims(in), dt::f32, Tag()); }
  memory::desc Dst() const { return memory::desc(Dims(out), dt::f32, Tag()); }
  int64_t SrcSize() const { return Product(Dims(in)); }
  int64_t DstSize() const { return Product(Dims(out)); }
};

algorithm PoolAlg(int32_t a) {
  if (a == 0) return algorithm::pooling_max;
  if (a == 1) return algorithm::pooling_avg_exclude_padding;
  throw ArgError("unknown pooling algorithm");
}

dnnl::pooling_v2_forward::primitive_desc PoolForwardPd(const PoolGeometry& g, algorithm alg, prop_kind pk) {
  dnnl::pooling_v2_forward::desc d(pk, alg, g.Src(), g.Dst(), g.stride, g.kernel, g.dilation, g.padL, g.padR);
  return dnnl::pooling_v2_forward::primitive_desc(d, UserScratchAttr(), Engine());
}

struct PoolForwardEntry : Entry {
  dnnl::pooling_v2_forward::primitive_desc pd;
  dnnl::pooling_v2_forward prim;
  memory scratch;
};

// poolForward(params, src, dst, algorithm)
void PoolForward(const Napi::CallbackInfo& info) {
  auto p = Params(info[0]);
  PoolGeometry g(p);
  ThreadScope threads(static_cast<double>(g.DstSize()) * static_cast<double>(Product(g.kernel)));
  float* src = F32(info[1], g.SrcSize(), "input");
  float* dst = F32(info[2], g.DstSize(), "output");
  int32_t a = info[3].As<Napi::Number>().Int32Value();
  auto& e = TheCache().Get<PoolForwardEntry>(Key('p', p, a), [&] {
    auto x = std::make_unique<PoolForwardEntry>();
    x->pd = PoolForwardPd(g, PoolAlg(a), prop_kind::forward_inference);
    x->prim = dnnl::pooling_v2_forward(x->pd);
    x->scratch = Scratch(x->pd);
    return x;
  });
  e.prim.execute(Stream(), {{DNNL_ARG_SRC, memory(g.Src(), Engine(), src)},
                            {DNNL_ARG_DST, memory(g.Dst(), Engine(), dst)},
                            {DNNL_ARG_SCRATCHPAD, e.scratch}});
  Stream().wait();
}

struct PoolBackwardEntry : Entry {
  // Max pooling's backward pass needs the argmax workspace of a training forward pass; tfjs
  // hands us the input, so we recompute the forward pass into scratch buffers.
  dnnl::pooling_v2_forward::primitive_desc fpd;
  dnnl::pooling_v2_forward fwd;
  memory fdst, workspace, fscratch;
  dnnl::pooling_v2_backward::primitive_desc pd;
  dnnl::pooling_v2_backward prim;
  memory scratch;
  bool max = false;
};

// poolBackward(params, diffDst, src, diffSrc, algorithm)
void PoolBackward(const Napi::CallbackInfo& info) {
  auto p = Params(info[0]);
  PoolGeometry g(p);
  ThreadScope threads(static_cast<double>(g.DstSize()) * static_cast<double>(Product(g.kernel)));
  float* dy = F32(info[1], g.DstSize(), "dy");
  int32_t a = info[4].As<Napi::Number>().Int32Value();
  float* src = a == 0 ? F32(info[2], g.SrcSize(), "input") : nullptr;
  float* dx = F32(info[3], g.SrcSize(), "dx");
  auto& e = TheCache().Get<PoolBackwardEntry>(Key('q', p, a), [&] {
    auto x = std::make_unique<PoolBackwardEntry>();
    x->max = a == 0;
    x->fpd = PoolForwardPd(g, PoolAlg(a), prop_kind::forward_training);
    if (x->max) {
      x->fwd = dnnl::pooling_v2_forward(x->fpd);
      x->fdst = memory(g.Dst(), Engine());
      x->workspace = memory(x->fpd.workspace_desc(), Engine());
      x->fscratch = Scratch(x->fpd);
    }
    dnnl::pooling_v2_backward::desc d(PoolAlg(a), g.Src(), g.Dst(), g.stride, g.kernel, g.dilation, g.padL,
                                      g.padR);
    x->pd = dnnl::pooling_v2_backward::primitive_desc(d, UserScratchAttr(), Engine(), x->fpd);
    x->prim = dnnl::pooling_v2_backward(x->pd);
    x->scratch = Scratch(x->pd);
    return x;
  });
  std::unordered_map<int, memory> args{{DNNL_ARG_DIFF_DST, memory(g.Dst(), Engine(), dy)},
                                       {DNNL_ARG_DIFF_SRC, memory(g.Src(), Engine(), dx)},
                                       {DNNL_ARG_SCRATCHPAD, e.scratch}};
  if (e.max) {
    e.fwd.execute(Stream(), {{DNNL_ARG_SRC, memory(g.Src(), Engine(), src)},
                             {DNNL_ARG_DST, e.fdst},
                             {DNNL_ARG_WORKSPACE, e.workspace},
                             {DNNL_ARG_SCRATCHPAD, e.fscratch}});
    args[DNNL_ARG_WORKSPACE] = e.workspace;
  }
  e.prim.execute(Stream(), args);
  Stream().wait();
}

// ---------------------------------------------------------------------------------------------
// Element-wise operations on large float32 tensors (the CPU backend's JS loops are single-threaded
// and scalar). Unary: eltwise_forward over the flat array. Binary: oneDNN's binary primitive with
// row-major dims of equal rank, where src1 may broadcast (extent 1) along any axis.

// Unary codes shared with backends/native/elementwise.ts.
algorithm EltwiseAlg(int32_t code) {
  switch (code) {
    case 0: return algorithm::eltwise_relu;
    case 1: return algorithm::eltwise_clip;  // relu6 = clip(0, 6)
    case 2: return algorithm::eltwise_elu;
    case 3: return algorithm::eltwise_logistic;
    case 4: return algorithm::eltwise_tanh;
    case 5: return algorithm::eltwise_exp;
    case 6: return algorithm::eltwise_log;
    case 7: return algorithm::eltwise_sqrt;
    case 8: return algorithm::eltwise_square;
    case 9: return algorithm::eltwise_abs;
    case 10: return algorithm::eltwise_linear;  // alpha * x + beta
    default: throw ArgError("unknown element-wise operation " + std::to_string(code));
  }
}

struct EltwiseEntry : Entry {
  dnnl::eltwise_forward::primitive_desc pd;
  dnnl::eltwise_forward prim;
  memory::desc md;
  memory scratch;
};

// eltwise(params [op, n], alpha, beta, src, dst)
void Eltwise(const Napi::CallbackInfo& info) {
  auto p = Params(info[0]);
  if (p.size() != 2 || p[1] <= 0) throw ArgError("element-wise parameters are [op, n > 0]");
  const float alpha = info[1].As<Napi::Number>().FloatValue();
  const float beta = info[2].As<Napi::Number>().FloatValue();
  float* src = F32(info[3], p[1], "x");
  float* dst = F32(info[4], p[1], "y");
  ThreadScope threads(20.0 * p[1]);  // transcendental functions: some tens of flops each
  std::string key = Key('e', p, 0, alpha);
  key.append(reinterpret_cast<const char*>(&beta), sizeof beta);
  auto& e = TheCache().Get<EltwiseEntry>(key, [&] {
    auto x = std::make_unique<EltwiseEntry>();
    x->md = memory::desc({p[1]}, dt::f32, tag::a);
    dnnl::eltwise_forward::desc d(prop_kind::forward_inference, EltwiseAlg(p[0]), x->md, alpha, beta);
    x->pd = dnnl::eltwise_forward::primitive_desc(d, UserScratchAttr(), Engine());
    x->prim = dnnl::eltwise_forward(x->pd);
    x->scratch = Scratch(x->pd);
    return x;
  });
  e.prim.execute(Stream(), {{DNNL_ARG_SRC, memory(e.md, Engine(), src)},
                            {DNNL_ARG_DST, memory(e.md, Engine(), dst)},
                            {DNNL_ARG_SCRATCHPAD, e.scratch}});
  Stream().wait();
}

// relu(n, cap, src, dst): max(x, 0), capped at `cap` when cap > 0 (relu6). Written here rather
// than as oneDNN's eltwise_relu / eltwise_clip because those turn NaN into 0, and a NaN must
// survive an activation so that a diverging training run stays visible (as on the CPU backend).
// One thread: the loop is memory-bound, and on a loaded machine an OpenMP team waiting for a
// descheduled worker made it 8x slower than this.
void Relu(const Napi::CallbackInfo& info) {
  const int64_t n = info[0].As<Napi::Number>().Int64Value();
  const float cap = info[1].As<Napi::Number>().FloatValue();
  if (n <= 0) throw ArgError("relu needs n > 0");
  const float* x = F32(info[2], n, "x");
  float* y = F32(info[3], n, "y");
  if (cap > 0) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] < 0.f ? 0.f : (x[i] > cap ? cap : x[i]);
  } else {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] < 0.f ? 0.f : x[i];
  }
}

algorithm BinaryAlg(int32_t code) {
  switch (code) {
    case 0: return algorithm::binary_add;
    case 1: return algorithm::binary_sub;
    case 2: return algorithm::binary_mul;
    case 3: return algorithm::binary_div;
    case 4: return algorithm::binary_max;
    case 5: return algorithm::binary_min;
    default: throw ArgError("unknown binary operation " + std::to_string(code));
  }
}

tag PlainTag(int rank) {
  switch (rank) {
    case 1: return tag::a;
    case 2: return tag::ab;
    case 3: return tag::abc;
    case 4: return tag::abcd;
    case 5: return tag::abcde;
    case 6: return tag::abcdef;
    default: throw ArgError("binary operations take rank 1 to 6");
  }
}

struct BinaryEntry : Entry {
  dnnl::binary::primitive_desc pd;
  dnnl::binary prim;
  memory::desc a, b, c;
  memory scratch;
};

// binary(params [op, rank, aDims[rank], bDims[rank]], a, b, c); c has a's dims, b broadcasts.
void Binary(const Napi::CallbackInfo& info) {
  auto p = Params(info[0]);
  if (p.size() < 2) throw ArgError("binary parameters too short");
  const int rank = p[1];
  if (rank < 1 || rank > 6 || p.size() != static_cast<size_t>(2 + 2 * rank)) throw ArgError("binary parameters have the wrong length");
  memory::dims ad(p.begin() + 2, p.begin() + 2 + rank), bd(p.begin() + 2 + rank, p.end());
  for (int i = 0; i < rank; ++i) {
    if (ad[i] <= 0 || (bd[i] != ad[i] && bd[i] != 1)) throw ArgError("second operand does not broadcast to the first");
  }
  float* a = F32(info[1], Product(ad), "a");
  float* b = F32(info[2], Product(bd), "b");
  float* c = F32(info[3], Product(ad), "c");
  auto& e = TheCache().Get<BinaryEntry>(Key('b', p), [&] {
    auto x = std::make_unique<BinaryEntry>();
    x->a = memory::desc(ad, dt::f32, PlainTag(rank));
    x->b = memory::desc(bd, dt::f32, PlainTag(rank));
    x->c = memory::desc(ad, dt::f32, PlainTag(rank));
    dnnl::binary::desc d(BinaryAlg(p[0]), x->a, x->b, x->c);
    x->pd = dnnl::binary::primitive_desc(d, UserScratchAttr(), Engine());
    x->prim = dnnl::binary(x->pd);
    x->scratch = Scratch(x->pd);
    return x;
  });
  e.prim.execute(Stream(), {{DNNL_ARG_SRC_0, memory(e.a, Engine(), a)},
                            {DNNL_ARG_SRC_1, memory(e.b, Engine(), b)},
                            {DNNL_ARG_DST, memory(e.c, Engine(), c)},
                            {DNNL_ARG_SCRATCHPAD, e.scratch}});
  Stream().wait();
}

// ---------------------------------------------------------------------------------------------
// Reductions (Sum, Mean) over any set of axes: dst has the source's dims with 1 on reduced axes.

memory::desc RowMajor(const memory::dims& d) {
  memory::dims strides(d.size());
  memory::dim s = 1;
  for (int i = static_cast<int>(d.size()) - 1; i >= 0; --i) {
    strides[i] = s;
    s *= d[i];
  }
  return memory::desc(d, dt::f32, strides);
}

struct ReductionEntry : Entry {
  dnnl::reduction::primitive_desc pd;
  dnnl::reduction prim;
  memory::desc src, dst;
  memory scratch;
};

// reduce(params [op (0 sum, 1 mean), rank, srcDims[rank], dstDims[rank]], src, dst)
void Reduce(const Napi::CallbackInfo& info) {
  auto p = Params(info[0]);
  if (p.size() < 2) throw ArgError("reduction parameters too short");
  const int rank = p[1];
  if (rank < 1 || rank > 12 || p.size() != static_cast<size_t>(2 + 2 * rank)) throw ArgError("reduction parameters have the wrong length");
  memory::dims sd(p.begin() + 2, p.begin() + 2 + rank), dd(p.begin() + 2 + rank, p.end());
  for (int i = 0; i < rank; ++i) {
    if (sd[i] <= 0 || (dd[i] != sd[i] && dd[i] != 1)) throw ArgError("reduced extents must be 1");
  }
  float* src = F32(info[1], Product(sd), "x");
  float* dst = F32(info[2], Product(dd), "y");
  auto& e = TheCache().Get<ReductionEntry>(Key('r', p), [&] {
    auto x = std::make_unique<ReductionEntry>();
    x->src = RowMajor(sd);
    x->dst = RowMajor(dd);
    algorithm alg = p[0] == 0 ? algorithm::reduction_sum : p[0] == 1 ? algorithm::reduction_mean : throw ArgError("unknown reduction");
    dnnl::reduction::desc d(alg, x->src, x->dst, 0.f, 0.f);
    x->pd = dnnl::reduction::primitive_desc(d, UserScratchAttr(), Engine());
    x->prim = dnnl::reduction(x->pd);
    x->scratch = Scratch(x->pd);
    return x;
  });
  e.prim.execute(Stream(), {{DNNL_ARG_SRC, memory(e.src, Engine(), src)},
                            {DNNL_ARG_DST, memory(e.dst, Engine(), dst)},
                            {DNNL_ARG_SCRATCHPAD, e.scratch}});
  Stream().wait();
}

// ---------------------------------------------------------------------------------------------
// Output blocks handed to JS (from the pool above).

// One block handed to JS. `returned` is set when the TypeScript side gave the block back early
// (release, on tensor disposal); the ArrayBuffer's finalizer then leaves the block alone, since it
// may already belong to another output.
//
// V8 is told about a block's memory (AdjustExternalMemory) only while it depends on the garbage
// collector to return it: blocks that come back through release() never need a GC, and reporting
// every output made V8 run extra full collections — a third of a ResNet-20 training step. So a
// block is reported when it is allocated with report = true (early reuse off) or when the
// TypeScript side says it escaped (escaped()), and un-reported when it is finalized.
struct Handle {
  void* p;
  size_t bytes;
  bool returned = false;
  bool reported = false;
};

// Live handles by block address, for release(). A block has at most one live, unreturned handle.
std::unordered_map<void*, Handle*>& Live() {
  static std::unordered_map<void*, Handle*> m;
  return m;
}

// alloc(n, report): an uninitialised Float32Array of n elements from the pool; report: count its
// memory towards V8's external memory from the start (see Handle).
Napi::Value Alloc(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  const int64_t n = info[0].As<Napi::Number>().Int64Value();
  if (n <= 0) throw Napi::RangeError::New(env, "einnet-native: alloc needs n > 0");
  const size_t bytes = static_cast<size_t>(n) * sizeof(float);
  void* p;
  try {
    p = Pool().Take(bytes);
  } catch (const std::bad_alloc&) {
    throw Napi::Error::New(env, "einnet-native: out of memory");
  }
  auto* h = new Handle{p, bytes};
  if (info.Length() > 1 && info[1].ToBoolean().Value()) {
    // Tell V8 how much memory this small object holds, so its GC heuristics see the real size.
    Napi::MemoryManagement::AdjustExternalMemory(env, static_cast<int64_t>(bytes));
    h->reported = true;
  }
  Live()[p] = h;
  auto buffer = Napi::ArrayBuffer::New(
      env, p, bytes,
      [](Napi::Env e, void*, Handle* h) {
        if (!h->returned) {
          if (h->reported) Napi::MemoryManagement::AdjustExternalMemory(e, -static_cast<int64_t>(h->bytes));
          Pool().Give(h->p, h->bytes);
          auto it = Live().find(h->p);
          if (it != Live().end() && it->second == h) Live().erase(it);
        }
        delete h;
      },
      h);
  return Napi::Float32Array::New(env, static_cast<size_t>(n), buffer, 0);
}

// release(array): returns the block behind a Float32Array from alloc() to the pool now, before
// V8 collects the array, so that the next output of that size reuses memory that is already
// mapped (fresh pages cost more than most kernels on a VM). The caller promises that nothing
// will read or write the array again (backends/native/recycle.ts decides when that holds).
// Returns false, doing nothing, for arrays that are not live pool blocks.
Napi::Value Release(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (!info[0].IsTypedArray()) return Napi::Boolean::New(env, false);
  auto a = info[0].As<Napi::TypedArray>();
  if (a.ByteOffset() != 0) return Napi::Boolean::New(env, false);
  void* p = a.ArrayBuffer().Data();
  auto it = Live().find(p);
  if (it == Live().end() || it->second->returned) return Napi::Boolean::New(env, false);
  Handle* h = it->second;
  h->returned = true;
  Live().erase(it);
  if (h->reported) Napi::MemoryManagement::AdjustExternalMemory(env, -static_cast<int64_t>(h->bytes));
  Pool().Give(h->p, h->bytes);
  return Napi::Boolean::New(env, true);
}

// escaped(array): the block behind a Float32Array from alloc() will return through V8's garbage
// collector only, so V8 must now count its memory. No-op for other arrays or when already counted.
void Escaped(const Napi::CallbackInfo& info) {
  if (!info[0].IsTypedArray()) return;
  auto a = info[0].As<Napi::TypedArray>();
  auto it = Live().find(a.ArrayBuffer().Data());
  if (it == Live().end() || it->second->reported) return;
  it->second->reported = true;
  Napi::MemoryManagement::AdjustExternalMemory(info.Env(), static_cast<int64_t>(it->second->bytes));
}

// ---------------------------------------------------------------------------------------------
// Library control

int MaxThreads() {
#if EINNET_OMP
  return omp_get_max_threads();
#else
  return -1;
#endif
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  int n = info[0].As<Napi::Number>().Int32Value();
  if (n < 1) throw Napi::RangeError::New(info.Env(), "einnet-native: thread count must be at least 1");
#if EINNET_OMP
  // oneDNN splits work for the thread count in force when a primitive is created, so primitives
  // made for another count would run unbalanced: drop them.
  if (n != omp_get_max_threads()) TheCache().Clear();
  omp_set_num_threads(n);
#endif
  return Napi::Number::New(info.Env(), MaxThreads());
}

// setWinograd(on) -> whether it was on. Cached primitives were made for the old setting: dropped.
Napi::Value SetWinograd(const Napi::CallbackInfo& info) {
  const bool was = WinogradEnabled();
  const bool on = info[0].ToBoolean().Value();
  if (on != was) TheCache().Clear();
  WinogradEnabled() = on;
  return Napi::Boolean::New(info.Env(), was);
}

Napi::Value Threads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), MaxThreads()); }

// The instruction set oneDNN's kernels use here (ONEDNN_MAX_CPU_ISA can lower it).
const char* CpuIsaName() {
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::sse41: return "sse41";
    case dnnl::cpu_isa::avx: return "avx";
    case dnnl::cpu_isa::avx2: return "avx2";
    case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
    case dnnl::cpu_isa::avx512_mic: return "avx512_mic";
    case dnnl::cpu_isa::avx512_mic_4ops: return "avx512_mic_4ops";
    case dnnl::cpu_isa::avx512_core: return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
    default: return "other";
  }
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto o = Napi::Object::New(env);
  const dnnl_version_t* v = dnnl_version();
  o.Set("version", std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch));
  o.Set("cpuRuntime", v->cpu_runtime == DNNL_RUNTIME_OMP ? "openmp" : v->cpu_runtime == DNNL_RUNTIME_TBB ? "tbb" : "other");
  o.Set("threads", MaxThreads());
  o.Set("cachedPrimitives", static_cast<double>(TheCache().Size()));
  o.Set("cacheHits", static_cast<double>(TheCache().hits_));
  o.Set("cacheMisses", static_cast<double>(TheCache().misses_));
  o.Set("winogradPrimitives", static_cast<double>(WinogradCount()));
  o.Set("cpuIsa", CpuIsaName());
  o.Set("pooledBytes", static_cast<double>(Pool().pooled_));
  return o;
}

void ClearCache(const Napi::CallbackInfo&) {
  TheCache().Clear();
  TheWorkspace().Clear();
  Pool().Clear();
}

// Converts oneDNN and argument errors into JS errors with a recognisable prefix, so the
// TypeScript side can fall back to the CPU kernel instead of crashing.
template <void (*F)(const Napi::CallbackInfo&)>
Napi::Value Guard(const Napi::CallbackInfo& info) {
  try {
    F(info);
  } catch (const dnnl::error& e) {
    throw Napi::Error::New(info.Env(), std::string("oneDNN: ") + e.what());
  } catch (const ArgError& e) {
    throw Napi::Error::New(info.Env(), std::string("einnet-native: ") + e.what());
  } catch (const einnet::LoopArgError& e) {
    throw Napi::Error::New(info.Env(), std::string("einnet-native: ") + e.what());
  } catch (const std::bad_alloc&) {
    throw Napi::Error::New(info.Env(), "einnet-native: out of memory");
  }
  return info.Env().Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("convForward", Napi::Function::New(env, Guard<ConvForward>, "convForward"));
  exports.Set("convBackwardData", Napi::Function::New(env, Guard<ConvBackwardData>, "convBackwardData"));
  exports.Set("convBackwardWeights", Napi::Function::New(env, Guard<ConvBackwardWeights>, "convBackwardWeights"));
  exports.Set("matmul", Napi::Function::New(env, Guard<Matmul>, "matmul"));
  exports.Set("poolForward", Napi::Function::New(env, Guard<PoolForward>, "poolForward"));
  exports.Set("poolBackward", Napi::Function::New(env, Guard<PoolBackward>, "poolBackward"));
  exports.Set("alloc", Napi::Function::New(env, Alloc, "alloc"));
  exports.Set("release", Napi::Function::New(env, Release, "release"));
  exports.Set("escaped", Napi::Function::New(env, Escaped, "escaped"));
  exports.Set("reduce", Napi::Function::New(env, Guard<Reduce>, "reduce"));
  exports.Set("relu", Napi::Function::New(env, Guard<Relu>, "relu"));
  exports.Set("eltwise", Napi::Function::New(env, Guard<Eltwise>, "eltwise"));
  exports.Set("binary", Napi::Function::New(env, Guard<Binary>, "binary"));
  exports.Set("stridedCopy", Napi::Function::New(env, Guard<einnet::StridedCopy>, "stridedCopy"));
  exports.Set("broadcastBinary", Napi::Function::New(env, Guard<einnet::BroadcastBinary>, "broadcastBinary"));
  exports.Set("select", Napi::Function::New(env, Guard<einnet::SelectLoop>, "select"));
  exports.Set("reduceAxes", Napi::Function::New(env, Guard<einnet::ReduceLoop>, "reduceAxes"));
  exports.Set("argReduce", Napi::Function::New(env, Guard<einnet::ArgReduce>, "argReduce"));
  exports.Set("unary", Napi::Function::New(env, Guard<einnet::UnaryLoop>, "unary"));
  exports.Set("batchNorm", Napi::Function::New(env, Guard<einnet::BatchNormLoop>, "batchNorm"));
  exports.Set("batchStats", Napi::Function::New(env, Guard<einnet::BatchStatsLoop>, "batchStats"));
  exports.Set("batchStatsGrad", Napi::Function::New(env, Guard<einnet::BatchStatsGradLoop>, "batchStatsGrad"));
  exports.Set("batchNormalize", Napi::Function::New(env, Guard<einnet::BatchNormalizeLoop>, "batchNormalize"));
  exports.Set("batchNormalizeGrad", Napi::Function::New(env, Guard<einnet::BatchNormalizeGradLoop>, "batchNormalizeGrad"));
  exports.Set("sgdUpdate", Napi::Function::New(env, Guard<einnet::SgdUpdateLoop>, "sgdUpdate"));
  exports.Set("addRelu", Napi::Function::New(env, Guard<einnet::AddReluLoop>, "addRelu"));
  exports.Set("avgPoolTileGrad", Napi::Function::New(env, Guard<einnet::AvgPoolTileGradLoop>, "avgPoolTileGrad"));
  exports.Set("activationGrad", Napi::Function::New(env, Guard<einnet::ActivationGradLoop>, "activationGrad"));
  exports.Set("reluGrad", Napi::Function::New(env, Guard<einnet::ReluGradLoop>, "reluGrad"));
  exports.Set("movingAverage", Napi::Function::New(env, Guard<einnet::MovingAverageLoop>, "movingAverage"));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads, "setThreads"));
  exports.Set("threads", Napi::Function::New(env, Threads, "threads"));
  exports.Set("setWinograd", Napi::Function::New(env, SetWinograd, "setWinograd"));
  exports.Set("info", Napi::Function::New(env, Info, "info"));
  exports.Set("clearCache", Napi::Function::New(env, ClearCache, "clearCache"));
  return exports;
}

}  // namespace

NODE_API_MODULE(einnet_native, Init)
