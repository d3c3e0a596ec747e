#pragma once

#include <string>
#include <string_view>

namespace warden {

// Canonical error codes; they map 1:1 to gRPC status codes (same numbers).
enum class Code {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

std::string_view codeName(Code code);

// An error value: a canonical code and a message that says what went wrong and, where it
// helps, what to do about it. Cheap to move; immutable once built.
class Error {
 public:
  Error(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "<CodeName>: <message>", for logs and command output.
  std::string toString() const;
  // Returns a copy whose message is "<context>: <message>".
  Error withContext(std::string_view context) const;

 private:
  Code code_;
  std::string message_;
};

// Named constructors, one per code in common use.
Error invalidArgument(std::string message);
Error notFound(std::string message);
Error alreadyExists(std::string message);
Error permissionDenied(std::string message);
Error resourceExhausted(std::string message);
Error failedPrecondition(std::string message);
Error outOfRange(std::string message);
Error unimplemented(std::string message);
Error internalError(std::string message);
Error unavailable(std::string message);
Error dataLoss(std::string message);
Error deadlineExceeded(std::string message);
Error cancelled(std::string message);

// Maps errno to a canonical code: EPERM/EACCES -> PermissionDenied, ENOENT -> NotFound,
// ENOSPC/EMFILE/ENOMEM -> ResourceExhausted, EEXIST -> AlreadyExists, EINVAL -> InvalidArgument,
// ETIMEDOUT -> DeadlineExceeded, ECONNREFUSED/EAGAIN -> Unavailable, others -> Internal.
// The message is "<what>: <strerror>".
Error errnoError(std::string_view what, int err);
// Same, reading errno at the call.
Error errnoError(std::string_view what);

}  // namespace warden
