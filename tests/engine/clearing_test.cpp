// End of day clearing in the engine: settlement statements to the fen, the
// reconciliation (live and recorded), and a failed reconciliation after a
// restore from tampered state halting the market with a surveillance alert.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>

#include "engine/exchange.h"
#include "engine/written_statement.h"

namespace carbon::engine {
namespace {

constexpr UnixNanos kHour = 3'600'000'000'000;
constexpr UnixNanos kMonday1030 = 1'763'951'400'000'000'000;  // 2025-11-24 10:30 Asia/Shanghai

const Principal kOperator{Role::operator_, 0, "ops"};
const Principal kRegistry{Role::registry_authority, 0, "registry"};
const Principal kRegulator{Role::regulator, 0, "reg"};
const Principal kAuditor{Role::auditor, 0, "aud"};

Config fee_config() {
  Config config = default_config();
  for (auto& instrument : config.instruments) instrument.reference_price = Price{5'000};
  config.fees = FeeSchedule{5, 3, 2, 1};
  return config;
}

/// The rows the journal writer would keep, enough to restore an Exchange.
struct Projection {
  RecoveredState state;
  std::map<AccountId, CashRecord> cash;
  std::map<std::pair<AccountId, std::string>, registry::HoldingRecord> holdings;
  std::map<OrderId, OrderRecord> orders;
  std::map<std::string, InstrumentState> instruments;
  std::map<std::string, ReconciliationRecord> reconciliations;
  std::map<std::pair<std::string, ParticipantId>, StatementRecord> statements;
  std::map<std::pair<int, std::string>, CapRecord> caps;

  void apply(const Outcome& outcome) {
    if (outcome.sequence != 0) state.last_sequence = outcome.sequence;
    for (const Event& event : outcome.events) {
      if (auto* e = std::get_if<ParticipantCreated>(&event)) state.participants.push_back(e->participant);
      if (auto* e = std::get_if<CashChanged>(&event)) cash[e->cash.account] = e->cash;
      if (auto* e = std::get_if<CashMoved>(&event)) state.cash_movements.push_back(e->movement);
      if (auto* e = std::get_if<HoldingChanged>(&event)) holdings[{e->holding.account, e->holding.instrument}] = e->holding;
      if (auto* e = std::get_if<LedgerAppended>(&event)) {
        state.last_ledger_entry_id = e->entry.entry_id;
        state.last_ledger_hash = e->entry.hash;
      }
      if (auto* e = std::get_if<OrderChanged>(&event)) orders[e->order.id] = e->order;
      if (auto* e = std::get_if<TradeExecuted>(&event)) state.trades.push_back(e->trade);
      if (auto* e = std::get_if<InstrumentStateChanged>(&event)) instruments[e->state.instrument] = e->state;
      if (auto* e = std::get_if<MarketStateChanged>(&event)) state.market = e->state;
      if (auto* e = std::get_if<DailyBarRecorded>(&event)) state.bars.push_back(e->bar);
      if (auto* e = std::get_if<CapChanged>(&event)) caps[{e->cap.year, e->cap.sector}] = e->cap;
      if (auto* e = std::get_if<ReconciliationRecorded>(&event)) reconciliations[e->report.trading_date] = e->report;
      if (auto* e = std::get_if<AlertRaised>(&event)) state.alerts.push_back(e->alert);
      if (auto* e = std::get_if<StatementWritten>(&event)) {
        statements[{e->statement.trading_date, e->statement.participant}] = e->statement;
      }
    }
  }
  RecoveredState recovered() const {
    RecoveredState out = state;
    for (const auto& [k, v] : cash) out.cash.push_back(v);
    for (const auto& [k, v] : holdings) out.holdings.push_back(v);
    for (const auto& [k, v] : orders) out.orders.push_back(v);
    for (const auto& [k, v] : instruments) out.instrument_states.push_back(v);
    for (const auto& [k, v] : reconciliations) out.reconciliations.push_back(v);
    for (const auto& [k, v] : statements) out.statements.push_back(v);
    for (const auto& [k, v] : caps) out.caps.push_back(v);
    return out;
  }
};

class EndOfDayClearingTest : public ::testing::Test {
 protected:
  EndOfDayClearingTest() : exchange(std::make_unique<Exchange>(fee_config())) {}

  void SetUp() override {
    ASSERT_TRUE(run(kRegistry, SetCap{2024, "power", Qty{1'000'000'000}, 0, "test cap"}).reply.status.is_ok());
  }

  Outcome run(const Principal& who, CommandBody body) {
    now += 1'000'000;
    Outcome out = exchange->execute(Command{who, std::move(body)}, now);
    projection.apply(out);
    return out;
  }

  ParticipantRecord create(const std::string& code) {
    registry::Hash token{};
    token[0] = static_cast<std::uint8_t>(code.size());
    token[1] = static_cast<std::uint8_t>(code.back());
    Outcome out = run(kOperator, CreateParticipant{code, code, ParticipantType::institution, token});
    EXPECT_TRUE(out.reply.status.is_ok()) << out.reply.status.message();
    return out.reply.participants.at(0);
  }

  static Principal trader(const ParticipantRecord& p) { return Principal{Role::trader, p.id, p.code}; }

  Outcome place(const ParticipantRecord& p, Side side, std::int64_t price, std::int64_t qty) {
    PlaceOrder order;
    order.instrument = "CEA2024";
    order.side = side;
    order.price = Price{price};
    order.quantity = Qty{qty};
    return run(trader(p), order);
  }

  /// Buyer B and seller S; a day of trading on 2025-11-24 closed by end of day.
  void trade_a_day() {
    b = create("B");
    s = create("S");
    ASSERT_TRUE(run(kOperator, MoveCash{b.cash_account, Cash{10'000'000}, "d1", false}).reply.status.is_ok());
    ASSERT_TRUE(run(kOperator, MoveCash{s.cash_account, Cash{1'000}, "d2", false}).reply.status.is_ok());
    ASSERT_TRUE(run(kRegistry, IssueAllowances{"CEA2024", s.holding_account, Qty{1'000}, "a"}).reply.status.is_ok());
    // Trade 1: 100 t @ 5000 = 500,000 fen; buyer fee 250, seller fee 150.
    ASSERT_TRUE(place(s, Side::sell, 5'000, 100).reply.status.is_ok());
    ASSERT_EQ(place(b, Side::buy, 5'000, 100).reply.trades.size(), 1u);
    // Trade 2: 1 t @ 4999 = 4,999 fen; buyer fee 2.4995 -> 2, seller fee 1.4997 -> 1.
    ASSERT_TRUE(place(s, Side::sell, 4'999, 1).reply.status.is_ok());
    ASSERT_EQ(place(b, Side::buy, 5'100, 1).reply.trades.size(), 1u);
    // An open buy left to expire at end of day.
    ASSERT_TRUE(place(b, Side::buy, 4'600, 10).reply.status.is_ok());
    ASSERT_TRUE(run(kOperator, MoveCash{s.cash_account, Cash{500}, "w1", true}).reply.status.is_ok());
    now = kMonday1030 + 5 * kHour;  // 15:30
    eod = run(kOperator, RunEndOfDay{"2025-11-24"});
    ASSERT_TRUE(eod.reply.status.is_ok()) << eod.reply.status.message();
  }

  std::unique_ptr<Exchange> exchange;
  Projection projection;
  UnixNanos now = kMonday1030;
  ParticipantRecord b, s;
  Outcome eod;
};

TEST_F(EndOfDayClearingTest, EndOfDayWritesStatementsToTheFen) {
  trade_a_day();
  EXPECT_EQ(eod.reply.statements_written, 2u);
  const StatementRecord sb = written_statement(eod, b.id);
  EXPECT_EQ(sb.participant, b.id);
  EXPECT_EQ(sb.trading_date, "2025-11-24");
  EXPECT_EQ(sb.opening_cash, Cash{0});
  EXPECT_EQ(sb.deposits, Cash{10'000'000});
  EXPECT_EQ(sb.withdrawals, Cash{0});
  EXPECT_EQ(sb.bought_value, Cash{504'999});
  EXPECT_EQ(sb.sold_value, Cash{0});
  EXPECT_EQ(sb.fees, Cash{252});
  EXPECT_EQ(sb.closing_cash, (settlement::CashAccount{Cash{10'000'000 - 504'999 - 252}, Cash{0}, Cash{0}}));
  ASSERT_EQ(sb.trades.size(), 2u);
  EXPECT_EQ(sb.trades[0].buyer_fee, Cash{250});
  EXPECT_EQ(sb.trades[1].buyer_fee, Cash{2});
  ASSERT_EQ(sb.lines.size(), 1u);
  EXPECT_EQ(sb.lines[0].instrument, "CEA2024");
  EXPECT_EQ(sb.lines[0].opening, Qty{0});
  EXPECT_EQ(sb.lines[0].bought, Qty{101});
  EXPECT_EQ(sb.lines[0].closing.available, Qty{101});  // T+1 released by end of day
  EXPECT_EQ(sb.lines[0].fees, Cash{252});
  EXPECT_EQ(sb.lines[0].bought_value, Cash{504'999});

  const StatementRecord ss = written_statement(eod, s.id);
  EXPECT_EQ(ss.deposits, Cash{1'000});
  EXPECT_EQ(ss.withdrawals, Cash{500});
  EXPECT_EQ(ss.sold_value, Cash{504'999});
  EXPECT_EQ(ss.fees, Cash{151});
  EXPECT_EQ(ss.closing_cash.total(), Cash{1'000 - 500 + 504'999 - 151});
  EXPECT_EQ(ss.closing_cash.unsettled, Cash{0});  // proceeds became withdrawable
  ASSERT_EQ(ss.lines.size(), 1u);
  EXPECT_EQ(ss.lines[0].received, Qty{1'000});  // the issuance
  EXPECT_EQ(ss.lines[0].sold, Qty{101});
  EXPECT_EQ(ss.lines[0].closing.total(), Qty{899});
  // The closing identity of the proto: opening + deposits - withdrawals - bought - fees + sold.
  for (const StatementRecord* st : {&sb, &ss}) {
    EXPECT_EQ(st->closing_cash.total(),
              st->opening_cash + st->deposits - st->withdrawals - st->bought_value - st->fees + st->sold_value);
  }
  // A repeated end of day of the closed day answers the count it recorded.
  const Outcome again = run(kOperator, RunEndOfDay{"2025-11-24"});
  ASSERT_TRUE(again.reply.status.is_ok()) << again.reply.status.message();
  EXPECT_EQ(again.reply.statements_written, 2u);
  EXPECT_TRUE(again.events.empty());
}

TEST_F(EndOfDayClearingTest, ReconciliationLiveAndRecorded) {
  trade_a_day();
  ASSERT_TRUE(eod.reply.reconciliation.has_value());
  const ReconciliationRecord& day = *eod.reply.reconciliation;
  EXPECT_TRUE(day.balanced);
  EXPECT_EQ(day.trading_date, "2025-11-24");
  EXPECT_EQ(day.cash.deposits, Cash{10'001'000});
  EXPECT_EQ(day.cash.withdrawals, Cash{500});
  EXPECT_EQ(day.cash.fee_account, Cash{403});
  EXPECT_EQ(day.cash.participant_balances, Cash{10'001'000 - 500 - 403});
  EXPECT_EQ(day.cash.difference, Cash{0});
  const auto cea = std::find_if(day.units.begin(), day.units.end(),
                                [](const UnitReconciliation& u) { return u.instrument == "CEA2024"; });
  ASSERT_NE(cea, day.units.end());
  EXPECT_EQ(cea->issued, Qty{1'000});
  EXPECT_EQ(cea->participant_holdings, Qty{1'000});
  EXPECT_TRUE(cea->balanced);
  EXPECT_FALSE(exchange->market_state().halted);

  const Outcome live = run(kRegulator, GetReconciliation{""});
  ASSERT_TRUE(live.reply.status.is_ok());
  EXPECT_TRUE(live.reply.reconciliation->balanced);
  EXPECT_EQ(live.reply.reconciliation->trading_date, "");
  const Outcome recorded = run(kAuditor, GetReconciliation{"2025-11-24"});
  ASSERT_TRUE(recorded.reply.status.is_ok());
  EXPECT_EQ(recorded.reply.reconciliation->as_of_sequence, eod.sequence);

  EXPECT_EQ(run(trader(b), GetReconciliation{""}).reply.status.code(), ErrorCode::permission_denied);
  EXPECT_EQ(run(kOperator, GetReconciliation{"2025-11-23"}).reply.status.code(), ErrorCode::not_found);
  EXPECT_EQ(run(kOperator, GetReconciliation{"yesterday"}).reply.status.code(), ErrorCode::invalid_argument);
  EXPECT_EQ(run(trader(b), ListSurveillanceAlerts{}).reply.status.code(), ErrorCode::permission_denied);
  EXPECT_TRUE(run(kRegulator, ListSurveillanceAlerts{}).reply.alerts.empty());
}

TEST_F(EndOfDayClearingTest, AfterARestoreTheNextStatementOpensAtTheLastClose) {
  trade_a_day();
  const StatementRecord before = written_statement(eod, b.id);
  exchange = std::make_unique<Exchange>(fee_config());
  exchange->restore(projection.recovered());
  EXPECT_EQ(exchange->clearing().account(settlement::kFeeCashAccount).total(), Cash{403});

  // Tuesday: the opening is Monday's closing, and Monday's trades are in its statement only. Monday's
  // orders (filled, or expired by the end of day) are not Tuesday's.
  EXPECT_TRUE(run(trader(b), ListTrades{""}).reply.trades.empty());
  EXPECT_TRUE(run(trader(b), ListOrders{"", false}).reply.orders.empty());
  now = kMonday1030 + 24 * kHour;
  const Outcome tuesday_buy = place(b, Side::buy, 5'000, 1);
  ASSERT_TRUE(tuesday_buy.reply.status.is_ok());
  const Outcome listed = run(trader(b), ListOrders{"", false});
  ASSERT_EQ(listed.reply.orders.size(), 1u);
  EXPECT_EQ(listed.reply.orders[0].id, tuesday_buy.reply.orders.front().id);
  now = kMonday1030 + 29 * kHour;
  const Outcome eod2 = run(kOperator, RunEndOfDay{"2025-11-25"});
  ASSERT_TRUE(eod2.reply.status.is_ok()) << eod2.reply.status.message();
  const StatementRecord tuesday = written_statement(eod2, b.id);
  EXPECT_EQ(tuesday.opening_cash, before.closing_cash.total());
  EXPECT_TRUE(tuesday.trades.empty());
  ASSERT_EQ(tuesday.lines.size(), 1u);
  EXPECT_EQ(tuesday.lines[0].opening, Qty{101});
  EXPECT_EQ(tuesday.closing_cash.total(), tuesday.opening_cash);  // the open buy expired, nothing paid
  EXPECT_TRUE(eod2.reply.reconciliation->balanced);
}

TEST_F(EndOfDayClearingTest, AFailedReconciliationHaltsTheMarketAndRaisesAnAlert) {
  trade_a_day();
  // The database is tampered with between two runs: 700 fen appear in S's
  // cash account and 5 t vanish from B's holding. carbond restores it as is.
  RecoveredState tampered = projection.recovered();
  for (CashRecord& c : tampered.cash) {
    if (c.account == s.cash_account) c.balance.available += Cash{700};
  }
  for (registry::HoldingRecord& h : tampered.holdings) {
    if (h.account == b.holding_account && h.instrument == "CEA2024") h.holding.available -= Qty{5};
  }
  exchange = std::make_unique<Exchange>(fee_config());
  exchange->restore(tampered);

  const Outcome live = run(kOperator, GetReconciliation{""});
  ASSERT_TRUE(live.reply.status.is_ok());
  EXPECT_FALSE(live.reply.reconciliation->balanced);
  EXPECT_EQ(live.reply.reconciliation->cash.difference, Cash{-700});

  now = kMonday1030 + 29 * kHour;  // Tuesday 15:30
  const Outcome eod2 = run(kOperator, RunEndOfDay{"2025-11-25"});
  ASSERT_TRUE(eod2.reply.status.is_ok()) << eod2.reply.status.message();
  const ReconciliationRecord& report = *eod2.reply.reconciliation;
  EXPECT_FALSE(report.balanced);
  EXPECT_FALSE(report.cash.balanced);
  EXPECT_EQ(report.cash.difference, Cash{-700});
  const auto cea = std::find_if(report.units.begin(), report.units.end(),
                                [](const UnitReconciliation& u) { return u.instrument == "CEA2024"; });
  EXPECT_EQ(cea->difference, Qty{5});
  EXPECT_FALSE(cea->balanced);

  EXPECT_TRUE(exchange->market_state().halted);
  EXPECT_NE(exchange->market_state().halt_reason.find("reconciliation failed at the end of day 2025-11-25"),
            std::string::npos)
      << exchange->market_state().halt_reason;
  bool journaled_halt = false, journaled_alert = false;
  for (const Event& e : eod2.events) {
    if (auto* m = std::get_if<MarketStateChanged>(&e)) journaled_halt = m->state.halted;
    if (std::holds_alternative<AlertRaised>(e)) journaled_alert = true;
  }
  EXPECT_TRUE(journaled_halt);
  EXPECT_TRUE(journaled_alert);

  const Outcome alerts = run(kRegulator, ListSurveillanceAlerts{0, 0, AlertRecord::kReconciliationFailure, 0, 0, ""});
  ASSERT_TRUE(alerts.reply.status.is_ok());
  ASSERT_EQ(alerts.reply.alerts.size(), 1u);
  const AlertRecord& alert = alerts.reply.alerts[0];
  EXPECT_EQ(alert.severity, AlertRecord::kSeverityHigh);
  EXPECT_EQ(alert.sequence, eod2.sequence);
  EXPECT_NE(alert.description.find("cash"), std::string::npos);
  EXPECT_NE(alert.description.find("CEA2024"), std::string::npos);
  EXPECT_TRUE(run(kAuditor, ListSurveillanceAlerts{0, 0, 7, 0, 0, ""}).reply.alerts.empty());  // another type

  // Trading is halted: the next day's first order is refused naming the reconciliation.
  now = kMonday1030 + 48 * kHour;
  const Outcome refused = place(b, Side::buy, 5'000, 1);
  EXPECT_EQ(refused.reply.status.code(), ErrorCode::failed_precondition);
  EXPECT_NE(refused.reply.status.message().find("reconciliation failed"), std::string::npos)
      << refused.reply.status.message();

  // The alert and the recorded report survive a restore.
  exchange = std::make_unique<Exchange>(fee_config());
  exchange->restore(projection.recovered());
  EXPECT_EQ(run(kRegulator, ListSurveillanceAlerts{}).reply.alerts.size(), 1u);
  EXPECT_FALSE(run(kAuditor, GetReconciliation{"2025-11-25"}).reply.reconciliation->balanced);
}

TEST_F(EndOfDayClearingTest, AFailedReconciliationHoldsCashAndUnitsWhileTheBooksDoNotBalance) {
  trade_a_day();
  const RecoveredState balanced = projection.recovered();
  // Tampered as above, but for the cash only: 700 fen appear in S's account.
  RecoveredState tampered = projection.recovered();
  for (CashRecord& c : tampered.cash) {
    if (c.account == s.cash_account) c.balance.available += Cash{700};
  }
  exchange = std::make_unique<Exchange>(fee_config());
  exchange->restore(tampered);
  // Before the reconciliation finds it, nothing is held.
  ASSERT_TRUE(run(kOperator, MoveCash{s.cash_account, Cash{10}, "w-before", true}).reply.status.is_ok());
  const Outcome pledged = run(kRegistry, PledgeUnits{s.holding_account, "CEA2024", Qty{10}, b.id, "loan", "p1"});
  ASSERT_TRUE(pledged.reply.status.is_ok()) << pledged.reply.status.message();
  now = kMonday1030 + 29 * kHour;  // Tuesday 15:30
  const Outcome failed = run(kOperator, RunEndOfDay{"2025-11-25"});
  ASSERT_FALSE(failed.reply.reconciliation->balanced);
  const Cash s_cash = exchange->clearing().account(s.cash_account).available;
  // The hold is part of the market state: shown to operators (MarketStatus) and journaled with it.
  EXPECT_NE(exchange->market_state().settlement_hold.find("reconciliation of 2025-11-25 fails (cash"),
            std::string::npos)
      << exchange->market_state().settlement_hold;
  bool journaled_hold = false;
  for (const Event& e : failed.events) {
    if (auto* m = std::get_if<MarketStateChanged>(&e)) journaled_hold = !m->state.settlement_hold.empty();
  }
  EXPECT_TRUE(journaled_hold);

  const auto expect_held = [&](const Outcome& out, const std::string& what) {
    EXPECT_EQ(out.reply.status.code(), ErrorCode::failed_precondition) << what << ": " << out.reply.status.message();
    EXPECT_NE(out.reply.status.message().find("settlement hold: " + what + " is refused"), std::string::npos)
        << out.reply.status.message();
    EXPECT_NE(out.reply.status.message().find("reconciliation of 2025-11-25 fails"), std::string::npos)
        << out.reply.status.message();
    ASSERT_EQ(out.events.size(), 1u) << what;  // the refusal, nothing else
    EXPECT_TRUE(std::holds_alternative<CommandRejected>(out.events[0])) << what;
  };
  now = kMonday1030 + 48 * kHour;  // Wednesday 10:30
  expect_held(run(kOperator, MoveCash{s.cash_account, Cash{100}, "w-held", true}), "a withdrawal");
  expect_held(run(kRegistry, TransferUnits{b.holding_account, s.holding_account, "CEA2024", Qty{1}, "gift", "t1"}),
              "a transfer");
  expect_held(run(kRegistry, IssueAllowances{"CEA2024", s.holding_account, Qty{5}, "more"}), "an issuance");
  expect_held(run(kRegistry, AllocateFree{2024, "power", b.id, "CEA2024", Qty{5}, std::nullopt, "", "free", "a1"}),
              "an allocation");
  expect_held(run(kRegistry, IssueCcerCredits{1, 2024, Qty{5}, "2024-01-01", "2024-12-31", "CEC", "VER-1", "c1"}),
              "an issuance");
  expect_held(run(trader(b), RetireUnits{0, "CCER", Qty{1}, "B", "offset", "r1"}), "a retirement");
  expect_held(run(kRegistry, EnforcePledge{pledged.reply.pledges.at(0).record.id, Qty{10}, "default", "e1"}),
              "a pledge enforcement");
  expect_held(run(kRegistry, RegisterRepo{s.id, b.id, "CEA2024", Qty{10}, Price{5'000}, Price{5'100}, "2025-12-01",
                                          "repo 1", "rp1"}),
              "a repo");
  EXPECT_EQ(exchange->clearing().account(s.cash_account).available, s_cash);
  // A deposit brings cash in, and a repeat of a withdrawal made before the hold answers its first result.
  EXPECT_TRUE(run(kOperator, MoveCash{s.cash_account, Cash{100}, "d-held", false}).reply.status.is_ok());
  const Outcome repeat = run(kOperator, MoveCash{s.cash_account, Cash{10}, "w-before", true});
  EXPECT_TRUE(repeat.reply.status.is_ok()) << repeat.reply.status.message();
  EXPECT_TRUE(repeat.events.empty());

  // The operator resumes trading; the books still do not balance, so cash and units stay held, and the reply
  // says so.
  const Outcome resumed = run(kOperator, ResumeTrading{""});
  ASSERT_TRUE(resumed.reply.status.is_ok());
  ASSERT_TRUE(resumed.reply.market.has_value());
  EXPECT_FALSE(resumed.reply.market->halted);
  EXPECT_FALSE(resumed.reply.market->settlement_hold.empty());
  EXPECT_TRUE(place(b, Side::buy, 5'000, 1).reply.status.is_ok());
  expect_held(run(kOperator, MoveCash{s.cash_account, Cash{100}, "w-held2", true}), "a withdrawal");

  // Books that balance lift the hold: a ResumeTrading that finds them so (recorded as a market state change) ...
  RecoveredState held = balanced;
  ASSERT_TRUE(held.market.has_value());
  held.market->settlement_hold = "the end-of-day reconciliation of 2025-11-25 fails (a test)";
  now = kMonday1030 + 28 * kHour;  // Tuesday 14:30
  exchange = std::make_unique<Exchange>(fee_config());
  exchange->restore(held);
  expect_held(run(kOperator, MoveCash{s.cash_account, Cash{100}, "w-x", true}), "a withdrawal");
  const Outcome lifted = run(kOperator, ResumeTrading{""});
  ASSERT_TRUE(lifted.reply.status.is_ok());
  EXPECT_TRUE(exchange->market_state().settlement_hold.empty());
  EXPECT_TRUE(std::any_of(lifted.events.begin(), lifted.events.end(),
                          [](const Event& e) { return std::holds_alternative<MarketStateChanged>(e); }));
  EXPECT_TRUE(run(kOperator, MoveCash{s.cash_account, Cash{100}, "w-x", true}).reply.status.is_ok());
  // ... or an end of day whose reconciliation balances.
  exchange = std::make_unique<Exchange>(fee_config());
  exchange->restore(held);
  now = kMonday1030 + 29 * kHour;  // Tuesday 15:30
  const Outcome closed = run(kOperator, RunEndOfDay{"2025-11-25"});
  ASSERT_TRUE(closed.reply.reconciliation->balanced);
  EXPECT_TRUE(exchange->market_state().settlement_hold.empty());
  EXPECT_TRUE(run(kOperator, MoveCash{s.cash_account, Cash{100}, "w-y", true}).reply.status.is_ok());
}

/// End of day lets go of the orders closed in the day and of its trades; what stays is open (GTC here).
class ClosedDayTest : public EndOfDayClearingTest {
 protected:
  ClosedDayTest() {
    Config config = fee_config();
    for (auto& instrument : config.instruments) {
      instrument.gtc_enabled = true;
      instrument.block_min_quantity = Qty{10};
    }
    exchange = std::make_unique<Exchange>(config);
    config_ = config;
  }

  static PlaceOrder limit(Side side, std::int64_t price, std::int64_t qty, std::string client_id,
                          TimeInForce tif = TimeInForce::day) {
    return PlaceOrder{"CEA2024", side, OrderType::limit, tif, TradingMode::listed, Price{price}, Qty{qty},
                      std::move(client_id)};
  }

  static void expect_refused(const Outcome& out, ErrorCode code, const std::string& words) {
    EXPECT_EQ(out.reply.status.code(), code) << out.reply.status.message();
    EXPECT_NE(out.reply.status.message().find(words), std::string::npos) << out.reply.status.message();
    ASSERT_EQ(out.events.size(), 1u);
    EXPECT_TRUE(std::holds_alternative<CommandRejected>(out.events[0]));
  }

  /// What recovery loads after the end of day (store/recovery.cpp): orders open, of auctions or changed
  /// since the day opened; the day's trades; the ids given; the client ids of the orders left out.
  RecoveredState as_recovered() const {
    RecoveredState all = projection.recovered();
    RecoveredState out = all;
    const Sequence opened = all.market->day_opened_sequence;
    out.orders.clear();
    out.trades.clear();
    for (const OrderRecord& o : all.orders) {
      out.last_order_id = std::max(out.last_order_id, o.id);
      if (!is_terminal(o.status) || o.mode == TradingMode::auction || o.updated_sequence > opened ||
          !o.reservation.total.is_zero()) {
        out.orders.push_back(o);
      } else if (!o.client_order_id.empty()) {
        out.closed_client_ids.emplace_back(o.participant, client_id_digest(o.client_order_id), o.id);
      }
    }
    for (const TradeRecord& t : all.trades) {
      out.last_trade_id = std::max(out.last_trade_id, t.id);
      if (t.sequence > opened || t.mode == TradingMode::auction) out.trades.push_back(t);
    }
    return out;
  }

  /// Tuesday: a GTC buy left open, a listed trade, a cancelled order and a block trade, then the end of day.
  void trade_tuesday() {
    trade_a_day();
    ASSERT_TRUE(run(kRegistry, IssueAllowances{"CEA2024", s.holding_account, Qty{1'000}, "b"}).reply.status.is_ok());
    now = kMonday1030 + 24 * kHour;
    const Outcome gtc_out = run(trader(b), limit(Side::buy, 4'600, 5, "t-gtc", TimeInForce::gtc));
    ASSERT_TRUE(gtc_out.reply.status.is_ok()) << gtc_out.reply.status.message();
    gtc = gtc_out.reply.orders.at(0).id;
    ASSERT_TRUE(run(trader(s), limit(Side::sell, 5'000, 10, "t-sell")).reply.status.is_ok());
    const Outcome bought = run(trader(b), limit(Side::buy, 5'000, 10, "t-buy"));
    ASSERT_EQ(bought.reply.trades.size(), 1u);
    filled = bought.reply.orders.at(0).id;
    const Outcome to_cancel = run(trader(b), limit(Side::buy, 4'700, 1, "t-cancel"));
    ASSERT_TRUE(to_cancel.reply.status.is_ok()) << to_cancel.reply.status.message();
    cancelled = to_cancel.reply.orders.at(0).id;
    ASSERT_TRUE(run(trader(b), CancelOrder{cancelled}).reply.status.is_ok());
    // 2 t of the GTC buy fill: a repeat of it today answers that fill, from tomorrow on no fill (the day's
    // trades are let go at its end).
    ASSERT_EQ(run(trader(s), limit(Side::sell, 4'600, 2, "")).reply.trades.size(), 1u);
    const Outcome today = run(trader(b), limit(Side::buy, 4'600, 5, "t-gtc", TimeInForce::gtc));
    ASSERT_TRUE(today.events.empty());
    EXPECT_EQ(today.reply.trades.size(), 1u);
    now = kMonday1030 + 27 * kHour;  // 13:30, the block session
    const Outcome offer = run(trader(s), OfferBlockTrade{"CEA2024", Side::sell, Price{5'000}, Qty{20}, 0, "t-offer"});
    ASSERT_TRUE(offer.reply.status.is_ok()) << offer.reply.status.message();
    const Outcome accepted =
        run(trader(b), AcceptBlockTrade{offer.reply.orders.at(0).id, Price{5'000}, Qty{20}, "t-accept"});
    ASSERT_TRUE(accepted.reply.status.is_ok()) << accepted.reply.status.message();
    // The acceptance resubmitted (its answer lost): the first result, nothing done again.
    const Outcome again =
        run(trader(b), AcceptBlockTrade{offer.reply.orders.at(0).id, Price{5'000}, Qty{20}, "t-accept"});
    ASSERT_TRUE(again.reply.status.is_ok()) << again.reply.status.message();
    EXPECT_TRUE(again.events.empty());
    EXPECT_TRUE(again.reply.repeated);
    EXPECT_EQ(again.reply.sequence, accepted.sequence);
    ASSERT_EQ(again.reply.orders.size(), 2u);
    EXPECT_EQ(again.reply.orders[0].id, offer.reply.orders.at(0).id);
    EXPECT_EQ(again.reply.orders[1].id, accepted.reply.orders.at(1).id);
    EXPECT_EQ(again.reply.orders[1].status, OrderStatus::filled);
    ASSERT_EQ(again.reply.trades.size(), 1u);
    EXPECT_EQ(again.reply.trades[0].id, accepted.reply.trades.at(0).id);
    // The same id with other terms, or for another offer, is refused.
    expect_refused(run(trader(b), AcceptBlockTrade{offer.reply.orders.at(0).id, Price{5'000}, Qty{21}, "t-accept"}),
                   ErrorCode::failed_precondition, "already used (order " + std::to_string(exchange->last_order_id()));
    expect_refused(run(trader(b), AcceptBlockTrade{gtc, Price{4'600}, Qty{5}, "t-accept"}),
                   ErrorCode::failed_precondition, "a resubmission must repeat the acceptance");
    offer_id = offer.reply.orders.at(0).id;
    acceptance = exchange->last_order_id();  // the acceptance is an order of its own, the last one given
    last_order = exchange->last_order_id();
    now = kMonday1030 + 29 * kHour;
    tuesday_eod = run(kOperator, RunEndOfDay{"2025-11-25"});
    ASSERT_TRUE(tuesday_eod.reply.status.is_ok()) << tuesday_eod.reply.status.message();
    EXPECT_EQ(written_statement(tuesday_eod, b.id).trades.size(), 3u);  // made before the day's trades were let go
    now = kMonday1030 + 48 * kHour;                              // Wednesday 10:30
  }

  /// The checks of a Wednesday after Tuesday's end of day, live or restored.
  void expect_tuesday_let_go() {
    // Lists: Tuesday's trades and closed orders are gone, the GTC stays.
    EXPECT_TRUE(run(trader(b), ListTrades{""}).reply.trades.empty());
    const Outcome listed = run(trader(b), ListOrders{"", false});
    ASSERT_EQ(listed.reply.orders.size(), 1u);
    EXPECT_EQ(listed.reply.orders[0].id, gtc);
    EXPECT_NE(exchange->order(gtc), nullptr);
    EXPECT_EQ(exchange->order(filled), nullptr);

    // GetOrder of a closed order: NOT_FOUND, flagged for the server to read PostgreSQL; of no order: not flagged.
    for (OrderId id : {filled, cancelled}) {
      const Outcome got = run(trader(b), GetOrder{id});
      EXPECT_EQ(got.reply.status.code(), ErrorCode::not_found);
      EXPECT_TRUE(got.reply.order_closed_earlier);
      EXPECT_NE(got.reply.status.message().find("closed in a trading day that has ended"), std::string::npos)
          << got.reply.status.message();
    }
    const Outcome none = run(trader(b), GetOrder{last_order + 1});
    EXPECT_EQ(none.reply.status.code(), ErrorCode::not_found);
    EXPECT_FALSE(none.reply.order_closed_earlier);
    EXPECT_NE(none.reply.status.message().find("does not exist"), std::string::npos);
    ASSERT_TRUE(run(trader(b), GetOrder{gtc}).reply.status.is_ok());

    // Cancel and amend of a closed order: NOT_FOUND naming why.
    expect_refused(run(trader(b), CancelOrder{filled}), ErrorCode::not_found, "closed in a trading day that has ended");
    expect_refused(run(trader(s), CancelOrder{filled}), ErrorCode::not_found, "closed in a trading day that has ended");
    expect_refused(run(trader(b), AmendOrder{cancelled, Price{4'650}, Qty{0}}), ErrorCode::not_found,
                   "closed in a trading day that has ended");

    // Client order ids stay used: a closed order's is refused, an open order's still repeats it.
    expect_refused(run(trader(b), limit(Side::buy, 5'000, 10, "t-buy")), ErrorCode::failed_precondition,
                   "already used, by order " + std::to_string(filled) + ", closed in a trading day that has ended");
    expect_refused(run(trader(b), limit(Side::buy, 4'000, 1, "t-cancel")), ErrorCode::failed_precondition,
                   "already used, by order " + std::to_string(cancelled) + ", closed");
    const Outcome repeat = run(trader(b), limit(Side::buy, 4'600, 5, "t-gtc", TimeInForce::gtc));
    ASSERT_TRUE(repeat.reply.status.is_ok()) << repeat.reply.status.message();
    EXPECT_TRUE(repeat.events.empty());
    EXPECT_EQ(repeat.reply.orders.at(0).id, gtc);
    EXPECT_EQ(repeat.reply.orders.at(0).filled, Qty{2});
    EXPECT_TRUE(repeat.reply.trades.empty()) << "Tuesday's fill went with Tuesday's trades";
    // Tuesday's block offer, accepted then, is not held either.
    expect_refused(run(trader(b), AcceptBlockTrade{offer_id, Price{5'000}, Qty{20}, "w-old"}), ErrorCode::not_found,
                   "closed in a trading day that has ended");
    // Its acceptance resubmitted a day later: the id names the acceptance, closed then (not "no such offer").
    expect_refused(run(trader(b), AcceptBlockTrade{offer_id, Price{5'000}, Qty{20}, "t-accept"}),
                   ErrorCode::failed_precondition,
                   "already used, by order " + std::to_string(acceptance) + ", closed in a trading day that has ended");
    // Another participant's id of the same text is its own.
    const Outcome other = run(trader(s), limit(Side::sell, 5'300, 1, "t-buy"));
    ASSERT_TRUE(other.reply.status.is_ok()) << other.reply.status.message();
    EXPECT_EQ(other.reply.orders.at(0).id, last_order + 1);  // ids go on from the last one given

    now = kMonday1030 + 51 * kHour;  // 13:30
    const Outcome offer = run(trader(s), OfferBlockTrade{"CEA2024", Side::sell, Price{5'000}, Qty{20}, 0, "w-offer"});
    ASSERT_TRUE(offer.reply.status.is_ok()) << offer.reply.status.message();
    expect_refused(run(trader(s), OfferBlockTrade{"CEA2024", Side::sell, Price{5'000}, Qty{20}, 0, "t-offer"}),
                   ErrorCode::failed_precondition, "already used, by order " + std::to_string(offer_id) + ", closed");
    expect_refused(run(trader(b), AcceptBlockTrade{offer.reply.orders.at(0).id, Price{5'000}, Qty{20}, "t-accept"}),
                   ErrorCode::failed_precondition, "already used, by order " + std::to_string(acceptance) + ", closed");
    const Outcome accepted = run(trader(b), AcceptBlockTrade{offer.reply.orders.at(0).id, Price{5'000}, Qty{20}, "w-a"});
    EXPECT_TRUE(accepted.reply.status.is_ok()) << accepted.reply.status.message();
  }

  Config config_;
  Outcome tuesday_eod;
  OrderId gtc = 0, filled = 0, cancelled = 0, offer_id = 0, acceptance = 0, last_order = 0;
};

TEST_F(ClosedDayTest, EndOfDayLetsGoOfTheDaysClosedOrdersAndTrades) {
  trade_tuesday();
  expect_tuesday_let_go();
}

TEST_F(ClosedDayTest, ARestoreHoldsWhatTheEndOfDayKept) {
  trade_tuesday();
  exchange = std::make_unique<Exchange>(config_);
  exchange->restore(as_recovered());
  EXPECT_EQ(exchange->last_order_id(), last_order);
  expect_tuesday_let_go();
  // Trade ids go on too: Wednesday's block trade follows Tuesday's three and Monday's two.
  const Outcome trades = run(trader(b), ListTrades{""});
  ASSERT_EQ(trades.reply.trades.size(), 1u);
  EXPECT_EQ(trades.reply.trades[0].id, 6u);
}

TEST_F(ClosedDayTest, WednesdaysStatementsShowABlockTradeItsFeesAndATransfer) {
  trade_tuesday();
  // Wednesday: the registry moves 10 t from S to B outside the book, then a block trade of 20 t at 5,000.
  ASSERT_TRUE(run(kRegistry, TransferUnits{s.holding_account, b.holding_account, "CEA2024", Qty{10}, "court order 9",
                                           "w-transfer"})
                  .reply.status.is_ok());
  now = kMonday1030 + 51 * kHour;  // 13:30, the block session
  const Outcome offer = run(trader(s), OfferBlockTrade{"CEA2024", Side::sell, Price{5'000}, Qty{20}, 0, "w-offer"});
  ASSERT_TRUE(offer.reply.status.is_ok()) << offer.reply.status.message();
  const Outcome accepted = run(trader(b), AcceptBlockTrade{offer.reply.orders.at(0).id, Price{5'000}, Qty{20}, "w-a"});
  ASSERT_TRUE(accepted.reply.status.is_ok()) << accepted.reply.status.message();
  now = kMonday1030 + 53 * kHour;  // 15:30
  const Outcome eod = run(kOperator, RunEndOfDay{"2025-11-26"});
  ASSERT_TRUE(eod.reply.status.is_ok()) << eod.reply.status.message();
  EXPECT_TRUE(eod.reply.reconciliation->balanced);

  // 20 t x 5,000 = 100,000 fen: the block rates, 2 bps for the buyer (20 fen) and 1 for the seller (10).
  const StatementRecord sb = written_statement(eod, b.id), ss = written_statement(eod, s.id);
  const StatementRecord tb = written_statement(tuesday_eod, b.id), ts = written_statement(tuesday_eod, s.id);
  ASSERT_EQ(sb.trades.size(), 1u);
  EXPECT_EQ(sb.trades[0].mode, TradingMode::block);
  EXPECT_EQ(sb.trades[0].buyer_fee, Cash{20});
  EXPECT_EQ(sb.trades[0].seller_fee, Cash{10});
  EXPECT_EQ(sb.bought_value, Cash{100'000});
  EXPECT_EQ(sb.fees, Cash{20});
  EXPECT_EQ(ss.sold_value, Cash{100'000});
  EXPECT_EQ(ss.fees, Cash{10});
  // Each opens where Tuesday's closed, units and cash.
  EXPECT_EQ(sb.opening_cash, tb.closing_cash.total());
  EXPECT_EQ(ss.opening_cash, ts.closing_cash.total());
  ASSERT_EQ(sb.lines.size(), 1u);
  ASSERT_EQ(ss.lines.size(), 1u);
  EXPECT_EQ(sb.lines[0].opening, tb.lines.at(0).closing.total());
  EXPECT_EQ(ss.lines[0].opening, ts.lines.at(0).closing.total());
  // The transfer is received and delivered, not bought and sold.
  EXPECT_EQ(sb.lines[0].bought, Qty{20});
  EXPECT_EQ(sb.lines[0].received, Qty{10});
  EXPECT_EQ(sb.lines[0].delivered, Qty{0});
  EXPECT_EQ(ss.lines[0].sold, Qty{20});
  EXPECT_EQ(ss.lines[0].delivered, Qty{10});
  EXPECT_EQ(ss.lines[0].received, Qty{0});
  EXPECT_EQ(ss.lines[0].fees, Cash{10});
  for (const StatementRecord* st : {&sb, &ss}) {
    EXPECT_EQ(st->closing_cash.total(),
              st->opening_cash + st->deposits - st->withdrawals - st->bought_value - st->fees + st->sold_value);
    const StatementLine& l = st->lines[0];
    EXPECT_EQ(l.closing.total(), l.opening + l.bought - l.sold + l.received - l.delivered);
  }
}

// A suspension stops the participant's resting orders from trading: its listed orders and block offers are
// cancelled in the same step, their units released, and nobody can take them afterwards.
TEST_F(ClosedDayTest, ASuspensionCancelsTheParticipantsRestingOrdersAndBlockOffers) {
  trade_tuesday();
  now = kMonday1030 + 51 * kHour;  // Wednesday 13:30: listed and block sessions open
  const Outcome offer = run(trader(s), OfferBlockTrade{"CEA2024", Side::sell, Price{5'000}, Qty{20}, 0, "s-offer"});
  ASSERT_TRUE(offer.reply.status.is_ok()) << offer.reply.status.message();
  const Outcome resting = run(trader(s), limit(Side::sell, 5'100, 5, "s-rest"));
  ASSERT_TRUE(resting.reply.status.is_ok()) << resting.reply.status.message();
  ASSERT_EQ(exchange->registry().holding(s.holding_account, "CEA2024").reserved, Qty{25});
  const Outcome bid = run(trader(s), limit(Side::buy, 4'500, 2, "s-bid"));
  ASSERT_TRUE(bid.reply.status.is_ok()) << bid.reply.status.message();
  ASSERT_EQ(bid.reply.orders.at(0).status, OrderStatus::open);
  const settlement::CashAccount before = exchange->clearing().account(s.cash_account);
  ASSERT_TRUE(before.reserved.is_positive());

  SetParticipantControls suspend;
  suspend.participant = s.id;
  suspend.suspended = true;
  suspend.reason = "margin call";
  const Outcome out = run(kOperator, suspend);
  ASSERT_TRUE(out.reply.status.is_ok()) << out.reply.status.message();
  ASSERT_EQ(out.reply.orders.size(), 3u);
  for (const OrderRecord& o : out.reply.orders) EXPECT_EQ(o.status, OrderStatus::cancelled);
  std::size_t cancelled_events = 0;
  for (const Event& e : out.events) {
    if (const auto* changed = std::get_if<OrderChanged>(&e)) {
      EXPECT_EQ(changed->order.status, OrderStatus::cancelled);
      ++cancelled_events;
    }
  }
  EXPECT_EQ(cancelled_events, 3u);
  EXPECT_EQ(exchange->registry().holding(s.holding_account, "CEA2024").reserved, Qty{0});
  // The bid's cash (price, quantity and fee) is released whole: nothing reserved, nothing lost.
  const settlement::CashAccount after = exchange->clearing().account(s.cash_account);
  EXPECT_EQ(after.reserved, Cash{0});
  EXPECT_EQ(after.total(), before.total());
  EXPECT_TRUE(exchange->book("CEA2024")->depth(Side::sell, 5).empty());
  expect_refused(run(trader(b), AcceptBlockTrade{offer.reply.orders.at(0).id, Price{5'000}, Qty{20}, "b-take"}),
                 ErrorCode::failed_precondition, "no longer open");
}

TEST_F(ClosedDayTest, ABlockOfferIsRepeatedOnlyToItsCounterpartyAndNotAcceptedOnceBlockTradingIsOff) {
  trade_tuesday();
  now = kMonday1030 + 51 * kHour;  // Wednesday 13:30, the block session
  const Outcome offer = run(trader(s), OfferBlockTrade{"CEA2024", Side::sell, Price{5'000}, Qty{20}, b.id, "w-to-b"});
  ASSERT_TRUE(offer.reply.status.is_ok()) << offer.reply.status.message();
  const Outcome again = run(trader(s), OfferBlockTrade{"CEA2024", Side::sell, Price{5'000}, Qty{20}, b.id, "w-to-b"});
  ASSERT_TRUE(again.reply.status.is_ok()) << again.reply.status.message();
  EXPECT_EQ(again.reply.orders.at(0).id, offer.reply.orders.at(0).id);
  // The same terms offered to all under the same client id is another offer: refused, not answered as the first.
  const Outcome to_all = run(trader(s), OfferBlockTrade{"CEA2024", Side::sell, Price{5'000}, Qty{20}, 0, "w-to-b"});
  EXPECT_EQ(to_all.reply.status.code(), ErrorCode::failed_precondition);
  EXPECT_NE(to_all.reply.status.message().find("an offer to another counterparty"), std::string::npos)
      << to_all.reply.status.message();
  EXPECT_TRUE(to_all.reply.orders.empty());

  // The operator turns block trading off: the open offer can no longer be accepted, nor a new one made.
  ModeRulesInput off;
  off.mode = static_cast<int>(TradingMode::block);
  off.enabled = false;
  off.band_bps = 3'000;
  UpdateInstrumentRules update{"CEA2024", {}};
  update.rules.gtc_enabled = true;
  update.rules.mode_rules = {off};
  const Outcome updated = run(kOperator, update);
  ASSERT_TRUE(updated.reply.status.is_ok()) << updated.reply.status.message();
  expect_refused(run(trader(b), AcceptBlockTrade{offer.reply.orders.at(0).id, Price{5'000}, Qty{20}, "w-accept"}),
                 ErrorCode::failed_precondition, "mode not enabled: block trades are not enabled for CEA2024");
  expect_refused(run(trader(s), OfferBlockTrade{"CEA2024", Side::sell, Price{5'000}, Qty{20}, 0, "w-new"}),
                 ErrorCode::failed_precondition, "mode not enabled: block trades are not enabled for CEA2024");
}

/// [market] proceeds_withdrawable = "same_day": a sale's proceeds are withdrawable at once (T+0).
class SameDayProceedsTest : public EndOfDayClearingTest {
 protected:
  SameDayProceedsTest() {
    Config config = fee_config();
    config.proceeds_withdrawable_same_day = true;
    exchange = std::make_unique<Exchange>(config);
  }
};

TEST_F(SameDayProceedsTest, ASalesProceedsAreWithdrawableTheSameDay) {
  b = create("B");
  s = create("S");
  ASSERT_TRUE(run(kOperator, MoveCash{b.cash_account, Cash{1'000'000}, "d1", false}).reply.status.is_ok());
  ASSERT_TRUE(run(kRegistry, IssueAllowances{"CEA2024", s.holding_account, Qty{100}, "a"}).reply.status.is_ok());
  ASSERT_TRUE(place(s, Side::sell, 5'000, 100).reply.status.is_ok());
  ASSERT_EQ(place(b, Side::buy, 5'000, 100).reply.trades.size(), 1u);
  const Cash proceeds{500'000 - 150};  // less the seller's fee of 3 bps
  EXPECT_EQ(exchange->clearing().account(s.cash_account).available, proceeds);
  EXPECT_EQ(exchange->clearing().account(s.cash_account).unsettled, Cash{0});
  const Outcome out = run(kOperator, MoveCash{s.cash_account, proceeds, "w1", true});
  EXPECT_TRUE(out.reply.status.is_ok()) << out.reply.status.message();
  now = kMonday1030 + 5 * kHour;
  const Outcome eod = run(kOperator, RunEndOfDay{"2025-11-24"});
  ASSERT_TRUE(eod.reply.status.is_ok()) << eod.reply.status.message();
  EXPECT_TRUE(eod.reply.reconciliation->balanced);
}

/// Monday's end of day, then on Tuesday S sells, puts the proceeds into a GTC
/// buy, and the day ends; on Wednesday the buy is cancelled, live or after a
/// restore: its cash is withdrawable, Tuesday's proceeds having settled.
class OpenBuyOfProceedsTest : public ClosedDayTest {
 protected:
  void sell_and_rebuy_tuesday() {
    trade_a_day();
    now = kMonday1030 + 24 * kHour;  // Tuesday 10:30
    const Cash monday = exchange->clearing().account(s.cash_account).available;
    ASSERT_TRUE(run(kOperator, MoveCash{s.cash_account, monday, "w-all", true}).reply.status.is_ok());
    ASSERT_TRUE(run(kRegistry, IssueAllowances{"CEA2024", s.holding_account, Qty{100}, "b"}).reply.status.is_ok());
    ASSERT_TRUE(run(trader(s), limit(Side::sell, 5'000, 100, "t-sell")).reply.status.is_ok());
    ASSERT_EQ(run(trader(b), limit(Side::buy, 5'000, 100, "t-buy")).reply.trades.size(), 1u);
    proceeds = Cash{500'000 - 150};  // less the seller's fee of 3 bps
    ASSERT_EQ(exchange->clearing().account(s.cash_account).unsettled, proceeds);
    // 10 t @ 4,600 = 46,000 fen and the buyer's fee of 5 bps reserved at 3 fen a tonne (2.3 rounded up), 30:
    // all of it from the proceeds.
    const Outcome buy = run(trader(s), limit(Side::buy, 4'600, 10, "t-gtc", TimeInForce::gtc));
    ASSERT_TRUE(buy.reply.status.is_ok()) << buy.reply.status.message();
    rebuy = buy.reply.orders.at(0).id;
    ASSERT_EQ(exchange->order(rebuy)->reservation.from_unsettled, Cash{46'030});
    now = kMonday1030 + 29 * kHour;
    const Outcome eod2 = run(kOperator, RunEndOfDay{"2025-11-25"});
    ASSERT_TRUE(eod2.reply.status.is_ok()) << eod2.reply.status.message();
    now = kMonday1030 + 48 * kHour;  // Wednesday 10:30
  }

  void expect_withdrawable_once_cancelled() {
    EXPECT_EQ(exchange->order(rebuy)->reservation.total, Cash{46'030});
    EXPECT_EQ(exchange->order(rebuy)->reservation.from_unsettled, Cash{0});
    ASSERT_TRUE(run(trader(s), CancelOrder{rebuy}).reply.status.is_ok());
    const settlement::CashAccount cash = exchange->clearing().account(s.cash_account);
    EXPECT_EQ(cash.available, proceeds);
    EXPECT_EQ(cash.unsettled, Cash{0});
    const Outcome out = run(kOperator, MoveCash{s.cash_account, proceeds, "w-tuesday", true});
    EXPECT_TRUE(out.reply.status.is_ok()) << out.reply.status.message();
  }

  Cash proceeds;
  OrderId rebuy = 0;
};

TEST_F(OpenBuyOfProceedsTest, TheProceedsAnOpenBuyHoldsSettleAtTheEndOfDay) {
  sell_and_rebuy_tuesday();
  expect_withdrawable_once_cancelled();
}

TEST_F(OpenBuyOfProceedsTest, TheirSettlingIsJournaledAndRestored) {
  sell_and_rebuy_tuesday();
  exchange = std::make_unique<Exchange>(config_);
  exchange->restore(as_recovered());
  expect_withdrawable_once_cancelled();
}

}  // namespace
}  // namespace carbon::engine
