// Compliance-year configuration, pledges and partial unfreezing over gRPC
// against a real PostgreSQL, across restarts: a year configured with a
// deadline and the multiple 7, listed closes on two days of the month before
// the deadline, the year closed too early (refused) and after the deadline
// (penalty = shortfall × mean close × 7); a pledge released in part, restored,
// enforced in part and listed in pages; a freeze lifted in part and restored;
// the regulator's trade and order queries in pages.

#include <gtest/gtest.h>

#include "carbon/v1/regulator.grpc.pb.h"
#include "e2e/e2e_support.h"

namespace carbon::testing {
namespace {

class PledgeTest : public ::testing::Test {
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

  static void trade(RunningExchange& x, const std::string& seller, const std::string& buyer, std::int64_t price) {
    for (const auto& [token, side] : {std::pair{seller, v1::SIDE_SELL}, std::pair{buyer, v1::SIDE_BUY}}) {
      v1::PlaceOrderRequest request;
      request.set_instrument("CEA2024");
      request.set_side(side);
      request.set_price_fen(price);
      request.set_quantity(100);
      v1::PlaceOrderResponse response;
      const grpc::Status call = x.trading->PlaceOrder(RunningExchange::as(token).get(), request, &response);
      ASSERT_TRUE(call.ok()) << call.error_message();
    }
  }

  static void end_of_day(RunningExchange& x, const std::string& date) {
    v1::RunEndOfDayRequest eod;
    eod.set_trading_date(date);
    v1::RunEndOfDayResponse closed;
    const grpc::Status call = x.admin->RunEndOfDay(RunningExchange::as(kOperatorToken).get(), eod, &closed);
    ASSERT_TRUE(call.ok()) << call.error_message();
  }

  static v1::Holding holding(RunningExchange& x, std::uint64_t account) {
    v1::GetHoldingsRequest request;
    request.set_holding_account_id(account);
    v1::GetHoldingsResponse response;
    EXPECT_TRUE(x.registry->GetHoldings(RunningExchange::as(kRegistryToken).get(), request, &response).ok());
    for (const v1::Holding& h : response.holdings()) {
      if (h.instrument() == "CEA2024") return h;
    }
    return {};
  }

  static v1::ListPledgesResponse pledges(RunningExchange& x, const std::string& token, std::uint32_t page_size,
                                         const std::string& page_token, grpc::Status* status = nullptr) {
    v1::ListPledgesRequest request;
    request.set_page_size(page_size);
    request.set_page_token(page_token);
    v1::ListPledgesResponse response;
    const grpc::Status call = x.registry->ListPledges(RunningExchange::as(token).get(), request, &response);
    if (status) *status = call;
    else EXPECT_TRUE(call.ok()) << call.error_message();
    return response;
  }

