#include "server/audit.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/json_util.h>
#include <grpc/grpc_security_constants.h>
#include <grpcpp/security/auth_context.h>

namespace carbon::server {

std::string request_summary(const google::protobuf::Message* request) {
  if (request == nullptr) return {};
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  if (!google::protobuf::util::MessageToJsonString(*request, &out, options).ok()) return "{}";
  return out;
}

void fill_audit(engine::Command& command, const grpc::ServerContextBase& ctx, std::string_view method,
                const google::protobuf::Message* request) {
  command.audit_method = "/" + std::string(method);
  command.audit_peer = ctx.peer();
  if (const auto auth = ctx.auth_context(); auth && auth->IsPeerAuthenticated()) {
    for (const grpc::string_ref& subject : auth->FindPropertyValues(GRPC_X509_SUBJECT_PROPERTY_NAME)) {
      command.audit_peer += " (" + std::string(subject.data(), subject.size()) + ")";
    }
  }
  command.audit_request = request_summary(request);
  if (request != nullptr) {
    const google::protobuf::FieldDescriptor* field = request->GetDescriptor()->FindFieldByName("participant_id");
    if (field != nullptr && field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_UINT64 &&
        !field->is_repeated()) {
      command.audit_participant = request->GetReflection()->GetUInt64(*request, field);
    }
  }
}

}  // namespace carbon::server
