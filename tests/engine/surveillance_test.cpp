// Surveillance alerts (engine/surveillance.cpp, [surveillance]): the end of day's order-to-trade ratio,
// concentration, marking the close and large holder, and a block trade's price deviation when it is made; each
// raised at its level with the figures and participants named, not raised below it, nor when turned off (0).
#include <gtest/gtest.h>

#include <memory>

#include "engine/exchange.h"

namespace carbon::engine {
namespace {

constexpr UnixNanos kMinute = 60'000'000'000;
constexpr UnixNanos kDay = 24 * 60 * kMinute;
constexpr UnixNanos kMonday1030 = 1'763'951'400'000'000'000;  // 2025-11-24 10:30 Asia/Shanghai
constexpr UnixNanos kMonday1300 = kMonday1030 + 150 * kMinute;
constexpr UnixNanos kMonday1445 = kMonday1030 + 255 * kMinute;
constexpr UnixNanos kMonday1530 = kMonday1030 + 300 * kMinute;

const Principal kOperator{Role::operator_, 0, "ops"};
const Principal kRegistry{Role::registry_authority, 0, "registry"};

/// Every check off: each test turns on the one it looks at.
Config quiet_config() {
  Config config = default_config();
  for (auto& instrument : config.instruments) {
    instrument.reference_price = Price{5'000};
    instrument.block_min_quantity = Qty{1};
    instrument.gtc_enabled = true;
  }
  config.surveillance = SurveillanceConfig{0, 0, 0, 0, 0, 0, 0, 0, 0};
  return config;
}

/// Concentration only: the top 2 at 80%, from `min_volume` tonnes a day.
Config concentration_config(std::int64_t min_volume) {
  Config config = quiet_config();
  config.surveillance.concentration_min_volume = min_volume;
  config.surveillance.concentration_top = 2;
  config.surveillance.concentration_share_bps = 8'000;
  return config;
}

/// Marking the close only: 300 bps, the last 30 minutes.
Config marking_config() {
  Config config = quiet_config();
  config.surveillance.marking_close_window_minutes = 30;
  config.surveillance.marking_close_move_bps = 300;
  return config;
}

class SurveillanceTest : public ::testing::Test {
 protected:
  void open(const Config& config) {
    exchange = std::make_unique<Exchange>(config);
    ASSERT_TRUE(run(kRegistry, SetCap{2024, "power", Qty{1'000'000'000}, 0, "test cap"}).reply.status.is_ok());
    for (const char* code : {"A", "B", "C", "D"}) {
      registry::Hash token{};
      token[0] = static_cast<std::uint8_t>(code[0]);
      Outcome out = run(kOperator, CreateParticipant{code, code, ParticipantType::institution, token});
      ASSERT_TRUE(out.reply.status.is_ok()) << out.reply.status.message();
      const ParticipantRecord p = out.reply.participants.at(0);
      ASSERT_TRUE(run(kOperator, MoveCash{p.cash_account, Cash{1'000'000'000}, std::string("d-") + code, false})
                      .reply.status.is_ok());
      ASSERT_TRUE(run(kRegistry, IssueAllowances{"CEA2024", p.holding_account, Qty{100'000}, std::string("i-") + code})
                      .reply.status.is_ok());
      participants.push_back(p);
    }
  }

  Outcome run(const Principal& who, CommandBody body) {
    now += 1'000'000;
    return exchange->execute(Command{who, std::move(body)}, now);
  }

  const ParticipantRecord& p(char code) const { return participants.at(static_cast<std::size_t>(code - 'A')); }
  static Principal trader(const ParticipantRecord& p) { return Principal{Role::trader, p.id, p.code}; }

  Outcome place(char who, Side side, std::int64_t price, std::int64_t qty, TimeInForce tif = TimeInForce::day) {
    PlaceOrder order;
    order.instrument = "CEA2024";
    order.side = side;
    order.price = Price{price};
    order.quantity = Qty{qty};
    order.time_in_force = tif;
    Outcome out = run(trader(p(who)), order);
    EXPECT_TRUE(out.reply.status.is_ok()) << out.reply.status.message();
    return out;
  }

  /// `seller` rests a sell that `buyer` takes whole (the buyer takes liquidity): one trade.
  void trade(char seller, char buyer, std::int64_t price, std::int64_t qty) {
    place(seller, Side::sell, price, qty);
    EXPECT_EQ(place(buyer, Side::buy, price, qty).reply.trades.size(), 1u);
  }

  /// Runs the end of day at 15:30 of Monday 2025-11-24 (or of Tuesday) and returns the alerts it raised.
  std::vector<AlertRecord> end_of_day(bool tuesday = false) {
    now = kMonday1530 + (tuesday ? kDay : 0);
    const Outcome eod = run(kOperator, RunEndOfDay{tuesday ? "2025-11-25" : "2025-11-24"});
    EXPECT_TRUE(eod.reply.status.is_ok()) << eod.reply.status.message();
    std::vector<AlertRecord> out;
    for (const Event& event : eod.events) {
      if (const auto* e = std::get_if<AlertRaised>(&event)) out.push_back(e->alert);
    }
    return out;
  }

  std::unique_ptr<Exchange> exchange;
  std::vector<ParticipantRecord> participants;
  UnixNanos now = kMonday1030;
};

TEST_F(SurveillanceTest, OrderToTradeRatioAtOrAboveItsLevelFromEnoughOrders) {
  Config config = quiet_config();
  config.surveillance.order_to_trade_min_orders = 5;
  config.surveillance.order_to_trade_max_ratio = 3;
  open(config);
  // A: 6 orders, 1 trade (6 per trade). B: 6 orders, 2 trades (3 per trade: at the level). C: 4 orders, none
  // traded (below the 5 orders checked). D: the counterparty, 3 orders for 3 trades. A's resting ones are GTC.
  for (int k = 0; k < 5; ++k) place('A', Side::buy, 4'800 - k, 1, TimeInForce::gtc);
  for (int k = 0; k < 4; ++k) place('B', Side::buy, 4'700 - k, 1);
  for (int k = 0; k < 4; ++k) place('C', Side::buy, 4'600 - k, 1);
  place('A', Side::buy, 5'000, 10);
  place('B', Side::buy, 5'000, 10);
  place('B', Side::buy, 5'000, 10);
  for (int k = 0; k < 3; ++k) EXPECT_EQ(place('D', Side::sell, 5'000, 10).reply.trades.size(), 1u);
  const std::vector<AlertRecord> alerts = end_of_day();
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_EQ(alerts[0].type, AlertRecord::kOrderToTradeRatio);
  EXPECT_EQ(alerts[0].severity, AlertRecord::kSeverityMedium);
  EXPECT_EQ(alerts[0].instrument, "CEA2024");
  EXPECT_EQ(alerts[0].participants, std::vector<ParticipantId>{p('A').id});
  EXPECT_EQ(alerts[0].metric_value, 6);
  EXPECT_EQ(alerts[0].threshold_value, 3);
  EXPECT_EQ(alerts[0].metric_unit, "orders per trade");
  EXPECT_EQ(alerts[0].description,
            "A entered 6 listed orders in CEA2024 on 2025-11-24 and took part in 1 trade: 6 orders per trade, at or "
            "above 3 (checked from 5 orders a day)");
  EXPECT_EQ(alerts[1].participants, std::vector<ParticipantId>{p('B').id});
  EXPECT_EQ(alerts[1].metric_value, 3);
  EXPECT_GT(alerts[1].id, alerts[0].id);
  EXPECT_GT(alerts[0].sequence, 0u);
  // The day closed again: its stored result, no alert raised again.
  const Outcome again = run(kOperator, RunEndOfDay{"2025-11-24"});
  ASSERT_TRUE(again.reply.status.is_ok()) << again.reply.status.message();
  EXPECT_TRUE(again.events.empty());
  // The next day starts the count again: A's five GTC orders still rest, but they were entered yesterday.
  now = kMonday1030 + kDay;
  place('A', Side::buy, 4'800, 1);
  EXPECT_TRUE(end_of_day(/*tuesday=*/true).empty());
}

TEST_F(SurveillanceTest, ConcentrationOfTheListedVolumeInAFewParticipants) {
  open(concentration_config(70));
  // A sells B 60 t, C sells D 10 t: A and B were on one side or the other of 120 of the 140 t (85.71%).
  trade('A', 'B', 5'000, 60);
  trade('C', 'D', 5'000, 10);
  // A block trade between C and D does not count (block trades have two parties by nature).
  now = kMonday1300;
  const Outcome offer = run(trader(p('C')), OfferBlockTrade{"CEA2024", Side::sell, Price{5'000}, Qty{500}, 0, "o"});
  ASSERT_TRUE(offer.reply.status.is_ok()) << offer.reply.status.message();
  ASSERT_TRUE(run(trader(p('D')), AcceptBlockTrade{offer.reply.orders.at(0).id, Price{5'000}, Qty{500}, "a"})
                  .reply.status.is_ok());
  const std::vector<AlertRecord> alerts = end_of_day();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].type, AlertRecord::kConcentration);
  EXPECT_EQ(alerts[0].participants, (std::vector<ParticipantId>{p('A').id, p('B').id}));
  EXPECT_EQ(alerts[0].metric_value, 8'571);
  EXPECT_EQ(alerts[0].threshold_value, 8'000);
  EXPECT_EQ(alerts[0].metric_unit, "bps");
  EXPECT_EQ(alerts[0].description,
            "2 of the 4 participants that traded CEA2024 on the listed market on 2025-11-24 (A, B) were on one side "
            "or the other of 85.71% of its 70 t (bought plus sold over twice the volume), at or above 80.00%");
}

TEST_F(SurveillanceTest, ConcentrationIsNotLookedForOnAThinDayOrBelowTheShare) {
  open(concentration_config(100));
  trade('A', 'B', 5'000, 60);  // 60 t: below the 100 t looked at
  EXPECT_TRUE(end_of_day().empty());

  now = kMonday1030 + kDay;  // Tuesday: four participants with 50 t each, the top two half of it
  trade('A', 'B', 5'000, 50);
  trade('C', 'D', 5'000, 50);
  EXPECT_TRUE(end_of_day(/*tuesday=*/true).empty());
}

TEST_F(SurveillanceTest, MarkingTheCloseNamesTheBuyersThatPushedItUp) {
  open(marking_config());
  trade('A', 'B', 5'000, 100);  // before 14:30: 100 t at 5,000
  now = kMonday1445;  // in the last 30 minutes: C takes 300 t at 5,200 from A's offer
  trade('A', 'C', 5'200, 300);
  // The close is the day's VWAP: (500,000 + 1,560,000) / 400 = 5,150, 3.00% above the 5,000 before 14:30.
  const std::vector<AlertRecord> alerts = end_of_day();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].type, AlertRecord::kMarkingTheClose);
  EXPECT_EQ(alerts[0].participants, std::vector<ParticipantId>{p('C').id});
  EXPECT_EQ(alerts[0].metric_value, 300);
  EXPECT_EQ(alerts[0].threshold_value, 300);
  EXPECT_EQ(alerts[0].window_end - alerts[0].window_start, 30 * kMinute);
  EXPECT_EQ(alerts[0].window_end, kMonday1530 - 30 * kMinute);  // 15:00, the afternoon session's end
  EXPECT_EQ(alerts[0].description,
            "CEA2024 closed on 2025-11-24 at 5150 fen, 3.00% above its listed VWAP before 14:30 (5000 fen), at or "
            "beyond 3.00%; the largest buyers taking liquidity in the last 30 minutes: C 300 t");
}

TEST_F(SurveillanceTest, MarkingTheCloseNeedsTheMoveAndSomeoneTakingLiquidityInItsDirection) {
  open(marking_config());
  trade('A', 'B', 5'000, 100);
  now = kMonday1445;  // 100 t at 5,200 late: the close, 5,100, is 2.00% above
  trade('A', 'C', 5'200, 100);
  EXPECT_TRUE(end_of_day().empty());

  // Tuesday: the close 3.00% above the earlier VWAP again, but late sellers hit C's resting bid: nobody took
  // liquidity upwards.
  now = kMonday1030 + kDay;
  trade('A', 'B', 5'000, 100);
  now = kMonday1445 + kDay;
  place('C', Side::buy, 5'200, 300);
  EXPECT_EQ(place('A', Side::sell, 5'200, 300).reply.trades.size(), 1u);
  EXPECT_TRUE(end_of_day(/*tuesday=*/true).empty());
}

TEST_F(SurveillanceTest, ABlockTradeFarFromItsBandsCentreIsAlertedWhenMade) {
  Config config = quiet_config();
  config.surveillance.block_deviation_bps = 1'000;
  open(config);
  now = kMonday1300;
  auto block = [&](char seller, char buyer, std::int64_t price, const std::string& key) {
    const Outcome offer =
        run(trader(p(seller)), OfferBlockTrade{"CEA2024", Side::sell, Price{price}, Qty{1'000}, 0, key + "-o"});
    EXPECT_TRUE(offer.reply.status.is_ok()) << offer.reply.status.message();
    Outcome accepted =
        run(trader(p(buyer)), AcceptBlockTrade{offer.reply.orders.at(0).id, Price{price}, Qty{1'000}, key + "-a"});
    EXPECT_TRUE(accepted.reply.status.is_ok()) << accepted.reply.status.message();
    return accepted;
  };
  auto alerts_of = [](const Outcome& out) {
    std::vector<AlertRecord> found;
    for (const Event& event : out.events) {
      if (const auto* e = std::get_if<AlertRaised>(&event)) found.push_back(e->alert);
    }
    return found;
  };
  const Outcome far = block('A', 'B', 5'600, "far");  // 12.00% above the 5,000 reference
  std::vector<AlertRecord> alerts = alerts_of(far);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].type, AlertRecord::kBlockPriceDeviation);
  EXPECT_EQ(alerts[0].severity, AlertRecord::kSeverityMedium);
  EXPECT_EQ(alerts[0].participants, (std::vector<ParticipantId>{p('B').id, p('A').id}));
  EXPECT_EQ(alerts[0].metric_value, 1'200);
  EXPECT_EQ(alerts[0].threshold_value, 1'000);
  EXPECT_EQ(alerts[0].sequence, far.sequence);
  EXPECT_EQ(alerts[0].description, "block trade " + std::to_string(far.reply.trades.at(0).id) +
                                       " of 1000 t CEA2024, A to B at 5600 fen: 12.00% above the reference price "
                                       "of 5000 fen (the centre of its band), at or beyond 10.00%");
  EXPECT_TRUE(alerts_of(block('C', 'D', 5'400, "near")).empty());  // 8.00%: below the level
  // An operator moves the reference (the centre of the block band) to 4,800: 4,350 is 9.37% below it, though
  // 13.00% below the old 5,000; 5,300 is 10.41% above it.
  ASSERT_TRUE(run(kOperator, SetReferencePrice{"CEA2024", Price{4'800}, "correction"}).reply.status.is_ok());
  EXPECT_TRUE(alerts_of(block('C', 'D', 4'350, "moved-low")).empty());
  alerts = alerts_of(block('C', 'D', 5'300, "moved-high"));
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].metric_value, 1'041);
  EXPECT_NE(alerts[0].description.find("10.41% above the reference price of 4800 fen"), std::string::npos)
      << alerts[0].description;
  EXPECT_TRUE(end_of_day().empty()) << "block trades are alerted when made, not again at the end of day";
}

TEST_F(SurveillanceTest, AHoldingThatCrossesTheLargeHolderLevelOnce) {
  Config config = quiet_config();
  config.surveillance.large_holder_tonnes = 150'000;
  open(config);
  // A (100,000 t) buys 60,000 t from B: 160,000 t at the end of the day, T+1 units included.
  trade('B', 'A', 5'000, 60'000);
  const std::vector<AlertRecord> alerts = end_of_day();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].type, AlertRecord::kLargeHolder);
  EXPECT_EQ(alerts[0].severity, AlertRecord::kSeverityLow);
  EXPECT_EQ(alerts[0].instrument, "CEA2024");
  EXPECT_EQ(alerts[0].participants, std::vector<ParticipantId>{p('A').id});
  EXPECT_EQ(alerts[0].metric_value, 160'000);
  EXPECT_EQ(alerts[0].threshold_value, 150'000);
  EXPECT_EQ(alerts[0].description,
            "A holds 160000 t of CEA2024 at the end of 2025-11-24 (0 t at its start: bought 60000 t, sold 0 t, "
            "received 100000 t, delivered 0 t), at or above the large-holder level of 150000 t");
  // Still above the next day: no alert again (it opened above).
  now = kMonday1030 + kDay;
  trade('B', 'A', 5'000, 1'000);
  EXPECT_TRUE(end_of_day(/*tuesday=*/true).empty());
}

TEST_F(SurveillanceTest, TheDefaultLevelsLeaveAnOrdinaryDayQuietAndAreLive) {
  Config config = quiet_config();
  config.surveillance = SurveillanceConfig{};
  open(config);
  trade('A', 'B', 5'000, 100);
  now = kMonday1445;
  trade('A', 'C', 5'050, 100);
  // A block trade at 6,000, 20.00% above the reference: the default level of 2,000 bps.
  const Outcome offer = run(trader(p('D')), OfferBlockTrade{"CEA2024", Side::sell, Price{6'000}, Qty{10}, 0, "o"});
  ASSERT_TRUE(offer.reply.status.is_ok()) << offer.reply.status.message();
  const Outcome accepted =
      run(trader(p('C')), AcceptBlockTrade{offer.reply.orders.at(0).id, Price{6'000}, Qty{10}, "a"});
  ASSERT_TRUE(accepted.reply.status.is_ok()) << accepted.reply.status.message();
  int raised = 0;
  for (const Event& event : accepted.events) raised += std::holds_alternative<AlertRaised>(event);
  EXPECT_EQ(raised, 1);
  EXPECT_TRUE(end_of_day().empty());
}

}  // namespace
}  // namespace carbon::engine
