#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <map>

#include "engine/exchange.h"
#include "engine/validation.h"

namespace carbon::engine {
namespace {

constexpr UnixNanos kStart = 1'763'951'400'000'000'000;  // a weekday morning, Asia/Shanghai

Config test_config() {
  Config config = default_config();
  for (auto& instrument : config.instruments) {
    instrument.reference_price = Price{5'000};
    if (instrument.code == "CEA2023") instrument.tick = Price{5};
    if (instrument.code == "CEA2022") instrument.lot = Qty{10};
  }
  return config;
}

/// Applies events the way the journal writer does, so a restore can be checked without a database.
struct Projection {
  RecoveredState state;
  std::map<AccountId, CashRecord> cash;
  std::map<std::pair<AccountId, std::string>, registry::HoldingRecord> holdings;
  std::map<OrderId, OrderRecord> orders;
  std::map<ParticipantId, ParticipantControls> controls;
  std::map<std::string, InstrumentState> instruments;
  std::map<int, CalendarChanged> calendars;
  std::map<std::pair<AccountId, std::string>, Qty> allocated;
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
      if (auto* e = std::get_if<ParticipantControlsChanged>(&event)) controls[e->controls.participant] = e->controls;
      if (auto* e = std::get_if<InstrumentStateChanged>(&event)) instruments[e->state.instrument] = e->state;
      if (auto* e = std::get_if<MarketStateChanged>(&event)) state.market = e->state;
      if (auto* e = std::get_if<CalendarChanged>(&event)) calendars[e->year] = *e;
      if (auto* e = std::get_if<DailyBarRecorded>(&event)) state.bars.push_back(e->bar);
      if (auto* e = std::get_if<CapChanged>(&event)) caps[{e->cap.year, e->cap.sector}] = e->cap;
      if (auto* e = std::get_if<LedgerAppended>(&event)) {
        if (e->entry.kind == registry::TransferKind::issuance) allocated[{e->entry.to_account, e->entry.instrument}] += e->entry.quantity;
      }
    }
  }
  RecoveredState recovered() const {
    RecoveredState out = state;
    for (const auto& [k, v] : cash) out.cash.push_back(v);
    for (const auto& [k, v] : holdings) out.holdings.push_back(v);
    for (const auto& [k, v] : orders) out.orders.push_back(v);
    for (const auto& [k, v] : controls) out.controls.push_back(v);
    for (const auto& [k, v] : instruments) out.instrument_states.push_back(v);
    for (const auto& [k, v] : calendars) out.calendars.push_back(v);
    for (const auto& [k, v] : allocated) out.allocated.emplace_back(k.first, k.second, v);
    for (const auto& [k, v] : caps) out.caps.push_back(v);
    return out;
  }
};

class ExchangeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    seller = create("KEU-001", ParticipantType::key_emitting_unit);
    buyer = create("INST-001", ParticipantType::institution);
    person = create("PERSON-1", ParticipantType::natural_person);
    ASSERT_TRUE(run(op, MoveCash{buyer.cash_account, Cash{10'000'000}, "dep-1", false}).reply.status.is_ok());
    ASSERT_TRUE(run(op, MoveCash{person.cash_account, Cash{1'000'000}, "dep-2", false}).reply.status.is_ok());
    // IssueAllowances counts against the caps of the vintage year (MARKET_RULES: cap).
    ASSERT_TRUE(run(registry_authority, SetCap{2024, "power", Qty{1'000'000}, 0, "test cap"}).reply.status.is_ok());
    ASSERT_TRUE(run(registry_authority, IssueAllowances{"CEA2024", seller.holding_account, Qty{10'000}, "alloc"})
                    .reply.status.is_ok());
  }

  Outcome run(const Principal& who, CommandBody body) {
    now += 1'000'000;
    Outcome outcome = exchange.execute(Command{who, std::move(body)}, now);
    projection.apply(outcome);
    check_conservation();
    return outcome;
  }

  ParticipantRecord create(const std::string& code, ParticipantType type) {
    registry::Hash token{};
    token[0] = static_cast<std::uint8_t>(code.size());
    token[1] = static_cast<std::uint8_t>(code.back());
    Outcome outcome = run(op, CreateParticipant{code, code + " Ltd", type, token});
    EXPECT_TRUE(outcome.reply.status.is_ok()) << outcome.reply.status.message();
    return outcome.reply.participants.at(0);
  }

  static Principal trader(const ParticipantRecord& p) { return Principal{Role::trader, p.id, p.code}; }

  Outcome place(const ParticipantRecord& p, Side side, std::int64_t price, std::int64_t qty,
                TimeInForce tif = TimeInForce::day, std::string instrument = "CEA2024", std::string client_id = "") {
    PlaceOrder order;
    order.instrument = std::move(instrument);
    order.side = side;
    order.time_in_force = tif;
    order.price = Price{price};
    order.quantity = Qty{qty};
    order.client_order_id = std::move(client_id);
    return run(trader(p), order);
  }

  void check_conservation() {
    Cash moved{0};
    for (const auto& m : projection.state.cash_movements) moved += m.withdrawal ? -m.amount : m.amount;
    ASSERT_EQ(exchange.clearing().total(), moved) << "cash is not conserved";
    ASSERT_EQ(exchange.registry().net_total("CEA2024"), Qty{0}) << "units are not conserved";
  }

  /// Everything a rejection must leave unchanged.
  struct Snapshot {
    std::vector<settlement::CashAccount> cash;
    std::vector<registry::Holding> holdings;
    std::vector<matching::DepthLevel> bids, asks;
    std::size_t orders = 0;
    bool operator==(const Snapshot& o) const {
      auto same_levels = [](const auto& a, const auto& b) {
        if (a.size() != b.size()) return false;
        for (std::size_t i = 0; i < a.size(); ++i) {
          if (a[i].price != b[i].price || a[i].quantity != b[i].quantity || a[i].order_count != b[i].order_count)
            return false;
        }
        return true;
      };
      return cash == o.cash && holdings == o.holdings && same_levels(bids, o.bids) && same_levels(asks, o.asks) &&
             orders == o.orders;
    }
  };
  Snapshot snapshot() const {
    Snapshot s;
    for (const auto* p : {&seller, &buyer, &person}) {
      s.cash.push_back(exchange.clearing().account(p->cash_account));
      s.holdings.push_back(exchange.registry().holding(p->holding_account, "CEA2024"));
    }
    const auto* book = exchange.book("CEA2024");
    s.bids = book->depth(Side::buy, 100);
    s.asks = book->depth(Side::sell, 100);
    s.orders = book->order_count();
    return s;
  }

  /// Asserts the command is refused with `code`, a message containing `rule`, a journaled rejection, and no change.
  void expect_rejected(const Principal& who, CommandBody body, ErrorCode code, const std::string& rule) {
    const Snapshot before = snapshot();
    const Outcome outcome = run(who, std::move(body));
    EXPECT_EQ(outcome.reply.status.code(), code) << to_string(outcome.reply.status.code()) << ": "
                                                 << outcome.reply.status.message();
    EXPECT_NE(outcome.reply.status.message().find(rule), std::string::npos)
        << "message \"" << outcome.reply.status.message() << "\" does not name \"" << rule << "\"";
    ASSERT_EQ(outcome.events.size(), 1u);
    EXPECT_TRUE(std::holds_alternative<CommandRejected>(outcome.events[0]));
    EXPECT_NE(outcome.sequence, 0u);
    EXPECT_TRUE(snapshot() == before) << "a rejected command changed state";
  }

  Config config = test_config();
  Exchange exchange{config};
  Projection projection;
  UnixNanos now = kStart;
  Principal op{Role::operator_, 0, "ops"};
  Principal registry_authority{Role::registry_authority, 0, "registry"};
  ParticipantRecord seller, buyer, person;
};

// ---- the slice -------------------------------------------------------------

TEST_F(ExchangeTest, CrossingOrdersTradeAtTheRestingPriceAndSettleDeliveryVersusPayment) {
  const Outcome sell = place(seller, Side::sell, 5'000, 100);
  ASSERT_TRUE(sell.reply.status.is_ok());
  EXPECT_EQ(sell.reply.orders[0].status, OrderStatus::open);
  EXPECT_EQ(exchange.registry().holding(seller.holding_account, "CEA2024").reserved, Qty{100});

  const Outcome buy = place(buyer, Side::buy, 5'100, 100);
  ASSERT_TRUE(buy.reply.status.is_ok());
  ASSERT_EQ(buy.reply.trades.size(), 1u);
  const TradeRecord& trade = buy.reply.trades[0];
  EXPECT_EQ(trade.price, Price{5'000});
  EXPECT_EQ(trade.quantity, Qty{100});
  EXPECT_EQ(trade.buyer, buyer.id);
  EXPECT_EQ(trade.seller, seller.id);
  EXPECT_EQ(trade.aggressor, Side::buy);
  EXPECT_EQ(buy.reply.orders[0].status, OrderStatus::filled);

  // Cash: the buyer paid 100 t x 50.00 CNY and got back the price improvement.
  EXPECT_EQ(exchange.clearing().account(buyer.cash_account),
            (settlement::CashAccount{Cash{10'000'000 - 500'000}, Cash{0}, Cash{0}}));
  EXPECT_EQ(exchange.clearing().account(seller.cash_account),
            (settlement::CashAccount{Cash{0}, Cash{0}, Cash{500'000}}));
  // Units: delivered to the buyer as pending (T+1).
  EXPECT_EQ(exchange.registry().holding(seller.holding_account, "CEA2024"),
            (registry::Holding{Qty{9'900}, Qty{0}, Qty{0}, Qty{0}, Qty{0}}));
  EXPECT_EQ(exchange.registry().holding(buyer.holding_account, "CEA2024").pending, Qty{100});
  // So the buyer cannot sell them today, and the refusal says why (T+1), as it names the seller's reserved units.
  const Outcome resale = place(buyer, Side::sell, 5'000, 100);
  EXPECT_EQ(resale.reply.status.code(), ErrorCode::failed_precondition);
  EXPECT_NE(resale.reply.status.message().find(
                "exceeds the 0 t available (100 t bought today, available from the next trading day (T+1): these "
                "cannot move)"),
            std::string::npos)
      << resale.reply.status.message();
  ASSERT_TRUE(place(seller, Side::sell, 5'200, 9'000).reply.status.is_ok());
  const Outcome oversold = place(seller, Side::sell, 5'200, 1'000);
  EXPECT_NE(oversold.reply.status.message().find("exceeds the 900 t available (9000 t held by open sell orders"),
            std::string::npos)
      << oversold.reply.status.message();

  // Both legs are in the same step's events.
  bool has_trade = false, has_ledger = false, has_cash = false;
  for (const Event& e : buy.events) {
    has_trade |= std::holds_alternative<TradeExecuted>(e);
    has_ledger |= std::holds_alternative<LedgerAppended>(e);
    has_cash |= std::holds_alternative<CashChanged>(e);
  }
  EXPECT_TRUE(has_trade && has_ledger && has_cash);
}

// A market-wide halt and its resume are journaled by their own commands: a command with no event is answered
// without a commit, so a halt left to ride on the next command's events could be acknowledged and then lost.
TEST_F(ExchangeTest, AMarketWideHaltAndResumeAreJournaledByTheirOwnCommands) {
  for (const bool halt : {true, false}) {
    const Outcome out = halt ? run(op, HaltTrading{"", "system fault"}) : run(op, ResumeTrading{""});
    ASSERT_TRUE(out.reply.status.is_ok()) << out.reply.status.message();
    ASSERT_EQ(out.events.size(), 1u);
    const auto* changed = std::get_if<MarketStateChanged>(&out.events[0]);
    ASSERT_NE(changed, nullptr);
    EXPECT_EQ(changed->state.halted, halt);
    EXPECT_EQ(changed->state.halt_reason, halt ? "system fault" : "");
    EXPECT_NE(out.sequence, 0u);
    EXPECT_EQ(changed->state.updated_sequence, out.sequence);
    // Restored from what was journaled, the market is as the command left it.
    Exchange restored(config);
    restored.restore(projection.recovered());
    EXPECT_EQ(restored.market_state().halted, halt);
  }
  // Resuming a market that is not halted changes nothing and journals nothing.
  const Outcome again = run(op, ResumeTrading{""});
  ASSERT_TRUE(again.reply.status.is_ok());
  EXPECT_TRUE(again.events.empty());
}

// A configured reference price whose listed band the ladder book cannot hold stops the start with the key named,
// instead of asking for terabytes.
TEST(ExchangeConfigTest, AConfiguredReferenceWhoseBandTheBookCannotHoldIsRefused) {
  Config config = test_config();
  ASSERT_FALSE(config.instruments.empty());
  config.instruments[0].reference_price = Price{1'000'000'000'000};
  try {
    Exchange exchange(config);
    ADD_FAILURE() << "started";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("instruments." + config.instruments[0].code + ".reference_price_fen"),
              std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("more than the 2000000"), std::string::npos) << e.what();
  }
}

// A key emitting unit's limit is the configured one plus its allocation: at the int64 maximum the sum saturates
// instead of wrapping to a negative limit that refused every buy.
TEST(PositionLimitTest, ALimitAtTheInt64MaximumPlusAnAllocationDoesNotWrap) {
  Config config = test_config();
  for (auto& instrument : config.instruments) {
    instrument.position_limit = Qty{std::numeric_limits<std::int64_t>::max()};
  }
  Exchange exchange(config);
  UnixNanos now = kStart;
  auto run = [&](const Principal& who, CommandBody body) {
    return exchange.execute(Command{who, std::move(body)}, now += 1'000);
  };
  const Principal op{Role::operator_, 0, "ops"}, authority{Role::registry_authority, 0, "reg"};
  const Outcome created = run(op, CreateParticipant{"KEU-9", "Plant", ParticipantType::key_emitting_unit, {9}});
  ASSERT_TRUE(created.reply.status.is_ok()) << created.reply.status.message();
  const ParticipantRecord unit = created.reply.participants.at(0);
  ASSERT_TRUE(run(op, MoveCash{unit.cash_account, Cash{1'000'000}, "dep", false}).reply.status.is_ok());
  ASSERT_TRUE(run(authority, SetCap{2024, "power", Qty{1'000'000}, 0, "cap"}).reply.status.is_ok());
  ASSERT_TRUE(run(authority, IssueAllowances{"CEA2024", unit.holding_account, Qty{100}, "alloc"}).reply.status.is_ok());
  const Outcome buy = run(Principal{Role::trader, unit.id, unit.code},
                          PlaceOrder{"CEA2024", Side::buy, OrderType::limit, TimeInForce::day, TradingMode::listed,
                                     Price{5'000}, Qty{10}, ""});
  EXPECT_TRUE(buy.reply.status.is_ok()) << buy.reply.status.message();
}

TEST_F(ExchangeTest, EarlierOrderAtTheSamePriceFillsFirst) {
  const ParticipantRecord second_seller = create("KEU-002", ParticipantType::key_emitting_unit);
  ASSERT_TRUE(run(registry_authority, IssueAllowances{"CEA2024", second_seller.holding_account, Qty{100}, "alloc"})
                  .reply.status.is_ok());
  const OrderId first = place(seller, Side::sell, 5'000, 50).reply.orders[0].id;
  place(second_seller, Side::sell, 5'000, 50);
  const Outcome buy = place(buyer, Side::buy, 5'000, 60);
  ASSERT_EQ(buy.reply.trades.size(), 2u);
  EXPECT_EQ(buy.reply.trades[0].sell_order, first);
  EXPECT_EQ(buy.reply.trades[0].quantity, Qty{50});
  EXPECT_EQ(buy.reply.trades[1].seller, second_seller.id);
  EXPECT_EQ(buy.reply.trades[1].quantity, Qty{10});
}

TEST_F(ExchangeTest, UnfilledRemainderOfADayOrderRests) {
  place(seller, Side::sell, 5'000, 40);
  const Outcome buy = place(buyer, Side::buy, 5'000, 100);
  EXPECT_EQ(buy.reply.orders[0].status, OrderStatus::partially_filled);
  EXPECT_EQ(buy.reply.orders[0].remaining(), Qty{60});
  EXPECT_EQ(exchange.clearing().account(buyer.cash_account).reserved, Cash{60 * 5'000});
  const auto bids = exchange.book("CEA2024")->depth(Side::buy, 5);
  ASSERT_EQ(bids.size(), 1u);
  EXPECT_EQ(bids[0].quantity, Qty{60});
}

TEST_F(ExchangeTest, CancelReleasesTheReservation) {
  const OrderId id = place(buyer, Side::buy, 5'000, 100).reply.orders[0].id;
  const Outcome cancel = run(trader(buyer), CancelOrder{id});
  ASSERT_TRUE(cancel.reply.status.is_ok());
  EXPECT_EQ(cancel.reply.orders[0].status, OrderStatus::cancelled);
  EXPECT_EQ(exchange.clearing().account(buyer.cash_account),
            (settlement::CashAccount{Cash{10'000'000}, Cash{0}, Cash{0}}));
  EXPECT_EQ(exchange.book("CEA2024")->order_count(), 0u);

  const OrderId sell = place(seller, Side::sell, 5'000, 100).reply.orders[0].id;
  ASSERT_TRUE(run(trader(seller), CancelOrder{sell}).reply.status.is_ok());
  EXPECT_EQ(exchange.registry().holding(seller.holding_account, "CEA2024").available, Qty{10'000});
}

TEST_F(ExchangeTest, ImmediateOrCancelRemainderIsCancelled) {
  place(seller, Side::sell, 5'000, 30);
  const Outcome buy = place(buyer, Side::buy, 5'000, 100, TimeInForce::ioc);
  EXPECT_EQ(buy.reply.orders[0].status, OrderStatus::cancelled);
  EXPECT_EQ(buy.reply.orders[0].filled, Qty{30});
  EXPECT_EQ(exchange.clearing().account(buyer.cash_account).reserved, Cash{0});
  EXPECT_EQ(exchange.book("CEA2024")->order_count(), 0u);
}

TEST_F(ExchangeTest, AnOrderThatWouldTradeWithItsOwnParticipantIsCancelledNotMatched) {
  ASSERT_TRUE(run(op, MoveCash{seller.cash_account, Cash{1'000'000}, "dep-s", false}).reply.status.is_ok());
  place(seller, Side::sell, 5'000, 10);
  const Outcome buy = place(seller, Side::buy, 5'000, 10);
  ASSERT_TRUE(buy.reply.status.is_ok());
  EXPECT_TRUE(buy.reply.trades.empty()) << "no wash trade";
  EXPECT_EQ(buy.reply.orders[0].status, OrderStatus::cancelled);
  EXPECT_EQ(exchange.clearing().account(seller.cash_account).reserved, Cash{0});
  EXPECT_EQ(exchange.book("CEA2024")->order_count(), 1u) << "the resting sell stays";
}

TEST_F(ExchangeTest, FillOrKillThatCannotFillTradesNothing) {
  place(seller, Side::sell, 5'000, 30);
  const Outcome buy = place(buyer, Side::buy, 5'000, 31, TimeInForce::fok);
  EXPECT_EQ(buy.reply.orders[0].status, OrderStatus::cancelled);
  EXPECT_TRUE(buy.reply.trades.empty());
  EXPECT_EQ(exchange.clearing().account(buyer.cash_account).reserved, Cash{0});
  const Outcome fits = place(buyer, Side::buy, 5'000, 30, TimeInForce::fok);
  EXPECT_EQ(fits.reply.orders[0].status, OrderStatus::filled);
}

TEST_F(ExchangeTest, ResubmittingAClientOrderIdReturnsTheSameOrderWithoutANewCommand) {
  const Outcome first = place(buyer, Side::buy, 5'000, 10, TimeInForce::day, "CEA2024", "cl-1");
  const Outcome again = place(buyer, Side::buy, 5'000, 10, TimeInForce::day, "CEA2024", "cl-1");
  ASSERT_TRUE(again.reply.status.is_ok());
  EXPECT_EQ(again.reply.orders[0].id, first.reply.orders[0].id);
  EXPECT_TRUE(again.events.empty());
  EXPECT_EQ(again.reply.sequence, first.sequence);
  EXPECT_EQ(exchange.book("CEA2024")->order_count(), 1u);
}

TEST_F(ExchangeTest, AResubmissionIsAnsweredWithTheOrdersOwnTradesOnly) {
  place(seller, Side::sell, 5'000, 4, TimeInForce::day, "CEA2024", "s-1");
  place(seller, Side::sell, 5'001, 6, TimeInForce::day, "CEA2024", "s-2");
  const Outcome first = place(buyer, Side::buy, 5'001, 10, TimeInForce::day, "CEA2024", "b-1");
  ASSERT_EQ(first.reply.trades.size(), 2u);
  place(seller, Side::sell, 5'002, 3, TimeInForce::day, "CEA2024", "s-3");  // later trades of other orders
  place(buyer, Side::buy, 5'002, 3, TimeInForce::day, "CEA2024", "b-2");
  const Outcome again = place(buyer, Side::buy, 5'001, 10, TimeInForce::day, "CEA2024", "b-1");
  ASSERT_TRUE(again.reply.status.is_ok());
  ASSERT_EQ(again.reply.trades.size(), 2u);
  for (std::size_t k = 0; k < 2; ++k) {
    EXPECT_EQ(again.reply.trades[k].id, first.reply.trades[k].id);
    EXPECT_EQ(again.reply.trades[k].quantity, first.reply.trades[k].quantity);
  }
  // The seller's first order, resubmitted, has its one trade.
  const Outcome seller_again = place(seller, Side::sell, 5'000, 4, TimeInForce::day, "CEA2024", "s-1");
  ASSERT_EQ(seller_again.reply.trades.size(), 1u);
  EXPECT_EQ(seller_again.reply.trades[0].id, first.reply.trades[0].id);
}

TEST_F(ExchangeTest, RepeatedDepositKeyReturnsTheFirstResult) {
  const Outcome first = run(op, MoveCash{buyer.cash_account, Cash{500}, "dep-x", false});
  const Outcome again = run(op, MoveCash{buyer.cash_account, Cash{500}, "dep-x", false});
  ASSERT_TRUE(again.reply.status.is_ok());
  EXPECT_TRUE(again.events.empty());
  EXPECT_EQ(again.reply.cash->balance, first.reply.cash->balance);
  EXPECT_EQ(again.reply.sequence, first.sequence);
  EXPECT_EQ(exchange.clearing().account(buyer.cash_account).available, Cash{10'000'500});
}

TEST_F(ExchangeTest, WithdrawalTakesAvailableCash) {
  const Outcome out = run(op, MoveCash{buyer.cash_account, Cash{1'000}, "wd-1", true});
  ASSERT_TRUE(out.reply.status.is_ok());
  EXPECT_EQ(exchange.clearing().account(buyer.cash_account).available, Cash{9'999'000});
}

TEST_F(ExchangeTest, SequencesAreDenseAcrossAcceptedAndRejectedCommands) {
  const Sequence before = exchange.last_sequence();
  place(buyer, Side::buy, 5'000, 10);
  place(buyer, Side::buy, 5'000, 0);
  place(buyer, Side::buy, 5'000, 10);
  EXPECT_EQ(exchange.last_sequence(), before + 3);
}

TEST_F(ExchangeTest, QueriesSeeOnlyTheCallersOwnOrdersTradesAndBalances) {
  place(seller, Side::sell, 5'000, 10);
  place(buyer, Side::buy, 5'000, 10);
  place(buyer, Side::buy, 4'600, 10);
  const Outcome mine = run(trader(buyer), ListOrders{"", false});
  ASSERT_EQ(mine.reply.orders.size(), 2u);
  for (const auto& o : mine.reply.orders) EXPECT_EQ(o.participant, buyer.id);
  EXPECT_EQ(run(trader(buyer), ListOrders{"", true}).reply.orders.size(), 1u);
  EXPECT_EQ(run(trader(buyer), ListTrades{""}).reply.trades.size(), 1u);
  EXPECT_EQ(run(trader(person), ListTrades{""}).reply.trades.size(), 0u);
  const Outcome balances = run(trader(buyer), GetBalances{});
  EXPECT_EQ(balances.reply.cash->account, buyer.cash_account);
  ASSERT_EQ(balances.reply.holdings.size(), 1u);
  EXPECT_EQ(balances.reply.holdings[0].holding.pending, Qty{10});
  EXPECT_EQ(balances.sequence, 0u) << "queries are not journaled";
  const Outcome others = run(trader(buyer), ListParticipants{});
  for (const auto& p : others.reply.participants) {
    if (p.id != buyer.id) {
      EXPECT_EQ(p.cash_account, 0u) << "a trader must not see others' accounts";
    }
  }
  place(seller, Side::sell, 4'600, 3);  // a second trade of the buyer's: listed after the first
  const Outcome trades = run(trader(buyer), ListTrades{""});
  ASSERT_EQ(trades.reply.trades.size(), 2u);
  EXPECT_LT(trades.reply.trades[0].id, trades.reply.trades[1].id) << "oldest first";
  EXPECT_EQ(trades.reply.trades[1].quantity, Qty{3});
}

TEST_F(ExchangeTest, ListOrdersAndListTradesPageByIdAfterACursor) {
  std::vector<OrderId> buys;
  for (int k = 0; k < 5; ++k) buys.push_back(place(buyer, Side::buy, 4'600 + k, 1).reply.orders.front().id);
  place(seller, Side::sell, 5'000, 1);  // another participant's order, between the buyer's
  buys.push_back(place(buyer, Side::buy, 4'700, 1).reply.orders.front().id);
  std::vector<OrderId> seen;
  OrderId cursor = 0;
  for (int page = 0; page < 4; ++page) {
    const Outcome out = run(trader(buyer), ListOrders{"", false, cursor, 2});
    ASSERT_TRUE(out.reply.status.is_ok());
    ASSERT_LE(out.reply.orders.size(), 2u);
    for (const OrderRecord& o : out.reply.orders) seen.push_back(o.id);
    if (out.reply.orders.empty()) break;
    cursor = out.reply.orders.back().id;
  }
  EXPECT_EQ(seen, buys) << "every order once, by id, none of the seller's";
  EXPECT_TRUE(run(trader(buyer), ListOrders{"", false, buys.back(), 2}).reply.orders.empty());
  // A limit of 0 is no limit; the instrument filter applies after the cursor.
  EXPECT_EQ(run(trader(buyer), ListOrders{"", false, buys[1], 0}).reply.orders.size(), 4u);
  EXPECT_EQ(run(trader(buyer), ListOrders{"CEA2024", true, buys[3], 1}).reply.orders.front().id, buys[4]);
  EXPECT_EQ(run(op, ListOrders{"", false, buys[0], 2}).reply.orders.size(), 2u) << "staff: every participant's";
  EXPECT_EQ(run(op, ListOrders{"", false, buys[4], 2}).reply.orders.back().id, buys[5]);
  {
    // After a restart the same pages, whatever order the records are restored in.
    const Outcome before = run(op, ListOrders{"", false});
    RecoveredState state = projection.recovered();
    std::reverse(state.orders.begin(), state.orders.end());
    Exchange restored(config);
    restored.restore(state);
    std::vector<OrderId> expected, paged;
    for (const OrderRecord& o : before.reply.orders) expected.push_back(o.id);
    for (OrderId after = 0;;) {
      const Outcome out = restored.execute(Command{op, ListOrders{"", false, after, 3}}, now);
      ASSERT_TRUE(out.reply.status.is_ok()) << out.reply.status.message();
      if (out.reply.orders.empty()) break;
      for (const OrderRecord& o : out.reply.orders) paged.push_back(o.id);
      after = out.reply.orders.back().id;
    }
    EXPECT_EQ(paged, expected);
    EXPECT_EQ(expected.size(), buys.size() + 1);
  }

  // Three trades of the buyer's (the sells fill the highest buys), one of another pair in between.
  const ParticipantRecord other = create("INST-002", ParticipantType::institution);
  ASSERT_TRUE(run(op, MoveCash{other.cash_account, Cash{1'000'000}, "dep-3", false}).reply.status.is_ok());
  ASSERT_EQ(place(seller, Side::sell, 4'700, 1).reply.trades.size(), 1u);
  ASSERT_EQ(place(seller, Side::sell, 4'604, 1).reply.trades.size(), 1u);
  ASSERT_EQ(place(other, Side::buy, 5'000, 1).reply.trades.size(), 1u);
  ASSERT_EQ(place(seller, Side::sell, 4'603, 1).reply.trades.size(), 1u);
  const Outcome all = run(trader(buyer), ListTrades{""});
  ASSERT_EQ(all.reply.trades.size(), 3u);
  const Outcome first = run(trader(buyer), ListTrades{"", 0, 2});
  ASSERT_EQ(first.reply.trades.size(), 2u);
  EXPECT_EQ(first.reply.trades[1].id, all.reply.trades[1].id);
  const Outcome rest = run(trader(buyer), ListTrades{"", first.reply.trades[1].id, 2});
  ASSERT_EQ(rest.reply.trades.size(), 1u);
  EXPECT_EQ(rest.reply.trades[0].id, all.reply.trades[2].id);
  EXPECT_GT(rest.reply.trades[0].id, first.reply.trades[1].id + 1) << "the other pair's trade lies between";
  EXPECT_TRUE(run(trader(buyer), ListTrades{"CEA2024", all.reply.trades[2].id, 2}).reply.trades.empty());
}

// ---- rejections: each names its rule and changes nothing --------------------

TEST_F(ExchangeTest, RejectsZeroQuantity) {
  PlaceOrder o{"CEA2024", Side::buy, OrderType::limit, TimeInForce::day, TradingMode::listed, Price{5'000}, Qty{0}, ""};
  expect_rejected(trader(buyer), o, ErrorCode::invalid_argument, "quantity must be positive");
}

TEST_F(ExchangeTest, RejectsNegativeQuantity) {
  PlaceOrder o{"CEA2024", Side::sell, OrderType::limit, TimeInForce::day, TradingMode::listed, Price{5'000}, Qty{-5}, ""};
  expect_rejected(trader(seller), o, ErrorCode::invalid_argument, "quantity must be positive");
}

TEST_F(ExchangeTest, RejectsZeroPrice) {
  PlaceOrder o{"CEA2024", Side::buy, OrderType::limit, TimeInForce::day, TradingMode::listed, Price{0}, Qty{10}, ""};
  expect_rejected(trader(buyer), o, ErrorCode::invalid_argument, "price_fen must be positive");
}

TEST_F(ExchangeTest, RejectsAMissingSide) {
  PlaceOrder o{"CEA2024", static_cast<Side>(0), OrderType::limit, TimeInForce::day, TradingMode::listed, Price{5'000},
               Qty{10}, ""};
  expect_rejected(trader(buyer), o, ErrorCode::invalid_argument, "side must be BUY or SELL");
}

TEST_F(ExchangeTest, RejectsAnUnknownInstrument) {
  PlaceOrder o{"CEA1999", Side::buy, OrderType::limit, TimeInForce::day, TradingMode::listed, Price{5'000}, Qty{10}, ""};
  expect_rejected(trader(buyer), o, ErrorCode::not_found, "unknown instrument");
}

TEST_F(ExchangeTest, RejectsAPriceOffTheTick) {
  PlaceOrder o{"CEA2023", Side::buy, OrderType::limit, TimeInForce::day, TradingMode::listed, Price{5'001}, Qty{10}, ""};
  expect_rejected(trader(buyer), o, ErrorCode::failed_precondition, "tick rule");
}

TEST_F(ExchangeTest, RejectsAQuantityOffTheLot) {
  PlaceOrder o{"CEA2022", Side::buy, OrderType::limit, TimeInForce::day, TradingMode::listed, Price{5'000}, Qty{15}, ""};
  expect_rejected(trader(buyer), o, ErrorCode::failed_precondition, "lot rule");
}

TEST_F(ExchangeTest, RejectsAListedOrderOf100000TonnesOrMore) {
  PlaceOrder o{"CEA2024", Side::buy, OrderType::limit, TimeInForce::day, TradingMode::listed, Price{5'000}, Qty{100'000}, ""};
  expect_rejected(trader(buyer), o, ErrorCode::failed_precondition, "listed order size");
}

TEST_F(ExchangeTest, RejectsABuyWithoutEnoughCash) {
  PlaceOrder o{"CEA2024", Side::buy, OrderType::limit, TimeInForce::day, TradingMode::listed, Price{5'500}, Qty{2'000}, ""};
  expect_rejected(trader(buyer), o, ErrorCode::failed_precondition, "insufficient funds");
}

TEST_F(ExchangeTest, RejectsAnAmendedBuyWithoutEnoughCashNamingWhatItNeedsMore) {
  PlaceOrder o{"CEA2024", Side::buy, OrderType::limit, TimeInForce::day, TradingMode::listed, Price{4'600},
               Qty{1'000}, ""};
  const Outcome placed = run(trader(buyer), o);
  ASSERT_TRUE(placed.reply.status.is_ok()) << placed.reply.status.message();
  // The order holds 4,600,000 fen of 10,000,000 (no fees here); 2,200 t at 4,600 needs 10,120,000: 5,520,000 more
  // than it holds, with 5,400,000 usable. The message names the amendment's figures, not a new order's.
  expect_rejected(trader(buyer), AmendOrder{placed.reply.orders.at(0).id, Price{0}, Qty{2'200}},
                  ErrorCode::failed_precondition,
                  "insufficient funds: the amended buy needs 101200.00 CNY (new price x new quantity plus the buyer's "
                  "fee), 55200.00 CNY more than the order holds, and 54000.00 CNY is usable");
}

TEST_F(ExchangeTest, RejectsASellWithoutUnits) {
  PlaceOrder o{"CEA2024", Side::sell, OrderType::limit, TimeInForce::day, TradingMode::listed, Price{5'000}, Qty{1}, ""};
  expect_rejected(trader(buyer), o, ErrorCode::failed_precondition, "insufficient units");
}

TEST_F(ExchangeTest, RejectsSellingMoreThanAvailableEvenWhenPartlyReserved) {
  place(seller, Side::sell, 5'400, 9'000);
  PlaceOrder o{"CEA2024", Side::sell, OrderType::limit, TimeInForce::day, TradingMode::listed, Price{5'400}, Qty{1'001}, ""};
  expect_rejected(trader(seller), o, ErrorCode::failed_precondition, "insufficient units");
}

TEST_F(ExchangeTest, RejectsUnitsBoughtTodayForSale) {
  place(seller, Side::sell, 5'000, 10);
  place(buyer, Side::buy, 5'000, 10);
  PlaceOrder o{"CEA2024", Side::sell, OrderType::limit, TimeInForce::day, TradingMode::listed, Price{5'000}, Qty{10}, ""};
  expect_rejected(trader(buyer), o, ErrorCode::failed_precondition, "insufficient units");
}

TEST_F(ExchangeTest, RejectsANaturalPersonTradingAllowances) {
  PlaceOrder o{"CEA2024", Side::buy, OrderType::limit, TimeInForce::day, TradingMode::listed, Price{5'000}, Qty{10}, ""};
  expect_rejected(trader(person), o, ErrorCode::failed_precondition, "natural persons may trade CCER only");
}

TEST_F(ExchangeTest, LetsANaturalPersonTradeCcer) {
  EXPECT_TRUE(place(person, Side::buy, 5'000, 10, TimeInForce::day, "CCER").reply.status.is_ok());
}

TEST_F(ExchangeTest, RejectsGoodTillCancelledWhenNotEnabled) {
  PlaceOrder o{"CEA2024", Side::buy, OrderType::limit, TimeInForce::gtc, TradingMode::listed, Price{5'000}, Qty{10}, ""};
  expect_rejected(trader(buyer), o, ErrorCode::failed_precondition, "GTC");
}

TEST_F(ExchangeTest, RejectsBlockModeInPlaceOrder) {
  PlaceOrder o{"CEA2024", Side::buy, OrderType::limit, TimeInForce::day, TradingMode::block, Price{5'000}, Qty{10}, ""};
  expect_rejected(trader(buyer), o, ErrorCode::invalid_argument, "OfferBlockTrade");
}

TEST_F(ExchangeTest, RejectsAnOverflowingNotional) {
  PlaceOrder o{"CEA2024", Side::buy, OrderType::limit, TimeInForce::day, TradingMode::listed,
               Price{INT64_MAX / 10}, Qty{99'999}, ""};
  expect_rejected(trader(buyer), o, ErrorCode::invalid_argument, "overflows");
}

TEST_F(ExchangeTest, RejectsAReusedClientOrderIdWithDifferentParameters) {
  place(buyer, Side::buy, 5'000, 10, TimeInForce::day, "CEA2024", "cl-9");
  PlaceOrder o{"CEA2024", Side::buy, OrderType::limit, TimeInForce::day, TradingMode::listed, Price{5'000}, Qty{11},
               "cl-9"};
  expect_rejected(trader(buyer), o, ErrorCode::failed_precondition, "client_order_id");
}

TEST_F(ExchangeTest, RejectsCancellingAnUnknownOrder) {
  expect_rejected(trader(buyer), CancelOrder{424242}, ErrorCode::not_found, "does not exist");
}

TEST_F(ExchangeTest, RejectsCancellingAnotherParticipantsOrder) {
  const OrderId id = place(buyer, Side::buy, 5'000, 10).reply.orders[0].id;
  expect_rejected(trader(seller), CancelOrder{id}, ErrorCode::permission_denied, "another participant");
}

TEST_F(ExchangeTest, RejectsCancellingAFilledOrder) {
  const OrderId id = place(seller, Side::sell, 5'000, 10).reply.orders[0].id;
  place(buyer, Side::buy, 5'000, 10);
  expect_rejected(trader(seller), CancelOrder{id}, ErrorCode::failed_precondition, "no longer open");
}

TEST_F(ExchangeTest, RejectsADepositToAnUnknownAccount) {
  expect_rejected(op, MoveCash{987'654, Cash{100}, "k", false}, ErrorCode::not_found, "cash account 987654");
}

TEST_F(ExchangeTest, RejectsADepositToAHoldingAccount) {
  expect_rejected(op, MoveCash{buyer.holding_account, Cash{100}, "k", false}, ErrorCode::not_found, "cash account");
}

TEST_F(ExchangeTest, RejectsAZeroDeposit) {
  expect_rejected(op, MoveCash{buyer.cash_account, Cash{0}, "k", false}, ErrorCode::invalid_argument, "amount_fen");
}

TEST_F(ExchangeTest, RejectsADepositWithoutAnIdempotencyKey) {
  expect_rejected(op, MoveCash{buyer.cash_account, Cash{100}, "", false}, ErrorCode::invalid_argument,
                  "idempotency_key");
}

TEST_F(ExchangeTest, RejectsAReusedDepositKeyWithADifferentAmount) {
  expect_rejected(op, MoveCash{buyer.cash_account, Cash{1}, "dep-1", false}, ErrorCode::failed_precondition,
                  "idempotency key");
}

TEST_F(ExchangeTest, RejectsWithdrawingMoreThanAvailable) {
  expect_rejected(op, MoveCash{buyer.cash_account, Cash{10'000'001}, "wd", true}, ErrorCode::failed_precondition,
                  "insufficient withdrawable cash");
}

TEST_F(ExchangeTest, RejectsIssuanceToAnUnknownAccount) {
  expect_rejected(registry_authority, IssueAllowances{"CEA2024", 55'555, Qty{10}, "alloc"}, ErrorCode::not_found,
                  "holding account 55555");
}

TEST_F(ExchangeTest, RejectsIssuingCcerAsAllowances) {
  expect_rejected(registry_authority, IssueAllowances{"CCER", seller.holding_account, Qty{10}, "alloc"},
                  ErrorCode::failed_precondition, "not an allowance");
}

TEST_F(ExchangeTest, RejectsIssuanceWithoutAReason) {
  expect_rejected(registry_authority, IssueAllowances{"CEA2024", seller.holding_account, Qty{10}, ""},
                  ErrorCode::invalid_argument, "reason is required");
}

TEST_F(ExchangeTest, IssuesIntoTheAuctionAccount) {
  const Outcome out = run(registry_authority, IssueAllowances{"CEA2024", registry::kAuctionAccount, Qty{10}, "paid"});
  EXPECT_TRUE(out.reply.status.is_ok()) << out.reply.status.message();
  EXPECT_EQ(exchange.registry().holding(registry::kAuctionAccount, "CEA2024").available, Qty{10});
}

// ---- IssueAllowances counts against the caps of the vintage year ------------

/// The caps of `year` as ListCaps shows them, by sector.
std::map<std::string, CapRecord> caps_of(Exchange& exchange, int year, UnixNanos at) {
  const Outcome out = exchange.execute(Command{Principal{Role::regulator, 0, "reg"}, ListCaps{year}}, at);
  EXPECT_TRUE(out.reply.status.is_ok()) << out.reply.status.message();
  std::map<std::string, CapRecord> caps;
  for (const CapRecord& cap : out.reply.caps) caps[cap.sector] = cap;
  return caps;
}

TEST_F(ExchangeTest, IssuanceNeedsACapForTheVintageYear) {
  expect_rejected(registry_authority, IssueAllowances{"CEA2025", registry::kAuctionAccount, Qty{100}, "paid"},
                  ErrorCode::failed_precondition, "cap: no cap is set for compliance year 2025");
  EXPECT_TRUE(caps_of(exchange, 2025, now).empty());
}

TEST_F(ExchangeTest, IssuanceMayReachTheSumOfTheYearsCapsButNotPassIt) {
  // 2024: power 1,000,000 t (10,000 t issued in SetUp) and cement 500,000 t.
  ASSERT_TRUE(run(registry_authority, SetCap{2024, "cement", Qty{500'000}, 0, "plan"}).reply.status.is_ok());
  expect_rejected(registry_authority, IssueAllowances{"CEA2024", registry::kAuctionAccount, Qty{1'490'001}, "paid"},
                  ErrorCode::failed_precondition,
                  "cap: issuing 1490001 t would bring 2024 to 1500001 t, above the 1500000 t of its caps");
  auto caps = caps_of(exchange, 2024, now);
  EXPECT_EQ(caps.at("power").issued, Qty{10'000});
  EXPECT_EQ(caps.at("cement").issued, Qty{0});

  const Outcome out =
      run(registry_authority, IssueAllowances{"CEA2024", registry::kAuctionAccount, Qty{1'490'000}, "paid"});
  ASSERT_TRUE(out.reply.status.is_ok()) << out.reply.status.message();
  EXPECT_EQ(exchange.registry().holding(registry::kAuctionAccount, "CEA2024").available, Qty{1'490'000});
  // Spread over the sectors in name order: cement first, then power; each cap's issued is true.
  caps = caps_of(exchange, 2024, now);
  EXPECT_EQ(caps.at("cement").issued, Qty{500'000});
  EXPECT_EQ(caps.at("power").issued, Qty{1'000'000});
  EXPECT_EQ(exchange.registry().cap_usage(2024, "power").issued, Qty{1'000'000});

  expect_rejected(registry_authority, IssueAllowances{"CEA2024", registry::kAuctionAccount, Qty{1}, "paid"},
                  ErrorCode::failed_precondition, "would bring 2024 to 1500001 t, above the 1500000 t of its caps");
  // A cap cannot be lowered below what is issued under it.
  const Outcome lower = run(registry_authority, SetCap{2024, "power", Qty{999'999}, 0, "cut"});
  EXPECT_EQ(lower.reply.status.code(), ErrorCode::failed_precondition);
  EXPECT_NE(lower.reply.status.message().find("below the 1000000 t already issued"), std::string::npos)
      << lower.reply.status.message();
  // A new sector's cap makes room again.
  ASSERT_TRUE(run(registry_authority, SetCap{2024, "steel", Qty{10}, 0, "plan"}).reply.status.is_ok());
  ASSERT_TRUE(run(registry_authority, IssueAllowances{"CEA2024", registry::kAuctionAccount, Qty{10}, "paid"})
                  .reply.status.is_ok());
  EXPECT_EQ(caps_of(exchange, 2024, now).at("steel").issued, Qty{10});
}

TEST_F(ExchangeTest, IssuanceFillsThePaidSharesBeforeTheFreeShares) {
  // aviation: 100,000 t, 20% paid (80,000 t free share); power: all free (SetUp).
  ASSERT_TRUE(run(registry_authority, SetCap{2024, "aviation", Qty{100'000}, 2'000, "plan"}).reply.status.is_ok());
  ASSERT_TRUE(run(registry_authority, SetCap{2024, "zinc", Qty{100'000}, 5'000, "plan"}).reply.status.is_ok());
  const Outcome out =
      run(registry_authority, IssueAllowances{"CEA2024", registry::kAuctionAccount, Qty{60'000}, "paid"});
  ASSERT_TRUE(out.reply.status.is_ok()) << out.reply.status.message();
  // Paid shares first (aviation 20,000, zinc 40,000); power's free share is left alone.
  auto caps = caps_of(exchange, 2024, now);
  EXPECT_EQ(caps.at("aviation").issued, Qty{20'000});
  EXPECT_EQ(caps.at("zinc").issued, Qty{40'000});
  EXPECT_EQ(caps.at("power").issued, Qty{10'000});
  // The paid room left first (zinc 10,000), then any room in name order (aviation 5,000).
  ASSERT_TRUE(run(registry_authority, IssueAllowances{"CEA2024", registry::kAuctionAccount, Qty{15'000}, "paid"})
                  .reply.status.is_ok());
  caps = caps_of(exchange, 2024, now);
  EXPECT_EQ(caps.at("aviation").issued, Qty{25'000});
  EXPECT_EQ(caps.at("zinc").issued, Qty{50'000});
  EXPECT_EQ(caps.at("power").issued, Qty{10'000});
}

TEST_F(ExchangeTest, IssuedTotalsUnderTheCapsSurviveARestart) {
  ASSERT_TRUE(run(registry_authority, SetCap{2024, "cement", Qty{5'000}, 0, "plan"}).reply.status.is_ok());
  ASSERT_TRUE(run(registry_authority, IssueAllowances{"CEA2024", registry::kAuctionAccount, Qty{994'000}, "paid"})
                  .reply.status.is_ok());
  Exchange restored(config);
  restored.restore(projection.recovered());
  auto caps = caps_of(restored, 2024, now + 1);
  EXPECT_EQ(caps.at("cement").issued, Qty{5'000});
  EXPECT_EQ(caps.at("power").issued, Qty{999'000});
  // 1,004,000 issued of 1,005,000: 1,001 t is refused, 1,000 t is not.
  const Outcome over = restored.execute(
      Command{registry_authority, IssueAllowances{"CEA2024", registry::kAuctionAccount, Qty{1'001}, "paid"}}, now + 2);
  EXPECT_EQ(over.reply.status.code(), ErrorCode::failed_precondition);
  EXPECT_NE(over.reply.status.message().find("would bring 2024 to 1005001 t, above the 1005000 t of its caps"),
            std::string::npos)
      << over.reply.status.message();
  const Outcome fits = restored.execute(
      Command{registry_authority, IssueAllowances{"CEA2024", registry::kAuctionAccount, Qty{1'000}, "paid"}}, now + 3);
  EXPECT_TRUE(fits.reply.status.is_ok()) << fits.reply.status.message();
}

TEST_F(ExchangeTest, RejectsIssuanceIntoTheSurrenderAccount) {
  expect_rejected(registry_authority, IssueAllowances{"CEA2024", registry::kSurrenderAccount, Qty{10}, "x"},
                  ErrorCode::failed_precondition, "issuance goes to");
}

TEST_F(ExchangeTest, RejectsADepositWithATooLongKey) {
  expect_rejected(op, MoveCash{buyer.cash_account, Cash{100}, std::string(65, 'k'), false},
                  ErrorCode::invalid_argument, "idempotency_key");
}

TEST_F(ExchangeTest, RejectsATooLongClientOrderId) {
  PlaceOrder o{"CEA2024", Side::buy, OrderType::limit, TimeInForce::day, TradingMode::listed, Price{5'000}, Qty{10},
               std::string(65, 'c')};
  expect_rejected(trader(buyer), o, ErrorCode::invalid_argument, "client_order_id");
}

TEST_F(ExchangeTest, RejectsALowercaseParticipantCode) {
  expect_rejected(op, CreateParticipant{"lower.case", "Name", ParticipantType::institution, {}},
                  ErrorCode::invalid_argument, "code must be");
}

TEST_F(ExchangeTest, RejectsControlCharactersInAnInstrument) {
  PlaceOrder o{std::string("CEA2024\0x", 9), Side::buy, OrderType::limit, TimeInForce::day, TradingMode::listed,
               Price{5'000}, Qty{10}, ""};
  expect_rejected(trader(buyer), o, ErrorCode::invalid_argument, "instrument");
}

TEST_F(ExchangeTest, RejectsMalformedUtf8InAClientOrderId) {
  for (const char* bad : {"\xff", "\xc0\xaf", "\xed\xa0\x80", "ab\x01"}) {
    PlaceOrder o{"CEA2024", Side::buy, OrderType::limit, TimeInForce::day, TradingMode::listed, Price{5'000}, Qty{10},
                 bad};
    expect_rejected(trader(buyer), o, ErrorCode::invalid_argument, "client_order_id");
  }
}

TEST_F(ExchangeTest, AcceptsChineseNames) {
  EXPECT_TRUE(run(op, CreateParticipant{"HN-01", "华能电厂", ParticipantType::key_emitting_unit, {}}).reply.status.is_ok());
}

TEST_F(ExchangeTest, RejectsADuplicateParticipantCode) {
  expect_rejected(op, CreateParticipant{"KEU-001", "Again", ParticipantType::institution, {}},
                  ErrorCode::failed_precondition, "already registered");
}

TEST_F(ExchangeTest, RejectsAParticipantCodeWithSpaces) {
  expect_rejected(op, CreateParticipant{"bad code", "Name", ParticipantType::institution, {}},
                  ErrorCode::invalid_argument, "code must be");
}

TEST_F(ExchangeTest, RejectsOrdersFromStaff) {
  PlaceOrder o{"CEA2024", Side::buy, OrderType::limit, TimeInForce::day, TradingMode::listed, Price{5'000}, Qty{10}, ""};
  expect_rejected(op, o, ErrorCode::permission_denied, "traders");
}

// Self-trade prevention stopping an order is an attempted self-trade: nothing trades, and the regulators get a
// low-severity alert naming the participant and both orders. Orders that trade with others raise none.
TEST_F(ExchangeTest, AnOrderStoppedBySelfTradePreventionRaisesASelfTradeAttemptAlert) {
  ASSERT_TRUE(run(op, MoveCash{seller.cash_account, Cash{10'000'000}, "dep-stp", false}).reply.status.is_ok());
  const Outcome resting = place(seller, Side::sell, 5'100, 300);
  ASSERT_TRUE(resting.reply.status.is_ok()) << resting.reply.status.message();
  const OrderId resting_id = resting.reply.orders.at(0).id;
  const Outcome crossing = place(seller, Side::buy, 5'100, 100);
  ASSERT_TRUE(crossing.reply.status.is_ok()) << crossing.reply.status.message();
  EXPECT_EQ(crossing.reply.orders.at(0).status, OrderStatus::cancelled) << "the default: cancel the incoming order";
  const AlertRecord* raised = nullptr;
  for (const Event& event : crossing.events) {
    if (const auto* e = std::get_if<AlertRaised>(&event)) raised = &e->alert;
  }
  ASSERT_NE(raised, nullptr);
  EXPECT_EQ(raised->type, AlertRecord::kSelfTradeAttempt);
  EXPECT_EQ(raised->severity, AlertRecord::kSeverityLow);
  EXPECT_EQ(raised->instrument, "CEA2024");
  EXPECT_EQ(raised->participants, std::vector<ParticipantId>{seller.id});
  EXPECT_EQ(raised->metric_value, 100);
  EXPECT_EQ(raised->description, "self-trade prevention (cancel the incoming order) stopped order " +
                                     std::to_string(crossing.reply.orders.at(0).id) + " of KEU-001 at 5100 fen "
                                     "against its own resting order " + std::to_string(resting_id) +
                                     ", 100 t still to trade (its first attempt in CEA2024 today: later ones today "
                                     "are not alerted again)");
  const Principal regulator{Role::regulator, 0, "reg"};
  const Outcome listed = run(regulator, ListSurveillanceAlerts{0, 0, AlertRecord::kSelfTradeAttempt, 0, 0, ""});
  ASSERT_EQ(listed.reply.alerts.size(), 1u);
  EXPECT_EQ(listed.reply.alerts[0].sequence, crossing.sequence);
  // The same participant's next attempt that day is not alerted again.
  const Outcome again = place(seller, Side::buy, 5'100, 50);
  ASSERT_TRUE(again.reply.status.is_ok());
  for (const Event& event : again.events) EXPECT_FALSE(std::holds_alternative<AlertRaised>(event));
  // A buy that trades with another participant's ask is no attempt.
  const Outcome traded = place(buyer, Side::buy, 5'100, 100);
  ASSERT_TRUE(traded.reply.status.is_ok());
  for (const Event& event : traded.events) EXPECT_FALSE(std::holds_alternative<AlertRaised>(event));
}

// A fill-or-kill order killed because the participant's own resting order stands in its way is an attempted
// self-trade too (it never reaches the book, so matching cannot see it); one killed for want of others' orders
// is not.
TEST_F(ExchangeTest, AFillOrKillOrderKilledByItsOwnRestingOrderRaisesASelfTradeAttemptAlert) {
  ASSERT_TRUE(run(op, MoveCash{seller.cash_account, Cash{10'000'000}, "dep-fok", false}).reply.status.is_ok());
  auto alerts_of = [](const Outcome& out) {
    std::vector<AlertRecord> found;
    for (const Event& event : out.events) {
      if (const auto* e = std::get_if<AlertRaised>(&event)) found.push_back(e->alert);
    }
    return found;
  };
  // Nothing on the book: killed, and no attempt.
  const Outcome alone = place(seller, Side::buy, 5'100, 10, TimeInForce::fok);
  ASSERT_TRUE(alone.reply.status.is_ok()) << alone.reply.status.message();
  EXPECT_EQ(alone.reply.orders.at(0).status, OrderStatus::cancelled);
  EXPECT_TRUE(alerts_of(alone).empty());
  // Its own ask of 300 t in the way: killed, and alerted.
  ASSERT_TRUE(place(seller, Side::sell, 5'100, 300).reply.status.is_ok());
  const Outcome fok = place(seller, Side::buy, 5'100, 100, TimeInForce::fok);
  ASSERT_TRUE(fok.reply.status.is_ok()) << fok.reply.status.message();
  EXPECT_EQ(fok.reply.orders.at(0).status, OrderStatus::cancelled);
  EXPECT_TRUE(fok.reply.trades.empty());
  const std::vector<AlertRecord> raised = alerts_of(fok);
  ASSERT_EQ(raised.size(), 1u);
  EXPECT_EQ(raised[0].type, AlertRecord::kSelfTradeAttempt);
  EXPECT_EQ(raised[0].participants, std::vector<ParticipantId>{seller.id});
  EXPECT_EQ(raised[0].metric_value, 100);
  EXPECT_EQ(raised[0].description, "self-trade prevention (cancel the incoming order) stopped fill-or-kill order " +
                                       std::to_string(fok.reply.orders.at(0).id) + " of KEU-001 at 5100 fen "
                                       "against its own resting orders, 100 t still to trade (its first attempt in "
                                       "CEA2024 today: later ones today are not alerted again)");
  // Another participant's fill-or-kill against the same ask trades, and is no attempt.
  const Outcome other = place(buyer, Side::buy, 5'100, 100, TimeInForce::fok);
  ASSERT_EQ(other.reply.trades.size(), 1u);
  EXPECT_TRUE(alerts_of(other).empty());
}

TEST_F(ExchangeTest, ARefusalFromTheServerIsJournaledUnderTheRefusedCommandsName) {
  const Outcome out = run(trader(buyer), Refused{"PlaceOrder", invalid_argument("quantity must be positive")});
  EXPECT_EQ(out.reply.status.code(), ErrorCode::invalid_argument);
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(std::get<CommandRejected>(out.events[0]).command, "PlaceOrder");
  EXPECT_NE(out.sequence, 0u);
}

TEST(ValidationTest, NeedsNoStateAndNamesTheField) {
  EXPECT_TRUE(validate(PlaceOrder{"CEA2024", Side::buy, OrderType::limit, TimeInForce::day, TradingMode::listed,
                                  Price{1}, Qty{1}, ""})
                  .is_ok());
  EXPECT_NE(validate(CancelOrder{0}).message().find("order_id"), std::string::npos);
  EXPECT_NE(validate(MoveCash{1, Cash{-1}, "k", false}).message().find("amount_fen"), std::string::npos);
  EXPECT_NE(validate(GetBook{"", 5}).message().find("instrument"), std::string::npos);
  EXPECT_EQ(validate(GetBook{std::string(33, 'C'), 5}).message(),
            "instrument: a code is at most 32 bytes, without control characters");
  // Enum values off the wire that name nothing (the server passes them on as 255 or as sent).
  const PlaceOrder good{"CEA2024", Side::buy, OrderType::limit, TimeInForce::day, TradingMode::listed,
                        Price{1}, Qty{1}, ""};
  PlaceOrder bad = good;
  bad.type = static_cast<OrderType>(7);
  EXPECT_EQ(validate(bad).message(), "unknown order type");
  bad = good;
  bad.time_in_force = static_cast<TimeInForce>(9);
  EXPECT_EQ(validate(bad).message(), "unknown time in force");
  EXPECT_EQ(validate(CancelAllOrders{"", static_cast<Side>(7)}).message(), "side must be BUY, SELL or unspecified");
  SetParticipantControls controls{7, static_cast<SelfTradePrevention>(9), std::nullopt, ""};
  EXPECT_EQ(validate(controls).message(), "unknown self-trade prevention mode");
  EXPECT_EQ(validate(CreateParticipant{"KEU-9", "Plant", static_cast<ParticipantType>(255), {}}).message(),
            "type must be KEY_EMITTING_UNIT, INSTITUTION or NATURAL_PERSON");
  EXPECT_TRUE(is_clean_text("华能 CEA2024"));
  EXPECT_FALSE(is_clean_text(std::string("a\0b", 3)));
  EXPECT_FALSE(is_clean_text("\xf5\x80\x80\x80"));
}

// ---- recovery --------------------------------------------------------------

TEST_F(ExchangeTest, TheOrderTablesKeepTheirSizeForTheDayThroughARestore) {
  place(seller, Side::sell, 5'100, 300);
  place(buyer, Side::buy, 5'000, 150, TimeInForce::day, "CEA2024", "cl-1");
  Config sized = config;
  sized.expected_orders_per_day = 50'000;
  Exchange restored(sized);
  EXPECT_GE(restored.orders_before_growth(), 50'000u);
  restored.restore(projection.recovered());  // two open orders: reserving for them must not shrink the tables
  EXPECT_GE(restored.orders_before_growth(), 50'000u);
  ASSERT_NE(restored.order(restored.last_order_id()), nullptr);

  Config unsized = config;
  unsized.expected_orders_per_day = 0;
  Exchange grown(unsized);
  grown.restore(projection.recovered());
  EXPECT_LT(grown.orders_before_growth(), 50'000u);  // sized for what it restored, not for a day
}

TEST_F(ExchangeTest, RestoredExchangeHasTheSameStateAndBehavesTheSame) {
  place(seller, Side::sell, 5'100, 300);
  place(seller, Side::sell, 5'000, 200);
  place(buyer, Side::buy, 5'000, 150);
  place(buyer, Side::buy, 4'900, 100);
  place(buyer, Side::buy, 4'900, 50, TimeInForce::day, "CEA2024", "cl-r");
  place(person, Side::buy, 3'000, 10, TimeInForce::day, "CCER");

  Exchange restored(config);
  restored.restore(projection.recovered());
  EXPECT_EQ(restored.last_sequence(), exchange.last_sequence());
  for (const auto* p : {&seller, &buyer, &person}) {
    EXPECT_EQ(restored.clearing().account(p->cash_account), exchange.clearing().account(p->cash_account));
    EXPECT_EQ(restored.registry().holding(p->holding_account, "CEA2024"),
              exchange.registry().holding(p->holding_account, "CEA2024"));
  }
  EXPECT_EQ(restored.registry().ledger().last_hash(), exchange.registry().ledger().last_hash());

  // The same next commands give the same outcomes on both.
  auto same = [&](const Principal& who, CommandBody body) {
    const Outcome a = exchange.execute(Command{who, body}, now + 5);
    const Outcome b = restored.execute(Command{who, body}, now + 5);
    EXPECT_EQ(a.sequence, b.sequence);
    EXPECT_EQ(a.events.size(), b.events.size());
    EXPECT_EQ(a.reply.status.code(), b.reply.status.code());
    ASSERT_EQ(a.reply.trades.size(), b.reply.trades.size());
    for (std::size_t i = 0; i < a.reply.trades.size(); ++i) {
      EXPECT_EQ(a.reply.trades[i].id, b.reply.trades[i].id);
      EXPECT_EQ(a.reply.trades[i].sell_order, b.reply.trades[i].sell_order);
      EXPECT_EQ(a.reply.trades[i].price, b.reply.trades[i].price);
    }
  };
  PlaceOrder sweep{"CEA2024", Side::sell, OrderType::limit, TimeInForce::day, TradingMode::listed, Price{4'900},
                   Qty{150}, ""};
  same(trader(seller), sweep);
  same(trader(buyer), PlaceOrder{"CEA2024", Side::buy, OrderType::limit, TimeInForce::day, TradingMode::listed,
                                 Price{4'900}, Qty{50}, "cl-r"});
  same(trader(buyer), PlaceOrder{"CEA2024", Side::buy, OrderType::limit, TimeInForce::ioc, TradingMode::listed,
                                 Price{5'100}, Qty{400}, ""});
  EXPECT_EQ(restored.registry().ledger().last_hash(), exchange.registry().ledger().last_hash());
}

TEST_F(ExchangeTest, EveryRejectionOfTheTradingAndOperatorCommandsNamesItsRuleAndChangesNothing) {
  place(seller, Side::sell, 5'200, 10);  // order 1, resting
  struct Case {
    const char* name;
    Principal who;
    CommandBody body;
    ErrorCode code;
    const char* rule;
  };
  const Principal s = trader(seller), b = trader(buyer);
  const OrderId resting = exchange.order(1) != nullptr ? 1 : 0;
  ASSERT_NE(resting, 0u);
  SetParticipantControls suspend_without_reason;
  suspend_without_reason.participant = buyer.id;
  suspend_without_reason.suspended = true;
  SetParticipantControls unknown_participant;
  unknown_participant.participant = 999;
  unknown_participant.self_trade = SelfTradePrevention::cancel_both;
  const std::vector<Case> cases = {
      {"market order with DAY", b,
       PlaceOrder{"CEA2024", Side::buy, OrderType::market, TimeInForce::day, TradingMode::listed, Price{0}, Qty{1}, ""},
       ErrorCode::invalid_argument, "IOC or FOK"},
      {"market order with a price", b,
       PlaceOrder{"CEA2024", Side::buy, OrderType::market, TimeInForce::ioc, TradingMode::listed, Price{5'000}, Qty{1}, ""},
       ErrorCode::invalid_argument, "no price"},
      {"amend without order id", s, AmendOrder{0, Price{5'100}, Qty{0}}, ErrorCode::invalid_argument, "order_id"},
      {"amend changing nothing", s, AmendOrder{resting, Price{0}, Qty{0}}, ErrorCode::invalid_argument, "nothing to change"},
      {"amend with a negative price", s, AmendOrder{resting, Price{-1}, Qty{0}}, ErrorCode::invalid_argument, "negative"},
      {"amend of another's order", b, AmendOrder{resting, Price{5'100}, Qty{0}}, ErrorCode::permission_denied, "belongs to another participant"},
      {"amend by an operator", op, AmendOrder{resting, Price{5'100}, Qty{0}}, ErrorCode::permission_denied, "traders"},
      {"amend outside the band", s, AmendOrder{resting, Price{5'600}, Qty{0}}, ErrorCode::failed_precondition,
       "price band"},
      {"cancel all of an unknown instrument", s, CancelAllOrders{"CEA1999", std::nullopt}, ErrorCode::not_found,
       "unknown instrument"},
      {"cancel all by an operator", op, CancelAllOrders{"", std::nullopt}, ErrorCode::permission_denied, "traders"},
      {"block offer of an unknown instrument", s,
       OfferBlockTrade{"CEA1999", Side::sell, Price{5'000}, Qty{100'000}, 0, ""}, ErrorCode::not_found,
       "unknown instrument"},
      {"block offer to an unknown counterparty", s,
       OfferBlockTrade{"CEA2024", Side::sell, Price{5'000}, Qty{100'000}, 999, ""}, ErrorCode::not_found,
       "counterparty participant 999"},
      {"block offer with no price", s, OfferBlockTrade{"CEA2024", Side::sell, Price{0}, Qty{100'000}, 0, ""},
       ErrorCode::invalid_argument, "price_fen"},
      {"block offer in the morning", s, OfferBlockTrade{"CEA2024", Side::sell, Price{5'000}, Qty{100'000}, 0, ""},
       ErrorCode::failed_precondition, "trading hours"},
      {"accept of no offer", b, AcceptBlockTrade{resting, Price{5'200}, Qty{10}, ""}, ErrorCode::not_found,
       "block offer"},
      {"accept without terms", b, AcceptBlockTrade{resting, Price{0}, Qty{0}, ""}, ErrorCode::invalid_argument,
       "expected_price_fen"},
      {"controls of an unknown participant", op, unknown_participant, ErrorCode::not_found, "participant 999"},
      {"suspension without a reason", op, suspend_without_reason, ErrorCode::invalid_argument, "reason"},
      {"controls by a trader", b, unknown_participant, ErrorCode::permission_denied, "operators"},
      {"halt without a reason", op, HaltTrading{"CEA2024", ""}, ErrorCode::invalid_argument, "reason"},
      {"halt of an unknown instrument", op, HaltTrading{"CEA1999", "x"}, ErrorCode::not_found, "unknown instrument"},
      {"halt by a trader", b, HaltTrading{"CEA2024", "x"}, ErrorCode::permission_denied, "operators"},
      {"resume of an unknown instrument", op, ResumeTrading{"CEA1999"}, ErrorCode::not_found, "unknown instrument"},
      {"resume by a regulator", Principal{Role::regulator, 0, "reg"}, ResumeTrading{""}, ErrorCode::permission_denied,
       "operators"},
      {"reference of zero", op, SetReferencePrice{"CEA2024", Price{0}, "x"}, ErrorCode::invalid_argument, "price_fen"},
      {"reference without a reason", op, SetReferencePrice{"CEA2024", Price{5'000}, ""}, ErrorCode::invalid_argument,
       "reason"},
      {"reference of an unknown instrument", op, SetReferencePrice{"CEA1999", Price{5'000}, "x"},
       ErrorCode::not_found, "unknown instrument"},
      {"reference off the tick", op, SetReferencePrice{"CEA2023", Price{5'001}, "x"}, ErrorCode::failed_precondition,
       "tick rule"},
      {"reference whose band the book cannot hold", op, SetReferencePrice{"CEA2024", Price{1'000'000'000'000}, "x"},
       ErrorCode::invalid_argument, "spans 200000000001 price levels of 1 fen, more than the 2000000"},
      {"calendar of year 1999", op, SetTradingCalendar{1999, {}}, ErrorCode::invalid_argument, "2000 to 2200"},
      {"calendar with a malformed day", op, SetTradingCalendar{2026, {"2026-13-01"}}, ErrorCode::invalid_argument,
       "not a date"},
      {"calendar with a day of another year", op, SetTradingCalendar{2026, {"2027-01-01"}},
       ErrorCode::invalid_argument, "not in 2026"},
      {"calendar with a day twice", op, SetTradingCalendar{2026, {"2026-12-31", "2026-12-31"}},
       ErrorCode::invalid_argument, "listed twice"},
      {"calendar changing the day in progress", op, SetTradingCalendar{2025, {"2025-11-24"}},
       ErrorCode::failed_precondition, "on or before the trading day in progress"},
      {"calendar by a trader", b, SetTradingCalendar{2026, {}}, ErrorCode::permission_denied, "operators"},
      {"end of day of a malformed date", op, RunEndOfDay{"24/11/2025"}, ErrorCode::invalid_argument, "YYYY-MM-DD"},
      {"end of day without a date", op, RunEndOfDay{""}, ErrorCode::invalid_argument,
       "trading_date is required: the trading day to close"},
      {"end of day of a later date", op, RunEndOfDay{"2025-11-25"}, ErrorCode::failed_precondition,
       "trading day in progress is 2025-11-24"},
      {"end of day during the session", op, RunEndOfDay{"2025-11-24"}, ErrorCode::failed_precondition,
       "end at 15:00"},
      {"end of day of an earlier date never closed", op, RunEndOfDay{"2025-11-22"}, ErrorCode::failed_precondition,
       "2025-11-22 is not a trading day that was closed; the trading day in progress is 2025-11-24"},
      {"end of day by a trader", b, RunEndOfDay{"2025-11-24"}, ErrorCode::permission_denied, "operators"},
      // The engine checks the role itself too, whatever path a command comes by.
      {"deposit by a trader", b, MoveCash{b.participant, Cash{100}, "mine", false}, ErrorCode::permission_denied,
       "deposits and withdrawals are for operators"},
      {"issuance by an operator", op, IssueAllowances{"CEA2024", 1, Qty{10}, "extra"}, ErrorCode::permission_denied,
       "IssueAllowances is for the registry authority"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const InstrumentState before = *exchange.instrument_state("CEA2024");
    const MarketState market = exchange.market_state();
    expect_rejected(c.who, c.body, c.code, c.rule);
    const InstrumentState after = *exchange.instrument_state("CEA2024");
    EXPECT_EQ(after.reference, before.reference);
    EXPECT_EQ(after.halted, before.halted);
    EXPECT_EQ(exchange.market_state().trading_date, market.trading_date);
    EXPECT_EQ(exchange.market_state().halted, market.halted);
  }
}

// A fresh exchange's trading date is opened by its first command, which journals it; a query before it answers
// with the date a command would open then, and fixes nothing (a restart between would change what follows).
TEST(ExchangeFirstDateTest, AQueryBeforeTheFirstCommandDoesNotFixTheTradingDate) {
  constexpr UnixNanos kFridayEvening = 1'764'331'200'000'000'000;  // 2025-11-28 20:00 Asia/Shanghai
  constexpr UnixNanos kMonday1000 = 1'764'554'400'000'000'000;     // 2025-12-01 10:00 Asia/Shanghai
  Exchange exchange(test_config());
  const Outcome listed = exchange.execute(Command{Principal{Role::auditor, 0, "audit"}, ListInstruments{}},
                                          kFridayEvening);
  ASSERT_TRUE(listed.reply.status.is_ok());
  ASSERT_TRUE(listed.reply.market.has_value());
  EXPECT_EQ(listed.reply.market->trading_date, "2025-11-28") << "the date a command would open on Friday";
  EXPECT_TRUE(listed.events.empty());
  EXPECT_EQ(exchange.market_state().trading_date, "") << "nothing fixed by a query";
  const Outcome first = exchange.execute(
      Command{Principal{Role::operator_, 0, "ops"},
              CreateParticipant{"KEU-1", "KEU 1", ParticipantType::key_emitting_unit, registry::Hash{}}},
      kMonday1000);
  ASSERT_TRUE(first.reply.status.is_ok()) << first.reply.status.message();
  EXPECT_EQ(exchange.market_state().trading_date, "2025-12-01");
  bool journaled = false;
  for (const Event& event : first.events) {
    if (const auto* e = std::get_if<MarketStateChanged>(&event)) journaled = e->state.trading_date == "2025-12-01";
  }
  EXPECT_TRUE(journaled) << "the first command journals the date it opened";
}

TEST_F(ExchangeTest, QueriesOfTheMarketRefuseMalformedOrUnknownInput) {
  EXPECT_EQ(run(trader(buyer), GetTradingCalendar{1999}).reply.status.code(), ErrorCode::invalid_argument);
  EXPECT_EQ(run(trader(buyer), GetDailyBars{"CEA1999", "", ""}).reply.status.code(), ErrorCode::not_found);
  EXPECT_EQ(run(trader(buyer), GetDailyBars{"CEA2024", "2025/11/01", ""}).reply.status.code(),
            ErrorCode::invalid_argument);
  EXPECT_EQ(run(trader(buyer), GetDailyBars{"CEA2024", "2025-11-02", "2025-11-01"}).reply.status.code(),
            ErrorCode::invalid_argument);
  EXPECT_TRUE(run(trader(buyer), GetDailyBars{"CEA2024", "2025-11-01", "2025-11-01"}).reply.status.is_ok());
  EXPECT_EQ(run(trader(buyer), ListBlockOffers{"CEA1999", std::nullopt}).reply.status.code(), ErrorCode::not_found);
  const Outcome instruments = run(trader(buyer), ListInstruments{});
  ASSERT_TRUE(instruments.reply.status.is_ok());
  EXPECT_EQ(instruments.reply.instruments.size(), test_config().instruments.size());
  ASSERT_TRUE(instruments.reply.market.has_value());
  EXPECT_EQ(instruments.reply.market->trading_date, "2025-11-24");
}

TEST(ExchangeConfigTest, AMalformedConfiguredHolidayStopsTheStart) {
  Config config = default_config();
  config.holidays = {"2026-02-30"};
  EXPECT_THROW(Exchange{config}, std::runtime_error);
}

}  // namespace
}  // namespace carbon::engine
