// The JS-thread side of every entry point: coded JS errors, the guard that turns any C++ exception into one,
// and the argument readers (each checks type, integrality and bounds before a value is used). Header-only;
// no torch headers.
#pragma once
#include <napi.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "errors.h"

namespace r3d {

inline Napi::Error codedError(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, code));
  return e;
}

[[noreturn]] inline void fail(Napi::Env env, const std::string& code, const std::string& message) {
  throw codedError(env, code, message);
}

/**
 * Runs an entry point's body on the JS thread. A Napi::Error (ours, already coded, or a JS exception raised
 * by a getter) passes through; any other exception (std::bad_alloc from an input copy, CodedError from a
 * bound check, c10::Error, cv::Exception, ...) becomes a JS error with its `code`. Should even that fail,
 * NODE_ADDON_API_CPP_EXCEPTIONS_ALL (binding.gyp) still turns the exception into a plain JS error.
 */
template <class F>
auto guarded(Napi::Env env, F&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (...) {
    const ErrorInfo e = classifyException(std::current_exception());
    throw codedError(env, e.code, e.message);
  }
}

/** E_NATIVE_ARG unless the call has between `min` and `max` arguments. */
inline void expectArgs(const Napi::CallbackInfo& info, size_t min, size_t max, const char* signature) {
  if (info.Length() < min || info.Length() > max) {
    fail(info.Env(), "E_NATIVE_ARG",
         std::string(signature) + " takes " +
             (min == max ? std::to_string(min) : std::to_string(min) + " to " + std::to_string(max)) +
             " argument(s) but received " + std::to_string(info.Length()));
  }
}

template <class T> constexpr napi_typedarray_type kTypedArrayType = napi_float32_array;
template <> constexpr napi_typedarray_type kTypedArrayType<uint8_t> = napi_uint8_array;
template <class T> constexpr const char* kTypedArrayName = "Float32Array";
template <> constexpr const char* kTypedArrayName<uint8_t> = "Uint8Array";

template <class Arr>
Arr typedArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  using Elem = std::remove_pointer_t<decltype(std::declval<Arr>().Data())>;
  if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != kTypedArrayType<Elem>)
    fail(info.Env(), "E_NATIVE_ARG", std::string("expected a ") + kTypedArrayName<Elem> + " for " + name);
  return info[i].As<Arr>();
}

/** `v` as JS prints it, near enough: integers in full, others with the fewest digits that read back as `v`. */
inline std::string numberText(double v) {
  char buf[32];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  for (int digits = 1; digits <= 17; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

/** An integral number in [min, max]; E_NATIVE_ARG for anything else (NaN, fractions, strings, ...). */
inline double integerValue(Napi::Env env, const Napi::Value& v, const std::string& name, double min, double max) {
  if (!v.IsNumber()) fail(env, "E_NATIVE_ARG", "expected a number for " + name);
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= min && d <= max) || d != std::floor(d))
    fail(env, "E_NATIVE_ARG",
         "expected an integer in [" + numberText(min) + ", " + numberText(max) + "] for " + name + " but received " +
             numberText(d));
  return d;
}

inline int intArg(const Napi::CallbackInfo& info, size_t i, const char* name, int min, int max) {
  return static_cast<int>(integerValue(info.Env(), info[i], name, min, max));
}

/** Readers of one property of an options object; `owner` names the object in messages ("config", ...). */
struct Fields {
  Napi::Object o;
  const char* owner;

  std::string name(const char* key) const { return std::string(owner) + "." + key; }

  double integer(const char* key, double min, double max) const {
    return integerValue(o.Env(), o.Get(key), name(key), min, max);
  }
  /** A number in [min, maxExclusive) (so never NaN or infinite). */
  double number(const char* key, double min, double maxExclusive) const {
    Napi::Value v = o.Get(key);
    const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
    if (!(d >= min && d < maxExclusive))
      fail(o.Env(), "E_NATIVE_ARG",
           "expected a number in [" + numberText(min) + ", " + numberText(maxExclusive) + ") for " + name(key));
    return d;
  }
  std::string string(const char* key) const {
    Napi::Value v = o.Get(key);
    if (!v.IsString()) fail(o.Env(), "E_NATIVE_ARG", name(key) + " must be a string");
    return v.As<Napi::String>().Utf8Value();
  }
  bool boolean(const char* key) const {
    Napi::Value v = o.Get(key);
    if (!v.IsBoolean()) fail(o.Env(), "E_NATIVE_ARG", name(key) + " must be a boolean");
    return v.As<Napi::Boolean>().Value();
  }
};

/** The object argument `i`, or E_NATIVE_ARG. */
inline Fields objectArg(const Napi::CallbackInfo& info, size_t i, const char* owner) {
  if (!info[i].IsObject() || info[i].IsArray() || info[i].IsFunction() || info[i].IsTypedArray())
    fail(info.Env(), "E_NATIVE_ARG", std::string("expected an object for ") + owner);
  return {info[i].As<Napi::Object>(), owner};
}

/** A copy on the JS thread (the caller may reuse its array while the worker runs); may throw std::bad_alloc. */
template <class T>
std::vector<T> copyOf(const Napi::TypedArrayOf<T>& a) {
  return std::vector<T>(a.Data(), a.Data() + a.ElementLength());
}

}  // namespace r3d
