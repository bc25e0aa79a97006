// einnet's native CPU kernels: a thin N-API layer over oneDNN primitives.
////
// The TypeScript side (backends/native/*.ts) works out every shape, padding and stride from the
// tfjs attributes and passes them here as one Int32Array of parameters (laid out as params.h
// says), together with the CPU backend's own Float32Arrays, which the kernels read and write in
// place. This file is the module: it exports every kernel (kernels.h, loops.h, buffers.h) behind
// a guard that turns C++ errors into JS errors, and the library's controls (threads, Winograd,
// info, cache). The files mirror the TypeScript side:
//
//   kernel.h           engine, stream, argument checks, thread scope      (kernel.ts)
//   primitive_cache.h  the LRU cache of compiled primitives, post-ops
//   buffers.h/.cc      the output buffer pool, alloc/release/escaped       (recycle.ts)
//   params.h           the parameter layouts and codes both sides agree on (addon.ts)
//   conv*.h/.cc        convolutions                                        (conv.ts, winograd.ts)
//   winograd.h/.cc     einnet's own Winograd F(2x2, 3x3) where oneDNN has none
//   matmul.cc          matrix multiplication                               (matmul.ts)
//   pool.cc            pooling                                             (pool.ts)
//   eltwise.cc         oneDNN element-wise and binary primitives           (elementwise.ts)
//   reduce.cc          oneDNN reductions                                   (reduce.ts)
//   loops.cc, fused.cc, normalize.cc, update.cc: einnet's own loops        (movement.ts, fused.ts, ...)

#include <napi.h>

#include <pthread.h>
#include <signal.h>

#include <string>

#include "buffers.h"
#include "conv_layout.h"
#include "kernel.h"
#include "kernels.h"
#include "loops.h"
#include "primitive_cache.h"
#include "winograd.h"

namespace einnet {
namespace {

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
  o.Set("referenceConvolutions", static_cast<double>(ReferenceConvolutionCount()));
  o.Set("ownWinogradPasses", static_cast<double>(OwnWinogradCount()));
  o.Set("ownWinogradAvailable", OwnWinogradAvailable());
  o.Set("cpuIsa", CpuIsaName());
  o.Set("pooledBytes", static_cast<double>(Pool().pooled_));
  return o;
}

void ClearCache(const Napi::CallbackInfo&) {
  TheCache().Clear();
  TheWorkspace().Clear();
  Pool().Clear();
}

// Asynchronous signals wait while a kernel runs. V8's sampling profiler (node --cpu-prof or
// --prof) sends SIGPROF to the JavaScript thread about a thousand times a second, and signals
// handled in the middle of oneDNN 2.6's JIT sgemm (a [64,1024] by [1024,1024] product) corrupted
// the heap: node aborted with "corrupted size vs. prev_size" at a later free (with the signals
// held, never). Blocked, a signal is delivered when the call returns. Faults the call itself
// raises (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT) are never blocked. OpenMP's worker
// threads, created inside the first parallel call, inherit this mask, so process-wide signals
// (SIGINT, SIGCHLD) go to the JavaScript thread's handlers, never to a worker mid-kernel.
class AsyncSignalsHeld {
 public:
  AsyncSignalsHeld() {
    sigset_t all;
    sigfillset(&all);
    for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT}) sigdelset(&all, sig);
    pthread_sigmask(SIG_BLOCK, &all, &saved_);
  }
  ~AsyncSignalsHeld() { pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }
  AsyncSignalsHeld(const AsyncSignalsHeld&) = delete;
  AsyncSignalsHeld& operator=(const AsyncSignalsHeld&) = delete;

 private:
  sigset_t saved_;
};

// Converts oneDNN and argument errors into JS errors with a recognisable prefix, so the
// TypeScript side can fall back to the CPU kernel instead of crashing; asynchronous signals wait
// until the kernel returns (AsyncSignalsHeld).
template <void (*F)(const Napi::CallbackInfo&)>
Napi::Value Guard(const Napi::CallbackInfo& info) {
  AsyncSignalsHeld held;
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
  exports.Set("softmaxCrossEntropy", Napi::Function::New(env, Guard<einnet::SoftmaxCrossEntropyLoop>, "softmaxCrossEntropy"));
  exports.Set("adamUpdate", Napi::Function::New(env, Guard<einnet::AdamUpdateLoop>, "adamUpdate"));
  exports.Set("addRelu", Napi::Function::New(env, Guard<einnet::AddReluLoop>, "addRelu"));
  exports.Set("avgPoolTileGrad", Napi::Function::New(env, Guard<einnet::AvgPoolTileGradLoop>, "avgPoolTileGrad"));
  exports.Set("activationGrad", Napi::Function::New(env, Guard<einnet::ActivationGradLoop>, "activationGrad"));
  exports.Set("maxPoolNaN", Napi::Function::New(env, Guard<einnet::MaxPoolNaNLoop>, "maxPoolNaN"));
  exports.Set("maxPoolGrad", Napi::Function::New(env, Guard<einnet::MaxPoolGradLoop>, "maxPoolGrad"));
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
}  // namespace einnet

// NODE_API_MODULE pastes its argument into a name: it takes an unqualified function.
Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return einnet::Init(env, exports); }

NODE_API_MODULE(einnet_native, InitModule)
