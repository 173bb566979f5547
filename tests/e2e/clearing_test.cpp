// Clearing over gRPC against a real PostgreSQL: fees on a day of trading,
// end of day with its statements and reconciliation, both read again after
// a restart; the refusals of GetStatement, GetReconciliation and
// ListSurveillanceAlerts.

#include <gtest/gtest.h>

#include <fstream>
#include <future>

#include "carbon/v1/regulator.grpc.pb.h"
#include "e2e/e2e_support.h"

namespace carbon::testing {
namespace {

const std::string kAuditorToken = "e2e-auditor-token";

class ClearingE2eTest : public ::testing::Test {
 protected:
  /// A carbond on this test's database whose clock starts at `clock`, with fees
  /// (listed: buy 5 bps, sell 3 bps; block: 2 and 1) and an auditor.
  std::unique_ptr<RunningExchange> open_at(const std::string& clock, const std::string& server_settings = "") {
    auto x = std::make_unique<RunningExchange>(
        std::vector<std::string>{"--postgres=" + db.conninfo(), "--clock-start=" + clock});
    const std::string auditor_hash = registry::to_hex(server::hash_token(kAuditorToken));
    std::ofstream(x->dir() / "carbond.toml")
        << e2e_config(server_settings) << "\n[[staff]]\nname = \"auditor\"\nrole = \"auditor\"\ntoken_sha256 = \"" << auditor_hash
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

  struct Traders {
    std::string buyer_token, seller_token;
    std::uint64_t buyer_id = 0, seller_id = 0, seller_cash_account = 0;
  };
  /// B-1 with 10,000,000 fen and S-1 with 1,000 t of CEA2024 (and `seller_fen`, if any), under a generous cap.
  static Traders open_traders(RunningExchange& x, std::int64_t seller_fen) {
    const auto buyer = create(x, "B-1");
    const auto seller = create(x, "S-1");
    Traders t{buyer.trader_token(), seller.trader_token(), buyer.participant().participant_id(),
              seller.participant().participant_id(), seller.participant().cash_account_id()};
    move_cash(x, buyer.participant().cash_account_id(), 10'000'000, "dep-b", false);
    if (seller_fen > 0) move_cash(x, t.seller_cash_account, seller_fen, "dep-s", false);
    EXPECT_TRUE(set_generous_cap(x).ok());
    v1::IssueAllowancesRequest issue;
    issue.set_instrument("CEA2024");
    issue.set_holding_account_id(seller.participant().holding_account_id());
    issue.set_quantity(1'000);
    issue.set_reason("allocation");
    v1::IssueAllowancesResponse issued;
    EXPECT_TRUE(x.registry->IssueAllowances(RunningExchange::as(kRegistryToken).get(), issue, &issued).ok());
    return t;
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
    const Traders traders = open_traders(*x, 1'000);
    ASSERT_FALSE(HasFailure());
    buyer_token = traders.buyer_token;
    seller_token = traders.seller_token;
    buyer_id = traders.buyer_id;
    seller_id = traders.seller_id;

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
    move_cash(*x, traders.seller_cash_account, 500, "wd-s", true);
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
  alerts_request.set_type(v1::ALERT_TYPE_UNSPECIFIED);
  alerts_request.set_min_severity(static_cast<v1::AlertSeverity>(9));
  const grpc::Status severity =
      regulator->ListSurveillanceAlerts(RunningExchange::as(kRegulatorToken).get(), alerts_request, &alerts);
  EXPECT_EQ(severity.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(severity.error_message(), "unknown alert severity");
}

// Self-trade attempts raise alerts (one per participant, instrument and day); the regulator pages through them
// newest first, and an alert raised between two pages neither repeats an item nor hides one (the pages are keyed
// by alert id, not by position).
TEST_F(ClearingE2eTest, SelfTradeAttemptsAreAlertedAndPagedWithoutRepeats) {
  auto x = open_at("2026-11-24T10:00:00+08:00");
  ASSERT_TRUE(set_generous_cap(*x).ok());
  // A participant with cash and 100 t resting on the ask, below the asks before it; its buy at that price meets
  // its own order first: stopped.
  std::int64_t price = 10'100;
  auto attempt = [&](const std::string& code) {
    price -= 50;
    const auto p = create(*x, code);
    move_cash(*x, p.participant().cash_account_id(), 10'000'000, "dep-" + code, false);
    v1::IssueAllowancesRequest issue;
    issue.set_instrument("CEA2024");
    issue.set_holding_account_id(p.participant().holding_account_id());
    issue.set_quantity(100);
    issue.set_reason("allocation");
    v1::IssueAllowancesResponse issued;
    ASSERT_TRUE(x->registry->IssueAllowances(RunningExchange::as(kRegistryToken).get(), issue, &issued).ok());
    place(*x, p.trader_token(), v1::SIDE_SELL, price, 100);
    EXPECT_EQ(place(*x, p.trader_token(), v1::SIDE_BUY, price, 10).order().status(), v1::ORDER_STATUS_CANCELLED);
  };
  attempt("STP-1");
  attempt("STP-2");
  auto regulator = v1::RegulatorService::NewStub(x->channel);
  v1::ListSurveillanceAlertsRequest request;
  request.set_type(v1::ALERT_TYPE_SELF_TRADE_ATTEMPT);
  request.set_page_size(1);
  v1::ListSurveillanceAlertsResponse first;
  ASSERT_TRUE(regulator->ListSurveillanceAlerts(RunningExchange::as(kRegulatorToken).get(), request, &first).ok());
  ASSERT_EQ(first.alerts_size(), 1);
  EXPECT_EQ(first.alerts(0).severity(), v1::ALERT_SEVERITY_LOW);
  EXPECT_EQ(first.alerts(0).instrument(), "CEA2024");
  ASSERT_FALSE(first.next_page_token().empty());
  attempt("STP-3");  // a newer alert between the pages
  request.set_page_token(first.next_page_token());
  v1::ListSurveillanceAlertsResponse second;
  ASSERT_TRUE(regulator->ListSurveillanceAlerts(RunningExchange::as(kRegulatorToken).get(), request, &second).ok());
  ASSERT_EQ(second.alerts_size(), 1);
  EXPECT_LT(second.alerts(0).alert_id(), first.alerts(0).alert_id()) << "the next older alert, not a repeat";
  EXPECT_TRUE(second.next_page_token().empty()) << "the oldest of the first two ends the list";
  request.clear_page_token();
  request.set_page_size(10);
  v1::ListSurveillanceAlertsResponse all;
  ASSERT_TRUE(regulator->ListSurveillanceAlerts(RunningExchange::as(kRegulatorToken).get(), request, &all).ok());
  EXPECT_EQ(all.alerts_size(), 3);
}

TEST_F(ClearingE2eTest, AnOrderClosedInADayThatEndedIsReadFromPostgreSQL) {
  auto get = [](RunningExchange& x, const std::string& token, std::uint64_t id, v1::Order* out) {
    v1::GetOrderRequest request;
    request.set_order_id(id);
    v1::Order response;
    const grpc::Status status = x.trading->GetOrder(RunningExchange::as(token).get(), request, &response);
    if (out != nullptr) *out = response;
    return status;
  };
  auto order = [](v1::Side side, std::int64_t price, std::int64_t qty, const std::string& client_id) {
    v1::PlaceOrderRequest request;
    request.set_instrument("CEA2024");
    request.set_side(side);
    request.set_price_fen(price);
    request.set_quantity(qty);
    request.set_client_order_id(client_id);
    return request;
  };
  std::string buyer_token, seller_token;
  std::uint64_t filled = 0, expired = 0, buyer_id = 0;
  {
    auto x = open_at("2026-11-24T10:00:00+08:00");
    const Traders traders = open_traders(*x, 0);
    ASSERT_FALSE(HasFailure());
    buyer_token = traders.buyer_token;
    seller_token = traders.seller_token;
    buyer_id = traders.buyer_id;
    v1::PlaceOrderResponse placed;
    ASSERT_TRUE(x->trading->PlaceOrder(RunningExchange::as(seller_token).get(),
                                       order(v1::SIDE_SELL, 10'000, 10, "s-1"), &placed)
                    .ok());
    ASSERT_TRUE(x->trading->PlaceOrder(RunningExchange::as(buyer_token).get(),
                                       order(v1::SIDE_BUY, 10'000, 10, "b-1"), &placed)
                    .ok());
    ASSERT_EQ(placed.fills_size(), 1);
    filled = placed.order().order_id();
    ASSERT_TRUE(x->trading->PlaceOrder(RunningExchange::as(buyer_token).get(),
                                       order(v1::SIDE_BUY, 9'500, 1, "b-exp"), &placed)
                    .ok());
    expired = placed.order().order_id();
    EXPECT_EQ(x->stop(), 0);
  }
  {
    auto x = open_at("2026-11-24T15:30:00+08:00");
    v1::RunEndOfDayRequest request;
    request.set_trading_date("2026-11-24");
    v1::RunEndOfDayResponse closed;
    ASSERT_TRUE(x->admin->RunEndOfDay(RunningExchange::as(kOperatorToken).get(), request, &closed).ok());
    EXPECT_EQ(closed.expired_order_count(), 1u);
    // The engine has let go of both; GetOrder answers from PostgreSQL, in the same process.
    v1::Order read;
    const grpc::Status status = get(*x, buyer_token, filled, &read);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(read.order_id(), filled);
    EXPECT_EQ(read.status(), v1::ORDER_STATUS_FILLED);
    EXPECT_EQ(read.filled_quantity(), 10);
    EXPECT_EQ(read.client_order_id(), "b-1");
    EXPECT_EQ(read.participant_id(), buyer_id);
    EXPECT_EQ(x->stop(), 0);
  }
  auto x = open_at("2026-11-25T10:00:00+08:00", "max_database_reads = 1\n");
  v1::Order read;
  ASSERT_TRUE(get(*x, buyer_token, expired, &read).ok());
  EXPECT_EQ(read.status(), v1::ORDER_STATUS_EXPIRED);
  ASSERT_TRUE(get(*x, buyer_token, filled, &read).ok());
  EXPECT_EQ(read.status(), v1::ORDER_STATUS_FILLED);

  const grpc::Status other = get(*x, seller_token, filled, nullptr);
  EXPECT_EQ(other.error_code(), grpc::StatusCode::PERMISSION_DENIED) << other.error_message();
  EXPECT_NE(other.error_message().find("belongs to another participant"), std::string::npos) << other.error_message();
  const grpc::Status none = get(*x, buyer_token, expired + 100, nullptr);
  EXPECT_EQ(none.error_code(), grpc::StatusCode::NOT_FOUND) << none.error_message();
  EXPECT_NE(none.error_message().find("does not exist"), std::string::npos) << none.error_message();

  v1::CancelOrderRequest cancel;
  cancel.set_order_id(expired);
  v1::CancelOrderResponse cancelled;
  const grpc::Status refused_cancel = x->trading->CancelOrder(RunningExchange::as(buyer_token).get(), cancel, &cancelled);
  EXPECT_EQ(refused_cancel.error_code(), grpc::StatusCode::NOT_FOUND) << refused_cancel.error_message();
  EXPECT_NE(refused_cancel.error_message().find("closed in a trading day that has ended"), std::string::npos)
      << refused_cancel.error_message();
  v1::PlaceOrderResponse placed;
  const grpc::Status reused =
      x->trading->PlaceOrder(RunningExchange::as(buyer_token).get(), order(v1::SIDE_BUY, 10'000, 10, "b-1"), &placed);
  EXPECT_EQ(reused.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << reused.error_message();
  EXPECT_NE(reused.error_message().find("already used, by order " + std::to_string(filled) + ", closed"),
            std::string::npos)
      << reused.error_message();
  const grpc::Status fresh =
      x->trading->PlaceOrder(RunningExchange::as(buyer_token).get(), order(v1::SIDE_BUY, 10'000, 10, "b-2"), &placed);
  ASSERT_TRUE(fresh.ok()) << fresh.error_message();
  EXPECT_EQ(placed.order().order_id(), expired + 1) << "order ids go on from the last one given";

  // The read of an earlier day's order holds one of the server's database reads: with the only one taken
  // (a read waiting on a lock on the table), the next is refused at once, naming the limit.
  std::future<grpc::Status> held;  // declared before the lock: destroyed (waited for) after it is released
  TableLock lock(db.conninfo(), "orders");
  held = std::async(std::launch::async, [&] { return get(*x, buyer_token, filled, nullptr); });
  ASSERT_TRUE(eventually([&] {
    return db.query("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND "
                    "wait_event_type = 'Lock' AND query LIKE '%FROM orders WHERE order_id%'") == "1";
  })) << "the order read never waited on the lock";
  const grpc::Status full = get(*x, buyer_token, expired, nullptr);
  EXPECT_EQ(full.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << full.error_message();
  EXPECT_NE(full.error_message().find("max_database_reads"), std::string::npos) << full.error_message();
  EXPECT_TRUE(get(*x, buyer_token, placed.order().order_id(), nullptr).ok()) << "an order the engine holds";
  lock.release();
  const grpc::Status answered = held.get();
  EXPECT_TRUE(answered.ok()) << answered.error_message();
  EXPECT_TRUE(get(*x, buyer_token, expired, nullptr).ok()) << "the slot is free again";
}

}  // namespace
}  // namespace carbon::testing
