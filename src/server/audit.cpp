#include "server/audit.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/json_util.h>
#include <grpc/grpc_security_constants.h>
#include <grpcpp/security/auth_context.h>
#include <spdlog/spdlog.h>

#include "server/convert.h"
#include "store/audit_writer.h"

namespace carbon::server {

std::string request_summary(const google::protobuf::Message* request) {
  if (request == nullptr) return {};
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  if (!google::protobuf::util::MessageToJsonString(*request, &out, options).ok()) return "{}";
  return out;
}

engine::AuditEntry audit_entry(const engine::Principal& who, const grpc::ServerContextBase& ctx,
                               std::string_view method, const google::protobuf::Message* request, UnixNanos at) {
  engine::AuditEntry entry;
  entry.at = at;
  entry.token_id = who.token_id;
  entry.role = who.role;
  entry.principal = who.name;
  entry.participant = who.participant;
  entry.method = "/" + std::string(method);
  entry.peer = ctx.peer();
  if (const auto auth = ctx.auth_context(); auth && auth->IsPeerAuthenticated()) {
    for (const grpc::string_ref& subject : auth->FindPropertyValues(GRPC_X509_SUBJECT_PROPERTY_NAME)) {
      entry.peer += " (" + std::string(subject.data(), subject.size()) + ")";
    }
  }
  entry.request_summary = request_summary(request);
  if (request != nullptr && entry.participant == 0) {
    const google::protobuf::FieldDescriptor* field = request->GetDescriptor()->FindFieldByName("participant_id");
    if (field != nullptr && field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_UINT64 &&
        !field->is_repeated()) {
      entry.participant = request->GetReflection()->GetUInt64(*request, field);
    }
  }
  return entry;
}

void fill_audit(engine::Command& command, engine::AuditEntry&& entry) {
  command.audit_method = std::move(entry.method);
  command.audit_peer = std::move(entry.peer);
  command.audit_request = std::move(entry.request_summary);
  command.audit_participant = entry.participant;
}

void finish_audited_read(store::AuditWriter& writer, grpc::ServerUnaryReactor* reactor, engine::AuditEntry entry,
                         Status status) {
  entry.code = status.code();
  entry.message = status.message();
  writer.submit(std::move(entry), [reactor, status = std::move(status)](Status written) {
    reactor->Finish(to_grpc(written.is_ok() ? status : written));
  });
}

void finish_audited_refusal(store::AuditWriter& writer, grpc::ServerUnaryReactor* reactor, engine::AuditEntry entry,
                            Status status) {
  entry.code = status.code();
  entry.message = status.message();
  writer.submit(std::move(entry), [reactor, status = std::move(status)](Status written) {
    if (!written.is_ok()) spdlog::warn("a refused staff command's audit record was not written: {}", written.message());
    reactor->Finish(to_grpc(status));
  });
}

void audit_stream_open(store::AuditWriter& writer, engine::AuditEntry entry, Status status,
                       std::function<void(Status)> then, bool keep_outcome) {
  entry.code = status.code();
  entry.message = status.message();
  writer.submit(std::move(entry), [status = std::move(status), then = std::move(then), keep_outcome](Status written) {
    if (!written.is_ok() && keep_outcome) {
      spdlog::warn("a refused stream's audit record was not written: {}", written.message());
    }
    then(written.is_ok() || keep_outcome ? status : std::move(written));
  });
}

}  // namespace carbon::server
