#include "session.h"

#include <fstream>

#include <chrono>
#include <cmath>

#include "token.h"

namespace carbonctl {

std::string status_code_name(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return "OK";
    case grpc::StatusCode::CANCELLED: return "CANCELLED";
    case grpc::StatusCode::UNKNOWN: return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED: return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE: return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL: return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS: return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    default: break;
  }
  return "CODE_" + std::to_string(static_cast<int>(code));
}

int exit_code_for(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return kExitOk;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return kExitUnreachable;
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::PERMISSION_DENIED: return kExitNoToken;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::NOT_FOUND:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::OUT_OF_RANGE: return kExitRefused;
    default: return kExitServerError;
  }
}

std::shared_ptr<grpc::Channel> Session::channel() {
  if (channel_) return channel_;
  if (options_.tls_ca_file.empty()) {
    if (!options_.tls_cert_file.empty() || !options_.tls_key_file.empty()) {
      throw ExitError(kExitUsage, "--tls-cert and --tls-key need --tls-ca");
    }
    channel_ = grpc::CreateChannel(options_.server, grpc::InsecureChannelCredentials());
    return channel_;
  }
  auto read = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ExitError(kExitUsage, "cannot read " + path);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  grpc::SslCredentialsOptions tls;
  tls.pem_root_certs = read(options_.tls_ca_file);
  if (options_.tls_cert_file.empty() != options_.tls_key_file.empty()) {
    throw ExitError(kExitUsage, "--tls-cert and --tls-key go together");
  }
  if (!options_.tls_cert_file.empty()) {
    tls.pem_cert_chain = read(options_.tls_cert_file);
    tls.pem_private_key = read(options_.tls_key_file);
  }
  channel_ = grpc::CreateChannel(options_.server, grpc::SslCredentials(tls));
  return channel_;
}

const std::string& Session::token() {
  if (!token_) token_ = resolve_token(options_);
  return *token_;
}

void Session::prepare(grpc::ClientContext& context, bool authenticated) {
  if (authenticated) context.AddMetadata("authorization", "Bearer " + token());
  const auto timeout = std::chrono::milliseconds(std::llround(options_.timeout_seconds * 1000.0));
  context.set_deadline(std::chrono::system_clock::now() + timeout);
}

void Session::check(const grpc::Status& status) {
  if (status.ok()) return;
  const grpc::StatusCode code = status.error_code();
  std::string message = status_code_name(code) + ": " + status.error_message();
  if (code == grpc::StatusCode::UNAVAILABLE || code == grpc::StatusCode::DEADLINE_EXCEEDED) {
    // UNAVAILABLE also comes from a reachable carbond whose database is
    // down; only blame the network when the channel never got connected.
    if (channel_ && channel_->GetState(false) != GRPC_CHANNEL_READY) {
      message += "\nhint: cannot reach carbond at " + options_.server + "; is it running? (--server, CARBON_SERVER)";
    }
  }
  throw ExitError(exit_code_for(code), message);
}

}  // namespace carbonctl
