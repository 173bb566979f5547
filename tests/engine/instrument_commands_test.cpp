// Instruments defined at run time, as the engine runs them: CreateInstrument and
// UpdateInstrumentRules with every refusal (exact code, the rule named, a
// journaled rejection, nothing changed), the new rules applied to new orders,
// a restored exchange that keeps them, and GetAccountBalances.
#include <gtest/gtest.h>

#include <map>

#include "engine/exchange.h"

namespace carbon::engine {
namespace {

constexpr UnixNanos kStart = 1'763'951'400'000'000'000;  // Monday 2025-11-24 10:30, Asia/Shanghai

ModeRulesInput listed_rules(std::int64_t band_bps, std::int64_t max = 0) {
  ModeRulesInput m;
  m.mode = static_cast<int>(TradingMode::listed);
  m.enabled = true;
  m.band_bps = band_bps;
  m.max_quantity = max;
  return m;
}

ModeRulesInput block_rules(std::int64_t band_bps) {
  ModeRulesInput m;
  m.mode = static_cast<int>(TradingMode::block);
  m.enabled = true;
  m.min_quantity = 100'000;
  m.band_bps = band_bps;
  return m;
}

CreateInstrument cea(const std::string& code, int vintage, std::int64_t reference = 0) {
  CreateInstrument c;
  c.code = code;
  c.market = static_cast<int>(Market::compliance);
  c.vintage_year = vintage;
  c.tick_fen = 1;
  c.lot = 1;
  c.reference_price_fen = reference;
  return c;
}

class InstrumentCommandsTest : public ::testing::Test {
 protected:
  Outcome run(Exchange& x, const Principal& who, CommandBody body) {
    now += 1'000'000;
    Outcome outcome = x.execute(Command{who, std::move(body)}, now);
    for (const Event& event : outcome.events) record(event);
    if (outcome.sequence != 0) state.last_sequence = outcome.sequence;
    return outcome;
  }
  Outcome run(const Principal& who, CommandBody body) { return run(exchange, who, std::move(body)); }

  /// Keeps what the journal writer would store, for restore().
  void record(const Event& event) {
    if (auto* e = std::get_if<ParticipantCreated>(&event)) state.participants.push_back(e->participant);
    if (auto* e = std::get_if<CashChanged>(&event)) cash[e->cash.account] = e->cash;
    if (auto* e = std::get_if<OrderChanged>(&event)) orders[e->order.id] = e->order;
    if (auto* e = std::get_if<InstrumentStateChanged>(&event)) states[e->state.instrument] = e->state;
    if (auto* e = std::get_if<InstrumentDefined>(&event)) definitions[e->config.code] = e->config;
    if (auto* e = std::get_if<MarketStateChanged>(&event)) state.market = e->state;
  }

  RecoveredState recovered() {
    RecoveredState out = state;
    for (const auto& [id, c] : cash) out.cash.push_back(c);
    for (const auto& [id, o] : orders) out.orders.push_back(o);
    for (const auto& [code, s] : states) out.instrument_states.push_back(s);
    for (const auto& [code, d] : definitions) out.instrument_definitions.push_back(d);
    return out;
  }

  void expect_refused(const Principal& who, CommandBody body, ErrorCode code, const std::string& rule) {
    const std::size_t before = instruments().size();
    const Outcome outcome = run(who, std::move(body));
    EXPECT_EQ(outcome.reply.status.code(), code) << outcome.reply.status.message();
    EXPECT_NE(outcome.reply.status.message().find(rule), std::string::npos)
        << "expected \"" << rule << "\" in: " << outcome.reply.status.message();
    ASSERT_EQ(outcome.events.size(), 1u);
    EXPECT_TRUE(std::holds_alternative<CommandRejected>(outcome.events[0]));
    EXPECT_EQ(instruments().size(), before);
  }

