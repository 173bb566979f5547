// Clearing over gRPC against a real PostgreSQL: fees on a day of trading,
// end of day with its statements and reconciliation, both read again after
// a restart; the refusals of GetStatement, GetReconciliation and
// ListSurveillanceAlerts.

#include <gtest/gtest.h>

#include <fstream>

#include "carbon/v1/regulator.grpc.pb.h"
#include "e2e/e2e_support.h"

namespace carbon::testing {
namespace {

const std::string kAuditorToken = "e2e-auditor-token";

class ClearingE2eTest : public ::testing::Test {
 protected:
  /// A carbond on this test's database whose clock starts at `clock`, with fees
  /// (listed: buy 5 bps, sell 3 bps; block: 2 and 1) and an auditor.
  std::unique_ptr<RunningExchange> open_at(const std::string& clock) {
    auto x = std::make_unique<RunningExchange>(
        std::vector<std::string>{"--postgres=" + db.conninfo(), "--clock-start=" + clock});
    const std::string auditor_hash = registry::to_hex(server::hash_token(kAuditorToken));
    std::ofstream(x->dir() / "carbond.toml")
        << e2e_config() << "\n[[staff]]\nname = \"auditor\"\nrole = \"auditor\"\ntoken_sha256 = \"" << auditor_hash
        << "\"\n\n[fees]\nlisted_buy_bps = 5\nlisted_sell_bps = 3\nblock_buy_bps = 2\nblock_sell_bps = 1\n";
    x->start();
    return x;
  }

  static v1::CreateParticipantResponse create(RunningExchange& x, const std::string& code) {
    v1::CreateParticipantRequest request;
    request.set_code(code);
    request.set_name(code);
    request.set_type(v1::PARTICIPANT_TYPE_INSTITUTION);
    v1::CreateParticipantResponse response;
    EXPECT_TRUE(x.admin->CreateParticipant(RunningExchange::as(kOperatorToken).get(), request, &response).ok());
    return response;
  }

