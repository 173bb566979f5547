#pragma once
/// The one path of a unary RPC into the engine: authenticate, authorize,
/// build the command, refuse malformed input, submit, and answer after commit.

#include <google/protobuf/message.h>
#include <grpcpp/grpcpp.h>

#include <cassert>
#include <functional>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

#include "engine/validation.h"
#include "server/audit.h"
#include "server/auth.h"
#include "server/convert.h"
#include "server/read_slots.h"
#include "server/services.h"
#include "store/audit_writer.h"

namespace carbon::server {

/// The time of an audited read: the engine's clock (the system clock if none).
inline UnixNanos audit_now(const ServiceContext& context) {
  return context.clock != nullptr ? context.clock->now() : SystemClock().now();
}

/// Finishes one unary call with the engine's reply, after commit. `fill`
/// may still refuse (e.g. a reply too large for its page), as a status. A
/// staff read (`read_audit`) is answered only after its audit record is
/// written (finish_audited_read: queued, so the journal writer thread that
/// runs this never waits for it).
template <typename Response>
class UnaryCompletion final : public engine::Completion {
 public:
  using Fill = std::function<Status(const engine::Reply&, Response&)>;
  /// Takes the answer over from the engine's reply (true): it will finish the reactor itself, elsewhere (a
  /// read the writer's thread must not wait for). False: the reply is answered as usual. Not for audited reads.
  using Divert = std::function<bool(const engine::Reply&, grpc::ServerUnaryReactor*, Response*)>;
  UnaryCompletion(grpc::ServerUnaryReactor* reactor, Response* response, Fill fill,
                  store::AuditWriter* writer = nullptr, std::optional<engine::AuditEntry> read_audit = std::nullopt,
                  Divert divert = {})
      : reactor_(reactor), response_(response), fill_(std::move(fill)), writer_(writer),
        read_audit_(std::move(read_audit)), divert_(std::move(divert)) {}

  void complete(engine::Reply&& reply) override {
    // A diverted answer skips the audit record: only calls no staff role can make may divert.
    assert(!(divert_ && read_audit_));
    if (divert_ && divert_(reply, reactor_, response_)) {
      delete this;
      return;
    }
    Status status = std::move(reply.status);
    if (status.is_ok()) status = fill_(reply, *response_);
    if (read_audit_) {
      if (read_audit_->participant == 0) read_audit_->participant = reply.acted_on;  // e.g. GetHoldings' holder
      finish_audited_read(*writer_, reactor_, std::move(*read_audit_), std::move(status));
    } else if (reply.unjournaled_audit && writer_ != nullptr) {
      // A staff command that changed nothing (a repeat, say): audited all the same, then answered.
      finish_audited_read(*writer_, reactor_, std::move(*reply.unjournaled_audit), std::move(status));
    } else {
      reactor_->Finish(to_grpc(status));
    }
    delete this;
  }

 private:
  grpc::ServerUnaryReactor* reactor_;
  Response* response_;
  Fill fill_;
  store::AuditWriter* writer_;
  std::optional<engine::AuditEntry> read_audit_;
  Divert divert_;
};

/// A call outside the engine's dispatch (direct reads, stream openings):
/// authenticates and authorizes when made and, for a staff caller, prepares
/// its audit record (refusals by the table included, and a revoked or
/// expired staff token's attempt). Other unauthenticated calls and trader
/// calls are not audited.
class AdmittedCall {
 public:
  AdmittedCall(const ServiceContext& context, grpc::CallbackServerContext* ctx, std::string_view method,
               const google::protobuf::Message* request)
      : writer_(context.audit_writer) {
    admitted_ = context.auth.authenticate(*ctx, principal_);
    if (!admitted_.is_ok()) {
      // A revoked or expired staff token (named though refused): the attempt is audited, without its request, at
      // most once a minute per token; it is refused UNAUTHENTICATED whether or not its record can be written.
      unauthenticated_ = true;
      if (is_audited(principal_.role) && writer_ != nullptr && context.auth.audit_refused_attempt(principal_)) {
        audit_ = audit_entry(principal_, *ctx, method, nullptr, audit_now(context));
      }
    } else if (is_audited(principal_.role) && writer_ != nullptr) {
      audit_ = audit_entry(principal_, *ctx, method, request, audit_now(context));
    }
    if (admitted_.is_ok()) admitted_ = authorize(principal_.role, method);
  }

