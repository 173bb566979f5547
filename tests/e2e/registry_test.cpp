// The registry over gRPC against a real PostgreSQL: a cap and a free
// allocation, a trade, verified emissions, surrender (with the CCER cap),
// the end of the month whose closes set the penalty basis, closing the
// compliance year after the deadline, statuses read by the regulator, a
// regulator's freeze, and all of it again after restarts. The clock is
// injected (--clock-start) so the deadline passes whatever the date.

#include <gtest/gtest.h>

#include "carbon/v1/regulator.grpc.pb.h"
#include "e2e/e2e_support.h"

namespace carbon::testing {
namespace {

class RegistryTest : public ::testing::Test {
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
    request.set_name(code);
    request.set_type(type);
    v1::CreateParticipantResponse response;
    EXPECT_TRUE(x.admin->CreateParticipant(RunningExchange::as(kOperatorToken).get(), request, &response).ok());
    return response;
  }

  static grpc::Status place(RunningExchange& x, const std::string& token, v1::Side side, std::int64_t price,
                            std::int64_t qty) {
    v1::PlaceOrderRequest request;
    request.set_instrument("CEA2024");
    request.set_side(side);
    request.set_price_fen(price);
    request.set_quantity(qty);
    v1::PlaceOrderResponse response;
    return x.trading->PlaceOrder(RunningExchange::as(token).get(), request, &response);
  }

  v1::ComplianceStatus regulator_status(std::uint64_t participant) {
    v1::GetComplianceStatusRequest request;
    request.set_participant_id(participant);
    request.set_compliance_year(2024);
    v1::ComplianceStatus status;
    const grpc::Status call = regulator->GetComplianceStatus(RunningExchange::as(kRegulatorToken).get(), request, &status);
    EXPECT_TRUE(call.ok()) << call.error_message();
    return status;
  }

