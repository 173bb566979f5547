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
//   a listed role on its own resources                success (a stream: it answered or stayed open),
//                                                     or for the few RPCs that cannot succeed at the
//                                                     matrix's moment the exact status and rule in kCannot
//   a trader naming another participant's resource    PERMISSION_DENIED
// A set-up before the walk makes the allowed calls succeed: a cap, units,
// verified emissions, a CCER project, an auction, freezes and pledges; and
// kComplete fills each command's request with what its rules ask for.
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

constexpr std::int64_t kAuctionOpens = 1'795'482'000'000'000'000;   // 2026-11-24 09:00 Asia/Shanghai
constexpr std::int64_t kAuctionCloses = 1'795'489'200'000'000'000;  // 2026-11-24 11:00 Asia/Shanghai
constexpr std::int64_t kDeadline = 1'830'211'200'000'000'000;       // 2027-12-31 00:00 UTC

/// The resources of one participant that requests may name.
struct Resources {
  std::uint64_t participant = 0;
  std::uint64_t holding_account = 0;
  std::uint64_t cash_account = 0;
  std::uint64_t order = 0;
};

/// What the set-up made, for the requests that name it.
struct World {
  Resources own;                        ///< participant A's (a key emitting unit with units and emissions)
  Resources other;                      ///< participant B's (funded)
  std::uint64_t second_order = 0;       ///< A's, for AmendOrder (CancelOrder cancels the first)
  std::uint64_t auction = 0;            ///< open, selling from the auction account
  std::uint64_t project = 0;            ///< A's CCER project
  std::uint64_t freeze = 0;             ///< the registry authority's, on A's units
  std::uint64_t regulator_freeze = 0;   ///< the regulator's, on A's units
  std::uint64_t pledge_to_release = 0;  ///< A's units pledged to B
  std::uint64_t pledge_to_enforce = 0;
  std::map<Role, std::uint64_t> token_to_revoke;  ///< by the steward that may revoke it
};

/// The RPCs an allowed caller cannot complete at the matrix's moment (Tuesday
/// 10:00 of the first trading day, nothing closed yet): the status and a
/// phrase of the rule that answers. Every other allowed call must succeed.
const std::map<std::string, std::pair<grpc::StatusCode, std::string>> kCannot = {
    {"carbon.v1.TradingService/GetStatement", {grpc::StatusCode::NOT_FOUND, "end of day has not been run yet"}},
    {"carbon.v1.TradingService/OfferBlockTrade", {grpc::StatusCode::FAILED_PRECONDITION, "13:00"}},
    {"carbon.v1.TradingService/AcceptBlockTrade", {grpc::StatusCode::NOT_FOUND, "block offer"}},
    {"carbon.v1.AdminService/RunEndOfDay", {grpc::StatusCode::FAILED_PRECONDITION, "end at 15:00"}},
    {"carbon.v1.AdminService/CloseAuction", {grpc::StatusCode::FAILED_PRECONDITION, "cleared after its window"}},
    {"carbon.v1.RegistryService/CloseComplianceYear", {grpc::StatusCode::FAILED_PRECONDITION, "deadline"}},
};

/// The token requests of one caller: each steward issues and revokes tokens of the roles it keeps
/// (separation of duties: an operator a trader's, the registry authority its own, a regulator an auditor's).
void complete_for(const std::string& method, pb::Message& message, const World& w, Role caller) {
  const std::string name = method.substr(method.find('/') + 1);
  const Role kept = caller == Role::registry_authority ? Role::registry_authority
                    : caller == Role::regulator        ? Role::auditor
                                                       : Role::trader;
  if (name == "IssueApiToken") {
    auto& r = dynamic_cast<v1::IssueApiTokenRequest&>(message);
    r.set_role(kept == Role::trader ? v1::ROLE_TRADER : kept == Role::auditor ? v1::ROLE_AUDITOR
                                                                              : v1::ROLE_REGISTRY_AUTHORITY);
    if (kept != Role::trader) r.set_participant_id(0);
  } else if (name == "RevokeApiToken") {
    auto found = w.token_to_revoke.find(kept);
    dynamic_cast<v1::RevokeApiTokenRequest&>(message).set_token_id(found == w.token_to_revoke.end() ? 0 : found->second);
  }
}

