// Repos as the engine runs them: every refusal of RegisterRepo and ListRepos
// (code, rule, a journaled rejection, nothing changed), both legs with
// conservation of cash and units and a verifying ledger, the default when
// the seller's cash is short, the statements, and a restore before the
// second leg.
#include <gtest/gtest.h>

#include <map>

#include "engine/exchange.h"
#include "engine/written_statement.h"

namespace carbon::engine {
namespace {

constexpr UnixNanos kMonday1030 = 1'763'951'400'000'000'000;  // 2025-11-24 10:30 Asia/Shanghai
constexpr UnixNanos kHour = 3'600'000'000'000;
constexpr UnixNanos kDay = 24 * kHour;

Config test_config() {
  Config config = default_config();
  for (auto& instrument : config.instruments) {
    instrument.reference_price = Price{5'000};
    if (instrument.code == "CEA2024") {
      instrument.tick = Price{10};
      instrument.lot = Qty{10};
      instrument.position_limit = Qty{50'000};
    }
  }
  return config;
}

class RepoCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    seller = create("KEU-001", ParticipantType::key_emitting_unit);
    buyer = create("INST-001", ParticipantType::institution);
    person = create("PERSON-1", ParticipantType::natural_person);
    ASSERT_TRUE(run(authority, SetCap{2024, "power", Qty{1'000'000}, 10'000, "plan 2024"}).reply.status.is_ok());
    ASSERT_TRUE(run(authority, IssueAllowances{"CEA2024", seller.holding_account, Qty{10'000}, "issue"})
                    .reply.status.is_ok());
    ASSERT_TRUE(run(op, MoveCash{buyer.cash_account, Cash{100'000'000}, "d1", false}).reply.status.is_ok());
    ASSERT_TRUE(run(op, MoveCash{seller.cash_account, Cash{1'000'000}, "d2", false}).reply.status.is_ok());
  }

  Outcome run(const Principal& who, CommandBody body) {
    now += 1'000'000;
    Outcome outcome = exchange->execute(Command{who, std::move(body)}, now);
    record(outcome);
    return outcome;
  }

  /// Keeps what the store projects, for a restore; and every ledger entry, to verify the chain.
  void record(const Outcome& outcome) {
    if (outcome.sequence != 0) state.last_sequence = outcome.sequence;
    for (const Event& event : outcome.events) {
      if (auto* e = std::get_if<ParticipantCreated>(&event)) state.participants.push_back(e->participant);
      if (auto* e = std::get_if<CashChanged>(&event)) cash[e->cash.account] = e->cash;
      if (auto* e = std::get_if<HoldingChanged>(&event)) holdings[{e->holding.account, e->holding.instrument}] = e->holding;
      if (auto* e = std::get_if<LedgerAppended>(&event)) {
        state.last_ledger_entry_id = e->entry.entry_id;
        state.last_ledger_hash = e->entry.hash;
        ledger.push_back(e->entry);
      }
      if (auto* e = std::get_if<MarketStateChanged>(&event)) state.market = e->state;
      if (auto* e = std::get_if<CashMoved>(&event)) state.cash_movements.push_back(e->movement);
      if (auto* e = std::get_if<IdempotencyKeyUsed>(&event)) state.idempotency.push_back(e->record);
      if (auto* e = std::get_if<RepoChanged>(&event)) repos[e->repo.id] = e->repo;
      if (auto* e = std::get_if<CapChanged>(&event)) caps[{e->cap.year, e->cap.sector}] = e->cap;
    }
  }

  RecoveredState recovered() const {
    RecoveredState out = state;
    for (const auto& [k, v] : cash) out.cash.push_back(v);
    for (const auto& [k, v] : holdings) out.holdings.push_back(v);
    for (const auto& [k, v] : repos) out.repos.push_back(v);
    for (const auto& [k, v] : caps) out.caps.push_back(v);
    return out;
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

  /// 1,000 t of CEA2024 at 5,000 fen, bought back at 5,100 fen on Wednesday 2025-11-26.
  RegisterRepo repo_request(std::string key = "repo-1") const {
    return RegisterRepo{seller.id, buyer.id, "CEA2024", Qty{1'000}, Price{5'000}, Price{5'100}, "2025-11-26",
                        "contract 7", std::move(key)};
  }

  Outcome end_of_day(const std::string& date, UnixNanos at) {
    now = at;
    Outcome out = run(op, RunEndOfDay{date});
    EXPECT_TRUE(out.reply.status.is_ok()) << out.reply.status.message();
    return out;
  }

  std::string snapshot() const {
    std::string out;
    for (const ParticipantRecord* p : {&seller, &buyer, &person}) {
      const registry::Holding h = exchange->registry().holding(p->holding_account, "CEA2024");
      const settlement::CashAccount c = exchange->clearing().account(p->cash_account);
      out += std::to_string(h.available.value) + "/" + std::to_string(h.reserved.value) + "/" +
             std::to_string(c.available.value) + "/" + std::to_string(c.unsettled.value) + ";";
    }
    Reply reply;
    (void)query(authority, ListRepos{}, &reply);
    out += "|" + std::to_string(reply.repos.size()) + "|" + std::to_string(exchange->registry().ledger().last_entry_id());
    return out;
  }

  void expect_rejected(const Principal& who, CommandBody body, ErrorCode code, const std::string& rule) {
    const std::string before = snapshot();
    const Outcome outcome = run(who, std::move(body));
    EXPECT_EQ(outcome.reply.status.code(), code) << to_string(outcome.reply.status.code()) << ": "
                                                 << outcome.reply.status.message();
    EXPECT_NE(outcome.reply.status.message().find(rule), std::string::npos)
        << "message \"" << outcome.reply.status.message() << "\" does not name \"" << rule << "\"";
    ASSERT_EQ(outcome.events.size(), 1u);
    EXPECT_TRUE(std::holds_alternative<CommandRejected>(outcome.events[0]));
    EXPECT_EQ(snapshot(), before) << "a rejected command changed state";
  }

  Status query(const Principal& who, CommandBody body, Reply* reply = nullptr) const {
    Outcome outcome = exchange->execute(Command{who, std::move(body)}, now);
    EXPECT_TRUE(outcome.events.empty());
    if (reply) *reply = outcome.reply;
    return outcome.reply.status;
  }

  Cash total_cash() const {
    return exchange->clearing().account(seller.cash_account).total() +
           exchange->clearing().account(buyer.cash_account).total();
  }
  Qty total_units() const {
    return exchange->registry().holding(seller.holding_account, "CEA2024").total() +
           exchange->registry().holding(buyer.holding_account, "CEA2024").total();
  }
  void expect_ledger_verifies() const {
    const registry::ChainVerification verified = registry::verify_chain(ledger, registry::Hash{}, 1);
    EXPECT_TRUE(verified.ok()) << "ledger breaks at entry " << verified.first_bad_entry_id;
    EXPECT_EQ(verified.entries_checked, ledger.size());
  }

  Config config = test_config();
  std::unique_ptr<Exchange> exchange = std::make_unique<Exchange>(config);
  UnixNanos now = kMonday1030;
  Principal op{Role::operator_, 0, "ops"};
  Principal authority{Role::registry_authority, 0, "registry"};
  Principal regulator{Role::regulator, 0, "regulator"};
  Principal auditor{Role::auditor, 0, "auditor"};
  ParticipantRecord seller, buyer, person;

  RecoveredState state;
  std::map<AccountId, CashRecord> cash;
  std::map<std::pair<AccountId, std::string>, registry::HoldingRecord> holdings;
  std::map<std::uint64_t, RepoRecord> repos;
  std::map<std::pair<int, std::string>, CapRecord> caps;
  std::vector<registry::LedgerEntry> ledger;
};

TEST_F(RepoCommandsTest, EveryRefusalNamesItsRuleAndChangesNothing) {
  auto with = [&](auto change) {
    RegisterRepo r = repo_request("bad");
    change(r);
    return r;
  };
  expect_rejected(trader(seller), repo_request(), ErrorCode::permission_denied, "registry authority");
  expect_rejected(regulator, repo_request(), ErrorCode::permission_denied, "registry authority");
  expect_rejected(authority, with([](RegisterRepo& r) { r.seller = 0; }), ErrorCode::invalid_argument,
                  "seller_participant_id");
  expect_rejected(authority, with([](RegisterRepo& r) { r.buyer = 0; }), ErrorCode::invalid_argument,
                  "buyer_participant_id");
  expect_rejected(authority, with([&](RegisterRepo& r) { r.buyer = r.seller; }), ErrorCode::invalid_argument,
                  "must differ");
  expect_rejected(authority, with([](RegisterRepo& r) { r.instrument.clear(); }), ErrorCode::invalid_argument,
                  "instrument");
  expect_rejected(authority, with([](RegisterRepo& r) { r.quantity = Qty{0}; }), ErrorCode::invalid_argument,
                  "quantity");
  expect_rejected(authority, with([](RegisterRepo& r) { r.first_leg_price = Price{0}; }),
                  ErrorCode::invalid_argument, "first_leg_price_fen");
  expect_rejected(authority, with([](RegisterRepo& r) { r.second_leg_price = Price{-10}; }),
                  ErrorCode::invalid_argument, "second_leg_price_fen");
  expect_rejected(authority, with([](RegisterRepo& r) { r.second_leg_date = "2025-13-01"; }),
                  ErrorCode::invalid_argument, "second_leg_date");
  expect_rejected(authority, with([](RegisterRepo& r) { r.contract_reference.clear(); }),
                  ErrorCode::invalid_argument, "contract_reference");
  expect_rejected(authority, with([](RegisterRepo& r) { r.idempotency_key.clear(); }), ErrorCode::invalid_argument,
                  "idempotency_key");
  expect_rejected(authority, with([](RegisterRepo& r) { r.instrument = "CEA1999"; }), ErrorCode::not_found,
                  "unknown instrument");
  expect_rejected(authority, with([](RegisterRepo& r) { r.seller = 999; }), ErrorCode::not_found,
                  "seller participant 999");
  expect_rejected(authority, with([](RegisterRepo& r) { r.buyer = 998; }), ErrorCode::not_found,
                  "buyer participant 998");
  expect_rejected(authority, with([](RegisterRepo& r) { r.second_leg_date = "2025-11-24"; }),
                  ErrorCode::failed_precondition, "JR/T 0244-2022): the second leg settles on a future trading day");
  expect_rejected(authority, with([](RegisterRepo& r) { r.second_leg_date = "2025-11-29"; }),
                  ErrorCode::failed_precondition, "is a weekend day or a holiday");
  expect_rejected(authority, with([&](RegisterRepo& r) { r.buyer = person.id; }), ErrorCode::failed_precondition,
                  "eligibility: natural persons may trade CCER only");
  expect_rejected(authority, with([](RegisterRepo& r) { r.first_leg_price = Price{5'005}; }),
                  ErrorCode::failed_precondition, "tick rule");
  expect_rejected(authority, with([](RegisterRepo& r) { r.second_leg_price = Price{5'101}; }),
                  ErrorCode::failed_precondition, "tick rule");
  expect_rejected(authority, with([](RegisterRepo& r) { r.quantity = Qty{1'005}; }), ErrorCode::failed_precondition,
                  "lot rule");
  expect_rejected(authority, with([](RegisterRepo& r) { r.quantity = Qty{50'010}; }), ErrorCode::failed_precondition,
                  "position limit");
  expect_rejected(authority, with([](RegisterRepo& r) { r.first_leg_price = Price{100'010}; }),
                  ErrorCode::failed_precondition, "insufficient cash");
  expect_rejected(authority, with([](RegisterRepo& r) { r.quantity = Qty{10'010}; }), ErrorCode::failed_precondition,
                  "insufficient units");

  const UnixNanos monday = now;
  now = kMonday1030 + kDay;  // Tuesday, Monday not closed
  expect_rejected(authority, repo_request("tuesday"), ErrorCode::failed_precondition,
                  "end of day: the trading day 2025-11-24 has not been closed; an operator runs RunEndOfDay before "
                  "2025-11-25 can register repos");
  now = monday;

  ASSERT_TRUE(run(authority, repo_request()).reply.status.is_ok());
  RegisterRepo reused = repo_request();
  reused.second_leg_price = Price{5'200};
  expect_rejected(authority, reused, ErrorCode::failed_precondition, "idempotency key");

  Reply reply;
  EXPECT_EQ(query(trader(seller), ListRepos{buyer.id, 0}, &reply).code(), ErrorCode::permission_denied);
  EXPECT_NE(reply.status.message().find("only the repos it is party to"), std::string::npos);
  EXPECT_EQ(query(op, ListRepos{}, &reply).code(), ErrorCode::permission_denied);
  EXPECT_EQ(query(regulator, ListRepos{0, 4}, &reply).code(), ErrorCode::invalid_argument);
}

// Units sold on an open repo come back at its second leg: until then they count towards the seller's
// position limit (50,000 t of CEA2024 here, for the institution), or the buy-back would take it over the
// limit unchecked.
TEST_F(RepoCommandsTest, UnitsOutOnRepoCountTowardsTheSellersPositionLimit) {
  ASSERT_TRUE(run(authority, IssueAllowances{"CEA2024", buyer.holding_account, Qty{10'000}, "inst"})
                  .reply.status.is_ok());
  const RegisterRepo repo{buyer.id,     seller.id,    "CEA2024",  Qty{100}, Price{5'000},
                          Price{5'100}, "2025-11-26", "contract 8", "repo-inst"};
  ASSERT_TRUE(run(authority, repo).reply.status.is_ok());  // 100 t out: 9,900 held
  expect_rejected(authority, IssueAllowances{"CEA2024", buyer.holding_account, Qty{40'010}, "more"},
                  ErrorCode::failed_precondition,
                  "position limit: holdings plus open buys plus 100 t out on repo would reach 50010 t");
  // The same after a restart: the open repo is counted again.
  exchange = std::make_unique<Exchange>(config);
  exchange->restore(recovered());
  expect_rejected(authority, IssueAllowances{"CEA2024", buyer.holding_account, Qty{40'010}, "more"},
                  ErrorCode::failed_precondition, "plus 100 t out on repo");
  ASSERT_TRUE(run(authority, IssueAllowances{"CEA2024", buyer.holding_account, Qty{40'000}, "more"})
                  .reply.status.is_ok());
  end_of_day("2025-11-24", kMonday1030 + 5 * kHour);
  end_of_day("2025-11-25", kMonday1030 + kDay + 5 * kHour);
  end_of_day("2025-11-26", kMonday1030 + 2 * kDay + 5 * kHour);  // the buy-back: 50,000 t, at the limit
  EXPECT_EQ(exchange->registry().holding(buyer.holding_account, "CEA2024").total(), Qty{50'000});
  // Back home, the units count once, as holdings.
  expect_rejected(authority, IssueAllowances{"CEA2024", buyer.holding_account, Qty{10}, "over"},
                  ErrorCode::failed_precondition, "position limit: holdings plus open buys would reach 50010 t");
}

// Pledges move whole lots too (CEA2024's lot is 10 t here): enforcement delivers the units to the pledgee.
TEST_F(RepoCommandsTest, APledgeAndAPartOfOneReleasedOrEnforcedAreWholeLots) {
  const AccountId account = seller.holding_account;
  expect_rejected(authority, PledgeUnits{account, "CEA2024", Qty{5}, buyer.id, "loan 1", "p-odd"},
                  ErrorCode::failed_precondition, "lot rule: pledge of 5 t is not a multiple of the 10 t lot");
  const Outcome pledged = run(authority, PledgeUnits{account, "CEA2024", Qty{30}, buyer.id, "loan 1", "p-1"});
  ASSERT_TRUE(pledged.reply.status.is_ok()) << pledged.reply.status.message();
  const registry::PledgeId id = pledged.reply.pledges.at(0).record.id;
  expect_rejected(authority, ReleasePledge{id, Qty{5}, "repaid", "r-odd"}, ErrorCode::failed_precondition,
                  "lot rule: pledge release of 5 t");
  expect_rejected(authority, EnforcePledge{id, Qty{15}, "default", "e-odd"}, ErrorCode::failed_precondition,
                  "lot rule: pledge enforcement of 15 t");
  ASSERT_TRUE(run(authority, ReleasePledge{id, Qty{10}, "repaid", "r-1"}).reply.status.is_ok());
  ASSERT_TRUE(run(authority, EnforcePledge{id, Qty{0}, "default", "e-1"}).reply.status.is_ok());  // the rest
  EXPECT_EQ(exchange->registry().holding(buyer.holding_account, "CEA2024").available, Qty{20});
  EXPECT_EQ(exchange->registry().holding(account, "CEA2024").available, Qty{9'980});
}

TEST_F(RepoCommandsTest, BothLegsSettleDeliveryVersusPaymentAndConserveCashAndUnits) {
  const Cash cash_before = total_cash();
  const Qty units_before = total_units();
  Outcome out = run(authority, repo_request());
  ASSERT_TRUE(out.reply.status.is_ok()) << out.reply.status.message();
  ASSERT_EQ(out.reply.repos.size(), 1u);
  const RepoRecord opened = out.reply.repos[0];
  EXPECT_EQ(opened.status, RepoStatus::open);
  EXPECT_EQ(opened.first_leg_entry, exchange->registry().ledger().last_entry_id());
  EXPECT_EQ(ledger.back().kind, registry::TransferKind::repo_first_leg);
  EXPECT_EQ(ledger.back().from_account, seller.holding_account);
  EXPECT_EQ(ledger.back().to_account, buyer.holding_account);

  // First leg: 1,000 t seller → buyer (reserved), 5,000,000 fen buyer → seller (unsettled proceeds).
  EXPECT_EQ(exchange->registry().holding(seller.holding_account, "CEA2024").available, Qty{9'000});
  EXPECT_EQ(exchange->registry().holding(buyer.holding_account, "CEA2024").reserved, Qty{1'000});
  EXPECT_EQ(exchange->registry().holding(buyer.holding_account, "CEA2024").available, Qty{0});
  EXPECT_EQ(exchange->clearing().account(buyer.cash_account).available, Cash{95'000'000});
  EXPECT_EQ(exchange->clearing().account(seller.cash_account).unsettled, Cash{5'000'000});
  EXPECT_EQ(total_cash(), cash_before);
  EXPECT_EQ(total_units(), units_before);

  // The same key with the same terms answers the repo again without a second effect.
  const std::uint64_t entries = exchange->registry().ledger().last_entry_id();
  out = run(authority, repo_request());
  ASSERT_TRUE(out.reply.status.is_ok());
  EXPECT_EQ(out.reply.repos.at(0).id, opened.id);
  EXPECT_EQ(out.reply.sequence, opened.sequence);
  EXPECT_EQ(exchange->registry().ledger().last_entry_id(), entries);
  EXPECT_EQ(exchange->clearing().account(buyer.cash_account).available, Cash{95'000'000});

  // The buyer cannot sell the reserved units: they wait for the second leg.
  PlaceOrder sell;
  sell.instrument = "CEA2024";
  sell.side = Side::sell;
  sell.price = Price{5'000};
  sell.quantity = Qty{10};
  EXPECT_EQ(run(trader(buyer), sell).reply.status.code(), ErrorCode::failed_precondition);

  // Each party lists it; a third does not see it.
  Reply reply;
  ASSERT_TRUE(query(trader(seller), ListRepos{}, &reply).is_ok());
  EXPECT_EQ(reply.repos.size(), 1u);
  ASSERT_TRUE(query(trader(buyer), ListRepos{}, &reply).is_ok());
  EXPECT_EQ(reply.repos.size(), 1u);
  ASSERT_TRUE(query(trader(person), ListRepos{}, &reply).is_ok());
  EXPECT_TRUE(reply.repos.empty());
  ASSERT_TRUE(query(auditor, ListRepos{0, 2}, &reply).is_ok());
  EXPECT_TRUE(reply.repos.empty()) << "none completed yet";

  // The first day's statements show the first leg as bought and sold.
  Outcome eod = end_of_day("2025-11-24", kMonday1030 + 5 * kHour);
  StatementRecord st = written_statement(eod, buyer.id);
  EXPECT_EQ(st.bought_value, Cash{5'000'000});
  ASSERT_EQ(st.lines.size(), 1u);
  EXPECT_EQ(st.lines[0].bought, Qty{1'000});
  EXPECT_EQ(st.lines[0].received, Qty{0});
  EXPECT_EQ(st.opening_cash + st.deposits - st.withdrawals - st.bought_value - st.fees + st.sold_value,
            st.closing_cash.total());
  EXPECT_TRUE(eod.reply.reconciliation->balanced);

  // Tuesday closes with the repo still open.
  end_of_day("2025-11-25", kMonday1030 + kDay + 5 * kHour);
  ASSERT_TRUE(query(regulator, ListRepos{0, 1}, &reply).is_ok());
  ASSERT_EQ(reply.repos.size(), 1u);

  // Wednesday's end of day settles the buy-back: 1,000 t back, 5,100,000 fen to the buyer.
  eod = end_of_day("2025-11-26", kMonday1030 + 2 * kDay + 5 * kHour);
  ASSERT_TRUE(query(regulator, ListRepos{}, &reply).is_ok());
  ASSERT_EQ(reply.repos.size(), 1u);
  const RepoRecord closed = reply.repos[0];
  EXPECT_EQ(closed.status, RepoStatus::completed);
  EXPECT_EQ(closed.sequence, eod.sequence);
  EXPECT_EQ(closed.closed_at, now);
  ASSERT_NE(closed.second_leg_entry, 0u);
  const registry::LedgerEntry& second = ledger.at(closed.second_leg_entry - 1);
  EXPECT_EQ(second.kind, registry::TransferKind::repo_second_leg);
  EXPECT_EQ(second.from_account, buyer.holding_account);
  EXPECT_EQ(second.to_account, seller.holding_account);
  EXPECT_EQ(exchange->registry().holding(seller.holding_account, "CEA2024").available, Qty{10'000});
  EXPECT_EQ(exchange->registry().holding(buyer.holding_account, "CEA2024").total(), Qty{0});
  EXPECT_EQ(exchange->clearing().account(buyer.cash_account).available, Cash{100'100'000});
  EXPECT_EQ(exchange->clearing().account(seller.cash_account).total(), Cash{900'000});
  EXPECT_EQ(exchange->clearing().account(seller.cash_account).available, Cash{900'000});
  EXPECT_EQ(total_cash(), cash_before);
  EXPECT_EQ(total_units(), units_before);
  EXPECT_TRUE(eod.reply.reconciliation->balanced);
  expect_ledger_verifies();
  st = written_statement(eod, seller.id);
  EXPECT_EQ(st.bought_value, Cash{5'100'000});
  EXPECT_EQ(st.lines.at(0).bought, Qty{1'000});
  EXPECT_EQ(st.opening_cash - st.bought_value, st.closing_cash.total());

  // Thursday's end of day changes nothing more.
  eod = end_of_day("2025-11-27", kMonday1030 + 3 * kDay + 5 * kHour);
  ASSERT_TRUE(query(regulator, ListRepos{}, &reply).is_ok());
  EXPECT_EQ(reply.repos.at(0).sequence, closed.sequence);
  EXPECT_EQ(exchange->clearing().account(buyer.cash_account).available, Cash{100'100'000});
}

TEST_F(RepoCommandsTest, ASellerShortOfCashDefaultsAndTheBuyerKeepsTheUnits) {
  ASSERT_TRUE(run(authority, repo_request()).reply.status.is_ok());
  const Cash cash_before = total_cash();
  end_of_day("2025-11-24", kMonday1030 + 5 * kHour);
  // The seller takes out all but 5,000,000 fen of its 6,000,000: 100,000 fen short of the buy-back.
  ASSERT_TRUE(run(op, MoveCash{seller.cash_account, Cash{1'000'000}, "w1", true}).reply.status.is_ok());
  end_of_day("2025-11-25", kMonday1030 + kDay + 5 * kHour);
  const Outcome eod = end_of_day("2025-11-26", kMonday1030 + 2 * kDay + 5 * kHour);
  Reply reply;
  ASSERT_TRUE(query(regulator, ListRepos{0, 3}, &reply).is_ok());
  ASSERT_EQ(reply.repos.size(), 1u);
  EXPECT_EQ(reply.repos[0].status, RepoStatus::defaulted);
  const registry::LedgerEntry& release = ledger.at(reply.repos[0].second_leg_entry - 1);
  EXPECT_EQ(release.kind, registry::TransferKind::repo_second_leg);
  EXPECT_EQ(release.from_account, buyer.holding_account);
  EXPECT_EQ(release.to_account, buyer.holding_account);
  EXPECT_EQ(release.reference, "repo:1:defaulted");
  const registry::Holding held = exchange->registry().holding(buyer.holding_account, "CEA2024");
  EXPECT_EQ(held.available, Qty{1'000});
  EXPECT_EQ(held.reserved, Qty{0});
  EXPECT_EQ(exchange->clearing().account(seller.cash_account).available, Cash{5'000'000});
  EXPECT_EQ(exchange->clearing().account(buyer.cash_account).available, Cash{95'000'000});
  EXPECT_EQ(total_cash(), cash_before - Cash{1'000'000});
  EXPECT_TRUE(eod.reply.reconciliation->balanced);
  expect_ledger_verifies();
  // The default day's statements: no second leg bought or sold, no units received or delivered (the
  // buyer's reserved units became available in its own account); the buyer closes with 1,000 t available.
  for (const ParticipantRecord* p : {&buyer, &seller}) {
    const StatementRecord st = written_statement(eod, p->id);
    EXPECT_TRUE(st.trades.empty());
    EXPECT_TRUE(st.bought_value.is_zero());
    EXPECT_TRUE(st.sold_value.is_zero());
    EXPECT_EQ(st.opening_cash + st.deposits - st.withdrawals, st.closing_cash.total());
    ASSERT_EQ(st.lines.size(), 1u);
    const StatementLine& l = st.lines[0];
    EXPECT_TRUE(l.bought.is_zero() && l.sold.is_zero() && l.received.is_zero() && l.delivered.is_zero());
    EXPECT_EQ(l.opening, l.closing.total());
  }
  const StatementRecord sb = written_statement(eod, buyer.id);
  EXPECT_EQ(sb.lines[0].closing.available, Qty{1'000});
  EXPECT_EQ(sb.closing_cash.total(), Cash{95'000'000});
  EXPECT_EQ(written_statement(eod, seller.id).closing_cash.total(), Cash{5'000'000});
}

TEST_F(RepoCommandsTest, ARestoredExchangeSettlesTheSecondLegOnce) {
  ASSERT_TRUE(run(authority, repo_request()).reply.status.is_ok());
  end_of_day("2025-11-24", kMonday1030 + 5 * kHour);
  end_of_day("2025-11-25", kMonday1030 + kDay + 5 * kHour);

  exchange = std::make_unique<Exchange>(config);
  exchange->restore(recovered());
  Reply reply;
  ASSERT_TRUE(query(regulator, ListRepos{0, 1}, &reply).is_ok());
  ASSERT_EQ(reply.repos.size(), 1u);
  // The key survives the restart.
  Outcome again = run(authority, repo_request());
  ASSERT_TRUE(again.reply.status.is_ok()) << again.reply.status.message();
  EXPECT_EQ(again.sequence, 0u) << "a repeat journals nothing";

  end_of_day("2025-11-26", kMonday1030 + 2 * kDay + 5 * kHour);
  ASSERT_TRUE(query(regulator, ListRepos{0, 2}, &reply).is_ok());
  ASSERT_EQ(reply.repos.size(), 1u);
  EXPECT_EQ(exchange->registry().holding(seller.holding_account, "CEA2024").available, Qty{10'000});
  EXPECT_EQ(exchange->clearing().account(buyer.cash_account).available, Cash{100'100'000});
  end_of_day("2025-11-27", kMonday1030 + 3 * kDay + 5 * kHour);
  EXPECT_EQ(exchange->clearing().account(buyer.cash_account).available, Cash{100'100'000});
  expect_ledger_verifies();
}

TEST_F(RepoCommandsTest, ASecondLegWhoseDateBecameAHolidaySettlesAtTheNextEndOfDay) {
  ASSERT_TRUE(run(authority, repo_request()).reply.status.is_ok());
  end_of_day("2025-11-24", kMonday1030 + 5 * kHour);
  const Outcome holiday = run(op, SetTradingCalendar{2025, {"2025-11-26"}});
  ASSERT_TRUE(holiday.reply.status.is_ok()) << holiday.reply.status.message();
  const Outcome tuesday = end_of_day("2025-11-25", kMonday1030 + kDay + 5 * kHour);
  EXPECT_EQ(tuesday.reply.next_date, "2025-11-27");
  Reply reply;
  ASSERT_TRUE(query(regulator, ListRepos{0, 1}, &reply).is_ok());
  ASSERT_EQ(reply.repos.size(), 1u) << "not due before the 26th";
  end_of_day("2025-11-27", kMonday1030 + 3 * kDay + 5 * kHour);
  ASSERT_TRUE(query(regulator, ListRepos{0, 2}, &reply).is_ok());
  ASSERT_EQ(reply.repos.size(), 1u);
  EXPECT_EQ(exchange->registry().holding(seller.holding_account, "CEA2024").available, Qty{10'000});
  expect_ledger_verifies();
}

}  // namespace
}  // namespace carbon::engine
