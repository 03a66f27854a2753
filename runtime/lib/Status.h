//===- Status.h - Error status of the runtime's internal API ----*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// The runtime is built without exceptions (it also builds inside the MLIR
// project, which compiles with -fno-exceptions) and reports every error as a
// Status: a code from attune_rt.h and a message for a person.
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
  (os << ... << parts);
  return os.str();
}

} // namespace attune::rt

#endif // ATTUNE_RUNTIME_STATUS_H
