// The authorization matrix against a real carbond and PostgreSQL: every
// method of every service of proto/carbon/v1, taken from the protobuf
// descriptor pool (so an RPC added later is covered without touching this
// file), called as every role, with no token, a malformed token, an unknown
// token and a revoked one, and for traders with its own resources and with
// another participant's. Requests are default messages with the resource ids
// filled where a field names one (participant, account, order) and a few
// plain fields set (instrument, year, quantity, reason, idempotency key) so
// that requests get past stateless validation to the ownership check.
//
// Expected, per call:
//   no token / bad token / unknown / revoked token  UNAUTHENTICATED
//   a role the table (server/auth.cpp) does not list  PERMISSION_DENIED
//   a listed role on its own resources                neither of the above
//   a trader naming another participant's resource    PERMISSION_DENIED
// A method this build does not implement answers UNIMPLEMENTED before any
// check; such methods are listed in the test output and must answer
// UNIMPLEMENTED to everyone (they still need a row in the table).

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "carbon/v1/regulator.grpc.pb.h"
#include "e2e/e2e_support.h"

namespace carbon::testing {
namespace {

namespace pb = google::protobuf;

constexpr const char* kServices[] = {"carbon.v1.TradingService", "carbon.v1.MarketDataService",
                                     "carbon.v1.AdminService", "carbon.v1.RegistryService",
                                     "carbon.v1.RegulatorService"};

/// Trader RPCs that may name another participant on purpose (a public view; documented in their proto comments).
/// RPCs whose answers are public to traders even when they name another participant
/// (participants' directory; retirements are published by the registry).
const std::set<std::string> kPublicToTraders = {"carbon.v1.AdminService/GetParticipant",
                                                "carbon.v1.RegistryService/ListRetirements"};

/// The resources of one participant that requests may name.
struct Resources {
  std::uint64_t participant = 0;
  std::uint64_t holding_account = 0;
  std::uint64_t cash_account = 0;
  std::uint64_t order = 0;
};

/// A caller of the matrix.
struct Caller {
  std::string name;
  std::string token;
  std::optional<Role> role;  ///< nothing: not authenticated
  bool other = false;        ///< a trader naming the other participant's resources
};

/// Fills the fields that name a resource; true if one was filled.
bool fill(pb::Message& message, const Resources& r, int depth = 0) {
  const pb::Descriptor* d = message.GetDescriptor();
  const pb::Reflection* reflection = message.GetReflection();
  bool named = false;
  for (int i = 0; i < d->field_count(); ++i) {
    const pb::FieldDescriptor* f = d->field(i);
    if (f->is_repeated()) continue;
    const std::string& name = f->name();
    if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_UINT64) {
      std::uint64_t value = 0;
      if (name == "participant_id") value = r.participant;
      if (name == "holding_account_id" || name == "account_id") value = r.holding_account;
      if (name == "cash_account_id") value = r.cash_account;
      if (name == "order_id") value = r.order;
      if (value != 0) {
        reflection->SetUInt64(&message, f, value);
        named = true;
      }
    } else if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_STRING && f->type() == pb::FieldDescriptor::TYPE_STRING) {
      static int key = 0;
      if (name == "instrument") reflection->SetString(&message, f, "CEA2024");
      if (name == "idempotency_key" || name == "reason" || name == "beneficiary" || name == "purpose") {
        reflection->SetString(&message, f, "matrix-" + std::to_string(++key));
      }
    } else if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_INT64 && name.ends_with("quantity")) {
      reflection->SetInt64(&message, f, 100);
    } else if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_INT32 && (name == "compliance_year" || name == "year")) {
      reflection->SetInt32(&message, f, 2024);
    } else if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE && depth < 2) {
      named = fill(*reflection->MutableMessage(&message, f), r, depth + 1) || named;
    }
  }
  return named;
}