  /// OK if the caller is authenticated and the table lets its role call the method.
  const Status& admitted() const { return admitted_; }
  const engine::Principal& principal() const { return principal_; }

 protected:
  store::AuditWriter* writer_;
  engine::Principal principal_;
  Status admitted_;
  bool unauthenticated_ = false;  ///< refused before the table: its record, if any, never changes the answer
  std::optional<engine::AuditEntry> audit_;
};

/// A read answered on the gRPC thread itself (from PostgreSQL or constants,
/// no engine command); finish() answers, after a staff caller's audit record
/// (refusals included) is written. A read of the database holds one of the
/// server's read slots while it lives (server/read_slots.h): with none free
/// the call is not admitted (RESOURCE_EXHAUSTED).
class DirectRead : public AdmittedCall {
 public:
  enum class Source { database, constants };

  DirectRead(ServiceContext& context, grpc::CallbackServerContext* ctx, std::string_view method,
             const google::protobuf::Message* request, Source source = Source::database)
      : AdmittedCall(context, ctx, method, request), reactor_(ctx->DefaultReactor()) {
    if (admitted_.is_ok() && source == Source::database) {
      slot_.emplace(context.read_slots);
      if (!slot_->status().is_ok()) admitted_ = slot_->status();
    }
  }

  /// Answers `status` (and whatever the response holds), audited if the caller is staff. The read is
  /// over: its slot is free before the client can see the answer.
  grpc::ServerUnaryReactor* finish(Status status) {
    slot_.reset();
    if (audit_ && unauthenticated_) {
      finish_audited_refusal(*writer_, reactor_, std::move(*audit_), std::move(status));
    } else if (audit_) {
      finish_audited_read(*writer_, reactor_, std::move(*audit_), std::move(status));
    } else {
      reactor_->Finish(to_grpc(status));
    }
    return reactor_;
  }

 private:
  grpc::ServerUnaryReactor* reactor_;
  std::optional<ReadSlot> slot_;
};

/// The opening of a server stream (market data, order sessions). A staff
/// caller's opening is audited (audited() is true): record() writes the
/// record of its outcome, served or refused, and the stream holds its first
/// message (or its refusal) until the record is committed.
class StreamOpen : public AdmittedCall {
 public:
  using AdmittedCall::AdmittedCall;

  /// Whether the opening is audited; record() must then be called once.
  bool audited() const { return audit_.has_value(); }