  TestDatabase db;
  std::unique_ptr<v1::RegulatorService::Stub> regulator;
};

TEST_F(PledgeTest, ConfiguredYearPledgesAndPartialUnfreezeSurviveRestarts) {
  std::string unit_token, buyer_token, bank_token;
  std::uint64_t unit_id = 0, unit_account = 0, bank_id = 0, bank_account = 0, pledge_id = 0, freeze_id = 0;
  {
    auto x = open_at("2026-11-24T10:00:00+08:00");
    const auto unit = create(*x, "KEU-1", v1::PARTICIPANT_TYPE_KEY_EMITTING_UNIT);
    const auto buyer = create(*x, "INST-1", v1::PARTICIPANT_TYPE_INSTITUTION);
    const auto bank = create(*x, "BANK-1", v1::PARTICIPANT_TYPE_INSTITUTION);
    unit_token = unit.trader_token();
    buyer_token = buyer.trader_token();
    bank_token = bank.trader_token();
    unit_id = unit.participant().participant_id();
    unit_account = unit.participant().holding_account_id();
    bank_id = bank.participant().participant_id();
    bank_account = bank.participant().holding_account_id();
    v1::CashMovementRequest deposit;
    deposit.set_cash_account_id(buyer.participant().cash_account_id());
    deposit.set_amount_fen(100'000'000);
    deposit.set_idempotency_key("dep-1");
    v1::CashMovementResponse deposited;
    ASSERT_TRUE(x->admin->Deposit(RunningExchange::as(kOperatorToken).get(), deposit, &deposited).ok());
    v1::SetCapRequest cap;
    cap.set_compliance_year(2024);
    cap.set_sector("power");
    cap.set_cap_quantity(1'000'000);
    cap.set_reason("plan 2024");
    v1::Cap set;
    ASSERT_TRUE(x->registry->SetCap(RunningExchange::as(kRegistryToken).get(), cap, &set).ok());
    v1::AllocateFreeRequest allocate;
    allocate.set_compliance_year(2024);
    allocate.set_sector("power");
    allocate.set_participant_id(unit_id);
    allocate.set_instrument("CEA2024");
    allocate.mutable_direct()->set_quantity(1'000);
    allocate.set_reason("allocation");
    allocate.set_idempotency_key("alloc-1");
    v1::Allocation allocation;
    ASSERT_TRUE(x->registry->AllocateFree(RunningExchange::as(kRegistryToken).get(), allocate, &allocation).ok());

    // The year: deadline 1 December 2026 00:00 (30 November 24:00), multiple 7.
    v1::ConfigureComplianceYearRequest configure;
    configure.set_compliance_year(2024);
    configure.set_deadline_unix_nanos(1'796'054'400'000'000'000);  // 2026-12-01T00:00:00+08:00
    configure.set_penalty_multiplier(11);
    v1::ComplianceYear year;
    grpc::Status call = x->registry->ConfigureComplianceYear(RunningExchange::as(kRegistryToken).get(), configure, &year);
    EXPECT_EQ(call.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(call.error_message().find("5 to 10"), std::string::npos) << call.error_message();
    configure.set_penalty_multiplier(7);
    EXPECT_EQ(x->registry->ConfigureComplianceYear(RunningExchange::as(kRegulatorToken).get(), configure, &year)
                  .error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    configure.set_deadline_unix_nanos(1'763'000'000'000'000'000);  // 2025: in the past
    EXPECT_EQ(x->registry->ConfigureComplianceYear(RunningExchange::as(kRegistryToken).get(), configure, &year)
                  .error_code(),
              grpc::StatusCode::FAILED_PRECONDITION);
    configure.set_deadline_unix_nanos(1'796'054'400'000'000'000);
    configure.set_early_warning_threshold_bps(9'000);
    call = x->registry->ConfigureComplianceYear(RunningExchange::as(kRegistryToken).get(), configure, &year);
    ASSERT_TRUE(call.ok()) << call.error_message();
    EXPECT_EQ(year.penalty_multiplier(), 7);
    EXPECT_EQ(year.ccer_limit_bps(), 500);
    EXPECT_FALSE(year.closed());

    // Emissions 700 t, 500 t surrendered: 200 t short.
    v1::RecordVerifiedEmissionsRequest emissions;
    emissions.set_participant_id(unit_id);
    emissions.set_compliance_year(2024);
    emissions.set_sector("power");
    emissions.set_verified_emissions(700);
    emissions.set_verifier("CQC");
    emissions.set_report_reference("VR-1");
    emissions.set_idempotency_key("em-1");
    v1::ComplianceStatus recorded;
    ASSERT_TRUE(x->registry->RecordVerifiedEmissions(RunningExchange::as(kRegistryToken).get(), emissions, &recorded).ok());
    v1::SurrenderRequest surrender;
    surrender.set_compliance_year(2024);
    surrender.set_instrument("CEA2024");
    surrender.set_quantity(500);
    surrender.set_idempotency_key("sur-1");
    v1::SurrenderResponse surrendered;
    ASSERT_TRUE(x->registry->Surrender(RunningExchange::as(unit_token).get(), surrender, &surrendered).ok());
    // Threshold 0 in the request applies the year's configured 9,000 bps, and the answer says so.
    v1::ListEarlyWarningsRequest warnings_request;
    warnings_request.set_compliance_year(2024);
    v1::ListEarlyWarningsResponse warnings;
    call = regulator->ListEarlyWarnings(RunningExchange::as(kRegulatorToken).get(), warnings_request, &warnings);
    ASSERT_TRUE(call.ok()) << call.error_message();
    EXPECT_EQ(warnings.threshold_bps(), 9'000) << "the configured threshold, not 10,000";
    warnings_request.set_threshold_bps(7'500);
    call = regulator->ListEarlyWarnings(RunningExchange::as(kRegulatorToken).get(), warnings_request, &warnings);
    ASSERT_TRUE(call.ok()) << call.error_message();
    EXPECT_EQ(warnings.threshold_bps(), 7'500);

    trade(*x, unit_token, buyer_token, 10'000);  // the close of 24 November

    // A pledge of 100 t to the bank; pledged units cannot be transferred.
    v1::PledgeRequest pledge;
    pledge.set_holding_account_id(unit_account);
    pledge.set_instrument("CEA2024");
    pledge.set_quantity(100);
    pledge.set_pledgee_participant_id(bank_id);
    pledge.set_contract_reference("loan 2026-88");
    pledge.set_idempotency_key("plg-1");
    v1::PledgeResponse pledged;
    EXPECT_EQ(x->registry->Pledge(RunningExchange::as(unit_token).get(), pledge, &pledged).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    call = x->registry->Pledge(RunningExchange::as(kRegistryToken).get(), pledge, &pledged);
    ASSERT_TRUE(call.ok()) << call.error_message();
    pledge_id = pledged.pledge().pledge_id();
    EXPECT_EQ(pledged.pledge().status(), v1::PLEDGE_STATUS_ACTIVE);
    EXPECT_EQ(pledged.holding().pledged(), 100);
    EXPECT_EQ(pledged.holding().available(), 300);
    EXPECT_NE(pledged.ledger_entry_id(), 0u);
    pledge.set_quantity(301);
    pledge.set_idempotency_key("plg-2");
    EXPECT_EQ(x->registry->Pledge(RunningExchange::as(kRegistryToken).get(), pledge, &pledged).error_code(),
              grpc::StatusCode::FAILED_PRECONDITION);
    v1::TransferRequest transfer;
    transfer.set_from_holding_account_id(unit_account);
    transfer.set_to_holding_account_id(bank_account);
    transfer.set_instrument("CEA2024");
    transfer.set_quantity(301);
    transfer.set_reason("move");
    transfer.set_idempotency_key("trf-1");
    v1::TransferResponse transferred;
    EXPECT_EQ(x->registry->Transfer(RunningExchange::as(kRegistryToken).get(), transfer, &transferred).error_code(),
              grpc::StatusCode::FAILED_PRECONDITION);

    // A freeze of 40 t, lifted in part (15 t).
    v1::FreezeRequest freeze;
    freeze.set_holding_account_id(unit_account);
    freeze.set_instrument("CEA2024");
    freeze.set_quantity(40);
    freeze.set_reason("investigation");
    freeze.set_idempotency_key("frz-1");
    v1::FreezeResponse frozen;
    ASSERT_TRUE(regulator->Freeze(RunningExchange::as(kRegulatorToken).get(), freeze, &frozen).ok());
    freeze_id = frozen.freeze().freeze_id();
    v1::UnfreezeRequest unfreeze;
    unfreeze.set_freeze_id(freeze_id);
    unfreeze.set_quantity(41);
    unfreeze.set_reason("partly cleared");
    unfreeze.set_idempotency_key("unf-0");
    v1::UnfreezeResponse unfrozen;
    EXPECT_EQ(regulator->Unfreeze(RunningExchange::as(kRegulatorToken).get(), unfreeze, &unfrozen).error_code(),
              grpc::StatusCode::FAILED_PRECONDITION);
    unfreeze.set_quantity(15);
    unfreeze.set_idempotency_key("unf-1");
    call = regulator->Unfreeze(RunningExchange::as(kRegulatorToken).get(), unfreeze, &unfrozen);
    ASSERT_TRUE(call.ok()) << call.error_message();
    EXPECT_EQ(unfrozen.freeze().remaining_quantity(), 25);
    EXPECT_EQ(unfrozen.freeze().status(), v1::FREEZE_STATUS_ACTIVE);
    EXPECT_EQ(unfrozen.holding().frozen(), 25);

    // The loan is repaid in part: 30 t released.
    v1::ReleasePledgeRequest release;
    release.set_pledge_id(pledge_id);
    release.set_quantity(30);
    release.set_reason("partial repayment");
    release.set_idempotency_key("rel-1");
    call = x->registry->ReleasePledge(RunningExchange::as(kRegistryToken).get(), release, &pledged);
    ASSERT_TRUE(call.ok()) << call.error_message();
    EXPECT_EQ(pledged.pledge().remaining_quantity(), 70);
    EXPECT_EQ(pledged.pledge().released_quantity(), 30);
    x->stop();
  }
  {
    auto x = open_at("2026-11-24T15:30:00+08:00");
    end_of_day(*x, "2026-11-24");
    // Restored: the pledge's 70 t and the freeze's 25 t.
    const v1::Holding h = holding(*x, unit_account);
    EXPECT_EQ(h.pledged(), 70);
    EXPECT_EQ(h.frozen(), 25);
    v1::ListFreezesRequest list;
    list.set_holding_account_id(unit_account);
    v1::ListFreezesResponse freezes;
    ASSERT_TRUE(regulator->ListFreezes(RunningExchange::as(kRegulatorToken).get(), list, &freezes).ok());
    ASSERT_EQ(freezes.freezes_size(), 1);
    EXPECT_EQ(freezes.freezes(0).remaining_quantity(), 25);
    EXPECT_EQ(freezes.freezes(0).quantity(), 40);
    EXPECT_EQ(freezes.freezes(0).reason(), "investigation");
    x->stop();
  }
  {
    auto x = open_at("2026-11-25T10:00:00+08:00");
    trade(*x, unit_token, buyer_token, 10'500);  // the close of 25 November
    // Too early: the deadline has not passed.
    v1::CloseComplianceYearRequest close;
    close.set_compliance_year(2024);
    v1::CloseComplianceYearResponse closed;
    grpc::Status call = x->registry->CloseComplianceYear(RunningExchange::as(kRegistryToken).get(), close, &closed);
    EXPECT_EQ(call.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_NE(call.error_message().find("deadline"), std::string::npos) << call.error_message();

    // Default: 50 t of the 70 t still pledged go to the bank.
    v1::EnforcePledgeRequest enforce;
    enforce.set_pledge_id(pledge_id);
    enforce.set_quantity(50);
    enforce.set_reason("default notice 7");
    enforce.set_idempotency_key("enf-1");
    v1::EnforcePledgeResponse enforced;
    call = x->registry->EnforcePledge(RunningExchange::as(kRegistryToken).get(), enforce, &enforced);
    ASSERT_TRUE(call.ok()) << call.error_message();
    EXPECT_EQ(enforced.pledge().remaining_quantity(), 20);
    EXPECT_EQ(enforced.pledge().enforced_quantity(), 50);
    EXPECT_EQ(enforced.pledgor_holding().pledged(), 20);
    EXPECT_EQ(enforced.pledgee_holding().available(), 50);
    enforce.set_quantity(21);
    enforce.set_idempotency_key("enf-2");
    EXPECT_EQ(x->registry->EnforcePledge(RunningExchange::as(kRegistryToken).get(), enforce, &enforced).error_code(),
              grpc::StatusCode::FAILED_PRECONDITION);

    // A second pledge, then ListPledges in pages of one.
    v1::PledgeRequest pledge;
    pledge.set_holding_account_id(unit_account);
    pledge.set_instrument("CEA2024");
    pledge.set_quantity(10);
    pledge.set_pledgee_participant_id(bank_id);
    pledge.set_contract_reference("loan 2026-89");
    pledge.set_idempotency_key("plg-3");
    v1::PledgeResponse pledged;
    ASSERT_TRUE(x->registry->Pledge(RunningExchange::as(kRegistryToken).get(), pledge, &pledged).ok());
    const v1::ListPledgesResponse first = pledges(*x, kRegistryToken, 1, "");
    ASSERT_EQ(first.pledges_size(), 1);
    EXPECT_EQ(first.pledges(0).pledge_id(), pledge_id);
    ASSERT_FALSE(first.next_page_token().empty());
    const v1::ListPledgesResponse second = pledges(*x, kRegistryToken, 1, first.next_page_token());
    ASSERT_EQ(second.pledges_size(), 1);
    EXPECT_EQ(second.pledges(0).pledge_id(), pledged.pledge().pledge_id());
    EXPECT_TRUE(second.next_page_token().empty());
    EXPECT_EQ(pledges(*x, bank_token, 10, "").pledges_size(), 2) << "the pledgee sees its pledges";
    EXPECT_EQ(pledges(*x, buyer_token, 10, "").pledges_size(), 0);
    grpc::Status bad;
    pledges(*x, kRegistryToken, 1, "1.bogus", &bad);
    EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    pledges(*x, kOperatorToken, 1, "", &bad);
    EXPECT_EQ(bad.error_code(), grpc::StatusCode::PERMISSION_DENIED);

    // The regulator's queries of trades and orders, read from PostgreSQL, in pages.
    v1::QueryTradesRequest trades;
    trades.set_instrument("CEA2024");
    trades.set_participant_id(unit_id);
    trades.set_page_size(1);
    v1::QueryTradesResponse page1, page2;
    call = regulator->QueryTrades(RunningExchange::as(kRegulatorToken).get(), trades, &page1);
    ASSERT_TRUE(call.ok()) << call.error_message();
    ASSERT_EQ(page1.trades_size(), 1);
    EXPECT_EQ(page1.trades(0).price_fen(), 10'000);
    ASSERT_FALSE(page1.next_page_token().empty());
    trades.set_page_token(page1.next_page_token());
    ASSERT_TRUE(regulator->QueryTrades(RunningExchange::as(kRegulatorToken).get(), trades, &page2).ok());
    ASSERT_EQ(page2.trades_size(), 1);
    EXPECT_EQ(page2.trades(0).price_fen(), 10'500);
    EXPECT_EQ(page2.trades(0).seller_participant_id(), unit_id);
    EXPECT_TRUE(page2.next_page_token().empty()) << "the last page, though full, has no token (Paging)";
    v1::QueryTradesResponse page3;
    trades.set_page_token("");
    trades.set_from_unix_nanos(page2.trades(0).executed_at_unix_nanos());
    ASSERT_TRUE(regulator->QueryTrades(RunningExchange::as(kRegulatorToken).get(), trades, &page3).ok());
    EXPECT_EQ(page3.trades_size(), 1) << "the time range keeps only the second trade";
    trades.set_page_token(page1.next_page_token());
    EXPECT_EQ(regulator->QueryTrades(RunningExchange::as(kRegulatorToken).get(), trades, &page3).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT)
        << "a token of other filters";
    trades.set_page_token("");
    trades.set_to_unix_nanos(1);
    EXPECT_EQ(regulator->QueryTrades(RunningExchange::as(kRegulatorToken).get(), trades, &page3).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
    trades.set_to_unix_nanos(0);
    trades.set_participant_id(999);
    EXPECT_EQ(regulator->QueryTrades(RunningExchange::as(kRegulatorToken).get(), trades, &page3).error_code(),
              grpc::StatusCode::NOT_FOUND);
    trades.set_participant_id(0);
    trades.set_instrument("CEA2099");
    EXPECT_EQ(regulator->QueryTrades(RunningExchange::as(kRegulatorToken).get(), trades, &page3).error_code(),
              grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(regulator->QueryTrades(RunningExchange::as(kRegistryToken).get(), trades, &page3).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);

    v1::QueryOrdersRequest orders;
    orders.set_participant_id(unit_id);
    orders.set_status(v1::ORDER_STATUS_FILLED);
    orders.set_page_size(1);
    v1::QueryOrdersResponse first_orders, second_orders;
    call = regulator->QueryOrders(RunningExchange::as(kRegulatorToken).get(), orders, &first_orders);
    ASSERT_TRUE(call.ok()) << call.error_message();
    ASSERT_EQ(first_orders.orders_size(), 1);
    EXPECT_EQ(first_orders.orders(0).side(), v1::SIDE_SELL);
    orders.set_page_token(first_orders.next_page_token());
    ASSERT_TRUE(regulator->QueryOrders(RunningExchange::as(kRegulatorToken).get(), orders, &second_orders).ok());
    ASSERT_EQ(second_orders.orders_size(), 1);
    EXPECT_GT(second_orders.orders(0).order_id(), first_orders.orders(0).order_id());
    EXPECT_TRUE(second_orders.next_page_token().empty()) << "the unit's two filled orders: no third page";
    orders.set_page_token("");
    orders.set_status(v1::ORDER_STATUS_CANCELLED);
    ASSERT_TRUE(regulator->QueryOrders(RunningExchange::as(kRegulatorToken).get(), orders, &second_orders).ok());
    EXPECT_EQ(second_orders.orders_size(), 0);
    orders.set_status(static_cast<v1::OrderStatus>(42));
    EXPECT_EQ(regulator->QueryOrders(RunningExchange::as(kRegulatorToken).get(), orders, &second_orders).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
    x->stop();
  }
  {
    auto x = open_at("2026-11-25T15:30:00+08:00");
    end_of_day(*x, "2026-11-25");
    x->stop();
  }
  {
    // After the deadline: the basis is November's mean close (10,000 and 10,500), the multiple 7.
    auto x = open_at("2026-12-01T10:00:00+08:00");
    v1::CloseComplianceYearRequest close;
    close.set_compliance_year(2024);
    v1::CloseComplianceYearResponse closed;
    const grpc::Status call = x->registry->CloseComplianceYear(RunningExchange::as(kRegistryToken).get(), close, &closed);
    ASSERT_TRUE(call.ok()) << call.error_message();
    EXPECT_EQ(closed.penalty_basis_price_fen(), 10'250);
    EXPECT_EQ(closed.year().penalty_multiplier(), 7);
    EXPECT_EQ(closed.year().deadline_unix_nanos(), 1'796'054'400'000'000'000);
    ASSERT_EQ(closed.short_units_size(), 1);
    EXPECT_EQ(closed.short_units(0).outstanding(), 200);
    EXPECT_EQ(closed.short_units(0).penalty_multiplier(), 7);
    EXPECT_EQ(closed.short_units(0).penalty_fen(), 200 * 10'250 * 7);
    // The pledge and the bank's enforced units were restored.
    EXPECT_EQ(holding(*x, unit_account).pledged(), 30);
    EXPECT_EQ(holding(*x, bank_account).available(), 50);
    const v1::ListPledgesResponse listed = pledges(*x, kRegistryToken, 10, "");
    ASSERT_EQ(listed.pledges_size(), 2);
    EXPECT_EQ(listed.pledges(0).remaining_quantity(), 20);
    EXPECT_EQ(listed.pledges(0).released_quantity(), 30);
    EXPECT_EQ(listed.pledges(0).enforced_quantity(), 50);
    x->stop();
  }
}

}  // namespace
}  // namespace carbon::testing