/// Completes a request's fields beyond what fill() sets, so that an allowed caller's call succeeds.
void complete(const std::string& method, pb::Message& message, const World& w) {
  const std::string name = method.substr(method.find('/') + 1);
  const std::string service = method.substr(0, method.find('/'));
  if (name == "PlaceOrder") {
    auto& r = dynamic_cast<v1::PlaceOrderRequest&>(message);
    r.set_side(v1::SIDE_BUY);
    r.set_type(v1::ORDER_TYPE_LIMIT);
    r.set_time_in_force(v1::TIME_IN_FORCE_DAY);
    r.set_price_fen(9'900);
  } else if (name == "AmendOrder") {
    auto& r = dynamic_cast<v1::AmendOrderRequest&>(message);
    r.set_order_id(w.second_order);
    r.set_new_quantity(50);
  } else if (name == "OrderSession") {
    dynamic_cast<v1::SessionRequest&>(message).set_replay_after_sequence(1);
  } else if (name == "OfferBlockTrade") {
    auto& r = dynamic_cast<v1::OfferBlockTradeRequest&>(message);
    r.set_side(v1::SIDE_BUY);
    r.set_price_fen(9'900);
    r.set_quantity(100'000);
  } else if (name == "AcceptBlockTrade") {
    auto& r = dynamic_cast<v1::AcceptBlockTradeRequest&>(message);
    r.set_offer_id(w.own.order);  // no block offer can be made before 13:00
    r.set_expected_price_fen(9'900);
  } else if (name == "SubmitAuctionBid") {
    auto& r = dynamic_cast<v1::SubmitAuctionBidRequest&>(message);
    r.set_auction_id(w.auction);
    r.set_price_fen(9'500);
  } else if (name == "CreateParticipant") {
    auto& r = dynamic_cast<v1::CreateParticipantRequest&>(message);
    r.set_code("MATRIX-C");
    r.set_name("Matrix C");
    r.set_type(v1::PARTICIPANT_TYPE_INSTITUTION);
  } else if (name == "IssueApiToken") {
    dynamic_cast<v1::IssueApiTokenRequest&>(message).set_label("matrix");
  } else if (name == "Deposit" || name == "Withdraw") {
    dynamic_cast<v1::CashMovementRequest&>(message).set_amount_fen(1'000);
  } else if (name == "CreateInstrument") {
    auto& r = dynamic_cast<v1::CreateInstrumentRequest&>(message);
    r.set_code("CEA2031");
    r.set_market(v1::MARKET_COMPLIANCE);
    r.set_vintage_year(2031);
    r.set_tick_fen(1);
    r.set_lot(1);
    r.set_reference_price_fen(10'000);
  } else if (name == "SetReferencePrice") {
    dynamic_cast<v1::SetReferencePriceRequest&>(message).set_price_fen(10'000);
  } else if (name == "RunEndOfDay") {
    dynamic_cast<v1::RunEndOfDayRequest&>(message).set_trading_date("2026-11-24");
  } else if (name == "CreateAuction") {
    auto& r = dynamic_cast<v1::CreateAuctionRequest&>(message);
    r.set_seller_holding_account_id(3);  // the auction account
    r.set_offered_quantity(1'000);
    r.set_reserve_price_fen(9'000);
    r.set_pricing(v1::AUCTION_PRICING_UNIFORM);
    r.set_bid_lot(100);
    r.set_opens_at_unix_nanos(kAuctionOpens);
    r.set_closes_at_unix_nanos(kAuctionCloses);
    r.set_description("matrix");
  } else if (name == "CloseAuction") {
    dynamic_cast<v1::CloseAuctionRequest&>(message).set_auction_id(w.auction);
  } else if (name == "CancelAuction") {
    dynamic_cast<v1::CancelAuctionRequest&>(message).set_auction_id(w.auction);
  } else if (name == "SetCap") {
    auto& r = dynamic_cast<v1::SetCapRequest&>(message);
    r.set_sector("power");
    r.set_cap_quantity(2'000'000'000);
  } else if (name == "ConfigureComplianceYear") {
    auto& r = dynamic_cast<v1::ConfigureComplianceYearRequest&>(message);
    r.set_deadline_unix_nanos(kDeadline);
    r.set_ccer_limit_bps(500);
    r.set_penalty_multiplier(5);
  } else if (name == "AllocateFree") {
    auto& r = dynamic_cast<v1::AllocateFreeRequest&>(message);
    r.set_sector("power");
    r.clear_benchmark();
    r.mutable_direct()->set_quantity(100);
  } else if (name == "RecordVerifiedEmissions") {
    auto& r = dynamic_cast<v1::RecordVerifiedEmissionsRequest&>(message);
    r.set_sector("power");
    r.set_verified_emissions(1'000);
    r.set_verifier("matrix verifier");
    r.set_report_reference("MX-VER-2");
  } else if (name == "CloseComplianceYear") {
    dynamic_cast<v1::CloseComplianceYearRequest&>(message).set_penalty_basis_price_fen(10'000);
  } else if (name == "RegisterMethodology") {
    auto& r = dynamic_cast<v1::RegisterMethodologyRequest&>(message);
    r.set_code("MX-METH-2");
    r.set_name("Matrix methodology");
    r.set_version("V01");
    r.set_field("forestry");
  } else if (name == "RegisterCcerProject") {
    auto& r = dynamic_cast<v1::RegisterCcerProjectRequest&>(message);
    r.set_project_code("MX-PROJ-2");
    r.set_name("Matrix project");
    r.set_methodology_code("MX-METH");
    r.set_owner_participant_id(w.own.participant);
    r.set_location("Yunnan");
    r.set_validation_body("CQC");
    r.set_validation_report_reference("VAL-MX-2");
    r.set_crediting_period_start_date("2024-01-01");
    r.set_crediting_period_end_date("2033-12-31");
  } else if (name == "IssueCcerCredits") {
    auto& r = dynamic_cast<v1::IssueCcerCreditsRequest&>(message);
    r.set_project_id(w.project);
    r.set_vintage_year(2025);
    r.set_monitoring_period_start_date("2025-01-01");
    r.set_monitoring_period_end_date("2025-12-31");
    r.set_verification_body("CEC");
    r.set_verification_report_reference("VER-MX-2");
  } else if (name == "RetireUnits") {
    dynamic_cast<v1::RetireUnitsRequest&>(message).set_instrument("CCER");
  } else if (name == "Unfreeze") {
    dynamic_cast<v1::UnfreezeRequest&>(message).set_freeze_id(service == "carbon.v1.RegulatorService" ? w.regulator_freeze
                                                                                                     : w.freeze);
  } else if (name == "Pledge") {
    auto& r = dynamic_cast<v1::PledgeRequest&>(message);
    r.set_pledgee_participant_id(w.other.participant);
    r.set_contract_reference("MX-LOAN-2");
  } else if (name == "ReleasePledge") {
    dynamic_cast<v1::ReleasePledgeRequest&>(message).set_pledge_id(w.pledge_to_release);
  } else if (name == "EnforcePledge") {
    dynamic_cast<v1::EnforcePledgeRequest&>(message).set_pledge_id(w.pledge_to_enforce);
  } else if (name == "RegisterRepo") {
    auto& r = dynamic_cast<v1::RegisterRepoRequest&>(message);
    r.set_seller_participant_id(w.own.participant);
    r.set_buyer_participant_id(w.other.participant);
    r.set_first_leg_price_fen(9'900);
    r.set_second_leg_price_fen(10'000);
    r.set_second_leg_date("2026-12-01");
    r.set_contract_reference("MX-REPO");
  } else if (name == "Transfer") {
    auto& r = dynamic_cast<v1::TransferRequest&>(message);
    r.set_from_holding_account_id(w.own.holding_account);
    r.set_to_holding_account_id(w.other.holding_account);
  }
}

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

  // Two participants: A (owner of the resources named, a key emitting unit) and B (the other one).
  auto create = [&](const std::string& code, v1::ParticipantType type) {
    v1::CreateParticipantRequest request;
    request.set_code(code);
    request.set_name(code);
    request.set_type(type);
    v1::CreateParticipantResponse response;
    const grpc::Status status = x.admin->CreateParticipant(RunningExchange::as(kOperatorToken).get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  };
  const v1::CreateParticipantResponse a = create("MATRIX-A", v1::PARTICIPANT_TYPE_KEY_EMITTING_UNIT);
  const v1::CreateParticipantResponse b = create("MATRIX-B", v1::PARTICIPANT_TYPE_INSTITUTION);
  World w;
  w.own = Resources{a.participant().participant_id(), a.participant().holding_account_id(),
                    a.participant().cash_account_id(), 0};
  w.other = Resources{b.participant().participant_id(), b.participant().holding_account_id(),
                      b.participant().cash_account_id(), 0};
  Resources& own = w.own;
  // The set-up, each call as the staff member who may make it.
  const auto ok = [&](const grpc::Status& status, const char* what) {
    EXPECT_TRUE(status.ok()) << what << ": " << status.error_message();
  };
  const auto ops = [] { return RunningExchange::as(kOperatorToken); };
  const auto reg = [] { return RunningExchange::as(kRegistryToken); };
  for (const Resources* r : {&w.own, &w.other}) ok(deposit(x, r->cash_account, 100'000'000, "matrix-funds"), "deposit");
  {
    v1::SetCapRequest cap;
    cap.set_compliance_year(2024);
    cap.set_sector("power");
    cap.set_cap_quantity(1'000'000'000);
    cap.set_reason("matrix cap");
    v1::Cap capped;
    ok(x.registry->SetCap(reg().get(), cap, &capped), "cap");
    for (const std::uint64_t account : {w.own.holding_account, std::uint64_t{3}}) {  // A's, the auction account's
      v1::IssueAllowancesRequest issue;
      issue.set_instrument("CEA2024");
      issue.set_holding_account_id(account);
      issue.set_quantity(100'000);
      issue.set_reason("matrix units");
      issue.set_idempotency_key("matrix-units");
      v1::IssueAllowancesResponse issued;
      ok(x.registry->IssueAllowances(reg().get(), issue, &issued), "issue");
    }
    v1::RecordVerifiedEmissionsRequest emissions;
    emissions.set_participant_id(w.own.participant);
    emissions.set_compliance_year(2024);
    emissions.set_sector("power");
    emissions.set_verified_emissions(50'000);
    emissions.set_verifier("matrix verifier");
    emissions.set_report_reference("MX-VER-1");
    emissions.set_reason("matrix");
    emissions.set_idempotency_key("matrix-emissions");
    v1::ComplianceStatus recorded;
    ok(x.registry->RecordVerifiedEmissions(reg().get(), emissions, &recorded), "emissions");
  }
  {
    v1::RegisterMethodologyRequest methodology;
    methodology.set_code("MX-METH");
    methodology.set_name("Matrix methodology");
    methodology.set_version("V01");
    methodology.set_field("forestry");
    v1::Methodology registered;
    ok(x.registry->RegisterMethodology(reg().get(), methodology, &registered), "methodology");
    v1::RegisterCcerProjectRequest project;
    project.set_project_code("MX-PROJ");
    project.set_name("Matrix project");
    project.set_methodology_code("MX-METH");
    project.set_owner_participant_id(w.own.participant);
    project.set_location("Yunnan");
    project.set_validation_body("CQC");
    project.set_validation_report_reference("VAL-MX");
    project.set_crediting_period_start_date("2024-01-01");
    project.set_crediting_period_end_date("2033-12-31");
    v1::CcerProject created;
    ok(x.registry->RegisterCcerProject(reg().get(), project, &created), "project");
    w.project = created.project_id();
    v1::IssueCcerCreditsRequest credits;
    credits.set_project_id(w.project);
    credits.set_vintage_year(2024);
    credits.set_quantity(10'000);
    credits.set_monitoring_period_start_date("2024-01-01");
    credits.set_monitoring_period_end_date("2024-12-31");
    credits.set_verification_body("CEC");
    credits.set_verification_report_reference("VER-MX");
    credits.set_idempotency_key("matrix-credits");
    v1::IssueCcerCreditsResponse issued;
    ok(x.registry->IssueCcerCredits(reg().get(), credits, &issued), "credits");
  }
  {
    v1::CreateAuctionRequest auction;
    complete("carbon.v1.AdminService/CreateAuction", auction, w);
    auction.set_instrument("CEA2024");
    auction.set_idempotency_key("matrix-auction");
    v1::Auction created;
    ok(x.admin->CreateAuction(ops().get(), auction, &created), "auction");
    w.auction = created.auction_id();
  }
  {
    auto freeze = [&](const std::string& token, const char* key) {
      v1::FreezeRequest request;
      request.set_holding_account_id(w.own.holding_account);
      request.set_instrument("CEA2024");
      request.set_quantity(1'000);
      request.set_reason("matrix");
      request.set_legal_reference("case MX");
      request.set_idempotency_key(key);
      v1::FreezeResponse frozen;
      if (token == kRegulatorToken) {
        ok(v1::RegulatorService::NewStub(x.channel)->Freeze(RunningExchange::as(token).get(), request, &frozen),
           "regulator's freeze");
      } else {
        ok(x.registry->Freeze(RunningExchange::as(token).get(), request, &frozen), "freeze");
      }
      return frozen.freeze().freeze_id();
    };
    w.freeze = freeze(kRegistryToken, "matrix-freeze-1");
    w.regulator_freeze = freeze(kRegulatorToken, "matrix-freeze-2");
    auto pledge = [&](const char* key) {
      v1::PledgeRequest request;
      request.set_holding_account_id(w.own.holding_account);
      request.set_instrument("CEA2024");
      request.set_quantity(1'000);
      request.set_pledgee_participant_id(w.other.participant);
      request.set_contract_reference(key);
      request.set_idempotency_key(key);
      v1::PledgeResponse pledged;
      ok(x.registry->Pledge(reg().get(), request, &pledged), "pledge");
      return pledged.pledge().pledge_id();
    };
    w.pledge_to_release = pledge("matrix-pledge-1");
    w.pledge_to_enforce = pledge("matrix-pledge-2");
  }
  for (const char* id : {"matrix-order", "matrix-order-2"}) {
    v1::PlaceOrderRequest order;
    order.set_instrument("CEA2024");
    order.set_side(v1::SIDE_BUY);
    order.set_type(v1::ORDER_TYPE_LIMIT);
    order.set_time_in_force(v1::TIME_IN_FORCE_DAY);
    order.set_price_fen(9'900);
    order.set_quantity(100);
    order.set_client_order_id(id);
    v1::PlaceOrderResponse placed;
    const grpc::Status status = x.trading->PlaceOrder(RunningExchange::as(a.trader_token()).get(), order, &placed);
    ASSERT_TRUE(status.ok()) << status.error_message();
    (own.order == 0 ? own.order : w.second_order) = placed.order().order_id();
  }

  // Tokens for the roles the config has no staff for, and one revoked.
  // Auditors' tokens are a regulator's to issue, the others here an operator's.
  auto issue = [&](v1::Role role, std::uint64_t participant, const std::string& label) {
    v1::IssueApiTokenRequest request;
    request.set_role(role);
    request.set_participant_id(participant);
    request.set_label(label);
    v1::IssueApiTokenResponse response;
    const std::string& as = role == v1::ROLE_AUDITOR ? kRegulatorToken : kOperatorToken;
    const grpc::Status status = x.admin->IssueApiToken(RunningExchange::as(as).get(), request, &response);
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
  w.token_to_revoke[Role::trader] = issue(v1::ROLE_TRADER, w.own.participant, "to revoke").api_token().token_id();
  w.token_to_revoke[Role::auditor] = issue(v1::ROLE_AUDITOR, 0, "to revoke").api_token().token_id();
  {
    v1::IssueApiTokenRequest request;
    request.set_role(v1::ROLE_REGISTRY_AUTHORITY);
    request.set_label("to revoke");
    v1::IssueApiTokenResponse response;
    ok(x.admin->IssueApiToken(reg().get(), request, &response), "registry token");
    w.token_to_revoke[Role::registry_authority] = response.api_token().token_id();
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
      complete(name, *request, w);

      std::map<std::string, grpc::Status> seen;
      for (const Caller& caller : callers) {
        std::unique_ptr<pb::Message> mine(request->New());
        mine->CopyFrom(*request);
        if (caller.role) complete_for(name, *mine, w, *caller.role);
        seen[caller.name] = call(x.channel, method, *mine, caller.token);
        ++calls;
      }
      const bool is_unimplemented = seen["operator"].error_code() == grpc::StatusCode::UNIMPLEMENTED;
      if (is_unimplemented) {
        unimplemented.push_back(name);
        for (const auto& [who, status] : seen) {
          EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED) << name << " as " << who;
        }
        continue;
      }
      const bool streams = method.client_streaming() || method.server_streaming();
      for (const Caller& caller : callers) {
        const grpc::StatusCode code = seen[caller.name].error_code();
        const std::string& message = seen[caller.name].error_message();
        const std::string where = name + " as " + caller.name;
        if (!caller.role) {
          EXPECT_EQ(code, grpc::StatusCode::UNAUTHENTICATED) << where;
        } else if (!server::authorize(*caller.role, name).is_ok()) {
          EXPECT_EQ(code, grpc::StatusCode::PERMISSION_DENIED) << where;
        } else if (caller.other && names_resource && !kPublicToTraders.contains(name)) {
          EXPECT_EQ(code, grpc::StatusCode::PERMISSION_DENIED) << where << " (another participant's resource)";
        } else if (auto cannot = kCannot.find(name); cannot != kCannot.end()) {
          EXPECT_EQ(code, cannot->second.first) << where << ": " << message;
          EXPECT_NE(message.find(cannot->second.second), std::string::npos) << where << ": " << message;
        } else if (streams) {
          // Served: it answered (the call cancels it then), or for the trade stream, with no trade yet at the
          // matrix's moment, stayed open with nothing to say.
          const bool quiet = name == "carbon.v1.MarketDataService/StreamTrades";
          EXPECT_EQ(code, quiet ? grpc::StatusCode::DEADLINE_EXCEEDED : grpc::StatusCode::CANCELLED)
              << where << ": " << message;
        } else {
          EXPECT_EQ(code, grpc::StatusCode::OK) << where << ": " << message;
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
