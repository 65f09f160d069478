// Error mapping shared by the native translation units: our own validation throws CodedError with a
// stable code; everything else (c10::Error, cv::Exception, std::bad_alloc, ...) is classified by
// classifyException() (engine.cc) so that no exception ever crosses into N-API unconverted.
#pragma once
#include <exception>
#include <stdexcept>
#include <string>

namespace r3d {

/** An error whose `code` ends up on the JS error (E_NATIVE_SHAPE, E_NATIVE_ARG, E_NATIVE_IO, ...). */
struct CodedError : std::runtime_error {
  std::string code;
  CodedError(std::string c, const std::string& message) : std::runtime_error(message), code(std::move(c)) {}
};

struct ErrorInfo {
  std::string code;
  std::string message;
};

/** Maps any exception to a code and a message without the C++ backtrace. Never throws. */
ErrorInfo classifyException(std::exception_ptr e) noexcept;

}  // namespace r3d
