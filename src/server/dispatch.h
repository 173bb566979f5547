#pragma once
/// The one path of a unary RPC into the engine: authenticate, authorize,
/// build the command, refuse malformed input, submit, and answer after commit.

#include <google/protobuf/message.h>
#include <grpcpp/grpcpp.h>

#include <functional>
#include <string_view>
#include <type_traits>
#include <utility>

#include "engine/validation.h"
#include "server/audit.h"
#include "server/auth.h"
#include "server/convert.h"
#include "server/services.h"

namespace carbon::server {

/// Finishes one unary call with the engine's reply, after commit. `fill`
/// may still refuse (e.g. a reply too large for its page), as a status.
template <typename Response>
class UnaryCompletion final : public engine::Completion {
 public:
  using Fill = std::function<Status(const engine::Reply&, Response&)>;
  UnaryCompletion(grpc::ServerUnaryReactor* reactor, Response* response, Fill fill)
      : reactor_(reactor), response_(response), fill_(std::move(fill)) {}

  void complete(engine::Reply&& reply) override {
    Status status = std::move(reply.status);
    if (status.is_ok()) status = fill_(reply, *response_);
    reactor_->Finish(to_grpc(status));
    delete this;
  }

 private:
  grpc::ServerUnaryReactor* reactor_;
  Response* response_;
  Fill fill_;
};

/// Authenticates and authorizes the call, builds the command with `make` and
/// hands it to the engine. `precheck` is a stateless refusal decided by the
/// caller (a bad page token, say), applied like validate(): malformed
/// requests are refused here, on the gRPC thread; a refused command still
/// goes through the engine, which journals the refusal before it is
/// answered; a refused read is answered at once (reads are not journaled).
///
/// Audit: a staff caller's commands carry the method, peer and request
/// (`request`, as JSON) to the engine, which journals them with the outcome
/// (server/audit.h); a staff call the table refuses is journaled as a
/// refused command too, so that the refusal is audited.
template <typename Response, typename Make>
grpc::ServerUnaryReactor* dispatch_checked(ServiceContext& context, grpc::CallbackServerContext* ctx,
                                           std::string_view method, Response* response, Status precheck, Make&& make,
                                           typename UnaryCompletion<Response>::Fill fill,
                                           const google::protobuf::Message* request = nullptr) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  engine::Command command;
  if (Status s = context.auth.authenticate(*ctx, command.principal); !s.is_ok()) {
    reactor->Finish(to_grpc(s));
    return reactor;
  }
  const bool audited = is_audited(command.principal.role);
  if (audited) fill_audit(command, *ctx, method, request);
  if (Status s = authorize(command.principal.role, method); !s.is_ok()) {
    if (!audited) {
      reactor->Finish(to_grpc(s));
      return reactor;
    }
    command.body = engine::Refused{std::string(method.substr(method.rfind('/') + 1)), std::move(s)};
    auto* completion = new UnaryCompletion<Response>(reactor, response, [](const engine::Reply&, Response&) {
      return Status{ErrorCode::internal, "a refused call succeeded"};
    });
    if (Status submitted = context.runtime.submit(std::move(command), completion); !submitted.is_ok()) {
      delete completion;
      reactor->Finish(to_grpc(submitted));
    }
    return reactor;
  }
  command.body = make(command.principal);
  Status s = std::move(precheck);
  if (s.is_ok()) s = engine::validate(command.body);
  if (!s.is_ok()) {
    if (engine::is_query(command.body)) {
      reactor->Finish(to_grpc(s));
      return reactor;
    }
    command.body = engine::Refused{engine::command_name(command.body), std::move(s)};
  }
  auto* completion = new UnaryCompletion<Response>(reactor, response, std::move(fill));
  if (Status submitted = context.runtime.submit(std::move(command), completion); !submitted.is_ok()) {
    delete completion;
    reactor->Finish(to_grpc(submitted));
  }
  return reactor;
}

/// dispatch_checked() without a precheck, for replies that always fit.
template <typename Response, typename Make>
grpc::ServerUnaryReactor* dispatch(ServiceContext& context, grpc::CallbackServerContext* ctx, std::string_view method,
                                   Response* response, Make&& make,
                                   std::type_identity_t<std::function<void(const engine::Reply&, Response&)>> fill,
                                   const google::protobuf::Message* request = nullptr) {
  return dispatch_checked(
      context, ctx, method, response, Status::ok(), std::forward<Make>(make),
      [fill = std::move(fill)](const engine::Reply& reply, Response& out) {
        fill(reply, out);
        return Status::ok();
      },
      request);
}

}  // namespace carbon::server
