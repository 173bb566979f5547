#pragma once
/// The one path of a unary RPC into the engine: authenticate, authorize,
/// build the command, refuse malformed input, submit, and answer after commit.

#include <grpcpp/grpcpp.h>

#include <functional>
#include <string_view>
#include <type_traits>
#include <utility>

#include "engine/validation.h"
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
template <typename Response, typename Make>
grpc::ServerUnaryReactor* dispatch_checked(ServiceContext& context, grpc::CallbackServerContext* ctx,
                                           std::string_view method, Response* response, Status precheck, Make&& make,
                                           typename UnaryCompletion<Response>::Fill fill) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  engine::Command command;
  if (Status s = context.auth.authenticate(*ctx, command.principal); !s.is_ok()) {
    reactor->Finish(to_grpc(s));
    return reactor;
  }
  if (Status s = authorize(command.principal.role, method); !s.is_ok()) {
    reactor->Finish(to_grpc(s));
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
                                   std::type_identity_t<std::function<void(const engine::Reply&, Response&)>> fill) {
  return dispatch_checked(context, ctx, method, response, Status::ok(), std::forward<Make>(make),
                          [fill = std::move(fill)](const engine::Reply& reply, Response& out) {
                            fill(reply, out);
                            return Status::ok();
                          });
}

}  // namespace carbon::server
