#pragma once
/// Result codes shared by every module; mapped to grpc::Status in one place
/// (src/server/status_mapping.cpp).

#include <string>
#include <utility>

namespace carbon {

/// What went wrong, in the vocabulary of the public API.
enum class ErrorCode : unsigned char {
  ok = 0,
  invalid_argument,     ///< malformed input: needs no state to detect
  failed_precondition,  ///< a market rule says no; the message names the rule
  not_found,
  already_exists,
  permission_denied,
  unauthenticated,
  resource_exhausted,
  unavailable,
  unimplemented,
  internal,
};

/// A code plus a human-readable message naming the rule. Cheap when ok.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return {}; }
  bool is_ok() const { return code_ == ErrorCode::ok; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  ErrorCode code_ = ErrorCode::ok;
  std::string message_;
};

inline Status invalid_argument(std::string m) { return {ErrorCode::invalid_argument, std::move(m)}; }
inline Status failed_precondition(std::string m) { return {ErrorCode::failed_precondition, std::move(m)}; }
inline Status not_found(std::string m) { return {ErrorCode::not_found, std::move(m)}; }
inline Status permission_denied(std::string m) { return {ErrorCode::permission_denied, std::move(m)}; }
inline Status unimplemented(std::string m) { return {ErrorCode::unimplemented, std::move(m)}; }

/// Name of a code as used in logs and the journal ("FAILED_PRECONDITION").
const char* to_string(ErrorCode code);

}  // namespace carbon
