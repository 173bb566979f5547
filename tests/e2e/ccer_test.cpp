// CCER over gRPC against a real PostgreSQL: a methodology and a project,
// two issuances, a listed trade that splits the serial blocks first in first
// out, a public retirement with beneficiary and purpose, and everything read
// again identically after a restart; the ledger still verifies.

#include <gtest/gtest.h>

#include "carbon/v1/regulator.grpc.pb.h"
#include "e2e/e2e_support.h"

namespace carbon::testing {
namespace {

class CcerTest : public ::testing::Test {
 protected:
  std::unique_ptr<RunningExchange> open() {
    auto exchange = std::make_unique<RunningExchange>(std::vector<std::string>{"--postgres=" + db.conninfo()});
    exchange->start();
    regulator = v1::RegulatorService::NewStub(exchange->channel);
    return exchange;
  }

  static v1::CreateParticipantResponse create(RunningExchange& x, const std::string& code, v1::ParticipantType type) {
    v1::CreateParticipantRequest request;
    request.set_code(code);
    request.set_name(code + " Co.");
    request.set_type(type);
    v1::CreateParticipantResponse response;
    EXPECT_TRUE(x.admin->CreateParticipant(RunningExchange::as(kOperatorToken).get(), request, &response).ok());
    return response;
  }

  static grpc::Status issue(RunningExchange& x, std::int32_t vintage, std::int64_t quantity, const std::string& start,
                            const std::string& end, const std::string& key, v1::IssueCcerCreditsResponse& out) {
    v1::IssueCcerCreditsRequest request;
    request.set_project_id(1);
    request.set_vintage_year(vintage);
    request.set_quantity(quantity);
    request.set_monitoring_period_start_date(start);
    request.set_monitoring_period_end_date(end);
    request.set_verification_body("China Environmental United Certification Center");
    request.set_verification_report_reference("VER-" + key);
    request.set_idempotency_key(key);
    return x.registry->IssueCcerCredits(RunningExchange::as(kRegistryToken).get(), request, &out);
  }