  std::map<std::string, InstrumentConfig> instruments(Exchange& x) {
    std::map<std::string, InstrumentConfig> out;
    const Outcome listed = run(x, op, ListInstruments{});
    EXPECT_EQ(listed.reply.instruments.size(), listed.reply.instrument_rules.size());
    for (const InstrumentConfig& c : listed.reply.instrument_rules) out[c.code] = c;
    return out;
  }
  std::map<std::string, InstrumentConfig> instruments() { return instruments(exchange); }

  ParticipantRecord participant(const std::string& code, ParticipantType type, std::int64_t cash_fen) {
    registry::Hash hash{};
    hash[0] = static_cast<std::uint8_t>(++participants);
    const Outcome created = run(op, CreateParticipant{code, code, type, hash});
    EXPECT_TRUE(created.reply.status.is_ok()) << created.reply.status.message();
    const ParticipantRecord p = created.reply.participants.at(0);
    if (cash_fen > 0) {
      EXPECT_TRUE(run(op, MoveCash{p.cash_account, Cash{cash_fen}, code + "-funding", false}).reply.status.is_ok());
    }
    return p;
  }

  static Principal trader(const ParticipantRecord& p) { return Principal{Role::trader, p.id, p.code}; }

  static PlaceOrder buy(const std::string& instrument, std::int64_t price, std::int64_t quantity,
                        TimeInForce tif = TimeInForce::day) {
    return PlaceOrder{instrument, Side::buy, OrderType::limit, tif, TradingMode::listed, Price{price},
                      Qty{quantity}, ""};
  }