  static void move_cash(RunningExchange& x, std::uint64_t account, std::int64_t fen, const std::string& key,
                        bool withdraw) {
    v1::CashMovementRequest request;
    request.set_cash_account_id(account);
    request.set_amount_fen(fen);
    request.set_idempotency_key(key);
    v1::CashMovementResponse response;
    auto context = RunningExchange::as(kOperatorToken);
    const grpc::Status status = withdraw ? x.admin->Withdraw(context.get(), request, &response)
                                         : x.admin->Deposit(context.get(), request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }

  static v1::PlaceOrderResponse place(RunningExchange& x, const std::string& token, v1::Side side, std::int64_t price,
                                      std::int64_t qty) {
    v1::PlaceOrderRequest request;
    request.set_instrument("CEA2024");
    request.set_side(side);
    request.set_price_fen(price);
    request.set_quantity(qty);
    v1::PlaceOrderResponse response;
    const grpc::Status status = x.trading->PlaceOrder(RunningExchange::as(token).get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  static grpc::Status statement(RunningExchange& x, const std::string& token, const std::string& date,
                                std::uint64_t participant, v1::Statement* out) {
    v1::GetStatementRequest request;
    request.set_trading_date(date);
    request.set_participant_id(participant);
    v1::GetStatementResponse response;
    const grpc::Status status = x.trading->GetStatement(RunningExchange::as(token).get(), request, &response);
    if (out != nullptr) *out = response.statement();
    return status;
  }

  static grpc::Status reconciliation(RunningExchange& x, const std::string& token, const std::string& date,
                                     v1::ReconciliationReport* out) {
    v1::GetReconciliationRequest request;
    request.set_trading_date(date);
    v1::ReconciliationReport response;
    const grpc::Status status = x.admin->GetReconciliation(RunningExchange::as(token).get(), request, &response);
    if (out != nullptr) *out = response;
    return status;
  }

  TestDatabase db;
};

TEST_F(ClearingE2eTest, ADayWithFeesItsStatementsAndReconciliationSurviveARestart) {
  std::string buyer_token, seller_token;
  std::uint64_t buyer_id = 0, seller_id = 0;
  {
    auto x = open_at("2026-11-24T10:00:00+08:00");
    const auto buyer = create(*x, "B-1");
    const auto seller = create(*x, "S-1");
    buyer_token = buyer.trader_token();
    seller_token = seller.trader_token();
    buyer_id = buyer.participant().participant_id();
    seller_id = seller.participant().participant_id();
    move_cash(*x, buyer.participant().cash_account_id(), 10'000'000, "dep-b", false);
    move_cash(*x, seller.participant().cash_account_id(), 1'000, "dep-s", false);
    ASSERT_TRUE(set_generous_cap(*x).ok());
    v1::IssueAllowancesRequest issue;
    issue.set_instrument("CEA2024");
    issue.set_holding_account_id(seller.participant().holding_account_id());
    issue.set_quantity(1'000);
    issue.set_reason("allocation");
    v1::IssueAllowancesResponse issued;
    ASSERT_TRUE(x->registry->IssueAllowances(RunningExchange::as(kRegistryToken).get(), issue, &issued).ok());

    // The fee schedule is public in the instrument's mode rules.
    v1::ListInstrumentsResponse listed;
    ASSERT_TRUE(x->admin->ListInstruments(RunningExchange::as(buyer_token).get(), {}, &listed).ok());
    ASSERT_GE(listed.instruments(0).mode_rules_size(), 2);
    EXPECT_EQ(listed.instruments(0).mode_rules(0).buy_fee_bps(), 5);
    EXPECT_EQ(listed.instruments(0).mode_rules(0).sell_fee_bps(), 3);
    EXPECT_EQ(listed.instruments(0).mode_rules(1).buy_fee_bps(), 2);
    EXPECT_EQ(listed.instruments(0).mode_rules(1).sell_fee_bps(), 1);

    // 100 t @ 100.00: 1,000,000 fen; buyer fee 500, seller fee 300.
    place(*x, seller_token, v1::SIDE_SELL, 10'000, 100);
    const auto first = place(*x, buyer_token, v1::SIDE_BUY, 10'000, 100);
    ASSERT_EQ(first.fills_size(), 1);
    EXPECT_EQ(first.fills(0).buyer_fee_fen(), 500);
    EXPECT_EQ(first.fills(0).seller_fee_fen(), 300);
    // 1 t @ 99.99 for a buy at 100.00: buyer fee 4.9995 -> 5, seller fee 2.9997 -> 3.
    place(*x, seller_token, v1::SIDE_SELL, 9'999, 1);
    const auto second = place(*x, buyer_token, v1::SIDE_BUY, 10'000, 1);
    ASSERT_EQ(second.fills_size(), 1);
    EXPECT_EQ(second.fills(0).buyer_fee_fen(), 5);
    EXPECT_EQ(second.fills(0).seller_fee_fen(), 3);
    // A regulator reads the same fees from the stored trades.
    v1::QueryTradesResponse stored;
    ASSERT_TRUE(v1::RegulatorService::NewStub(x->channel)
                    ->QueryTrades(RunningExchange::as(kRegulatorToken).get(), {}, &stored)
                    .ok());
    ASSERT_EQ(stored.trades_size(), 2);
    EXPECT_EQ(stored.trades(0).buyer_fee_fen(), 500);
    EXPECT_EQ(stored.trades(0).seller_fee_fen(), 300);
    EXPECT_EQ(stored.trades(1).buyer_fee_fen(), 5);
    move_cash(*x, seller.participant().cash_account_id(), 500, "wd-s", true);
    EXPECT_EQ(x->stop(), 0);
  }
  {
    auto x = open_at("2026-11-24T15:30:00+08:00");
    v1::RunEndOfDayRequest request;
    request.set_trading_date("2026-11-24");
    v1::RunEndOfDayResponse closed;
    const grpc::Status status = x->admin->RunEndOfDay(RunningExchange::as(kOperatorToken).get(), request, &closed);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(closed.statements_written(), 2u);
    EXPECT_TRUE(closed.reconciliation().balanced());
    EXPECT_EQ(closed.reconciliation().cash().fee_account_fen(), 808);
    EXPECT_EQ(x->stop(), 0);
  }
  auto x = open_at("2026-11-24T15:40:00+08:00");
  v1::Statement b;
  ASSERT_TRUE(statement(*x, buyer_token, "2026-11-24", 0, &b).ok());
  EXPECT_EQ(b.participant_id(), buyer_id);
  EXPECT_EQ(b.opening_cash_fen(), 0);
  EXPECT_EQ(b.deposits_fen(), 10'000'000);
  EXPECT_EQ(b.withdrawals_fen(), 0);
  EXPECT_EQ(b.bought_value_fen(), 1'009'999);
  EXPECT_EQ(b.fees_fen(), 505);
  EXPECT_EQ(b.closing_cash().available_fen(), 10'000'000 - 1'009'999 - 505);
  EXPECT_EQ(b.closing_cash().reserved_fen(), 0);
  ASSERT_EQ(b.trades_size(), 2);
  EXPECT_EQ(b.trades(1).buyer_fee_fen(), 5);
  ASSERT_EQ(b.lines_size(), 1);
  EXPECT_EQ(b.lines(0).bought_quantity(), 101);
  EXPECT_EQ(b.lines(0).closing_holding().available(), 101);
  EXPECT_EQ(b.lines(0).fees_fen(), 505);

  v1::Statement s;
  ASSERT_TRUE(statement(*x, kAuditorToken, "2026-11-24", seller_id, &s).ok());
  EXPECT_EQ(s.deposits_fen(), 1'000);
  EXPECT_EQ(s.withdrawals_fen(), 500);
  EXPECT_EQ(s.sold_value_fen(), 1'009'999);
  EXPECT_EQ(s.fees_fen(), 303);
  EXPECT_EQ(s.closing_cash().available_fen(), 1'000 - 500 + 1'009'999 - 303);
  EXPECT_EQ(s.closing_cash().unsettled_fen(), 0);
  ASSERT_EQ(s.lines_size(), 1);
  EXPECT_EQ(s.lines(0).received_quantity(), 1'000);
  EXPECT_EQ(s.lines(0).sold_quantity(), 101);

  // The recorded reconciliation and a live one after the restart.
  v1::ReconciliationReport day, live;
  ASSERT_TRUE(reconciliation(*x, kRegulatorToken, "2026-11-24", &day).ok());
  EXPECT_TRUE(day.balanced());
  EXPECT_EQ(day.cash().total_deposits_fen(), 10'001'000);
  EXPECT_EQ(day.cash().total_withdrawals_fen(), 500);
  EXPECT_EQ(day.cash().fee_account_fen(), 808);
  EXPECT_EQ(day.cash().participant_balances_fen(), 10'001'000 - 500 - 808);
  ASSERT_TRUE(reconciliation(*x, kOperatorToken, "", &live).ok());
  EXPECT_TRUE(live.balanced());
  EXPECT_EQ(live.trading_date(), "");
  ASSERT_GE(live.units_size(), 1);
  for (const auto& u : live.units()) {
    if (u.instrument() == "CEA2024") {
      EXPECT_EQ(u.issued(), 1'000);
      EXPECT_EQ(u.participant_holdings(), 1'000);
    }
  }

  // The empty date is the last day closed (read from PostgreSQL, as every statement).
  v1::Statement last;
  ASSERT_TRUE(statement(*x, buyer_token, "", 0, &last).ok());
  EXPECT_EQ(last.trading_date(), "2026-11-24");
  EXPECT_EQ(last.closing_cash().available_fen(), b.closing_cash().available_fen());

  // Refusals, each with its exact status and the rule in its message.
  struct Refusal {
    const char* name;
    const std::string* token;
    const char* date;
    std::uint64_t participant;
    grpc::StatusCode code;
    const char* words;
  };
  const Refusal refusals[] = {
      {"a trader asking for another participant", &buyer_token, "2026-11-24", seller_id,
       grpc::StatusCode::PERMISSION_DENIED, "only its own"},
      {"staff without a participant", &kOperatorToken, "2026-11-24", 0, grpc::StatusCode::INVALID_ARGUMENT,
       "participant_id"},
      {"a malformed date", &buyer_token, "24.11.2026", 0, grpc::StatusCode::INVALID_ARGUMENT, "YYYY-MM-DD"},
      {"a day not closed", &buyer_token, "2026-11-25", 0, grpc::StatusCode::NOT_FOUND, "no statement"},
      {"an unknown participant", &kRegulatorToken, "2026-11-24", 999, grpc::StatusCode::NOT_FOUND, "no statement"},
  };
  for (const Refusal& r : refusals) {
    const grpc::Status status = statement(*x, *r.token, r.date, r.participant, nullptr);
    EXPECT_EQ(status.error_code(), r.code) << r.name << ": " << status.error_message();
    EXPECT_NE(status.error_message().find(r.words), std::string::npos) << r.name << ": " << status.error_message();
  }
  EXPECT_EQ(statement(*x, kRegistryToken, "2026-11-24", buyer_id, nullptr).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(reconciliation(*x, buyer_token, "", nullptr).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(reconciliation(*x, kOperatorToken, "2026-11-23", nullptr).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(reconciliation(*x, kOperatorToken, "nope", nullptr).error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  auto regulator = v1::RegulatorService::NewStub(x->channel);
  v1::ListSurveillanceAlertsRequest alerts_request;
  v1::ListSurveillanceAlertsResponse alerts;
  ASSERT_TRUE(regulator->ListSurveillanceAlerts(RunningExchange::as(kRegulatorToken).get(), alerts_request, &alerts).ok());
  EXPECT_EQ(alerts.alerts_size(), 0);
  EXPECT_EQ(regulator->ListSurveillanceAlerts(RunningExchange::as(kOperatorToken).get(), alerts_request, &alerts)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  alerts_request.set_type(static_cast<v1::AlertType>(999));
  EXPECT_EQ(regulator->ListSurveillanceAlerts(RunningExchange::as(kRegulatorToken).get(), alerts_request, &alerts)
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace carbon::testing
