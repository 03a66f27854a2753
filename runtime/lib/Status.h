//===- Status.h - Error status of the runtime's internal API ----*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// The runtime reports every error as a Status: a code from attune_rt.h and a
// message for a person. It throws nothing itself; only the standard library
// may (std::bad_alloc), which the C API catches (AttuneRT.cpp, guarded), so
// the runtime is compiled with -fexceptions even inside the MLIR project.
//
//===----------------------------------------------------------------------===//

#ifndef ATTUNE_RUNTIME_STATUS_H
#define ATTUNE_RUNTIME_STATUS_H

#include "attune_rt.h"

#include <sstream>
#include <string>
#include <utility>

namespace attune::rt {

/// The outcome of an operation: ATTUNE_RT_OK, or an error code and message.
class [[nodiscard]] Status {
public:
  /// Returns the success status.
  static Status ok() { return Status(); }
  /// Returns an error with `code` (an attune_rt_status other than OK).
  static Status error(int code, std::string message) {
    Status s;
    s.code_ = code;
    s.message_ = std::move(message);
    return s;
  }

  bool isOk() const { return code_ == ATTUNE_RT_OK; }
  int code() const { return code_; }
  const std::string &message() const { return message_; }

private:
  int code_ = ATTUNE_RT_OK;
  std::string message_;
};

/// Concatenates the streamed form of every argument into a string.
template <typename... Ts> std::string cat(const Ts &...parts) {
  std::ostringstream os;
  // A stream swallows exceptions (std::bad_alloc too) and sets badbit; this
  // rethrows them instead of returning a truncated message.
  os.exceptions(std::ios::badbit);
  (os << ... << parts);
  return os.str();
}

} // namespace attune::rt

#endif // ATTUNE_RUNTIME_STATUS_H
