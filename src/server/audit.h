#pragma once
/// What the audit log records of a call (see dispatch.h): every call of the
/// staff roles (operator, registry authority, regulator, auditor), reads
/// included, and the staff calls that the authorization table refuses.
/// A stream's record (market data, order sessions) is written when it opens.
/// A command's record is journaled by the engine with its events
/// (engine::Outcome::audit); a read's record (it has no journal batch), and
/// that of a command that journaled nothing (engine::Reply::unjournaled_audit,
/// an idempotent repeat), is written by store::AuditWriter before the call is
/// answered, and if it cannot be written the call answers UNAVAILABLE instead.
/// Traders' calls and unauthenticated calls are not recorded, except a revoked
/// or expired staff token's (Authenticator names it).

#include <google/protobuf/message.h>
#include <grpcpp/grpcpp.h>

#include <functional>
#include <string>
#include <string_view>

#include "engine/records.h"

namespace carbon::store {
class AuditWriter;
}  // namespace carbon::store

namespace carbon::server {

/// Whether calls by `role` are audited: every role but ROLE_TRADER.
inline bool is_audited(Role role) { return role != Role::trader; }

/// The request as compact JSON (proto3 JSON names, defaults omitted); "" for none.
std::string request_summary(const google::protobuf::Message* request);

/// Who and what of a call, at `at`: the principal, "/" + method, the peer
/// (and the mTLS client certificate's subject, if any), the request as JSON
/// and the participant acted for (a trader's) or named in the request (a
/// top-level participant_id field). Sequence 0, outcome OK until set.
engine::AuditEntry audit_entry(const engine::Principal& who, const grpc::ServerContextBase& ctx,
                               std::string_view method, const google::protobuf::Message* request, UnixNanos at);

/// Moves the call's audit fields from `entry` into the command (the engine
/// journals them with the outcome).
void fill_audit(engine::Command& command, engine::AuditEntry&& entry);

/// Finishes a staff read with `status` once its audit record (with that
/// outcome) is committed, from the writer's thread; UNAVAILABLE if the record
/// cannot be written. Never blocks the caller.
void finish_audited_read(store::AuditWriter& writer, grpc::ServerUnaryReactor* reactor, engine::AuditEntry entry,
                         Status status);

/// Finishes a staff command the engine never took (refused at submit) with
/// `status` once its audit record is written, or could not be: the refusal
/// changed nothing, so it keeps its own code either way (a record that could
/// not be written is logged).
void finish_audited_refusal(store::AuditWriter& writer, grpc::ServerUnaryReactor* reactor, engine::AuditEntry entry,
                            Status status);

/// Writes the audit record of a staff stream's opening with `status` as its
/// outcome; then calls `then` with `status`, or UNAVAILABLE if the record
/// could not be written (the stream must then not run; with `keep_outcome`,
/// a refusal, `status` either way), on the audit writer's thread. Never blocks the caller: the stream holds its first
/// message until `then` (see StreamOpen in dispatch.h).
void audit_stream_open(store::AuditWriter& writer, engine::AuditEntry entry, Status status,
                       std::function<void(Status)> then, bool keep_outcome = false);

}  // namespace carbon::server
