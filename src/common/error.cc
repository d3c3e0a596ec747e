#include "common/error.h"

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace warden {

std::string_view codeName(Code code) {
  switch (code) {
    case Code::kOk: return "Ok";
    case Code::kCancelled: return "Cancelled";
    case Code::kUnknown: return "Unknown";
    case Code::kInvalidArgument: return "InvalidArgument";
    case Code::kDeadlineExceeded: return "DeadlineExceeded";
    case Code::kNotFound: return "NotFound";
    case Code::kAlreadyExists: return "AlreadyExists";
    case Code::kPermissionDenied: return "PermissionDenied";
    case Code::kResourceExhausted: return "ResourceExhausted";
    case Code::kFailedPrecondition: return "FailedPrecondition";
    case Code::kAborted: return "Aborted";
    case Code::kOutOfRange: return "OutOfRange";
    case Code::kUnimplemented: return "Unimplemented";
    case Code::kInternal: return "Internal";
    case Code::kUnavailable: return "Unavailable";
    case Code::kDataLoss: return "DataLoss";
    case Code::kUnauthenticated: return "Unauthenticated";
  }
  return "Unknown";
}

std::string Error::toString() const { return fmt::format("{}: {}", codeName(code_), message_); }

Error Error::withContext(std::string_view context) const {
  return Error(code_, fmt::format("{}: {}", context, message_));
}

Error invalidArgument(std::string m) { return Error(Code::kInvalidArgument, std::move(m)); }
Error notFound(std::string m) { return Error(Code::kNotFound, std::move(m)); }
Error alreadyExists(std::string m) { return Error(Code::kAlreadyExists, std::move(m)); }
Error permissionDenied(std::string m) { return Error(Code::kPermissionDenied, std::move(m)); }
Error resourceExhausted(std::string m) { return Error(Code::kResourceExhausted, std::move(m)); }
Error failedPrecondition(std::string m) { return Error(Code::kFailedPrecondition, std::move(m)); }
Error outOfRange(std::string m) { return Error(Code::kOutOfRange, std::move(m)); }
Error unimplemented(std::string m) { return Error(Code::kUnimplemented, std::move(m)); }
Error internalError(std::string m) { return Error(Code::kInternal, std::move(m)); }
Error unavailable(std::string m) { return Error(Code::kUnavailable, std::move(m)); }
Error dataLoss(std::string m) { return Error(Code::kDataLoss, std::move(m)); }
Error deadlineExceeded(std::string m) { return Error(Code::kDeadlineExceeded, std::move(m)); }
Error cancelled(std::string m) { return Error(Code::kCancelled, std::move(m)); }

Error errnoError(std::string_view what, int err) {
  Code code = Code::kInternal;
  switch (err) {
    case EPERM:
    case EACCES: code = Code::kPermissionDenied; break;
    case ENOENT:
    case ESRCH: code = Code::kNotFound; break;
    case ENOSPC:
    case EDQUOT:
    case EMFILE:
    case ENFILE:
    case ENOMEM: code = Code::kResourceExhausted; break;
    case EEXIST: code = Code::kAlreadyExists; break;
    case EINVAL: code = Code::kInvalidArgument; break;
    case ETIMEDOUT: code = Code::kDeadlineExceeded; break;
    case ECONNREFUSED:
    case ECONNRESET:
    case EAGAIN:
    case EHOSTUNREACH:
    case ENETUNREACH: code = Code::kUnavailable; break;
    default: break;
  }
  return Error(code, fmt::format("{}: {}", what, std::strerror(err)));
}

Error errnoError(std::string_view what) { return errnoError(what, errno); }

}  // namespace warden