  static grpc::Status place(RunningExchange& x, const std::string& token, v1::Side side, std::int64_t quantity) {
    v1::PlaceOrderRequest request;
    request.set_instrument("CCER");
    request.set_side(side);
    request.set_price_fen(5'000);
    request.set_quantity(quantity);
    v1::PlaceOrderResponse response;
    return x.trading->PlaceOrder(RunningExchange::as(token).get(), request, &response);
  }

  static v1::ListSerialBlocksResponse blocks(RunningExchange& x, const std::string& token, std::uint64_t account,
                                             std::uint64_t project = 0) {
    v1::ListSerialBlocksRequest request;
    request.set_holding_account_id(account);
    request.set_project_id(project);
    v1::ListSerialBlocksResponse response;
    const grpc::Status call = x.registry->ListSerialBlocks(RunningExchange::as(token).get(), request, &response);
    EXPECT_TRUE(call.ok()) << call.error_message();
    return response;
  }

  static grpc::Status retire(RunningExchange& x, const std::string& token, std::int64_t quantity,
                             const std::string& key, v1::RetireUnitsResponse& out) {
    v1::RetireUnitsRequest request;
    request.set_instrument("CCER");
    request.set_quantity(quantity);
    request.set_beneficiary("Shanghai Marathon 2026");
    request.set_purpose("offset of the event's 2026 emissions");
    request.set_idempotency_key(key);
    return x.registry->RetireUnits(RunningExchange::as(token).get(), request, &out);
  }

  /// Everything the CCER RPCs answer, as text, to compare before and after a restart.
  std::string everything(RunningExchange& x, const std::string& trader_token, std::uint64_t developer_account,
                         std::uint64_t buyer_account) {
    std::string out;
    v1::ListMethodologiesResponse methodologies;
    EXPECT_TRUE(x.registry->ListMethodologies(RunningExchange::as(trader_token).get(), {}, &methodologies).ok());
    out += methodologies.ShortDebugString() + "\n";
    v1::ListCcerProjectsResponse projects;
    EXPECT_TRUE(x.registry->ListCcerProjects(RunningExchange::as(trader_token).get(), {}, &projects).ok());
    out += projects.ShortDebugString() + "\n";
    out += blocks(x, kRegulatorToken, developer_account).ShortDebugString() + "\n";
    out += blocks(x, kRegulatorToken, buyer_account).ShortDebugString() + "\n";
    out += blocks(x, kRegulatorToken, 0, 1).ShortDebugString() + "\n";
    v1::ListRetirementsResponse retirements;
    EXPECT_TRUE(x.registry->ListRetirements(RunningExchange::as(trader_token).get(), {}, &retirements).ok());
    out += retirements.ShortDebugString() + "\n";
    for (std::uint64_t account : {developer_account, buyer_account, std::uint64_t{5}}) {
      v1::GetHoldingsRequest request;
      request.set_holding_account_id(account);
      v1::GetHoldingsResponse holdings;
      EXPECT_TRUE(x.registry->GetHoldings(RunningExchange::as(kRegistryToken).get(), request, &holdings).ok());
      out += holdings.ShortDebugString() + "\n";
    }
    return out;
  }

  void expect_ledger_verifies(std::uint64_t account) {
    v1::VerifyLedgerRequest verify;
    verify.set_holding_account_id(account);
    v1::VerifyLedgerResponse verified;
    const grpc::Status call = regulator->VerifyLedger(RunningExchange::as(kRegulatorToken).get(), verify, &verified);
    ASSERT_TRUE(call.ok()) << call.error_message();
    EXPECT_TRUE(verified.valid()) << verified.failure();
    EXPECT_EQ(verified.entries_checked(), verified.last_ledger_entry_id());
  }

  TestDatabase db;
  std::unique_ptr<v1::RegulatorService::Stub> regulator;
};

TEST_F(CcerTest, IssueTradeRetireAndRestartKeepEverySerial) {
  std::string developer_token, buyer_token, before;
  std::uint64_t developer_account = 0, buyer_account = 0;
  {
    auto x = open();
    const auto developer = create(*x, "DEV-1", v1::PARTICIPANT_TYPE_INSTITUTION);
    const auto buyer = create(*x, "BUY-1", v1::PARTICIPANT_TYPE_INSTITUTION);
    developer_token = developer.trader_token();
    buyer_token = buyer.trader_token();
    developer_account = developer.participant().holding_account_id();
    buyer_account = buyer.participant().holding_account_id();
    v1::CashMovementRequest deposit;
    deposit.set_cash_account_id(buyer.participant().cash_account_id());
    deposit.set_amount_fen(100'000'000);
    deposit.set_idempotency_key("dep-1");
    v1::CashMovementResponse deposited;
    ASSERT_TRUE(x->admin->Deposit(RunningExchange::as(kOperatorToken).get(), deposit, &deposited).ok());

    v1::RegisterMethodologyRequest methodology;
    methodology.set_code("CCER-14-001-V01");
    methodology.set_name("Afforestation carbon sink");
    methodology.set_version("V01");
    methodology.set_field("forestry");
    v1::Methodology registered;
    grpc::Status call =
        x->registry->RegisterMethodology(RunningExchange::as(kRegistryToken).get(), methodology, &registered);
    ASSERT_TRUE(call.ok()) << call.error_message();
    EXPECT_EQ(x->registry->RegisterMethodology(RunningExchange::as(kRegistryToken).get(), methodology, &registered)
                  .error_code(),
              grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_EQ(x->registry->RegisterMethodology(RunningExchange::as(developer_token).get(), methodology, &registered)
                  .error_code(),
              grpc::StatusCode::PERMISSION_DENIED);

    v1::RegisterCcerProjectRequest project;
    project.set_project_code("P-2026-0001");
    project.set_name("Hilltop forest");
    project.set_methodology_code("CCER-14-001-V01");
    project.set_owner_participant_id(developer.participant().participant_id());
    project.set_location("Yunnan");
    project.set_validation_body("CQC");
    project.set_validation_report_reference("VAL-17");
    project.set_crediting_period_start_date("2024-01-01");
    project.set_crediting_period_end_date("2033-12-31");
    v1::CcerProject created;
    call = x->registry->RegisterCcerProject(RunningExchange::as(kRegistryToken).get(), project, &created);
    ASSERT_TRUE(call.ok()) << call.error_message();
    EXPECT_EQ(created.project_id(), 1u);
    project.set_methodology_code("CCER-99");
    EXPECT_EQ(x->registry->RegisterCcerProject(RunningExchange::as(kRegistryToken).get(), project, &created).error_code(),
              grpc::StatusCode::NOT_FOUND);

    v1::IssueCcerCreditsResponse issued;
    call = issue(*x, 2024, 1'000, "2024-01-01", "2024-12-31", "iss-1", issued);
    ASSERT_TRUE(call.ok()) << call.error_message();
    EXPECT_EQ(issued.issuance().serials().serial_start(), 1u);
    EXPECT_EQ(issued.issuance().serials().serial_end(), 1'000u);
    EXPECT_EQ(issued.issuance().serials().project_code(), "P-2026-0001");
    EXPECT_EQ(issued.holding().available(), 1'000);
    call = issue(*x, 2025, 500, "2025-01-01", "2025-12-31", "iss-2", issued);
    ASSERT_TRUE(call.ok()) << call.error_message();
    EXPECT_EQ(issue(*x, 2025, 500, "2025-06-01", "2025-12-31", "iss-3", issued).error_code(),
              grpc::StatusCode::FAILED_PRECONDITION)
        << "a monitoring period is issued once";

    // A listed trade of 1,200 t: the buyer gets serials 1-1000 (2024) and 1001-1200 (2025).
    call = place(*x, developer_token, v1::SIDE_SELL, 1'200);
    ASSERT_TRUE(call.ok()) << call.error_message();
    call = place(*x, buyer_token, v1::SIDE_BUY, 1'200);
    ASSERT_TRUE(call.ok()) << call.error_message();
    const auto bought = blocks(*x, buyer_token, buyer_account);
    ASSERT_EQ(bought.blocks_size(), 2);
    EXPECT_EQ(bought.blocks(0).serial_end(), 1'000u);
    EXPECT_EQ(bought.blocks(1).serial_start(), 1'001u);
    EXPECT_EQ(bought.blocks(1).serial_end(), 1'200u);
    EXPECT_EQ(bought.blocks(1).vintage_year(), 2025);
    const auto kept = blocks(*x, developer_token, developer_account);
    ASSERT_EQ(kept.blocks_size(), 1);
    EXPECT_EQ(kept.blocks(0).serial_start(), 1'201u);
    v1::ListSerialBlocksRequest theirs;
    theirs.set_holding_account_id(developer_account);
    v1::ListSerialBlocksResponse refused;
    EXPECT_EQ(x->registry->ListSerialBlocks(RunningExchange::as(buyer_token).get(), theirs, &refused).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);

    // The buyer's units are pending until the next trading day (T+1): not yet retirable.
    v1::RetireUnitsResponse retired;
    EXPECT_EQ(retire(*x, buyer_token, 10, "ret-b", retired).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    call = retire(*x, developer_token, 100, "ret-1", retired);
    ASSERT_TRUE(call.ok()) << call.error_message();
    ASSERT_EQ(retired.retirement().serials_size(), 1);
    EXPECT_EQ(retired.retirement().serials(0).serial_start(), 1'201u);
    EXPECT_EQ(retired.retirement().serials(0).serial_end(), 1'300u);
    EXPECT_EQ(retired.retirement().participant_name(), "DEV-1 Co.");
    EXPECT_EQ(retired.holding().available(), 200);
    EXPECT_EQ(retire(*x, kRegulatorToken, 1, "ret-r", retired).error_code(), grpc::StatusCode::PERMISSION_DENIED);

    v1::ListRetirementsResponse retirements;
    ASSERT_TRUE(x->registry->ListRetirements(RunningExchange::as(buyer_token).get(), {}, &retirements).ok());
    ASSERT_EQ(retirements.retirements_size(), 1);
    EXPECT_EQ(retirements.retirements(0).beneficiary(), "Shanghai Marathon 2026");
    EXPECT_EQ(retirements.retirements(0).purpose(), "offset of the event's 2026 emissions");

    before = everything(*x, buyer_token, developer_account, buyer_account);
    expect_ledger_verifies(developer_account);
    EXPECT_EQ(x->stop(), 0) << x->log();
  }
  {
    auto x = open();
    EXPECT_EQ(everything(*x, buyer_token, developer_account, buyer_account), before);
    expect_ledger_verifies(developer_account);
    expect_ledger_verifies(buyer_account);
    // Serials carry on after the last one issued; a repeated key answers the first issuance.
    v1::IssueCcerCreditsResponse issued;
    ASSERT_TRUE(issue(*x, 2025, 500, "2025-01-01", "2025-12-31", "iss-2", issued).ok());
    EXPECT_EQ(issued.issuance().serials().serial_start(), 1'001u);
    grpc::Status call = issue(*x, 2026, 50, "2026-01-01", "2026-06-30", "iss-4", issued);
    ASSERT_TRUE(call.ok()) << call.error_message();
    EXPECT_EQ(issued.issuance().serials().serial_start(), 1'501u);
    EXPECT_EQ(issued.issuance().issuance_id(), 3u);

    // Retirements page newest first by id: one recorded between two pages does not repeat an item.
    v1::RetireUnitsResponse retired;
    call = retire(*x, developer_token, 10, "ret-2", retired);
    ASSERT_TRUE(call.ok()) << call.error_message();
    const std::uint64_t second = retired.retirement().retirement_id();
    v1::ListRetirementsRequest page;
    page.set_page_size(1);
    v1::ListRetirementsResponse first;
    ASSERT_TRUE(x->registry->ListRetirements(RunningExchange::as(buyer_token).get(), page, &first).ok());
    ASSERT_EQ(first.retirements_size(), 1);
    EXPECT_EQ(first.retirements(0).retirement_id(), second);
    ASSERT_FALSE(first.next_page_token().empty());
    call = retire(*x, developer_token, 10, "ret-3", retired);
    ASSERT_TRUE(call.ok()) << call.error_message();
    page.set_page_token(first.next_page_token());
    v1::ListRetirementsResponse next;
    call = x->registry->ListRetirements(RunningExchange::as(buyer_token).get(), page, &next);
    ASSERT_TRUE(call.ok()) << call.error_message();
    ASSERT_EQ(next.retirements_size(), 1);
    EXPECT_EQ(next.retirements(0).retirement_id(), 1u);  // by position it was ret-2 again
    EXPECT_TRUE(next.next_page_token().empty());
    EXPECT_EQ(x->stop(), 0) << x->log();
  }
}

}  // namespace
}  // namespace carbon::testing