  static void expect_short_by_50(const v1::ComplianceStatus& status) {
    EXPECT_EQ(status.state(), v1::COMPLIANCE_STATE_SHORT);
    EXPECT_EQ(status.obligation(), 250);
    EXPECT_EQ(status.surrendered_allowances(), 200);
    EXPECT_EQ(status.outstanding(), 50);
    EXPECT_EQ(status.ccer_limit(), 12);
    EXPECT_EQ(status.penalty_basis_price_fen(), 10'000) << "the mean daily close of December 2026";
    EXPECT_EQ(status.penalty_multiplier(), 5);
    EXPECT_EQ(status.penalty_fen(), 50 * 10'000 * 5);
    EXPECT_EQ(status.allocation_deduction(), 50);
    EXPECT_EQ(status.sector(), "power");
  }

  TestDatabase db;
  std::unique_ptr<v1::RegulatorService::Stub> regulator;
};

TEST_F(RegistryTest, AllocationTradingSurrenderAndTheYearCloseSurviveRestarts) {
  std::string unit_token;
  std::uint64_t unit_id = 0, unit_account = 0, freeze_id = 0;
  {
    auto x = open_at("2026-12-30T13:30:00+08:00");
    const auto unit = create(*x, "KEU-1", v1::PARTICIPANT_TYPE_KEY_EMITTING_UNIT);
    const auto buyer = create(*x, "INST-1", v1::PARTICIPANT_TYPE_INSTITUTION);
    unit_token = unit.trader_token();
    unit_id = unit.participant().participant_id();
    unit_account = unit.participant().holding_account_id();
    v1::CashMovementRequest deposit;
    deposit.set_cash_account_id(buyer.participant().cash_account_id());
    deposit.set_amount_fen(100'000'000);
    deposit.set_idempotency_key("dep-1");
    v1::CashMovementResponse deposited;
    ASSERT_TRUE(x->admin->Deposit(RunningExchange::as(kOperatorToken).get(), deposit, &deposited).ok());

    // Cap with a 10% paid share, then a free allocation of 400 t.
    v1::SetCapRequest cap;
    cap.set_compliance_year(2024);
    cap.set_sector("power");
    cap.set_cap_quantity(1'000'000);
    cap.set_paid_share_bps(1'000);
    cap.set_reason("allocation plan 2024");
    v1::Cap set;
    ASSERT_TRUE(x->registry->SetCap(RunningExchange::as(kRegistryToken).get(), cap, &set).ok());
    EXPECT_EQ(set.free_limit(), 900'000);
    EXPECT_EQ(x->registry->SetCap(RunningExchange::as(unit_token).get(), cap, &set).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    v1::AllocateFreeRequest allocate;
    allocate.set_compliance_year(2024);
    allocate.set_sector("power");
    allocate.set_participant_id(unit_id);
    allocate.set_instrument("CEA2024");
    allocate.mutable_direct()->set_quantity(400);
    allocate.set_reason("pre-allocation");
    allocate.set_idempotency_key("alloc-1");
    v1::Allocation allocation;
    grpc::Status call = x->registry->AllocateFree(RunningExchange::as(kRegistryToken).get(), allocate, &allocation);
    ASSERT_TRUE(call.ok()) << call.error_message();
    EXPECT_EQ(allocation.quantity(), 400);
    EXPECT_NE(allocation.ledger_entry_id(), 0u);
    allocate.set_instrument("CEA2023");
    EXPECT_EQ(x->registry->AllocateFree(RunningExchange::as(kRegistryToken).get(), allocate, &allocation).error_code(),
              grpc::StatusCode::FAILED_PRECONDITION);

    // IssueAllowances counts against the caps of the vintage year: none for 2023; 2024 may reach 1,000,000 t.
    v1::IssueAllowancesRequest issue;
    issue.set_instrument("CEA2023");
    issue.set_holding_account_id(3);  // the auction account
    issue.set_quantity(100'000);
    issue.set_reason("2024 paid allocation");
    v1::IssueAllowancesResponse issued;
    call = x->registry->IssueAllowances(RunningExchange::as(kRegistryToken).get(), issue, &issued);
    EXPECT_EQ(call.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_EQ(call.error_message(), "cap: no cap is set for compliance year 2023");
    issue.set_instrument("CEA2024");
    issue.set_quantity(999'601);
    call = x->registry->IssueAllowances(RunningExchange::as(kRegistryToken).get(), issue, &issued);
    EXPECT_EQ(call.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_EQ(call.error_message(),
              "cap: issuing 999601 t would bring 2024 to 1000001 t, above the 1000000 t of its caps");
    issue.set_quantity(100'000);
    call = x->registry->IssueAllowances(RunningExchange::as(kRegistryToken).get(), issue, &issued);
    ASSERT_TRUE(call.ok()) << call.error_message();

    // A listed trade at 10,000 fen: the only close of December.
    ASSERT_TRUE(place(*x, unit_token, v1::SIDE_SELL, 10'000, 100).ok());
    ASSERT_TRUE(place(*x, buyer.trader_token(), v1::SIDE_BUY, 10'000, 100).ok());

    // Verified emissions 250 t; surrender 200 t of allowances; CCER beyond 5% (12 t) is refused.
    v1::RecordVerifiedEmissionsRequest emissions;
    emissions.set_participant_id(unit_id);
    emissions.set_compliance_year(2024);
    emissions.set_sector("power");
    emissions.set_verified_emissions(250);
    emissions.set_verifier("CQC");
    emissions.set_report_reference("VR-2024-001");
    emissions.set_idempotency_key("em-1");
    v1::ComplianceStatus recorded;
    call = x->registry->RecordVerifiedEmissions(RunningExchange::as(kRegistryToken).get(), emissions, &recorded);
    ASSERT_TRUE(call.ok()) << call.error_message();
    EXPECT_EQ(recorded.state(), v1::COMPLIANCE_STATE_OUTSTANDING);
    EXPECT_EQ(recorded.outstanding(), 250);
    v1::SurrenderRequest surrender;
    surrender.set_compliance_year(2024);
    surrender.set_instrument("CCER");
    surrender.set_quantity(13);
    surrender.set_idempotency_key("sur-0");
    v1::SurrenderResponse surrendered;
    call = x->registry->Surrender(RunningExchange::as(unit_token).get(), surrender, &surrendered);
    EXPECT_EQ(call.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << call.error_message();
    surrender.set_instrument("CEA2024");
    surrender.set_quantity(200);
    surrender.set_idempotency_key("sur-1");
    call = x->registry->Surrender(RunningExchange::as(unit_token).get(), surrender, &surrendered);
    ASSERT_TRUE(call.ok()) << call.error_message();
    EXPECT_EQ(surrendered.status().outstanding(), 50);
    EXPECT_EQ(surrendered.holding().available(), 100);
    surrender.set_participant_id(buyer.participant().participant_id());
    EXPECT_EQ(x->registry->Surrender(RunningExchange::as(unit_token).get(), surrender, &surrendered).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);

    // A regulator freezes 30 t; the registry authority may not lift it.
    v1::FreezeRequest freeze;
    freeze.set_holding_account_id(unit_account);
    freeze.set_instrument("CEA2024");
    freeze.set_quantity(30);
    freeze.set_reason("investigation");
    freeze.set_legal_reference("case 2026-17");
    freeze.set_idempotency_key("frz-1");
    v1::FreezeResponse frozen;
    call = regulator->Freeze(RunningExchange::as(kRegulatorToken).get(), freeze, &frozen);
    ASSERT_TRUE(call.ok()) << call.error_message();
    freeze_id = frozen.freeze().freeze_id();
    EXPECT_EQ(frozen.holding().frozen(), 30);
    EXPECT_EQ(frozen.freeze().placed_by_role(), v1::ROLE_REGULATOR);
    EXPECT_EQ(x->registry->Freeze(RunningExchange::as(kRegulatorToken).get(), freeze, &frozen).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    v1::UnfreezeRequest unfreeze;
    unfreeze.set_freeze_id(freeze_id);
    unfreeze.set_reason("done");
    unfreeze.set_idempotency_key("unf-1");
    v1::UnfreezeResponse unfrozen;
    EXPECT_EQ(x->registry->Unfreeze(RunningExchange::as(kRegistryToken).get(), unfreeze, &unfrozen).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    freeze.set_quantity(1'000);
    EXPECT_EQ(regulator->Freeze(RunningExchange::as(kRegulatorToken).get(), freeze, &frozen).error_code(),
              grpc::StatusCode::FAILED_PRECONDITION);
    x->stop();
  }
  {
    // The close of 30 December.
    auto x = open_at("2026-12-30T15:30:00+08:00");
    v1::RunEndOfDayRequest eod;
    eod.set_trading_date("2026-12-30");
    v1::RunEndOfDayResponse closed;
    ASSERT_TRUE(x->admin->RunEndOfDay(RunningExchange::as(kOperatorToken).get(), eod, &closed).ok()) << x->log();
    x->stop();
  }
  {
    // After the deadline (31 December): close the year; the basis is December's mean close.
    auto x = open_at("2027-01-04T10:00:00+08:00");
    v1::CloseComplianceYearRequest close;
    close.set_compliance_year(2024);
    v1::CloseComplianceYearResponse closed;
    EXPECT_EQ(x->registry->CloseComplianceYear(RunningExchange::as(kRegulatorToken).get(), close, &closed).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    grpc::Status call = x->registry->CloseComplianceYear(RunningExchange::as(kRegistryToken).get(), close, &closed);
    ASSERT_TRUE(call.ok()) << call.error_message();
    EXPECT_EQ(closed.penalty_basis_price_fen(), 10'000);
    EXPECT_EQ(closed.short_count(), 1u);
    EXPECT_EQ(closed.compliant_count(), 0u);
    EXPECT_EQ(closed.total_shortfall(), 50);
    ASSERT_EQ(closed.short_units_size(), 1);
    expect_short_by_50(closed.short_units(0));
    expect_short_by_50(regulator_status(unit_id));
    v1::SurrenderRequest late;
    late.set_compliance_year(2024);
    late.set_instrument("CEA2024");
    late.set_quantity(10);
    late.set_idempotency_key("sur-2");
    v1::SurrenderResponse refused;
    EXPECT_EQ(x->registry->Surrender(RunningExchange::as(unit_token).get(), late, &refused).error_code(),
              grpc::StatusCode::FAILED_PRECONDITION)
        << "the year is closed";
    x->stop();
  }
  {
    // A restart: everything above was persisted and restored.
    auto x = open_at("2027-01-04T10:30:00+08:00");
    expect_short_by_50(regulator_status(unit_id));
    v1::ListComplianceStatusesRequest list;
    list.set_compliance_year(2024);
    list.set_state(v1::COMPLIANCE_STATE_SHORT);
    v1::ListComplianceStatusesResponse statuses;
    ASSERT_TRUE(regulator->ListComplianceStatuses(RunningExchange::as(kRegulatorToken).get(), list, &statuses).ok());
    ASSERT_EQ(statuses.statuses_size(), 1);
    expect_short_by_50(statuses.statuses(0));
    list.set_page_token("bogus");
    EXPECT_EQ(regulator->ListComplianceStatuses(RunningExchange::as(kRegulatorToken).get(), list, &statuses).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
    list.clear_page_token();
    list.set_state(static_cast<v1::ComplianceState>(9));
    const grpc::Status bad_state =
        regulator->ListComplianceStatuses(RunningExchange::as(kRegulatorToken).get(), list, &statuses);
    EXPECT_EQ(bad_state.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(bad_state.error_message(), "unknown compliance state");
    list.set_state(v1::COMPLIANCE_STATE_UNSPECIFIED);
    list.set_compliance_year(2031);
    const grpc::Status no_year =
        regulator->ListComplianceStatuses(RunningExchange::as(kRegulatorToken).get(), list, &statuses);
    EXPECT_EQ(no_year.error_code(), grpc::StatusCode::NOT_FOUND) << no_year.error_message();

    v1::GetComplianceStatusRequest own;
    own.set_compliance_year(2024);
    v1::ComplianceStatus mine;
    ASSERT_TRUE(x->registry->GetComplianceStatus(RunningExchange::as(unit_token).get(), own, &mine).ok());
    expect_short_by_50(mine);

    v1::CloseComplianceYearRequest close;
    close.set_compliance_year(2024);
    v1::CloseComplianceYearResponse again;
    ASSERT_TRUE(x->registry->CloseComplianceYear(RunningExchange::as(kRegistryToken).get(), close, &again).ok());
    EXPECT_EQ(again.penalty_basis_price_fen(), 10'000) << "closing a closed year returns the stored result";
    EXPECT_EQ(again.short_count(), 1u);

    v1::ListCapsRequest caps_request;
    v1::ListCapsResponse caps;
    ASSERT_TRUE(x->registry->ListCaps(RunningExchange::as(kRegulatorToken).get(), caps_request, &caps).ok());
    ASSERT_EQ(caps.caps_size(), 1);
    EXPECT_EQ(caps.caps(0).free_allocated(), 400);
    EXPECT_EQ(caps.caps(0).issued(), 100'400) << "free allocation plus IssueAllowances, restored";
    v1::ListAllocationsRequest allocations_request;
    v1::ListAllocationsResponse allocations;
    ASSERT_TRUE(
        x->registry->ListAllocations(RunningExchange::as(unit_token).get(), allocations_request, &allocations).ok());
    ASSERT_EQ(allocations.allocations_size(), 1);
    EXPECT_EQ(allocations.allocations(0).quantity(), 400);

    v1::ListFreezesRequest freezes_request;
    freezes_request.set_status(v1::FREEZE_STATUS_ACTIVE);
    v1::ListFreezesResponse freezes;
    ASSERT_TRUE(regulator->ListFreezes(RunningExchange::as(kRegulatorToken).get(), freezes_request, &freezes).ok());
    ASSERT_EQ(freezes.freezes_size(), 1);
    EXPECT_EQ(freezes.freezes(0).freeze_id(), freeze_id);
    EXPECT_EQ(freezes.freezes(0).remaining_quantity(), 30);
    EXPECT_EQ(freezes.freezes(0).legal_reference(), "case 2026-17");

    v1::GetHoldingsRequest holdings_request;
    holdings_request.set_holding_account_id(unit_account);
    v1::GetHoldingsResponse holdings;
    ASSERT_TRUE(x->registry->GetHoldings(RunningExchange::as(kRegulatorToken).get(), holdings_request, &holdings).ok());
    ASSERT_EQ(holdings.holdings_size(), 1);
    EXPECT_EQ(holdings.holdings(0).available(), 70);
    EXPECT_EQ(holdings.holdings(0).frozen(), 30);
    holdings_request.set_holding_account_id(4);  // the surrender account
    ASSERT_TRUE(x->registry->GetHoldings(RunningExchange::as(kRegulatorToken).get(), holdings_request, &holdings).ok());
    ASSERT_EQ(holdings.holdings_size(), 1);
    EXPECT_EQ(holdings.holdings(0).available(), 200);

    // The regulator lifts its freeze; it stays listed as lifted.
    v1::UnfreezeRequest unfreeze;
    unfreeze.set_freeze_id(freeze_id);
    unfreeze.set_reason("investigation closed");
    unfreeze.set_idempotency_key("unf-2");
    v1::UnfreezeResponse unfrozen;
    ASSERT_TRUE(regulator->Unfreeze(RunningExchange::as(kRegulatorToken).get(), unfreeze, &unfrozen).ok());
    EXPECT_EQ(unfrozen.freeze().status(), v1::FREEZE_STATUS_LIFTED);
    EXPECT_EQ(unfrozen.holding().available(), 100);

    // Early warnings: the unit holds more than it still owes, so nobody is listed.
    v1::ListEarlyWarningsRequest warnings_request;
    warnings_request.set_compliance_year(2024);
    v1::ListEarlyWarningsResponse warnings;
    ASSERT_TRUE(regulator->ListEarlyWarnings(RunningExchange::as(kRegulatorToken).get(), warnings_request, &warnings).ok());
    EXPECT_EQ(warnings.warnings_size(), 0);
    EXPECT_EQ(warnings.threshold_bps(), 10'000);
    warnings_request.set_threshold_bps(10'001);
    EXPECT_EQ(regulator->ListEarlyWarnings(RunningExchange::as(kRegulatorToken).get(), warnings_request, &warnings)
                  .error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);

    // The regulator reads and verifies the ledger (from PostgreSQL).
    v1::ListLedgerEntriesRequest entries_request;
    entries_request.set_holding_account_id(unit_account);
    entries_request.set_kind(v1::LEDGER_ENTRY_KIND_FREEZE);
    v1::ListLedgerEntriesResponse entries;
    ASSERT_TRUE(regulator->ListLedgerEntries(RunningExchange::as(kRegulatorToken).get(), entries_request, &entries).ok());
    ASSERT_EQ(entries.entries_size(), 1);
    EXPECT_EQ(entries.entries(0).quantity(), 30);
    EXPECT_EQ(entries.entries(0).hash().size(), 32u);
    // In pages of one: as many calls as entries, since the last page, though full, has no token.
    entries_request.set_kind(v1::LEDGER_ENTRY_KIND_UNSPECIFIED);
    v1::ListLedgerEntriesResponse all;
    ASSERT_TRUE(regulator->ListLedgerEntries(RunningExchange::as(kRegulatorToken).get(), entries_request, &all).ok());
    ASSERT_GE(all.entries_size(), 2);
    EXPECT_TRUE(all.next_page_token().empty());
    std::vector<std::uint64_t> expected_ids, paged_ids;
    for (const v1::LedgerEntry& e : all.entries()) expected_ids.push_back(e.ledger_entry_id());
    entries_request.set_page_size(1);
    int calls = 0;
    do {
      v1::ListLedgerEntriesResponse one;
      ASSERT_TRUE(regulator->ListLedgerEntries(RunningExchange::as(kRegulatorToken).get(), entries_request, &one).ok());
      ++calls;
      for (const v1::LedgerEntry& e : one.entries()) paged_ids.push_back(e.ledger_entry_id());
      entries_request.set_page_token(one.next_page_token());
    } while (!entries_request.page_token().empty() && calls <= all.entries_size());
    EXPECT_EQ(paged_ids, expected_ids);
    EXPECT_EQ(calls, all.entries_size());
    v1::VerifyLedgerRequest verify;
    verify.set_holding_account_id(unit_account);
    v1::VerifyLedgerResponse verified;
    ASSERT_TRUE(regulator->VerifyLedger(RunningExchange::as(kRegulatorToken).get(), verify, &verified).ok());
    EXPECT_TRUE(verified.valid()) << verified.failure();
    EXPECT_EQ(verified.first_ledger_entry_id(), 1u);
    EXPECT_EQ(verified.entries_checked(), verified.last_ledger_entry_id());
    EXPECT_EQ(regulator->VerifyLedger(RunningExchange::as(unit_token).get(), verify, &verified).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);

    v1::ListSystemAccountsResponse system;
    ASSERT_TRUE(x->registry->ListSystemAccounts(RunningExchange::as(unit_token).get(), {}, &system).ok());
    ASSERT_EQ(system.accounts_size(), 5);
    EXPECT_EQ(system.accounts(3).kind(), v1::SYSTEM_ACCOUNT_KIND_SURRENDER);
    EXPECT_EQ(system.accounts(3).holding_account_id(), 4u);
    x->stop();
  }
}

}  // namespace
}  // namespace carbon::testing