  /// Writes the record with `outcome`; `then` gets `outcome`, or UNAVAILABLE
  /// if the record cannot be written, on the audit writer's thread (at once,
  /// on this one, while carbond stops).
  void record(Status outcome, std::function<void(Status)> then) {
    audit_stream_open(*writer_, std::move(*audit_), std::move(outcome), std::move(then), unauthenticated_);
    audit_.reset();
  }
};

/// Answers a staff command the engine never took (ring full, carbond
/// stopping, database down) with `status`, after its audit record is
/// written or could not be (finish_audited_refusal). The record is made
/// here, only on this rare path: the one the command carried went with it.
/// Without an audit writer, at once.
inline void finish_unsent(const ServiceContext& context, grpc::ServerUnaryReactor* reactor,
                          const engine::Principal& who, const grpc::ServerContextBase& ctx, std::string_view method,
                          const google::protobuf::Message* request, Status status) {
  if (context.audit_writer == nullptr) {
    reactor->Finish(to_grpc(status));
    return;
  }
  finish_audited_refusal(*context.audit_writer, reactor, audit_entry(who, ctx, method, request, audit_now(context)),
                         std::move(status));
}

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
/// refused command too, so that the refusal is audited. A staff read keeps
/// its record here (the engine never sees it) and is answered, served or
/// refused, after the record is written (finish_audited_read).
template <typename Response, typename Make>
grpc::ServerUnaryReactor* dispatch_checked(ServiceContext& context, grpc::CallbackServerContext* ctx,
                                           std::string_view method, Response* response, Status precheck, Make&& make,
                                           typename UnaryCompletion<Response>::Fill fill,
                                           const google::protobuf::Message* request = nullptr,
                                           typename UnaryCompletion<Response>::Divert divert = {}) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  engine::Command command;
  if (Status s = context.auth.authenticate(*ctx, command.principal); !s.is_ok()) {
    if (is_audited(command.principal.role) && context.audit_writer != nullptr &&
        context.auth.audit_refused_attempt(command.principal)) {
      // A revoked or expired staff token (named though refused): the attempt is audited (without its request, at
      // most once a minute per token), then refused UNAUTHENTICATED whether or not the record could be written.
      finish_audited_refusal(*context.audit_writer, reactor,
                             audit_entry(command.principal, *ctx, method, nullptr, audit_now(context)), std::move(s));
    } else {
      reactor->Finish(to_grpc(s));
    }
    return reactor;
  }
  const bool audited = is_audited(command.principal.role);
  if (Status s = authorize(command.principal.role, method); !s.is_ok()) {
    if (!audited) {
      reactor->Finish(to_grpc(s));
      return reactor;
    }
    fill_audit(command, audit_entry(command.principal, *ctx, method, request, 0));
    const engine::Principal who = command.principal;  // for finish_unsent(): submit takes the command
    command.body = engine::Refused{std::string(method.substr(method.rfind('/') + 1)), std::move(s)};
    auto* completion = new UnaryCompletion<Response>(reactor, response, [](const engine::Reply&, Response&) {
      return Status{ErrorCode::internal, "a refused call succeeded"};
    });
    if (Status submitted = context.runtime.submit(std::move(command), completion); !submitted.is_ok()) {
      delete completion;
      finish_unsent(context, reactor, who, *ctx, method, request, std::move(submitted));
    }
    return reactor;
  }
  command.body = make(command.principal);
  const bool query = engine::is_query(command.body);
  // The JSON of the request is made only for a record that will be written.
  std::optional<engine::AuditEntry> read_audit;
  std::optional<engine::Principal> staff_command;  // for finish_unsent(): submit takes the command
  if (audited && query && context.audit_writer != nullptr) {
    read_audit = audit_entry(command.principal, *ctx, method, request, audit_now(context));
  } else if (audited && !query) {
    fill_audit(command, audit_entry(command.principal, *ctx, method, request, 0));
    staff_command = command.principal;
  }
  Status s = std::move(precheck);
  if (s.is_ok()) s = engine::validate(command.body);
  if (!s.is_ok()) {
    if (query) {
      if (read_audit) {
        finish_audited_read(*context.audit_writer, reactor, std::move(*read_audit), std::move(s));
      } else {
        reactor->Finish(to_grpc(s));
      }
      return reactor;
    }
    command.body = engine::Refused{engine::command_name(command.body), std::move(s)};
  }
  auto* completion = new UnaryCompletion<Response>(reactor, response, std::move(fill), context.audit_writer,
                                                   std::move(read_audit), std::move(divert));
  if (Status submitted = context.runtime.submit(std::move(command), completion); !submitted.is_ok()) {
    if (staff_command) {  // a staff command that never reached the engine: audited here, then answered
      delete completion;
      finish_unsent(context, reactor, *staff_command, *ctx, method, request, std::move(submitted));
      return reactor;
    }
    engine::Reply refused;  // never reached the engine: answered (a read: audited) with why
    refused.status = std::move(submitted);
    completion->complete(std::move(refused));
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
