#pragma once
/// What the audit log records of a call (see dispatch.h): the calls of the
/// staff roles (operator, registry authority, regulator, auditor) that change
/// state or that the authorization table refuses. The engine journals the
/// record with the command's events (engine::Outcome::audit); reads that
/// succeed and unauthenticated calls are not recorded.

#include <google/protobuf/message.h>
#include <grpcpp/grpcpp.h>

#include <string>
#include <string_view>

#include "engine/records.h"

namespace carbon::server {

/// Whether calls by `role` are audited: every role but ROLE_TRADER.
inline bool is_audited(Role role) { return role != Role::trader; }

/// The request as compact JSON (proto3 JSON names, defaults omitted); "" for none.
std::string request_summary(const google::protobuf::Message* request);

/// Sets the command's audit fields: "/" + method, the peer (and the mTLS
/// client certificate's subject, if any), the request and the participant
/// it names (a top-level participant_id field).
void fill_audit(engine::Command& command, const grpc::ServerContextBase& ctx, std::string_view method,
                const google::protobuf::Message* request);

}  // namespace carbon::server
