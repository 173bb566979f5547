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
  kExitServerError = 1,  ///< the server answered an error status
  kExitUsage = 2,        ///< bad command line
  kExitUnreachable = 3,  ///< UNAVAILABLE or DEADLINE_EXCEEDED
  kExitNoToken = 4,      ///< no usable bearer token configured
};

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

  /// Throws ExitError for a non-OK status: exit 3 for UNAVAILABLE and
  /// DEADLINE_EXCEEDED, 1 otherwise.
  void check(const grpc::Status& status);

 private:
  const std::string& token();

  GlobalOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::optional<std::string> token_;
};

}  // namespace carbonctl
