// Output blocks handed to JS, from the pool in buffers.h.

#include "buffers.h"

#include <cstdint>

namespace einnet {
namespace {

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

// The finalizer of a block's ArrayBuffer (hint: its Handle).
void FinalizeBlock(napi_env env, void*, void* hint) {
  auto* h = static_cast<Handle*>(hint);
  if (!h->returned) {
    if (h->reported) Napi::MemoryManagement::AdjustExternalMemory(env, -static_cast<int64_t>(h->bytes));
    Pool().Give(h->p, h->bytes);
    auto it = Live().find(h->p);
    if (it != Live().end() && it->second == h) Live().erase(it);
  }
  delete h;
}

}  // namespace

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
  // Until its ArrayBuffer exists the block belongs to this function, and `returned` makes the
  // finalizer leave it alone. Node runs the finalizer when it cannot make the buffer (a block
  // larger than its biggest Buffer, buffer.constants.MAX_LENGTH) — inside the failing call, and
  // it may defer it elsewhere — so on failure the Handle is the finalizer's to delete and the
  // block is freed here, exactly once. (node-addon-api's ArrayBuffer::New deletes its own
  // finalizer data again after Node's finalizer did: a double free, hence the raw call.)
  auto* h = new Handle{p, bytes};
  h->returned = true;
  napi_value raw;
  if (napi_create_external_arraybuffer(env, p, bytes, FinalizeBlock, h, &raw) != napi_ok) {
    Pool().Give(p, bytes);
    throw Napi::Error::New(env);  // Node's pending exception, e.g. ERR_BUFFER_TOO_LARGE
  }
  h->returned = false;
  if (info.Length() > 1 && info[1].ToBoolean().Value()) {
    // Tell V8 how much memory this small object holds, so its GC heuristics see the real size.
    Napi::MemoryManagement::AdjustExternalMemory(env, static_cast<int64_t>(bytes));
    h->reported = true;
  }
  Live()[p] = h;
  return Napi::Float32Array::New(env, static_cast<size_t>(n), Napi::ArrayBuffer(env, raw), 0);
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

}  // namespace einnet
