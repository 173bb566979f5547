// Repos and the disclosure report over gRPC against a real PostgreSQL:
// a repo registered (first leg settled at once, delivery versus payment),
// refusals with their codes, carbond restarted before the second leg, which
// the end of day of its date settles exactly once (units back, buy-back cash
// to the buyer, cash and units conserved, the ledger verifies); and the
// disclosure report of a closed compliance year and of a calendar year of
// trading, with known numbers.

#include <gtest/gtest.h>

#include "carbon/v1/regulator.grpc.pb.h"
#include "e2e/e2e_support.h"

namespace carbon::testing {
namespace {

class RepoTest : public ::testing::Test {
 protected:
  std::unique_ptr<RunningExchange> open_at(const std::string& clock) {
    auto exchange = std::make_unique<RunningExchange>(
        std::vector<std::string>{"--postgres=" + db.conninfo(), "--clock-start=" + clock});
    exchange->start();
    regulator = v1::RegulatorService::NewStub(exchange->channel);
    return exchange;
  }

  static v1::CreateParticipantResponse create(RunningExchange& x, const std::string& code, v1::ParticipantType type) {
    v1::CreateParticipantRequest request;
    request.set_code(code);
    request.set_name(code + " Ltd");
    request.set_type(type);
    v1::CreateParticipantResponse response;
    EXPECT_TRUE(x.admin->CreateParticipant(RunningExchange::as(kOperatorToken).get(), request, &response).ok());
    return response;
  }

  static void deposit(RunningExchange& x, std::uint64_t cash_account, std::int64_t fen, const std::string& key) {
    v1::CashMovementRequest request;
    request.set_cash_account_id(cash_account);
    request.set_amount_fen(fen);
    request.set_idempotency_key(key);
    v1::CashMovementResponse response;
    const grpc::Status call = x.admin->Deposit(RunningExchange::as(kOperatorToken).get(), request, &response);
    ASSERT_TRUE(call.ok()) << call.error_message();
  }

  static void end_of_day(RunningExchange& x, const std::string& date) {
    v1::RunEndOfDayRequest eod;
    eod.set_trading_date(date);
    v1::RunEndOfDayResponse closed;
    const grpc::Status call = x.admin->RunEndOfDay(RunningExchange::as(kOperatorToken).get(), eod, &closed);
    ASSERT_TRUE(call.ok()) << call.error_message();
    EXPECT_TRUE(closed.reconciliation().balanced());
  }

  static v1::GetBalancesResponse balances(RunningExchange& x, const std::string& token) {
    v1::GetBalancesResponse response;
    EXPECT_TRUE(x.trading->GetBalances(RunningExchange::as(token).get(), v1::GetBalancesRequest{}, &response).ok());
    return response;
  }

  static v1::Holding cea(const v1::GetBalancesResponse& b) {
    for (const v1::Holding& h : b.holdings()) {
      if (h.instrument() == "CEA2024") return h;
    }
    return {};
  }

  static v1::ListReposResponse repos(RunningExchange& x, const std::string& token, std::uint64_t participant = 0,
                                     grpc::Status* status = nullptr) {
    v1::ListReposRequest request;
    request.set_participant_id(participant);
    v1::ListReposResponse response;
    const grpc::Status call = x.registry->ListRepos(RunningExchange::as(token).get(), request, &response);
    if (status) *status = call;
    else EXPECT_TRUE(call.ok()) << call.error_message();
    return response;
  }

  static void place(RunningExchange& x, const std::string& token, v1::Side side, std::int64_t price,
                    std::int64_t quantity) {
    v1::PlaceOrderRequest request;
    request.set_instrument("CEA2024");
    request.set_side(side);
    request.set_price_fen(price);
    request.set_quantity(quantity);
    v1::PlaceOrderResponse response;
    const grpc::Status call = x.trading->PlaceOrder(RunningExchange::as(token).get(), request, &response);
    ASSERT_TRUE(call.ok()) << call.error_message();
  }

