#pragma once
/// The connection to carbond: global options, the channel, bearer token,
/// deadlines, and the mapping of gRPC failures to carbonctl's exit codes.

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace carbonctl {

/// carbonctl's exit codes (documented in the top-level --help).
enum ExitCode : int {
  kExitOk = 0,
  kExitServerError = 1,  ///< the server answered another error (INTERNAL, UNIMPLEMENTED, ABORTED, ...)
  kExitUsage = 2,        ///< bad command line
  kExitUnreachable = 3,  ///< UNAVAILABLE, DEADLINE_EXCEEDED or RESOURCE_EXHAUSTED: try again later
  kExitNoToken = 4,      ///< no usable bearer token, UNAUTHENTICATED or PERMISSION_DENIED
  kExitRefused = 5,      ///< the server refused the request: INVALID_ARGUMENT, NOT_FOUND,
                         ///< FAILED_PRECONDITION, ALREADY_EXISTS or OUT_OF_RANGE
  kExitInvalid = 6,      ///< a negative finding: the ledger or the audit log does not verify, a reconciliation
                         ///< is not balanced
};

/// The exit code for a non-OK gRPC status (kExitOk for OK).
int exit_code_for(grpc::StatusCode code);

/// Ends the command: main() prints "error: <what()>" to stderr (if
/// non-empty) and exits with `code`.
class ExitError : public std::runtime_error {
 public:
  ExitError(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
  [[nodiscard]] int code() const { return code_; }

 private:
  int code_;
};

/// Global command-line options.
struct GlobalOptions {
  std::string server = "127.0.0.1:50051";
  std::string token;       ///< --token
  std::string token_file;  ///< --token-file
  std::string staff_file;  ///< --staff-file
  std::string staff_name;  ///< --as
  bool json = false;
  double timeout_seconds = 10;
  std::string tls_ca_file;    ///< --tls-ca: TLS, trusting this CA
  std::string tls_cert_file;  ///< --tls-cert: client certificate (mTLS)
  std::string tls_key_file;   ///< --tls-key
};

/// "INVALID_ARGUMENT" for grpc::StatusCode::INVALID_ARGUMENT, etc.
std::string status_code_name(grpc::StatusCode code);

class Session {
 public:
  explicit Session(const GlobalOptions& options) : options_(options) {}

  [[nodiscard]] const GlobalOptions& options() const { return options_; }
  [[nodiscard]] bool json() const { return options_.json; }

  /// The channel to --server (TLS with --tls-ca, else plaintext), created on first use.
  std::shared_ptr<grpc::Channel> channel();

  /// Runs one authenticated unary call: `rpc(&context)` with the bearer
  /// token and the deadline set. Throws ExitError if no token is configured
  /// or the call fails.
  template <typename Rpc>
  void call(Rpc&& rpc) {
    grpc::ClientContext context;
    prepare(context, /*authenticated=*/true);
    check(rpc(&context));
  }

  /// Sets the deadline and, if `authenticated`, the authorization metadata.
  void prepare(grpc::ClientContext& context, bool authenticated);

  /// Throws ExitError for a non-OK status, with exit_code_for(code).
  void check(const grpc::Status& status);

 private:
  const std::string& token();

  GlobalOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::optional<std::string> token_;
};

}  // namespace carbonctl