  Config config = default_config();
  Exchange exchange{config};
  UnixNanos now = kStart;
  RecoveredState state;
  std::map<AccountId, CashRecord> cash;
  std::map<OrderId, OrderRecord> orders;
  std::map<std::string, InstrumentState> states;
  std::map<std::string, InstrumentConfig> definitions;
  int participants = 0;
  Principal op{Role::operator_, 0, "ops"};
};

TEST_F(InstrumentCommandsTest, CreateRefusesEachBadRequestAndChangesNothing) {
  const ParticipantRecord bank = participant("BANK", ParticipantType::institution, 0);
  expect_refused(trader(bank), cea("CEA2026", 2026), ErrorCode::permission_denied, "for operators");
  expect_refused(Principal{Role::regulator, 0, "reg"}, cea("CEA2026", 2026), ErrorCode::permission_denied,
                 "for operators");
  expect_refused(op, cea("", 2026), ErrorCode::invalid_argument, "instrument code: 1 to 16 characters");
  expect_refused(op, cea("CEA2026-LONG-CODE1", 2026), ErrorCode::invalid_argument, "1 to 16 characters");
  expect_refused(op, cea("cea2026", 2026), ErrorCode::invalid_argument, "A-Z, 0-9 and '-'");
  CreateInstrument no_market = cea("CEA2026", 2026);
  no_market.market = 0;
  expect_refused(op, no_market, ErrorCode::invalid_argument, "market: give COMPLIANCE or VOLUNTARY");
  no_market.market = 7;
  expect_refused(op, no_market, ErrorCode::invalid_argument, "unknown market 7");
  expect_refused(op, cea("CEA2026", 2025), ErrorCode::invalid_argument, "vintage_year 2025 differs");
  expect_refused(op, cea("FUTURE", 2026), ErrorCode::invalid_argument, "names its vintage");
  CreateInstrument voluntary = cea("VER", 2026);
  voluntary.market = static_cast<int>(Market::voluntary);
  expect_refused(op, voluntary, ErrorCode::invalid_argument, "vintage_year must be 0 for a voluntary");
  CreateInstrument bad = cea("CEA2026", 2026);
  bad.tick_fen = 0;
  expect_refused(op, bad, ErrorCode::invalid_argument, "tick_fen must be positive");
  bad = cea("CEA2026", 2026);
  bad.lot = -1;
  expect_refused(op, bad, ErrorCode::invalid_argument, "lot must be positive");
  bad = cea("CEA2026", 2026, -5);
  expect_refused(op, bad, ErrorCode::invalid_argument, "reference_price_fen must not be negative");

  bad = cea("CEA2026", 2026);
  bad.rules.mode_rules = {listed_rules(1'000)};
  bad.rules.mode_rules[0].mode = 0;
  expect_refused(op, bad, ErrorCode::invalid_argument, "mode_rules: a mode is unspecified");
  bad.rules.mode_rules = {listed_rules(1'000), listed_rules(500)};
  expect_refused(op, bad, ErrorCode::invalid_argument, "mode_rules: LISTED is listed twice");
  bad.rules.mode_rules = {listed_rules(1'000)};
  bad.rules.mode_rules[0].mode = static_cast<int>(TradingMode::auction);
  expect_refused(op, bad, ErrorCode::invalid_argument,
                 "mode_rules AUCTION: only enabled and the fees apply to auctions");
  bad.rules.mode_rules[0].band_bps = 0;
  bad.rules.mode_rules[0].sessions = {{600, 660}};
  expect_refused(op, bad, ErrorCode::invalid_argument, "price_band_bps, sessions and max_order_quantity must be unset");
  bad.rules.mode_rules[0].sessions.clear();
  bad.rules.mode_rules[0].buy_fee_bps = 1'001;
  expect_refused(op, bad, ErrorCode::invalid_argument, "mode_rules AUCTION: fees must be at most 1000");
  bad.rules.mode_rules[0].mode = 9;
  expect_refused(op, bad, ErrorCode::invalid_argument, "unknown trading mode 9");
  bad.rules.mode_rules = {listed_rules(1'000)};
  bad.rules.mode_rules[0].min_quantity = -1;
  expect_refused(op, bad, ErrorCode::invalid_argument, "must not be negative");
  bad.rules.mode_rules = {listed_rules(1'000, 100)};
  bad.rules.mode_rules[0].min_quantity = 200;
  expect_refused(op, bad, ErrorCode::invalid_argument, "min_order_quantity 200 is above max_order_quantity 100");
  bad.rules.mode_rules = {listed_rules(-1)};
  expect_refused(op, bad, ErrorCode::invalid_argument, "price_band_bps must not be negative");
  bad.rules.mode_rules = {block_rules(10'000)};
  expect_refused(op, bad, ErrorCode::invalid_argument, "mode_rules BLOCK: price_band_bps must be 1 to 9999");
  bad.rules.mode_rules = {listed_rules(1'000)};
  bad.rules.mode_rules[0].sell_fee_bps = -3;
  expect_refused(op, bad, ErrorCode::invalid_argument, "fees must not be negative");
  bad.rules.mode_rules[0].sell_fee_bps = 1'001;
  expect_refused(op, bad, ErrorCode::invalid_argument, "fees must be at most 1000");
  bad.rules.mode_rules = {listed_rules(1'000)};
  bad.rules.mode_rules[0].sessions = {{600, 600}};
  expect_refused(op, bad, ErrorCode::invalid_argument, "a session needs start < end <= 1440");
  bad.rules.mode_rules[0].sessions = {{1'380, 1'441}};
  expect_refused(op, bad, ErrorCode::invalid_argument, "a session needs start < end <= 1440");
  bad.rules.mode_rules[0].sessions = {{780, 900}, {570, 790}};
  expect_refused(op, bad, ErrorCode::invalid_argument, "sessions 570-790 and 780-900 overlap");
  bad = cea("CEA2026", 2026);
  bad.rules.eligible = {0};
  expect_refused(op, bad, ErrorCode::invalid_argument, "eligible_participant_types: unspecified");
  bad.rules.eligible = {4};
  expect_refused(op, bad, ErrorCode::invalid_argument, "unknown type 4");
  bad = cea("CEA2026", 2026);
  bad.rules.position_limit = -1;
  expect_refused(op, bad, ErrorCode::invalid_argument, "position_limit must not be negative");

  expect_refused(op, cea("CEA2024", 2024), ErrorCode::failed_precondition, "instrument code CEA2024 is already in use");
  bad = cea("CEA2026", 2026, 10'005);
  bad.tick_fen = 10;
  expect_refused(op, bad, ErrorCode::failed_precondition,
                 "tick rule: reference price 10005 fen is not a multiple of the 10 fen tick of CEA2026");
  EXPECT_FALSE(instruments().contains("CEA2026"));
}

TEST_F(InstrumentCommandsTest, CreatedWithoutRulesTakesTheMarketDefaults) {
  Config custom = default_config();
  custom.compliance_defaults.position_limit = Qty{50'000};
  custom.compliance_defaults.listed_max_quantity = Qty{9'999};
  custom.fees.listed_buy_bps = 5;
  Exchange x{custom};
  const Outcome created = run(x, op, cea("CEA2026", 2026, 9'000));
  ASSERT_TRUE(created.reply.status.is_ok()) << created.reply.status.message();
  ASSERT_EQ(created.reply.instrument_rules.size(), 1u);
  const InstrumentConfig& c = created.reply.instrument_rules[0];
  EXPECT_EQ(c.code, "CEA2026");
  EXPECT_EQ(c.vintage_year, 2026);
  EXPECT_EQ(c.position_limit, Qty{50'000});
  EXPECT_EQ(c.listed_max_quantity, Qty{9'999});
  EXPECT_EQ(c.block_min_quantity, Qty{100'000});
  EXPECT_EQ(c.listed_band_bps, 1'000);
  EXPECT_EQ(c.block_band_bps, 3'000);
  EXPECT_EQ(c.fees.listed_buy_bps, 5);
  EXPECT_FALSE(c.gtc_enabled);
  EXPECT_TRUE(c.eligible.empty());
  EXPECT_EQ(c.listed_sessions, (std::vector<SessionMinutes>{{570, 690}, {780, 900}}));
  EXPECT_EQ(created.reply.instruments.at(0).reference, Price{9'000});
  // Journaled: the definition, then the instrument's state (then the market state: x's first command).
  ASSERT_EQ(created.events.size(), 3u);
  EXPECT_TRUE(std::holds_alternative<MarketStateChanged>(created.events[2]));
  EXPECT_TRUE(std::get<InstrumentDefined>(created.events[0]).created);
  EXPECT_EQ(std::get<InstrumentStateChanged>(created.events[1]).state.reference, Price{9'000});
  EXPECT_TRUE(instruments(x).contains("CEA2026"));
}

TEST_F(InstrumentCommandsTest, NewInstrumentTradesUnderItsRulesUpdatesAndSurvivesARestart) {
  const ParticipantRecord bank = participant("BANK", ParticipantType::institution, 100'000'000);
  const ParticipantRecord unit = participant("UNIT", ParticipantType::key_emitting_unit, 100'000'000);
  CreateInstrument create = cea("CEA2026", 2026);
  create.tick_fen = 5;
  create.lot = 10;
  create.rules.mode_rules = {listed_rules(500, 1'000), block_rules(2'000)};
  create.rules.mode_rules[0].buy_fee_bps = 100;  // 1%
  create.rules.gtc_enabled = true;
  create.rules.position_limit = 5'000;
  ASSERT_TRUE(run(op, create).reply.status.is_ok());

  // No reference price yet: refused; then the operator sets one.
  Outcome order = run(trader(bank), buy("CEA2026", 9'000, 100));
  EXPECT_EQ(order.reply.status.code(), ErrorCode::failed_precondition);
  EXPECT_NE(order.reply.status.message().find("no reference price yet"), std::string::npos);
  ASSERT_TRUE(run(op, SetReferencePrice{"CEA2026", Price{9'000}, "listing"}).reply.status.is_ok());

  // The instrument's own rules: tick 5, lot 10, listed at most 1,000 t, band ±5%, position limit 5,000 t.
  order = run(trader(bank), buy("CEA2026", 9'001, 100));
  EXPECT_NE(order.reply.status.message().find("5 fen tick of CEA2026"), std::string::npos);
  order = run(trader(bank), buy("CEA2026", 9'000, 105));
  EXPECT_NE(order.reply.status.message().find("10 t lot of CEA2026"), std::string::npos);
  order = run(trader(bank), buy("CEA2026", 9'000, 1'010));
  EXPECT_NE(order.reply.status.message().find("exceeds the listed maximum of 1000 t"), std::string::npos)
      << order.reply.status.message();
  order = run(trader(bank), buy("CEA2026", 9'500, 100));
  EXPECT_NE(order.reply.status.message().find("±5%"), std::string::npos) << order.reply.status.message();

  // A GTC buy rests; its reservation carries the instrument's 1% buyer fee: 100 × (9,000 + 90).
  order = run(trader(bank), buy("CEA2026", 9'000, 100, TimeInForce::gtc));
  ASSERT_TRUE(order.reply.status.is_ok()) << order.reply.status.message();
  const OrderId gtc = order.reply.orders.at(0).id;
  EXPECT_EQ(exchange.clearing().account(bank.cash_account).reserved, Cash{909'000});

  // Rules replaced as a whole: key emitting units only, listed at most 500 t, no GTC.
  UpdateInstrumentRules update{"CEA2026", {}};
  update.rules.mode_rules = {listed_rules(500, 500)};
  update.rules.eligible = {static_cast<int>(ParticipantType::key_emitting_unit)};
  update.rules.gtc_enabled = false;
  expect_refused(op, update, ErrorCode::failed_precondition,
                 "order validity: GTC cannot be disabled for CEA2026 while 1 GTC order(s) are open");
  ASSERT_TRUE(run(trader(bank), CancelOrder{gtc}).reply.status.is_ok());
  const Outcome updated = run(op, update);
  ASSERT_TRUE(updated.reply.status.is_ok()) << updated.reply.status.message();
  const InstrumentConfig& rules = updated.reply.instrument_rules.at(0);
  EXPECT_EQ(rules.tick, Price{5});  // identity kept
  EXPECT_EQ(rules.lot, Qty{10});
  EXPECT_EQ(rules.position_limit, Qty{1'000'000});  // not given: the default again
  EXPECT_EQ(rules.block_min_quantity, Qty{100'000});
  EXPECT_EQ(rules.fees.listed_buy_bps, 0);

  order = run(trader(bank), buy("CEA2026", 9'000, 100));
  EXPECT_EQ(order.reply.status.code(), ErrorCode::failed_precondition);
  EXPECT_NE(order.reply.status.message().find("eligibility: institutions may not trade CEA2026 (eligible: key "
                                              "emitting units)"),
            std::string::npos)
      << order.reply.status.message();
  order = run(trader(unit), buy("CEA2026", 9'000, 600));
  EXPECT_NE(order.reply.status.message().find("exceeds the listed maximum of 500 t"), std::string::npos);
  order = run(trader(unit), buy("CEA2026", 9'000, 100, TimeInForce::gtc));
  EXPECT_NE(order.reply.status.message().find("GTC orders are not enabled for CEA2026"), std::string::npos);
  order = run(trader(unit), buy("CEA2026", 9'000, 100));
  ASSERT_TRUE(order.reply.status.is_ok()) << order.reply.status.message();
  const OrderId resting = order.reply.orders.at(0).id;

  // A restored exchange has the instrument, its rules, its reference price and its book.
  Exchange restored{config};
  restored.restore(recovered());
  const std::map<std::string, InstrumentConfig> after = instruments(restored);
  ASSERT_TRUE(after.contains("CEA2026"));
  EXPECT_EQ(after.at("CEA2026").listed_max_quantity, Qty{500});
  EXPECT_EQ(after.at("CEA2026").eligible, std::vector<ParticipantType>{ParticipantType::key_emitting_unit});
  EXPECT_EQ(restored.instrument_state("CEA2026")->reference, Price{9'000});
  ASSERT_NE(restored.book("CEA2026"), nullptr);
  EXPECT_NE(restored.book("CEA2026")->find(resting), nullptr);
  order = run(restored, trader(bank), buy("CEA2026", 9'000, 100));
  EXPECT_NE(order.reply.status.message().find("eligibility: institutions may not trade CEA2026"), std::string::npos);
  order = run(restored, trader(unit), buy("CEA2026", 9'000, 600));
  EXPECT_NE(order.reply.status.message().find("exceeds the listed maximum of 500 t"), std::string::npos);
}

TEST_F(InstrumentCommandsTest, OwnSessionsAndDisabledModes) {
  const ParticipantRecord bank = participant("BANK", ParticipantType::institution, 100'000'000);
  CreateInstrument create = cea("CEA2026", 2026, 9'000);
  create.rules.mode_rules = {listed_rules(1'000)};
  create.rules.mode_rules[0].sessions = {{13 * 60, 14 * 60}};  // afternoons only; it is 10:30
  ASSERT_TRUE(run(op, create).reply.status.is_ok());
  Outcome order = run(trader(bank), buy("CEA2026", 9'000, 100));
  EXPECT_EQ(order.reply.status.code(), ErrorCode::failed_precondition);
  EXPECT_NE(order.reply.status.message().find("trading hours: listed trading is open 13:00-14:00"), std::string::npos)
      << order.reply.status.message();

  UpdateInstrumentRules update{"CEA2026", {}};
  update.rules.mode_rules = {listed_rules(1'000)};
  update.rules.mode_rules[0].enabled = false;
  ASSERT_TRUE(run(op, update).reply.status.is_ok());
  order = run(trader(bank), buy("CEA2026", 9'000, 100));
  EXPECT_NE(order.reply.status.message().find("mode not enabled: listed trading is not enabled for CEA2026"),
            std::string::npos)
      << order.reply.status.message();

  update.rules.mode_rules = {};  // back to the defaults: listed, 09:30-11:30 and 13:00-15:00
  ASSERT_TRUE(run(op, update).reply.status.is_ok());
  EXPECT_TRUE(run(trader(bank), buy("CEA2026", 9'000, 100)).reply.status.is_ok());
}

TEST_F(InstrumentCommandsTest, ABandOfAFractionalPercentIsNamedExactly) {
  const ParticipantRecord bank = participant("BANK", ParticipantType::institution, 100'000'000);
  CreateInstrument create = cea("CEA2026", 2026, 9'000);
  create.rules.mode_rules = {listed_rules(1'050)};  // ±10.5%: 8,055-9,945 fen
  ASSERT_TRUE(run(op, create).reply.status.is_ok());
  const Outcome order = run(trader(bank), buy("CEA2026", 9'946, 100));
  EXPECT_EQ(order.reply.status.code(), ErrorCode::failed_precondition);
  EXPECT_NE(order.reply.status.message().find("band 8055-9945 fen (±10.5% of the reference price 9000 fen)"),
            std::string::npos)
      << order.reply.status.message();
  EXPECT_TRUE(run(trader(bank), buy("CEA2026", 9'945, 100)).reply.status.is_ok());
}

TEST_F(InstrumentCommandsTest, UpdateRefusals) {
  const ParticipantRecord bank = participant("BANK", ParticipantType::institution, 0);
  UpdateInstrumentRules update{"CEA2024", {}};
  expect_refused(trader(bank), update, ErrorCode::permission_denied, "for operators");
  expect_refused(op, UpdateInstrumentRules{"NOPE", {}}, ErrorCode::not_found, "unknown instrument \"NOPE\"");
  expect_refused(op, UpdateInstrumentRules{"bad code", {}}, ErrorCode::invalid_argument, "instrument code");
  update.rules.mode_rules = {block_rules(3'000), block_rules(3'000)};
  expect_refused(op, update, ErrorCode::invalid_argument, "mode_rules: BLOCK is listed twice");
  update.rules.mode_rules = {listed_rules(1'000)};
  update.rules.mode_rules[0].sessions = {{570, 700}, {690, 900}};
  expect_refused(op, update, ErrorCode::invalid_argument, "sessions 570-700 and 690-900 overlap");
  update.rules.mode_rules = {};
  update.rules.position_limit = -5;
  expect_refused(op, update, ErrorCode::invalid_argument, "position_limit must not be negative");
  // A configured instrument can be changed too.
  update.rules.position_limit = 2'000;
  update.rules.gtc_enabled = true;
  const Outcome updated = run(op, update);
  ASSERT_TRUE(updated.reply.status.is_ok()) << updated.reply.status.message();
  EXPECT_EQ(instruments().at("CEA2024").position_limit, Qty{2'000});
  EXPECT_TRUE(instruments().at("CEA2024").gtc_enabled);
}

// An open buy reserved its cash at the buyer's fee of its mode; a fill charges the fee in force.
TEST_F(InstrumentCommandsTest, TheBuyersFeeMayNotRiseAboveWhatAnOpenBuyReserved) {
  const ParticipantRecord bank = participant("BANK", ParticipantType::institution, 100'000'000);
  CreateInstrument create = cea("CEA2026", 2026, 9'000);
  create.rules.mode_rules = {listed_rules(500)};
  create.rules.mode_rules[0].buy_fee_bps = 10;
  ASSERT_TRUE(run(op, create).reply.status.is_ok());
  const Outcome order = run(trader(bank), buy("CEA2026", 9'000, 100));
  ASSERT_TRUE(order.reply.status.is_ok()) << order.reply.status.message();
  const OrderId at_ten = order.reply.orders.at(0).id;
  auto buy_fee = [&](int bps) {
    UpdateInstrumentRules update{"CEA2026", {}};
    update.rules.mode_rules = {listed_rules(500)};
    update.rules.mode_rules[0].buy_fee_bps = bps;
    return update;
  };
  const std::string refused = "fees: the buyer's fee of LISTED trades in CEA2026 cannot rise from ";
  expect_refused(op, buy_fee(20), ErrorCode::failed_precondition,
                 refused + "10 to 20 bps while 1 open buy order(s) reserved less cash than it needs (order " +
                     std::to_string(at_ten) + " among them); cancel them first");
  EXPECT_EQ(instruments().at("CEA2026").fees.listed_buy_bps, 10);
  // The buyer's fee may fall, and the seller's and another mode's may rise.
  UpdateInstrumentRules other = buy_fee(5);
  other.rules.mode_rules = {listed_rules(500), block_rules(2'000)};
  other.rules.mode_rules[0].buy_fee_bps = 5;
  other.rules.mode_rules[0].sell_fee_bps = 50;
  other.rules.mode_rules[1].buy_fee_bps = 30;
  ASSERT_TRUE(run(op, other).reply.status.is_ok());
  EXPECT_EQ(instruments().at("CEA2026").fees.listed_buy_bps, 5);
  EXPECT_EQ(instruments().at("CEA2026").fees.block_buy_bps, 30);
  // A buy entered at 5 bps holds less than 10 bps need; the one entered at 10 still holds enough.
  const Outcome second = run(trader(bank), buy("CEA2026", 9'000, 100));
  ASSERT_TRUE(second.reply.status.is_ok()) << second.reply.status.message();
  const OrderId at_five = second.reply.orders.at(0).id;
  expect_refused(op, buy_fee(10), ErrorCode::failed_precondition,
                 refused + "5 to 10 bps while 1 open buy order(s) reserved less cash than it needs (order " +
                     std::to_string(at_five) + " among them); cancel them first");
  ASSERT_TRUE(run(trader(bank), CancelOrder{at_five}).reply.status.is_ok());
  const Outcome back = run(op, buy_fee(10));
  ASSERT_TRUE(back.reply.status.is_ok()) << back.reply.status.message();
  EXPECT_EQ(instruments().at("CEA2026").fees.listed_buy_bps, 10);
  // Above what it reserved, the first buy stands in the way until it is cancelled.
  expect_refused(op, buy_fee(11), ErrorCode::failed_precondition, refused + "10 to 11 bps while 1 open buy");
  ASSERT_TRUE(run(trader(bank), CancelOrder{at_ten}).reply.status.is_ok());
  const Outcome raised = run(op, buy_fee(20));
  ASSERT_TRUE(raised.reply.status.is_ok()) << raised.reply.status.message();
  EXPECT_EQ(instruments().at("CEA2026").fees.listed_buy_bps, 20);
}

// A config instrument's fees come from the config at each start: one that raised the buyer's fee under an open
// buy would leave that buy's fee uncovered, so the start is refused, naming the order and what to do.
TEST_F(InstrumentCommandsTest, AStartWhoseConfigRaisedTheBuyersFeeUnderAnOpenBuyIsRefused) {
  const ParticipantRecord bank = participant("BANK", ParticipantType::institution, 100'000'000);
  ASSERT_TRUE(run(op, SetReferencePrice{"CEA2024", Price{9'000}, "listing"}).reply.status.is_ok());
  const Outcome order = run(trader(bank), buy("CEA2024", 9'000, 100));
  ASSERT_TRUE(order.reply.status.is_ok()) << order.reply.status.message();
  const OrderId open = order.reply.orders.at(0).id;

  Config lower = config;
  EXPECT_NO_THROW(Exchange{lower}.restore(recovered())) << "the same fees";
  Config raised = config;
  raised.fees.listed_buy_bps = config.fees.listed_buy_bps + 10;
  try {
    Exchange{raised}.restore(recovered());
    ADD_FAILURE() << "restored under a higher buyer's fee";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("fees: open buy order " + std::to_string(open) + " of CEA2024"),
              std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("cancel the open buys"), std::string::npos) << e.what();
  }
  raised.fees.block_buy_bps = config.fees.block_buy_bps + 10;  // another mode's rise alone does not matter
  raised.fees.listed_buy_bps = config.fees.listed_buy_bps;
  EXPECT_NO_THROW(Exchange{raised}.restore(recovered()));
}

TEST_F(InstrumentCommandsTest, AccountBalancesForStaff) {
  const ParticipantRecord bank = participant("BANK", ParticipantType::institution, 123'456);
  for (Role role : {Role::operator_, Role::registry_authority, Role::regulator, Role::auditor}) {
    const Outcome read = run(Principal{role, 0, "staff"}, GetAccountBalances{bank.id});
    ASSERT_TRUE(read.reply.status.is_ok()) << read.reply.status.message();
    ASSERT_EQ(read.reply.participants.size(), 1u);
    EXPECT_EQ(read.reply.participants[0].code, "BANK");
    ASSERT_TRUE(read.reply.cash.has_value());
    EXPECT_EQ(read.reply.cash->account, bank.cash_account);
    EXPECT_EQ(read.reply.cash->balance.available, Cash{123'456});
    EXPECT_TRUE(read.reply.holdings.empty());
    EXPECT_TRUE(read.events.empty());  // a read
  }
  Outcome read = run(op, GetAccountBalances{999});
  EXPECT_EQ(read.reply.status.code(), ErrorCode::not_found);
  EXPECT_EQ(read.reply.status.message(), "participant 999 does not exist");
  read = run(op, GetAccountBalances{0});
  EXPECT_EQ(read.reply.status.code(), ErrorCode::invalid_argument);
  EXPECT_EQ(read.reply.status.message(), "participant_id is required");
  read = run(trader(bank), GetAccountBalances{bank.id});
  EXPECT_EQ(read.reply.status.code(), ErrorCode::permission_denied);
}

}  // namespace
}  // namespace carbon::engine