/// A generic stream call: sends the request, half-closes, and stops at the
/// first answer (a stream that serves would run on). Owns itself: deleted in OnDone().
class StreamCall final : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  StreamCall(grpc::GenericStub& stub, std::unique_ptr<grpc::ClientContext> context, const std::string& path,
             const std::string& wire, std::shared_ptr<std::promise<grpc::Status>> done)
      : context_(std::move(context)), done_(std::move(done)) {
    stub.PrepareBidiStreamingCall(context_.get(), path, grpc::StubOptions(), this);
    grpc::Slice slice(wire);
    request_ = grpc::ByteBuffer(&slice, 1);
    StartWrite(&request_);
    StartRead(&response_);
    StartCall();
  }
  void OnWriteDone(bool ok) override {
    if (ok) StartWritesDone();
  }
  void OnReadDone(bool ok) override {
    if (ok) context_->TryCancel();
  }
  void OnDone(const grpc::Status& status) override {
    auto done = std::move(done_);
    delete this;
    done->set_value(status);
  }

 private:
  std::unique_ptr<grpc::ClientContext> context_;
  grpc::ByteBuffer request_, response_;
  std::shared_ptr<std::promise<grpc::Status>> done_;
};

grpc::Status call(const std::shared_ptr<grpc::Channel>& channel, const pb::MethodDescriptor& method,
                  const pb::Message& request, const std::string& token) {
  grpc::GenericStub stub(channel);
  const std::string path = "/" + method.service()->full_name() + "/" + method.name();
  std::string wire;
  request.SerializeToString(&wire);
  // "raw:<value>" sends <value> as the authorization header itself (not "Bearer <token>").
  auto context = RunningExchange::as(token.starts_with("raw:") ? "" : token);
  if (token.starts_with("raw:")) context->AddMetadata("authorization", token.substr(4));
  if (!method.client_streaming() && !method.server_streaming()) {
    grpc::Slice slice(wire);
    grpc::ByteBuffer in(&slice, 1), out;
    std::promise<grpc::Status> done;
    stub.UnaryCall(context.get(), path, grpc::StubOptions(), &in, &out,
                   [&](grpc::Status status) { done.set_value(status); });
    return done.get_future().get();
  }
  // The status is the refusal, CANCELLED (it answered), or DEADLINE_EXCEEDED
  // for a stream with nothing to say yet.
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  auto done = std::make_shared<std::promise<grpc::Status>>();
  std::future<grpc::Status> result = done->get_future();
  new StreamCall(stub, std::move(context), path, wire, std::move(done));
  return result.get();
}

class AuthMatrixTest : public ::testing::Test {
 protected:
  TestDatabase db;
};

