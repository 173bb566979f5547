#include "common/status.h"

namespace carbon {

const char* to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::ok: return "OK";
    case ErrorCode::invalid_argument: return "INVALID_ARGUMENT";
    case ErrorCode::failed_precondition: return "FAILED_PRECONDITION";
    case ErrorCode::not_found: return "NOT_FOUND";
    case ErrorCode::already_exists: return "ALREADY_EXISTS";
    case ErrorCode::permission_denied: return "PERMISSION_DENIED";
    case ErrorCode::unauthenticated: return "UNAUTHENTICATED";
    case ErrorCode::resource_exhausted: return "RESOURCE_EXHAUSTED";
    case ErrorCode::unavailable: return "UNAVAILABLE";
    case ErrorCode::unimplemented: return "UNIMPLEMENTED";
    case ErrorCode::internal: return "INTERNAL";
  }
  return "UNKNOWN";
}

}  // namespace carbon
