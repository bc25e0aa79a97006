// Reading the typed arrays and parameter arrays the TypeScript side passes to einnet's loops,
// checked: a wrong type or a too-short array is a LoopArgError (a JS error), never a bad read.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "loops.h"

namespace einnet {

inline std::vector<int32_t> IntParams(const Napi::Value& v) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    throw LoopArgError("parameters must be an Int32Array");
  }
  auto a = v.As<Napi::Int32Array>();
  return std::vector<int32_t>(a.Data(), a.Data() + a.ElementLength());
}

// The bytes behind any typed array, checked to hold at least `need` elements of `elemBytes`.
inline uint8_t* Raw(const Napi::Value& v, int64_t need, int64_t elemBytes, const char* what) {
  if (!v.IsTypedArray()) throw LoopArgError(std::string(what) + " must be a typed array");
  auto a = v.As<Napi::TypedArray>();
  if (static_cast<int64_t>(a.ByteLength()) < need * elemBytes) {
    throw LoopArgError(std::string(what) + " has " + std::to_string(a.ByteLength()) + " bytes, needs " +
                       std::to_string(need * elemBytes));
  }
  return static_cast<uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset();
}

// A Float32Array's data, checked to hold `need` elements.
inline float* Floats(const Napi::Value& v, int64_t need, const char* what) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw LoopArgError(std::string(what) + " must be a Float32Array");
  }
  return reinterpret_cast<float*>(Raw(v, need, 4, what));
}

inline uint8_t* Bytes(const Napi::Value& v, int64_t need, const char* what) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw LoopArgError(std::string(what) + " must be a Uint8Array");
  }
  return Raw(v, need, 1, what);
}

}  // namespace einnet