TEST_F(AuthMatrixTest, EveryMethodEveryRoleOwnAndOthersResources) {
  RunningExchange x({"--postgres=" + db.conninfo()});
  x.start();

  // Two participants: A (owner of the resources named) and B (the other one).
  auto create = [&](const std::string& code) {
    v1::CreateParticipantRequest request;
    request.set_code(code);
    request.set_name(code);
    request.set_type(v1::PARTICIPANT_TYPE_INSTITUTION);
    v1::CreateParticipantResponse response;
    const grpc::Status status = x.admin->CreateParticipant(RunningExchange::as(kOperatorToken).get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  };
  const v1::CreateParticipantResponse a = create("MATRIX-A");
  const v1::CreateParticipantResponse b = create("MATRIX-B");
  Resources own{a.participant().participant_id(), a.participant().holding_account_id(),
                a.participant().cash_account_id(), 0};
  {
    v1::CashMovementRequest deposit;
    deposit.set_cash_account_id(own.cash_account);
    deposit.set_amount_fen(100'000'000);
    deposit.set_idempotency_key("matrix-funds");
    v1::CashMovementResponse done;
    ASSERT_TRUE(x.admin->Deposit(RunningExchange::as(kOperatorToken).get(), deposit, &done).ok());
    v1::PlaceOrderRequest order;
    order.set_instrument("CEA2024");
    order.set_side(v1::SIDE_BUY);
    order.set_type(v1::ORDER_TYPE_LIMIT);
    order.set_time_in_force(v1::TIME_IN_FORCE_DAY);
    order.set_price_fen(9'900);
    order.set_quantity(100);
    order.set_client_order_id("matrix-order");
    v1::PlaceOrderResponse placed;
    const grpc::Status status = x.trading->PlaceOrder(RunningExchange::as(a.trader_token()).get(), order, &placed);
    ASSERT_TRUE(status.ok()) << status.error_message();
    own.order = placed.order().order_id();
  }

  // Tokens for the roles the config has no staff for, and one revoked.
  auto issue = [&](v1::Role role, std::uint64_t participant, const std::string& label) {
    v1::IssueApiTokenRequest request;
    request.set_role(role);
    request.set_participant_id(participant);
    request.set_label(label);
    v1::IssueApiTokenResponse response;
    const grpc::Status status = x.admin->IssueApiToken(RunningExchange::as(kOperatorToken).get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  };
  const std::string auditor = issue(v1::ROLE_AUDITOR, 0, "matrix auditor").token();
  const v1::IssueApiTokenResponse revoked = issue(v1::ROLE_OPERATOR, 0, "matrix revoked operator");
  {
    v1::RevokeApiTokenRequest request;
    request.set_token_id(revoked.api_token().token_id());
    v1::RevokeApiTokenResponse response;
    ASSERT_TRUE(x.admin->RevokeApiToken(RunningExchange::as(kOperatorToken).get(), request, &response).ok());
  }

  const std::vector<Caller> callers = {
      {"no token", "", std::nullopt},
      {"malformed token", "raw:Basic bWF0cml4OnNlY3JldA==", std::nullopt},
      {"unknown token", "cbt_unknown", std::nullopt},
      {"revoked token", revoked.token(), std::nullopt},
      {"trader (own)", a.trader_token(), Role::trader},
      {"trader (other's)", b.trader_token(), Role::trader, true},
      {"operator", kOperatorToken, Role::operator_},
      {"registry authority", kRegistryToken, Role::registry_authority},
      {"regulator", kRegulatorToken, Role::regulator},
      {"auditor", auditor, Role::auditor},
  };

  int methods = 0, calls = 0;
  std::vector<std::string> unimplemented;
  for (const char* service_name : kServices) {
    const pb::ServiceDescriptor* service = pb::DescriptorPool::generated_pool()->FindServiceByName(service_name);
    ASSERT_NE(service, nullptr) << service_name;
    for (int m = 0; m < service->method_count(); ++m) {
      const pb::MethodDescriptor& method = *service->method(m);
      const std::string name = service->full_name() + "/" + method.name();
      ++methods;
      // The table names at least one role for every method.
      bool anyone = false;
      for (Role role : {Role::trader, Role::operator_, Role::registry_authority, Role::regulator, Role::auditor}) {
        anyone = anyone || server::authorize(role, name).is_ok();
      }
      EXPECT_TRUE(anyone) << name << " has no row in the authorization table (src/server/auth.cpp)";

      const pb::Message* prototype = pb::MessageFactory::generated_factory()->GetPrototype(method.input_type());
      std::unique_ptr<pb::Message> request(prototype->New());
      const bool names_resource = fill(*request, own);

      std::map<std::string, grpc::StatusCode> seen;
      for (const Caller& caller : callers) {
        const grpc::Status status = call(x.channel, method, *request, caller.token);
        ++calls;
        seen[caller.name] = status.error_code();
      }
      const bool is_unimplemented = seen["operator"] == grpc::StatusCode::UNIMPLEMENTED;
      if (is_unimplemented) {
        unimplemented.push_back(name);
        for (const auto& [who, code] : seen) {
          EXPECT_EQ(code, grpc::StatusCode::UNIMPLEMENTED) << name << " as " << who;
        }
        continue;
      }
      for (const Caller& caller : callers) {
        const grpc::StatusCode code = seen[caller.name];
        const std::string where = name + " as " + caller.name;
        if (!caller.role) {
          EXPECT_EQ(code, grpc::StatusCode::UNAUTHENTICATED) << where;
        } else if (!server::authorize(*caller.role, name).is_ok()) {
          EXPECT_EQ(code, grpc::StatusCode::PERMISSION_DENIED) << where;
        } else if (caller.other && names_resource && !kPublicToTraders.contains(name)) {
          EXPECT_EQ(code, grpc::StatusCode::PERMISSION_DENIED) << where << " (another participant's resource)";
        } else {
          EXPECT_NE(code, grpc::StatusCode::UNAUTHENTICATED) << where;
          EXPECT_NE(code, grpc::StatusCode::PERMISSION_DENIED) << where;
        }
      }
    }
  }
  EXPECT_GE(methods, 80);
  std::string list;
  for (const std::string& name : unimplemented) list += "\n  " + name;
  std::cout << methods << " methods, " << calls << " calls; not implemented in this build (UNIMPLEMENTED to everyone):"
            << list << "\n";
}

}  // namespace
}  // namespace carbon::testing