  TestDatabase db;
  std::unique_ptr<v1::RegulatorService::Stub> regulator;
};

TEST_F(RepoTest, SecondLegSettlesOnceAtTheEndOfDayOfItsDateAcrossARestart) {
  std::string seller_token, buyer_token, other_token;
  std::uint64_t seller_id = 0, buyer_id = 0, seller_account = 0, buyer_account = 0;
  v1::Repo opened;
  {
    auto x = open_at("2026-11-24T10:00:00+08:00");  // Tuesday
    const auto seller = create(*x, "KEU-1", v1::PARTICIPANT_TYPE_KEY_EMITTING_UNIT);
    const auto buyer = create(*x, "BANK-1", v1::PARTICIPANT_TYPE_INSTITUTION);
    const auto other = create(*x, "INST-2", v1::PARTICIPANT_TYPE_INSTITUTION);
    seller_token = seller.trader_token();
    buyer_token = buyer.trader_token();
    other_token = other.trader_token();
    seller_id = seller.participant().participant_id();
    buyer_id = buyer.participant().participant_id();
    seller_account = seller.participant().holding_account_id();
    buyer_account = buyer.participant().holding_account_id();
    deposit(*x, buyer.participant().cash_account_id(), 60'000'000, "dep-b");
    deposit(*x, seller.participant().cash_account_id(), 1'000'000, "dep-s");
    ASSERT_TRUE(set_generous_cap(*x).ok());
    v1::IssueAllowancesRequest issue;
    issue.set_instrument("CEA2024");
    issue.set_holding_account_id(seller_account);
    issue.set_quantity(5'000);
    issue.set_reason("issue");
    v1::IssueAllowancesResponse issued;
    ASSERT_TRUE(x->registry->IssueAllowances(RunningExchange::as(kRegistryToken).get(), issue, &issued).ok());

    v1::RegisterRepoRequest request;
    request.set_seller_participant_id(seller_id);
    request.set_buyer_participant_id(buyer_id);
    request.set_instrument("CEA2024");
    request.set_quantity(1'000);
    request.set_first_leg_price_fen(10'000);
    request.set_second_leg_price_fen(10'100);
    request.set_second_leg_date("2026-11-26");
    request.set_contract_reference("repo contract 1");
    request.set_idempotency_key("repo-1");

    // Refusals first: each names its rule, none changes anything.
    auto refused = [&](const std::string& token, v1::RegisterRepoRequest r, grpc::StatusCode code,
                       const std::string& rule) {
      v1::Repo out;
      const grpc::Status call = x->registry->RegisterRepo(RunningExchange::as(token).get(), r, &out);
      EXPECT_EQ(call.error_code(), code) << call.error_message();
      EXPECT_NE(call.error_message().find(rule), std::string::npos) << call.error_message();
    };
    refused(seller_token, request, grpc::StatusCode::PERMISSION_DENIED, "");
    v1::RegisterRepoRequest bad = request;
    bad.set_second_leg_date("26/11/2026");
    refused(kRegistryToken, bad, grpc::StatusCode::INVALID_ARGUMENT, "second_leg_date");
    bad = request;
    bad.set_second_leg_date("2026-11-28");  // a Saturday
    refused(kRegistryToken, bad, grpc::StatusCode::FAILED_PRECONDITION, "JR/T 0244-2022");
    bad = request;
    bad.set_quantity(5'001);
    refused(kRegistryToken, bad, grpc::StatusCode::FAILED_PRECONDITION, "insufficient units");
    bad = request;
    bad.set_first_leg_price_fen(60'010);
    refused(kRegistryToken, bad, grpc::StatusCode::FAILED_PRECONDITION, "insufficient cash");
    bad = request;
    bad.set_buyer_participant_id(999);
    refused(kRegistryToken, bad, grpc::StatusCode::NOT_FOUND, "buyer participant 999");
    EXPECT_EQ(repos(*x, kRegulatorToken).repos_size(), 0);

    const grpc::Status call = x->registry->RegisterRepo(RunningExchange::as(kRegistryToken).get(), request, &opened);
    ASSERT_TRUE(call.ok()) << call.error_message();
    EXPECT_EQ(opened.status(), v1::REPO_STATUS_OPEN);
    EXPECT_NE(opened.first_leg_ledger_entry_id(), 0u);
    EXPECT_EQ(opened.second_leg_ledger_entry_id(), 0u);
    v1::Repo again;
    ASSERT_TRUE(x->registry->RegisterRepo(RunningExchange::as(kRegistryToken).get(), request, &again).ok());
    EXPECT_EQ(again.repo_id(), opened.repo_id());
    EXPECT_EQ(again.sequence(), opened.sequence());

    EXPECT_EQ(cea(balances(*x, seller_token)).available(), 4'000);
    EXPECT_EQ(cea(balances(*x, buyer_token)).reserved(), 1'000);
    EXPECT_EQ(balances(*x, buyer_token).cash().available_fen(), 50'000'000);
    EXPECT_EQ(balances(*x, seller_token).cash().unsettled_fen(), 10'000'000);

    // A trader sees the repos it is party to, and only those.
    EXPECT_EQ(repos(*x, buyer_token).repos_size(), 1);
    EXPECT_EQ(repos(*x, other_token).repos_size(), 0);
    grpc::Status denied;
    repos(*x, other_token, seller_id, &denied);
    EXPECT_EQ(denied.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    auto x = open_at("2026-11-24T15:30:00+08:00");
    end_of_day(*x, "2026-11-24");
  }
  {
    auto x = open_at("2026-11-25T15:30:00+08:00");
    end_of_day(*x, "2026-11-25");
    const auto listed = repos(*x, kRegulatorToken);
    ASSERT_EQ(listed.repos_size(), 1);
    EXPECT_EQ(listed.repos(0).status(), v1::REPO_STATUS_OPEN);
  }
  // carbond restarts before the second leg; its date's end of day settles it.
  {
    auto x = open_at("2026-11-26T15:30:00+08:00");
    ASSERT_EQ(repos(*x, kRegulatorToken).repos(0).status(), v1::REPO_STATUS_OPEN);
    end_of_day(*x, "2026-11-26");
    const v1::Repo closed = repos(*x, kRegulatorToken).repos(0);
    EXPECT_EQ(closed.status(), v1::REPO_STATUS_COMPLETED);
    EXPECT_NE(closed.second_leg_ledger_entry_id(), 0u);
    EXPECT_NE(closed.closed_at_unix_nanos(), 0);
    end_of_day(*x, "2026-11-26");  // a closed day again: its stored result, nothing settles twice
    EXPECT_EQ(repos(*x, kRegulatorToken).repos(0).sequence(), closed.sequence());

    EXPECT_EQ(cea(balances(*x, seller_token)).available(), 5'000);
    EXPECT_EQ(cea(balances(*x, buyer_token)).reserved(), 0);
    EXPECT_EQ(cea(balances(*x, buyer_token)).available(), 0);
    EXPECT_EQ(balances(*x, buyer_token).cash().available_fen(), 60'100'000);
    EXPECT_EQ(balances(*x, seller_token).cash().available_fen(), 900'000);

    v1::ListLedgerEntriesRequest entries;
    entries.set_kind(v1::LEDGER_ENTRY_KIND_REPO_SECOND_LEG);
    v1::ListLedgerEntriesResponse second;
    ASSERT_TRUE(regulator->ListLedgerEntries(RunningExchange::as(kRegulatorToken).get(), entries, &second).ok());
    ASSERT_EQ(second.entries_size(), 1);
    EXPECT_EQ(second.entries(0).ledger_entry_id(), closed.second_leg_ledger_entry_id());
    EXPECT_EQ(second.entries(0).from_holding_account_id(), buyer_account);
    EXPECT_EQ(second.entries(0).to_holding_account_id(), seller_account);
    entries.set_kind(v1::LEDGER_ENTRY_KIND_REPO_FIRST_LEG);
    v1::ListLedgerEntriesResponse first;
    ASSERT_TRUE(regulator->ListLedgerEntries(RunningExchange::as(kRegulatorToken).get(), entries, &first).ok());
    ASSERT_EQ(first.entries_size(), 1);
    EXPECT_EQ(first.entries(0).ledger_entry_id(), opened.first_leg_ledger_entry_id());
    v1::VerifyLedgerRequest verify;
    verify.set_holding_account_id(buyer_account);
    v1::VerifyLedgerResponse verified;
    ASSERT_TRUE(regulator->VerifyLedger(RunningExchange::as(kRegulatorToken).get(), verify, &verified).ok());
    EXPECT_TRUE(verified.valid());
    // The journal holds each change of the repo; its projection the last.
    EXPECT_EQ(db.query("SELECT count(*) FROM journal WHERE kind = 'RepoChanged'"), "2");
    EXPECT_EQ(db.query("SELECT payload->>'status' FROM journal WHERE kind = 'RepoChanged' ORDER BY sequence DESC"
                       " LIMIT 1"),
              "2");
    EXPECT_EQ(db.query("SELECT status FROM repos"), "2");
  }
  // Another restart: the completed repo comes back as it was and the state checks pass.
  {
    auto x = open_at("2026-11-27T10:00:00+08:00");
    const auto listed = repos(*x, buyer_token);
    ASSERT_EQ(listed.repos_size(), 1);
    EXPECT_EQ(listed.repos(0).status(), v1::REPO_STATUS_COMPLETED);
    EXPECT_EQ(balances(*x, buyer_token).cash().available_fen(), 60'100'000);
  }
}

TEST_F(RepoTest, DisclosureReportOfAClosedYearAndACalendarYearOfTrading) {
  auto x = open_at("2026-11-24T10:00:00+08:00");
  const auto a = create(*x, "KEU-A", v1::PARTICIPANT_TYPE_KEY_EMITTING_UNIT);
  const auto b = create(*x, "KEU-B", v1::PARTICIPANT_TYPE_KEY_EMITTING_UNIT);
  const auto c = create(*x, "INST-C", v1::PARTICIPANT_TYPE_INSTITUTION);
  deposit(*x, c.participant().cash_account_id(), 100'000'000, "dep-c");
  const auto registry = [] { return RunningExchange::as(kRegistryToken); };

  v1::SetCapRequest cap;
  cap.set_compliance_year(2024);
  cap.set_sector("power");
  cap.set_cap_quantity(1'000'000);
  cap.set_reason("plan 2024");
  v1::Cap set;
  ASSERT_TRUE(x->registry->SetCap(registry().get(), cap, &set).ok());
  for (const auto& [who, tonnes, emitted, surrendered] :
       {std::tuple{&a, 10'000, 8'000, 8'000}, std::tuple{&b, 5'000, 6'000, 4'000}}) {
    const std::uint64_t id = who->participant().participant_id();
    v1::AllocateFreeRequest allocate;
    allocate.set_compliance_year(2024);
    allocate.set_sector("power");
    allocate.set_participant_id(id);
    allocate.set_instrument("CEA2024");
    allocate.mutable_direct()->set_quantity(tonnes);
    allocate.set_reason("allocation");
    allocate.set_idempotency_key("alloc-" + std::to_string(id));
    v1::Allocation allocation;
    grpc::Status call = x->registry->AllocateFree(registry().get(), allocate, &allocation);
    ASSERT_TRUE(call.ok()) << call.error_message();
    v1::RecordVerifiedEmissionsRequest emissions;
    emissions.set_participant_id(id);
    emissions.set_compliance_year(2024);
    emissions.set_sector("power");
    emissions.set_verified_emissions(emitted);
    emissions.set_verifier("CQC");
    emissions.set_report_reference("report-" + std::to_string(id));
    emissions.set_idempotency_key("em-" + std::to_string(id));
    v1::ComplianceStatus status;
    call = x->registry->RecordVerifiedEmissions(registry().get(), emissions, &status);
    ASSERT_TRUE(call.ok()) << call.error_message();
    v1::SurrenderRequest surrender;
    surrender.set_participant_id(id);
    surrender.set_compliance_year(2024);
    surrender.set_instrument("CEA2024");
    surrender.set_quantity(surrendered);
    surrender.set_idempotency_key("sur-" + std::to_string(id));
    v1::SurrenderResponse surrendered_response;
    call = x->registry->Surrender(registry().get(), surrender, &surrendered_response);
    ASSERT_TRUE(call.ok()) << call.error_message();
  }

  v1::GetDisclosureReportRequest request;
  request.set_compliance_year(2024);
  v1::DisclosureReport report;
  grpc::Status call = regulator->GetDisclosureReport(RunningExchange::as(kRegulatorToken).get(), request, &report);
  ASSERT_TRUE(call.ok()) << call.error_message();
  EXPECT_FALSE(report.year_closed());
  ASSERT_EQ(report.sectors_size(), 1);
  EXPECT_EQ(report.sectors(0).total_shortfall(), 2'000) << "still due before the close";
  EXPECT_EQ(report.sectors(0).short_count(), 0u);
  EXPECT_EQ(report.non_compliant_units_size(), 0);

  v1::CloseComplianceYearRequest close;
  close.set_compliance_year(2024);
  close.set_penalty_basis_price_fen(10'000);
  v1::CloseComplianceYearResponse closed;
  call = x->registry->CloseComplianceYear(registry().get(), close, &closed);
  ASSERT_TRUE(call.ok()) << call.error_message();

  // A's 2,000 t left are traded in 2026 (the calendar year of the next report): 100 t @ 100.00, 100 t @ 100.10.
  place(*x, a.trader_token(), v1::SIDE_SELL, 10'000, 100);
  place(*x, c.trader_token(), v1::SIDE_BUY, 10'000, 100);
  place(*x, a.trader_token(), v1::SIDE_SELL, 10'010, 100);
  place(*x, c.trader_token(), v1::SIDE_BUY, 10'010, 100);

  call = regulator->GetDisclosureReport(RunningExchange::as(kRegulatorToken).get(), request, &report);
  ASSERT_TRUE(call.ok()) << call.error_message();
  EXPECT_EQ(report.compliance_year(), 2024);
  EXPECT_TRUE(report.year_closed());
  ASSERT_EQ(report.sectors_size(), 1);
  const v1::SectorDisclosure& power = report.sectors(0);
  EXPECT_EQ(power.sector(), "power");
  EXPECT_EQ(power.cap_quantity(), 1'000'000);
  EXPECT_EQ(power.free_allocated(), 15'000);
  EXPECT_EQ(power.verified_emissions(), 14'000);
  EXPECT_EQ(power.surrendered_allowances(), 12'000);
  EXPECT_EQ(power.surrendered_ccer(), 0);
  EXPECT_EQ(power.unit_count(), 2u);
  EXPECT_EQ(power.compliant_count(), 1u);
  EXPECT_EQ(power.short_count(), 1u);
  EXPECT_EQ(power.total_shortfall(), 2'000);
  ASSERT_EQ(report.non_compliant_units_size(), 1);
  EXPECT_EQ(report.non_compliant_units(0).participant_id(), b.participant().participant_id());
  EXPECT_EQ(report.non_compliant_units(0).participant_code(), "KEU-B");
  EXPECT_EQ(report.non_compliant_units(0).participant_name(), "KEU-B Ltd");
  EXPECT_EQ(report.non_compliant_units(0).shortfall(), 2'000);
  EXPECT_EQ(report.non_compliant_units(0).penalty_fen(), 2'000LL * 10'000 * 5);
  EXPECT_EQ(report.market_size(), 0) << "nothing traded in the calendar year 2024";
  EXPECT_EQ(report.allowances_in_circulation(), 3'000);  // 2,000 (A, now partly C's) + 1,000 (B)
  EXPECT_EQ(report.reserve_balance(), 0);
  EXPECT_GT(report.as_of_sequence(), 0u);

  // The calendar year 2026: a cap makes it known; its trading is reported.
  cap.set_compliance_year(2026);
  ASSERT_TRUE(x->registry->SetCap(registry().get(), cap, &set).ok());
  request.set_compliance_year(2026);
  call = regulator->GetDisclosureReport(RunningExchange::as(kRegulatorToken).get(), request, &report);
  ASSERT_TRUE(call.ok()) << call.error_message();
  EXPECT_FALSE(report.year_closed());
  ASSERT_EQ(report.market_size(), 1);
  EXPECT_EQ(report.market(0).instrument(), "CEA2024");
  EXPECT_EQ(report.market(0).mode(), v1::TRADING_MODE_LISTED);
  EXPECT_EQ(report.market(0).trade_count(), 2u);
  EXPECT_EQ(report.market(0).volume(), 200);
  EXPECT_EQ(report.market(0).turnover_fen(), 2'001'000);
  EXPECT_EQ(report.market(0).average_price_fen(), 10'005);
  ASSERT_EQ(report.sectors_size(), 1);
  EXPECT_EQ(report.sectors(0).unit_count(), 0u);

  // Refusals.
  request.set_compliance_year(0);
  call = regulator->GetDisclosureReport(RunningExchange::as(kRegulatorToken).get(), request, &report);
  EXPECT_EQ(call.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << call.error_message();
  request.set_compliance_year(2030);
  call = regulator->GetDisclosureReport(RunningExchange::as(kRegulatorToken).get(), request, &report);
  EXPECT_EQ(call.error_code(), grpc::StatusCode::NOT_FOUND) << call.error_message();
  EXPECT_NE(call.error_message().find("compliance year 2030 is not configured"), std::string::npos);
  request.set_compliance_year(2024);
  call = regulator->GetDisclosureReport(RunningExchange::as(kOperatorToken).get(), request, &report);
  EXPECT_EQ(call.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  call = regulator->GetDisclosureReport(RunningExchange::as(c.trader_token()).get(), request, &report);
  EXPECT_EQ(call.error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

}  // namespace
}  // namespace carbon::testing
