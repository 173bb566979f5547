// The registry's commands as the engine runs them: caps, free allocation,
// verified emissions, surrender, closing a year, freezes and transfers.
// Every rejection is checked for its code, its rule, a journaled rejection
// and no change; a restored exchange carries on identically.
#include <gtest/gtest.h>

#include <map>

#include "engine/exchange.h"

namespace carbon::engine {
namespace {

constexpr UnixNanos kStart = 1'763'951'400'000'000'000;  // a weekday morning, Asia/Shanghai

Config test_config() {
  Config config = default_config();
  for (auto& instrument : config.instruments) instrument.reference_price = Price{5'000};
  return config;
}

class RegistryCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    unit = create("KEU-001", ParticipantType::key_emitting_unit);
    other = create("KEU-002", ParticipantType::key_emitting_unit);
    bank = create("INST-001", ParticipantType::institution);
    person = create("PERSON-1", ParticipantType::natural_person);
    ASSERT_TRUE(run(authority, SetCap{2024, "power", Qty{1'000}, 2'000, "plan 2024"}).reply.status.is_ok());
  }

  Outcome run(const Principal& who, CommandBody body) {
    now += 1'000'000;
    Outcome outcome = exchange.execute(Command{who, std::move(body)}, now);
    record(outcome);
    return outcome;
  }

  /// Keeps the registry events the way the store projects them, for a restore.
  void record(const Outcome& outcome) {
    if (outcome.sequence != 0) state.last_sequence = outcome.sequence;
    for (const Event& event : outcome.events) {
      if (auto* e = std::get_if<ParticipantCreated>(&event)) state.participants.push_back(e->participant);
      if (auto* e = std::get_if<HoldingChanged>(&event)) holdings[{e->holding.account, e->holding.instrument}] = e->holding;
      if (auto* e = std::get_if<LedgerAppended>(&event)) {
        state.last_ledger_entry_id = e->entry.entry_id;
        state.last_ledger_hash = e->entry.hash;
        if (e->entry.kind == registry::TransferKind::issuance || e->entry.kind == registry::TransferKind::allocation) {
          allocated[{e->entry.to_account, e->entry.instrument}] += e->entry.quantity;
        }
      }
      if (auto* e = std::get_if<MarketStateChanged>(&event)) state.market = e->state;
      if (auto* e = std::get_if<CapChanged>(&event)) caps[{e->cap.year, e->cap.sector}] = e->cap;
      if (auto* e = std::get_if<AllocationMade>(&event)) state.allocations.push_back(e->allocation);
      if (auto* e = std::get_if<ComplianceChanged>(&event)) {
        compliance[{e->compliance.status.year, e->compliance.participant}] = e->compliance;
      }
      if (auto* e = std::get_if<ShortfallOwedChanged>(&event)) {
        shortfalls[{e->shortfall.unit, e->shortfall.year}] = e->shortfall;
      }
      if (auto* e = std::get_if<ComplianceYearClosed>(&event)) state.closed_years.push_back(*e);
      if (auto* e = std::get_if<FreezeChanged>(&event)) freezes[e->freeze.record.id] = e->freeze;
      if (auto* e = std::get_if<IdempotencyKeyUsed>(&event)) state.idempotency.push_back(e->record);
      if (auto* e = std::get_if<ComplianceYearConfigured>(&event)) year_configs[e->config.year] = e->config;
      if (auto* e = std::get_if<PledgeChanged>(&event)) pledges[e->pledge.record.id] = e->pledge;
    }
  }

  RecoveredState recovered() const {
    RecoveredState out = state;
    for (const auto& [k, v] : holdings) out.holdings.push_back(v);
    for (const auto& [k, v] : allocated) out.allocated.emplace_back(k.first, k.second, v);
    for (const auto& [k, v] : caps) out.caps.push_back(v);
    for (const auto& [k, v] : compliance) out.compliance.push_back(v);
    for (const auto& [k, v] : shortfalls) out.shortfalls_owed.push_back(v);
    for (const auto& [k, v] : freezes) out.freezes.push_back(v);
    for (const auto& [k, v] : year_configs) out.compliance_years.push_back(v);
    for (const auto& [k, v] : pledges) out.pledges.push_back(v);
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

  AllocateFree direct(const ParticipantRecord& p, std::int64_t quantity, int year = 2024,
                      std::string instrument = "CEA2024") {
    AllocateFree c;
    c.year = year;
    c.sector = "power";
    c.participant = p.id;
    c.instrument = std::move(instrument);
    c.direct = Qty{quantity};
    c.reason = "plan";
    c.idempotency_key = next_key();
    return c;
  }
  RecordVerifiedEmissions emissions(const ParticipantRecord& p, std::int64_t tonnes, std::string reason = "") {
    return RecordVerifiedEmissions{p.id, 2024, "power", Qty{tonnes}, "CQC", "report-1", std::move(reason), next_key()};
  }
  std::string next_key() { return "key-" + std::to_string(++keys_used); }
  int keys_used = 0;

  /// Everything a registry rejection must leave unchanged.
  std::string snapshot() const {
    std::string out;
    for (AccountId account : {unit.holding_account, other.holding_account, bank.holding_account,
                              person.holding_account, registry::kIssuanceAccount, registry::kSurrenderAccount}) {
      for (const auto& h : exchange.registry().holdings_of(account)) {
        out += std::to_string(account) + h.instrument + ":" + std::to_string(h.holding.available.value) + "/" +
               std::to_string(h.holding.frozen.value) + ";";
      }
    }
    out += "|" + std::to_string(exchange.registry().ledger().last_entry_id());
    for (int year : {2023, 2024}) {
      for (const auto& s : exchange.registry().compliance_statuses(year)) {
        out += "|" + std::to_string(s.unit) + ":" + std::to_string(s.obligation.value) + "/" +
               std::to_string(s.shortfall.value) + (s.closed ? "c" : "o");
      }
      out += "|cap" + std::to_string(exchange.registry().cap_usage(year, "power").cap.value) + "/" +
             std::to_string(exchange.registry().cap_usage(year, "power").issued.value);
    }
    out += "|owed" + std::to_string(exchange.registry().deduction_owed(unit.holding_account).value);
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

  Status query(const Principal& who, CommandBody body, Reply* reply = nullptr) {
    Outcome outcome = exchange.execute(Command{who, std::move(body)}, now);
    EXPECT_TRUE(outcome.events.empty());
    if (reply) *reply = outcome.reply;
    return outcome.reply.status;
  }

  Config config = test_config();
  Exchange exchange{config};
  UnixNanos now = kStart;
  Principal op{Role::operator_, 0, "ops"};
  Principal authority{Role::registry_authority, 0, "registry"};
  Principal regulator{Role::regulator, 0, "regulator"};
  Principal auditor{Role::auditor, 0, "auditor"};
  ParticipantRecord unit, other, bank, person;

  RecoveredState state;
  std::map<std::pair<AccountId, std::string>, registry::HoldingRecord> holdings;
  std::map<std::pair<AccountId, std::string>, Qty> allocated;
  std::map<std::pair<int, std::string>, CapRecord> caps;
  std::map<std::pair<int, ParticipantId>, ComplianceRecord> compliance;
  std::map<std::pair<AccountId, int>, ShortfallOwed> shortfalls;
  std::map<registry::FreezeId, FreezeView> freezes;
  std::map<int, ComplianceYearConfig> year_configs;
  std::map<registry::PledgeId, PledgeView> pledges;
};

TEST_F(RegistryCommandsTest, FreeAllocationIssuesUnderTheFreeShareOfTheCap) {
  Outcome out = run(authority, direct(unit, 500));
  ASSERT_TRUE(out.reply.status.is_ok()) << out.reply.status.message();
  EXPECT_EQ(out.reply.allocations.at(0).issued, Qty{500});
  EXPECT_NE(out.reply.allocations.at(0).ledger_entry_id, 0u);
  EXPECT_EQ(exchange.registry().holding(unit.holding_account, "CEA2024").available, Qty{500});
  Reply reply;
  ASSERT_TRUE(query(regulator, ListCaps{2024}, &reply).is_ok());
  ASSERT_EQ(reply.caps.size(), 1u);
  EXPECT_EQ(reply.caps[0].free_limit(), Qty{800});  // 1,000 t less the 20% paid share
  EXPECT_EQ(reply.caps[0].free_allocated, Qty{500});
  // 300 t of the free share are left.
  expect_rejected(authority, direct(other, 301), ErrorCode::failed_precondition, "free share");
  AllocateFree formula = direct(other, 0);
  formula.formula = registry::AllocationFormula{250, 1'000'000, {12'000}};  // 250 × 1 t × 1.2 = 300 t
  out = run(authority, formula);
  ASSERT_TRUE(out.reply.status.is_ok()) << out.reply.status.message();
  EXPECT_EQ(out.reply.allocations.at(0).gross, Qty{300});
  ASSERT_TRUE(query(trader(unit), ListAllocations{}, &reply).is_ok());
  ASSERT_EQ(reply.allocations.size(), 1u) << "a trader sees only its own allocations";
}

TEST_F(RegistryCommandsTest, TransferMovesAvailableUnitsBetweenHolders) {
  ASSERT_TRUE(run(authority, direct(unit, 700)).reply.status.is_ok());
  TransferUnits transfer{unit.holding_account, bank.holding_account, "CEA2024", Qty{100}, "court order", next_key()};
  Outcome out = run(authority, transfer);
  ASSERT_TRUE(out.reply.status.is_ok()) << out.reply.status.message();
  EXPECT_EQ(out.reply.holdings.at(0).holding.available, Qty{600});
  EXPECT_EQ(out.reply.holdings.at(1).holding.available, Qty{100});
  Reply reply;
  ASSERT_TRUE(query(auditor, GetHoldings{bank.holding_account}, &reply).is_ok());
  ASSERT_EQ(reply.holdings.size(), 1u);
  EXPECT_EQ(reply.holdings[0].holding.available, Qty{100});
}

TEST_F(RegistryCommandsTest, SurrenderAndCloseWithPenaltyAndDeductionFromTheNextAllocation) {
  ASSERT_TRUE(run(authority, direct(unit, 500)).reply.status.is_ok());
  ASSERT_TRUE(run(authority, emissions(unit, 600)).reply.status.is_ok());
  ASSERT_TRUE(run(authority, emissions(other, 10)).reply.status.is_ok());
  Outcome out = run(trader(unit), Surrender{0, 2024, "CEA2024", Qty{500}, next_key()});
  ASSERT_TRUE(out.reply.status.is_ok()) << out.reply.status.message();
  EXPECT_EQ(out.reply.compliance.at(0).status.shortfall, Qty{100});
  EXPECT_EQ(exchange.registry().holding(registry::kSurrenderAccount, "CEA2024").available, Qty{500});

  out = run(authority, CloseComplianceYear{2024, Price{9'800}});
  ASSERT_TRUE(out.reply.status.is_ok()) << out.reply.status.message();
  Reply reply;
  ASSERT_TRUE(query(regulator, GetComplianceStatus{unit.id, 2024}, &reply).is_ok());
  const ComplianceRecord& status = reply.compliance.at(0);
  EXPECT_TRUE(status.status.closed);
  EXPECT_EQ(status.status.shortfall, Qty{100});
  EXPECT_EQ(status.penalty, Cash{100 * 9'800 * 5});
  EXPECT_EQ(status.penalty_multiple, 5);
  EXPECT_EQ(exchange.registry().deduction_owed(unit.holding_account), Qty{100});
  // Closing again answers the stored result and changes nothing.
  out = run(authority, CloseComplianceYear{2024, Price{0}});
  EXPECT_TRUE(out.reply.status.is_ok());
  EXPECT_TRUE(out.events.empty());
  EXPECT_EQ(out.reply.penalty_basis, Price{9'800});
  // The shortfall is deducted from a later year's allocation, and the cap counts what was delivered.
  ASSERT_TRUE(run(authority, SetCap{2025, "power", Qty{1'000}, 0, "plan 2025"}).reply.status.is_ok());
  out = run(authority, direct(unit, 150, 2025, "CEA2025"));
  ASSERT_TRUE(out.reply.status.is_ok()) << out.reply.status.message();
  EXPECT_EQ(out.reply.allocations.at(0).deducted, Qty{100});
  EXPECT_EQ(out.reply.allocations.at(0).issued, Qty{50});
  EXPECT_EQ(exchange.registry().deduction_owed(unit.holding_account), Qty{0});
  bool owed_zero = false;
  for (const Event& event : out.events) {
    if (auto* e = std::get_if<ShortfallOwedChanged>(&event)) owed_zero = e->shortfall.owed.is_zero();
  }
  EXPECT_TRUE(owed_zero) << "the paid-off shortfall is journaled as owed 0";
  ASSERT_TRUE(query(regulator, ListCaps{2025}, &reply).is_ok());
  EXPECT_EQ(reply.caps.at(0).free_allocated, Qty{50});
}

// A unit allocated for the year owes its verified emissions: the year does not close without them, or the unit
// would end with no obligation and no penalty, and its emissions could not be recorded afterwards.
TEST_F(RegistryCommandsTest, AYearDoesNotCloseWhileAnAllocatedUnitHasNoVerifiedEmissions) {
  ASSERT_TRUE(run(authority, direct(unit, 500)).reply.status.is_ok());
  ASSERT_TRUE(run(authority, direct(other, 100)).reply.status.is_ok());
  ASSERT_TRUE(run(authority, emissions(unit, 600)).reply.status.is_ok());
  expect_rejected(authority, CloseComplianceYear{2024, Price{9'800}}, ErrorCode::failed_precondition,
                  "compliance year 2024: verified emissions are missing for 1 key emitting unit allocated for the "
                  "year (" + other.code + "); record them with RecordVerifiedEmissions before closing");
  ASSERT_TRUE(run(authority, emissions(other, 90)).reply.status.is_ok());
  const Outcome closed = run(authority, CloseComplianceYear{2024, Price{9'800}});
  ASSERT_TRUE(closed.reply.status.is_ok()) << closed.reply.status.message();
  EXPECT_EQ(closed.reply.compliance.size(), 2u);
  // A year with neither a configuration nor any emissions is unknown to the compliance lists.
  Reply reply;
  EXPECT_EQ(query(regulator, ListComplianceStatuses{2031}, &reply).code(), ErrorCode::not_found);
  EXPECT_EQ(reply.status.message(), "compliance year 2031 is not configured and has no verified emissions recorded");
  EXPECT_TRUE(query(regulator, ListComplianceStatuses{2024}).is_ok());
}

// An issuance answered UNAVAILABLE ("outcome unknown") is retried with its key: it issues once, also after a
// restart; the key with other fields is refused; without a key every call issues.
TEST_F(RegistryCommandsTest, AnIssuanceRetriedWithItsKeyIssuesOnce) {
  const IssueAllowances issue{"CEA2024", bank.holding_account, Qty{100}, "paid 2024", "iss-7"};
  const Outcome first = run(authority, issue);
  ASSERT_TRUE(first.reply.status.is_ok()) << first.reply.status.message();
  const Outcome again = run(authority, issue);
  ASSERT_TRUE(again.reply.status.is_ok()) << again.reply.status.message();
  EXPECT_TRUE(again.events.empty()) << "nothing issued, nothing journaled";
  EXPECT_EQ(again.reply.ledger_entry_id, first.reply.ledger_entry_id);
  EXPECT_EQ(again.reply.sequence, first.sequence);
  ASSERT_EQ(again.reply.holdings.size(), 1u);
  EXPECT_EQ(again.reply.holdings[0].holding.available, Qty{100});
  IssueAllowances other = issue;
  other.quantity = Qty{200};
  expect_rejected(authority, other, ErrorCode::failed_precondition,
                  "idempotency key \"iss-7\" reused with different parameters");
  IssueAllowances long_key = issue;
  long_key.idempotency_key = std::string(65, 'k');
  expect_rejected(authority, long_key, ErrorCode::invalid_argument, "idempotency_key is required: 1 to 64");
  {
    Exchange restored(config);
    restored.restore(recovered());
    const Outcome retried = restored.execute(Command{authority, issue}, now + 1);
    ASSERT_TRUE(retried.reply.status.is_ok()) << retried.reply.status.message();
    EXPECT_TRUE(retried.events.empty()) << "the restored exchange remembers the key";
    EXPECT_EQ(restored.registry().holding(bank.holding_account, "CEA2024").available, Qty{100});
  }
  IssueAllowances keyless = issue;
  keyless.idempotency_key.clear();
  ASSERT_TRUE(run(authority, keyless).reply.status.is_ok());
  ASSERT_TRUE(run(authority, keyless).reply.status.is_ok());
  EXPECT_EQ(exchange.registry().holding(bank.holding_account, "CEA2024").available, Qty{300});
}

TEST_F(RegistryCommandsTest, IssuanceIntoAClosedComplianceYearIsRefused) {
  ASSERT_TRUE(run(authority, IssueAllowances{"CEA2024", unit.holding_account, Qty{100}, "2024 allocation"})
                  .reply.status.is_ok());
  ASSERT_TRUE(run(authority, emissions(unit, 10)).reply.status.is_ok());
  ASSERT_TRUE(run(authority, CloseComplianceYear{2024, Price{9'800}}).reply.status.is_ok());
  expect_rejected(authority, IssueAllowances{"CEA2024", unit.holding_account, Qty{100}, "late 2024 issue"},
                  ErrorCode::failed_precondition, "compliance year close: 2024 is closed");
  // An open year's vintage still issues.
  ASSERT_TRUE(run(authority, SetCap{2025, "power", Qty{1'000}, 0, "plan 2025"}).reply.status.is_ok());
  const Outcome next = run(authority, IssueAllowances{"CEA2025", unit.holding_account, Qty{100}, "2025 allocation"});
  EXPECT_TRUE(next.reply.status.is_ok()) << next.reply.status.message();
}

TEST_F(RegistryCommandsTest, CloseComputesThePenaltyBasisFromTheDailyClosesOfThePreviousMonth) {
  ASSERT_TRUE(run(authority, emissions(unit, 10)).reply.status.is_ok());
  // No listed trades closed a day in the month before: refused unless a basis is given.
  expect_rejected(authority, CloseComplianceYear{2024, Price{0}}, ErrorCode::failed_precondition, "penalty basis");
}

TEST_F(RegistryCommandsTest, FreezesAreLiftedOnlyByWhoMayAndSurviveARestore) {
  ASSERT_TRUE(run(authority, direct(unit, 100)).reply.status.is_ok());
  Outcome frozen = run(regulator, Freeze{unit.holding_account, "CEA2024", Qty{40}, "investigation", "case 7", next_key()});
  ASSERT_TRUE(frozen.reply.status.is_ok()) << frozen.reply.status.message();
  const registry::FreezeId by_regulator = frozen.reply.freezes.at(0).record.id;
  EXPECT_EQ(exchange.registry().holding(unit.holding_account, "CEA2024").frozen, Qty{40});
  expect_rejected(authority, Unfreeze{by_regulator, Qty{0}, "done", next_key()}, ErrorCode::permission_denied,
                  "only a regulator");
  // A partial unfreeze: the rest stays frozen with its reason.
  Outcome part = run(regulator, Unfreeze{by_regulator, Qty{10}, "part", next_key()});
  ASSERT_TRUE(part.reply.status.is_ok()) << part.reply.status.message();
  EXPECT_EQ(part.reply.freezes.at(0).remaining, Qty{30});
  EXPECT_TRUE(part.reply.freezes.at(0).active());
  EXPECT_EQ(part.reply.freezes.at(0).record.reason, "investigation");
  EXPECT_EQ(exchange.registry().holding(unit.holding_account, "CEA2024").frozen, Qty{30});
  EXPECT_EQ(exchange.registry().holding(unit.holding_account, "CEA2024").available, Qty{70});
  expect_rejected(regulator, Unfreeze{by_regulator, Qty{31}, "too much", next_key()}, ErrorCode::failed_precondition,
                  "still frozen");
  {
    // A restore keeps the remaining 30 t frozen under the same freeze.
    Exchange restored(config);
    restored.restore(recovered());
    EXPECT_EQ(restored.registry().holding(unit.holding_account, "CEA2024"),
              exchange.registry().holding(unit.holding_account, "CEA2024"));
    const Outcome lifted = restored.execute(Command{regulator, Unfreeze{by_regulator, Qty{0}, "all", "k-r"}}, now + 1);
    ASSERT_TRUE(lifted.reply.status.is_ok()) << lifted.reply.status.message();
    EXPECT_EQ(restored.registry().holding(unit.holding_account, "CEA2024").available, Qty{100});
  }
  ASSERT_TRUE(run(regulator, Unfreeze{by_regulator, Qty{30}, "closed", next_key()}).reply.status.is_ok());
  expect_rejected(regulator, Unfreeze{by_regulator, Qty{0}, "again", next_key()}, ErrorCode::failed_precondition,
                  "already lifted");
  frozen = run(authority, Freeze{unit.holding_account, "CEA2024", Qty{10}, "court order", "", next_key()});
  ASSERT_TRUE(frozen.reply.status.is_ok());

  Exchange restored(config);
  restored.restore(recovered());
  Reply before, after;
  ASSERT_TRUE(query(auditor, ListFreezes{}, &before).is_ok());
  ASSERT_EQ(before.freezes.size(), 2u);
  Outcome listed = restored.execute(Command{auditor, ListFreezes{}}, now);
  ASSERT_EQ(listed.reply.freezes.size(), 2u);
  EXPECT_FALSE(listed.reply.freezes[0].active());
  EXPECT_TRUE(listed.reply.freezes[1].active());
  EXPECT_EQ(restored.registry().holding(unit.holding_account, "CEA2024"),
            exchange.registry().holding(unit.holding_account, "CEA2024"));
  // Both carry on with the same freeze id.
  const Freeze next{unit.holding_account, "CEA2024", Qty{5}, "more", "", next_key()};
  const Outcome a = exchange.execute(Command{regulator, next}, now + 5);
  const Outcome b = restored.execute(Command{regulator, next}, now + 5);
  ASSERT_TRUE(a.reply.status.is_ok() && b.reply.status.is_ok());
  EXPECT_EQ(a.reply.freezes.at(0).record.id, b.reply.freezes.at(0).record.id);
  EXPECT_EQ(a.reply.freezes.at(0).record.id, 3u);
  EXPECT_EQ(restored.registry().ledger().last_hash(), exchange.registry().ledger().last_hash());
}

TEST_F(RegistryCommandsTest, ARegulatorLiftingTheAuthoritysFreezeIsLedgeredAsTheRegulatorsAct) {
  ASSERT_TRUE(run(authority, direct(unit, 100)).reply.status.is_ok());
  const Outcome frozen =
      run(authority, Freeze{unit.holding_account, "CEA2024", Qty{20}, "court order", "case 9", next_key()});
  ASSERT_TRUE(frozen.reply.status.is_ok()) << frozen.reply.status.message();
  const registry::FreezeId id = frozen.reply.freezes.at(0).record.id;
  const Outcome lifted = run(regulator, Unfreeze{id, Qty{0}, "released", next_key()});
  ASSERT_TRUE(lifted.reply.status.is_ok()) << lifted.reply.status.message();
  std::vector<std::string> references;
  for (const Event& event : lifted.events) {
    if (const auto* e = std::get_if<LedgerAppended>(&event)) references.push_back(e->entry.reference);
  }
  ASSERT_EQ(references.size(), 1u);
  EXPECT_EQ(references[0].rfind("freeze:" + std::to_string(id) + ":regulator:", 0), 0u) << references[0];
  EXPECT_EQ(exchange.registry().holding(unit.holding_account, "CEA2024").frozen, Qty{0});
}

TEST_F(RegistryCommandsTest, ARestoredExchangeKeepsCapsAllocationsComplianceAndOwedShortfalls) {
  ASSERT_TRUE(run(authority, direct(unit, 300)).reply.status.is_ok());
  ASSERT_TRUE(run(authority, emissions(unit, 400)).reply.status.is_ok());
  ASSERT_TRUE(run(authority, Surrender{unit.id, 2024, "CEA2024", Qty{300}, next_key()}).reply.status.is_ok());
  ASSERT_TRUE(run(authority, CloseComplianceYear{2024, Price{10'000}}).reply.status.is_ok());

  Exchange restored(config);
  restored.restore(recovered());
  EXPECT_EQ(restored.registry().deduction_owed(unit.holding_account), Qty{100});
  for (const CommandBody& q : {CommandBody{ListCaps{}}, CommandBody{ListAllocations{}},
                               CommandBody{ListComplianceStatuses{2024}}}) {
    const Outcome a = exchange.execute(Command{regulator, q}, now);
    const Outcome b = restored.execute(Command{regulator, q}, now);
    ASSERT_EQ(a.reply.caps.size(), b.reply.caps.size());
    for (std::size_t k = 0; k < a.reply.caps.size(); ++k) {
      EXPECT_EQ(a.reply.caps[k].free_allocated, b.reply.caps[k].free_allocated);
      EXPECT_EQ(a.reply.caps[k].issued, b.reply.caps[k].issued);
    }
    ASSERT_EQ(a.reply.allocations.size(), b.reply.allocations.size());
    ASSERT_EQ(a.reply.compliance.size(), b.reply.compliance.size());
    for (std::size_t k = 0; k < a.reply.compliance.size(); ++k) {
      EXPECT_EQ(a.reply.compliance[k].status.shortfall, b.reply.compliance[k].status.shortfall);
      EXPECT_EQ(a.reply.compliance[k].penalty, b.reply.compliance[k].penalty);
      EXPECT_EQ(a.reply.compliance[k].sector, b.reply.compliance[k].sector);
    }
  }
  // A closed year stays closed; both refuse the same way.
  const Outcome a = exchange.execute(Command{authority, emissions(unit, 1)}, now + 5);
  const Outcome b = restored.execute(Command{authority, emissions(unit, 1)}, now + 5);
  EXPECT_EQ(a.reply.status.code(), ErrorCode::failed_precondition);
  EXPECT_EQ(b.reply.status.code(), ErrorCode::failed_precondition);
}

TEST_F(RegistryCommandsTest, EarlyWarningsCountHoldingsAndOpenBuysAgainstTheObligation) {
  ASSERT_TRUE(run(authority, direct(unit, 300)).reply.status.is_ok());
  ASSERT_TRUE(run(authority, emissions(unit, 1'000)).reply.status.is_ok());
  ASSERT_TRUE(run(authority, emissions(other, 10)).reply.status.is_ok());
  ASSERT_TRUE(run(authority, direct(other, 10)).reply.status.is_ok());
  ASSERT_TRUE(run(op, MoveCash{unit.cash_account, Cash{10'000'000}, "d1", false}).reply.status.is_ok());
  PlaceOrder buy;
  buy.instrument = "CEA2024";
  buy.side = Side::buy;
  buy.price = Price{5'000};
  buy.quantity = Qty{100};
  ASSERT_TRUE(run(trader(unit), buy).reply.status.is_ok());

  Reply reply;
  ASSERT_TRUE(query(regulator, ListEarlyWarnings{2024, 0}, &reply).is_ok());
  ASSERT_EQ(reply.early_warnings.size(), 1u) << "the fully covered unit is not listed";
  const EarlyWarningRecord& w = reply.early_warnings[0];
  EXPECT_EQ(w.participant, unit.id);
  EXPECT_EQ(w.obligation, Qty{1'000});
  EXPECT_EQ(w.eligible, Qty{300});
  EXPECT_EQ(w.open_buys, Qty{100});
  EXPECT_EQ(w.coverage_bps, 4'000);
  ASSERT_TRUE(query(auditor, ListEarlyWarnings{2024, 4'000}, &reply).is_ok());
  EXPECT_TRUE(reply.early_warnings.empty()) << "coverage equal to the threshold is not below it";
  EXPECT_EQ(query(trader(unit), ListEarlyWarnings{2024, 0}).code(), ErrorCode::permission_denied);
  EXPECT_EQ(query(regulator, ListEarlyWarnings{2030, 0}).code(), ErrorCode::not_found);
  EXPECT_EQ(query(regulator, ListEarlyWarnings{2024, 10'001}).code(), ErrorCode::invalid_argument);
}

TEST_F(RegistryCommandsTest, ARepeatedIdempotencyKeyAnswersTheFirstResultWithoutASecondEffect) {
  const AllocateFree allocate = direct(unit, 200);
  const Outcome first = run(authority, allocate);
  ASSERT_TRUE(first.reply.status.is_ok());
  const Outcome again = run(authority, allocate);
  ASSERT_TRUE(again.reply.status.is_ok());
  EXPECT_TRUE(again.events.empty()) << "a repeat is not a second allocation";
  EXPECT_EQ(again.reply.sequence, first.reply.sequence);
  EXPECT_EQ(again.reply.allocations.at(0).id, first.reply.allocations.at(0).id);
  EXPECT_EQ(exchange.registry().holding(unit.holding_account, "CEA2024").available, Qty{200});
  AllocateFree changed = allocate;
  changed.direct = Qty{201};
  expect_rejected(authority, changed, ErrorCode::failed_precondition, "reused with different parameters");

  ASSERT_TRUE(run(authority, emissions(unit, 300)).reply.status.is_ok());
  const Surrender surrender{0, 2024, "CEA2024", Qty{150}, "sur-1"};
  ASSERT_TRUE(run(trader(unit), surrender).reply.status.is_ok());
  // After a restore the key is still known: the repeat surrenders nothing more.
  Exchange restored(config);
  restored.restore(recovered());
  const Outcome repeated = restored.execute(Command{trader(unit), surrender}, now + 5);
  ASSERT_TRUE(repeated.reply.status.is_ok()) << repeated.reply.status.message();
  EXPECT_TRUE(repeated.events.empty());
  EXPECT_EQ(restored.registry().holding(unit.holding_account, "CEA2024").available, Qty{50});
  const Outcome other_quantity =
      restored.execute(Command{trader(unit), Surrender{0, 2024, "CEA2024", Qty{10}, "sur-1"}}, now + 6);
  EXPECT_EQ(other_quantity.reply.status.code(), ErrorCode::failed_precondition);
}

TEST_F(RegistryCommandsTest, ARepeatedFreezeOrPledgeAnswersTheLedgerEntryOfItsFirstUse) {
  ASSERT_TRUE(run(authority, direct(unit, 500)).reply.status.is_ok());
  const Freeze freeze{unit.holding_account, "CEA2024", Qty{40}, "court order", "case 3", "freeze-key"};
  const PledgeUnits pledge{unit.holding_account, "CEA2024", Qty{100}, bank.id, "loan 3", "pledge-key"};
  const Outcome frozen = run(authority, freeze);
  const Outcome pledged = run(authority, pledge);
  ASSERT_TRUE(frozen.reply.status.is_ok()) << frozen.reply.status.message();
  ASSERT_TRUE(pledged.reply.status.is_ok()) << pledged.reply.status.message();
  ASSERT_NE(frozen.reply.ledger_entry_id, 0u);
  ASSERT_NE(pledged.reply.ledger_entry_id, frozen.reply.ledger_entry_id);
  // Another entry after them, so a repeat answering the ledger's last entry would be seen.
  ASSERT_TRUE(run(authority, TransferUnits{unit.holding_account, other.holding_account, "CEA2024", Qty{1}, "r",
                                           next_key()})
                  .reply.status.is_ok());
  const auto expect_first = [&](const Outcome& again, const Outcome& first) {
    ASSERT_TRUE(again.reply.status.is_ok()) << again.reply.status.message();
    EXPECT_TRUE(again.events.empty());
    EXPECT_EQ(again.reply.ledger_entry_id, first.reply.ledger_entry_id);
    EXPECT_EQ(again.reply.sequence, first.reply.sequence);
    EXPECT_EQ(again.reply.holdings.size(), first.reply.holdings.size());
  };
  expect_first(run(authority, freeze), frozen);
  expect_first(run(authority, pledge), pledged);
  // And after a restore, from the keys as recovery reads them.
  Exchange restored(config);
  restored.restore(recovered());
  expect_first(restored.execute(Command{authority, freeze}, now + 5), frozen);
  expect_first(restored.execute(Command{authority, pledge}, now + 6), pledged);
}

// ---- rejections: each names its rule and changes nothing --------------------

TEST_F(RegistryCommandsTest, EveryRejectionHasItsStatusAndChangesNothing) {
  ASSERT_TRUE(run(authority, direct(unit, 100)).reply.status.is_ok());
  ASSERT_TRUE(run(authority, emissions(unit, 200)).reply.status.is_ok());
  auto with = [&](auto command, auto change) {
    change(command);
    return command;
  };
  struct Case {
    const char* name;
    Principal who;
    CommandBody body;
    ErrorCode code;
    std::string rule;
  };
  const ErrorCode inv = ErrorCode::invalid_argument, pre = ErrorCode::failed_precondition,
                  nf = ErrorCode::not_found, perm = ErrorCode::permission_denied;
  const std::vector<Case> cases = {
      {"SetCap by a trader", trader(unit), SetCap{2024, "power", Qty{1}, 0, "r"}, perm, "registry authority"},
      {"SetCap year", authority, SetCap{1999, "power", Qty{1}, 0, "r"}, inv, "compliance_year"},
      {"SetCap sector", authority, SetCap{2024, "Power", Qty{1}, 0, "r"}, inv, "sector"},
      {"SetCap cap", authority, SetCap{2024, "power", Qty{0}, 0, "r"}, inv, "cap_quantity"},
      {"SetCap paid share", authority, SetCap{2024, "power", Qty{1}, 10'001, "r"}, inv, "paid_share_bps"},
      {"SetCap reason", authority, SetCap{2024, "power", Qty{1}, 0, ""}, inv, "reason"},
      {"SetCap below allocated", authority, SetCap{2024, "power", Qty{100}, 5'000, "r"}, pre, "free share"},
      {"AllocateFree by a regulator", regulator, direct(unit, 1), perm, "registry authority"},
      {"AllocateFree no method", authority, direct(unit, 0), inv, "exactly one allocation method"},
      {"AllocateFree no key", authority, with(direct(unit, 1), [](AllocateFree& c) { c.idempotency_key = ""; }), inv,
       "idempotency_key"},
      {"AllocateFree unknown unit", authority, with(direct(unit, 1), [](AllocateFree& c) { c.participant = 99; }), nf,
       "participant 99"},
      {"AllocateFree unknown instrument", authority, direct(unit, 1, 2024, "CEA2099"), nf, "unknown instrument"},
      {"AllocateFree not a unit", authority, direct(bank, 1), pre, "not a key emitting unit"},
      {"AllocateFree wrong vintage", authority, direct(unit, 1, 2024, "CEA2023"), pre, "vintage"},
      {"AllocateFree CCER", authority, direct(unit, 1, 2024, "CCER"), pre, "not an allowance"},
      {"AllocateFree no cap", authority, with(direct(unit, 1), [](AllocateFree& c) { c.sector = "steel"; }), pre,
       "no cap"},
      {"AllocateFree bad factor", authority,
       with(direct(unit, 0), [](AllocateFree& c) { c.formula = registry::AllocationFormula{1, 1, {0}}; }), inv,
       "factor"},
      {"Emissions by a trader", trader(unit), emissions(unit, 1), perm, "registry authority"},
      {"Emissions negative", authority, emissions(unit, -1), inv, "verified_emissions"},
      {"Emissions verifier", authority,
       with(emissions(unit, 1), [](RecordVerifiedEmissions& c) { c.verifier = ""; }), inv, "verifier"},
      {"Emissions unknown unit", authority,
       with(emissions(unit, 1), [](RecordVerifiedEmissions& c) { c.participant = 99; }), nf, "participant 99"},
      {"Emissions not a unit", authority, emissions(bank, 1), pre, "not a key emitting unit"},
      {"Emissions correction without reason", authority, emissions(unit, 250), pre, "needs a reason"},
      {"Surrender by an operator", op, Surrender{unit.id, 2024, "CEA2024", Qty{1}, next_key()}, perm, "Surrender"},
      {"Surrender for another", trader(other), Surrender{unit.id, 2024, "CEA2024", Qty{1}, next_key()}, perm,
       "another participant"},
      {"Surrender zero", trader(unit), Surrender{0, 2024, "CEA2024", Qty{0}, next_key()}, inv, "quantity"},
      {"Surrender no key", trader(unit), Surrender{0, 2024, "CEA2024", Qty{1}, ""}, inv, "idempotency_key"},
      {"Surrender unknown instrument", trader(unit), Surrender{0, 2024, "CEA2099", Qty{1}, next_key()}, nf,
       "unknown instrument"},
      {"Surrender unknown unit", authority, Surrender{99, 2024, "CEA2024", Qty{1}, next_key()}, nf, "participant 99"},
      {"Surrender no obligation", trader(other), Surrender{0, 2024, "CEA2024", Qty{1}, next_key()}, pre, ""},
      {"Surrender later vintage", trader(unit), Surrender{0, 2023, "CEA2024", Qty{1}, next_key()}, pre, ""},
      {"Surrender more than held", trader(unit), Surrender{0, 2024, "CEA2024", Qty{101}, next_key()}, pre, ""},
      {"Surrender CCER beyond the cap", trader(unit), Surrender{0, 2024, "CCER", Qty{11}, next_key()}, pre, "CCER"},
      {"Close by a regulator", regulator, CloseComplianceYear{2024, Price{1}}, perm, "registry authority"},
      {"Close negative basis", authority, CloseComplianceYear{2024, Price{-1}}, inv, "penalty_basis_price_fen"},
      {"Close unknown year", authority, CloseComplianceYear{2030, Price{1}}, nf, "no verified emissions"},
      {"Freeze by an operator", op, Freeze{unit.holding_account, "CEA2024", Qty{1}, "r", "", next_key()}, perm, "Freeze"},
      {"Freeze no account", regulator, Freeze{0, "CEA2024", Qty{1}, "r", "", next_key()}, inv, "holding_account_id"},
      {"Freeze no reason", regulator, Freeze{unit.holding_account, "CEA2024", Qty{1}, "", "", next_key()}, inv, "reason"},
      {"Freeze unknown account", regulator, Freeze{999, "CEA2024", Qty{1}, "r", "", next_key()}, nf, "999"},
      {"Freeze unknown instrument", regulator, Freeze{unit.holding_account, "CEA2099", Qty{1}, "r", "", next_key()}, nf,
       "unknown instrument"},
      {"Freeze more than available", regulator, Freeze{unit.holding_account, "CEA2024", Qty{101}, "r", "", next_key()}, pre,
       ""},
      {"Unfreeze unknown", regulator, Unfreeze{42, Qty{0}, "r", next_key()}, nf, "freeze 42"},
      {"Unfreeze negative", regulator, Unfreeze{42, Qty{-1}, "r", next_key()}, inv, "quantity"},
      {"Transfer by a regulator", regulator,
       TransferUnits{unit.holding_account, bank.holding_account, "CEA2024", Qty{1}, "r", next_key()}, perm,
       "registry authority"},
      {"Transfer same account", authority,
       TransferUnits{unit.holding_account, unit.holding_account, "CEA2024", Qty{1}, "r", next_key()}, inv, "same"},
      {"Transfer unknown account", authority,
       TransferUnits{unit.holding_account, 999, "CEA2024", Qty{1}, "r", next_key()}, nf, "999"},
      {"Transfer from issuance", authority,
       TransferUnits{registry::kIssuanceAccount, bank.holding_account, "CEA2024", Qty{1}, "r", next_key()}, pre,
       "issuance account"},
      {"Transfer to a natural person", authority,
       TransferUnits{unit.holding_account, person.holding_account, "CEA2024", Qty{1}, "r", next_key()}, pre,
       "natural persons"},
      {"Transfer more than available", authority,
       TransferUnits{unit.holding_account, bank.holding_account, "CEA2024", Qty{101}, "r", next_key()}, pre, ""},
      {"IssueAllowances to a natural person", authority,
       IssueAllowances{"CEA2024", person.holding_account, Qty{1}, "r"}, pre, "natural persons may trade CCER only"},
      {"IssueAllowances above a bank's position limit", authority,
       IssueAllowances{"CEA2024", bank.holding_account, Qty{1'000'001}, "r"}, pre,
       "position limit: holdings plus open buys would reach 1000001 t"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    expect_rejected(c.who, c.body, c.code, c.rule);
  }
}

TEST_F(RegistryCommandsTest, QueriesRefuseWhatTheCallerMayNotSee) {
  ASSERT_TRUE(run(authority, emissions(unit, 200)).reply.status.is_ok());
  EXPECT_EQ(query(trader(other), GetComplianceStatus{unit.id, 2024}).code(), ErrorCode::permission_denied);
  EXPECT_EQ(query(trader(unit), GetComplianceStatus{0, 2024}).code(), ErrorCode::ok);
  EXPECT_EQ(query(regulator, GetComplianceStatus{other.id, 2024}).code(), ErrorCode::not_found);
  EXPECT_EQ(query(regulator, GetComplianceStatus{99, 2024}).code(), ErrorCode::not_found);
  EXPECT_EQ(query(trader(unit), ListCaps{}).code(), ErrorCode::permission_denied);
  EXPECT_EQ(query(trader(unit), ListAllocations{0, other.id, ""}).code(), ErrorCode::permission_denied);
  EXPECT_EQ(query(trader(unit), GetHoldings{other.holding_account}).code(), ErrorCode::permission_denied);
  EXPECT_EQ(query(trader(unit), GetHoldings{unit.holding_account}).code(), ErrorCode::ok);
  EXPECT_EQ(query(auditor, GetHoldings{12345}).code(), ErrorCode::not_found);
  EXPECT_EQ(query(auditor, GetHoldings{0}).code(), ErrorCode::invalid_argument);
  EXPECT_EQ(query(auditor, ListFreezes{0, "", 3}).code(), ErrorCode::invalid_argument);
}

// ---- compliance-year configuration and pledges ------------------------------------

constexpr UnixNanos kHour = 3'600'000'000'000;

TEST_F(RegistryCommandsTest, AConfiguredYearClosesAfterItsDeadlineWithItsMultiple) {
  ASSERT_TRUE(run(authority, direct(unit, 500)).reply.status.is_ok());
  ASSERT_TRUE(run(authority, emissions(unit, 600)).reply.status.is_ok());
  Outcome out = run(authority, ConfigureComplianceYear{2024, now + kHour, 0, 7, 8'000});
  ASSERT_TRUE(out.reply.status.is_ok()) << out.reply.status.message();
  ASSERT_EQ(out.reply.compliance_years.size(), 1u);
  EXPECT_EQ(out.reply.compliance_years[0].penalty_multiple, 7);
  EXPECT_EQ(out.reply.compliance_years[0].ccer_limit_bps, 500);
  expect_rejected(authority, CloseComplianceYear{2024, Price{9'800}}, ErrorCode::failed_precondition,
                  "deadline of 2024");
  now += 2 * kHour;
  // Past the deadline the unit is compliant or short: a late surrender does not count.
  expect_rejected(trader(unit), Surrender{0, 2024, "CEA2024", Qty{1}, next_key()}, ErrorCode::failed_precondition,
                  "compliance deadline rule: the surrender deadline of 2024");
  // Nor does a lower figure for the emissions, or a deadline moved back into the future: either would erase
  // the shortfall the deadline fixed.
  RecordVerifiedEmissions lower = emissions(unit, 100);
  lower.reason = "re-verified";
  expect_rejected(authority, lower, ErrorCode::failed_precondition,
                  "has passed; verified emissions recorded for " + unit.code + " are no longer corrected");
  expect_rejected(authority, ConfigureComplianceYear{2024, now + kHour, 0, 7, 8'000}, ErrorCode::failed_precondition,
                  "has passed; the year is no longer configured, only closed");
  // A unit's first record may still come late (it can only be short).
  ASSERT_TRUE(run(authority, emissions(other, 10)).reply.status.is_ok());
  // The basis month is the one before the deadline's (November 2025): no closes there.
  expect_rejected(authority, CloseComplianceYear{2024, Price{0}}, ErrorCode::failed_precondition, "2025-10");
  {
    Exchange restored(config);
    restored.restore(recovered());
    const Outcome closed = restored.execute(Command{authority, CloseComplianceYear{2024, Price{9'800}}}, now + 1);
    ASSERT_TRUE(closed.reply.status.is_ok()) << closed.reply.status.message();
    EXPECT_EQ(closed.reply.penalty_multiple, 7) << "the restored exchange keeps the configured multiple";
  }
  out = run(authority, CloseComplianceYear{2024, Price{9'800}});
  ASSERT_TRUE(out.reply.status.is_ok()) << out.reply.status.message();
  EXPECT_EQ(out.reply.penalty_multiple, 7);
  Reply reply;
  ASSERT_TRUE(query(regulator, GetComplianceStatus{unit.id, 2024}, &reply).is_ok());
  EXPECT_EQ(reply.compliance.at(0).penalty, Cash{600 * 9'800 * 7});  // nothing surrendered: 600 t short
  EXPECT_EQ(reply.compliance.at(0).penalty_multiple, 7);
  expect_rejected(authority, ConfigureComplianceYear{2024, now + kHour, 0, 5, 0}, ErrorCode::failed_precondition,
                  "is closed");
}

TEST_F(RegistryCommandsTest, TheConfiguredThresholdIsTheDefaultOfEarlyWarnings) {
  ASSERT_TRUE(run(authority, direct(unit, 500)).reply.status.is_ok());
  ASSERT_TRUE(run(authority, emissions(unit, 600)).reply.status.is_ok());  // covered 500 of 600: 8,333 bps
  Reply reply;
  ASSERT_TRUE(query(regulator, ListEarlyWarnings{2024, 0}, &reply).is_ok());
  EXPECT_EQ(reply.early_warnings.size(), 1u);
  EXPECT_EQ(reply.threshold_bps, 10'000) << "no configured threshold: 10,000 applied";
  ASSERT_TRUE(run(authority, ConfigureComplianceYear{2024, now + kHour, 500, 5, 8'000}).reply.status.is_ok());
  ASSERT_TRUE(query(regulator, ListEarlyWarnings{2024, 0}, &reply).is_ok());
  EXPECT_TRUE(reply.early_warnings.empty()) << "8,333 bps is above the configured 8,000";
  EXPECT_EQ(reply.threshold_bps, 8'000) << "the configured threshold is the one reported";
  ASSERT_TRUE(query(regulator, ListEarlyWarnings{2024, 9'000}, &reply).is_ok());
  EXPECT_EQ(reply.early_warnings.size(), 1u);
  EXPECT_EQ(reply.threshold_bps, 9'000) << "a threshold in the request wins over the configured one";
}

// Enforcement is not stopped by the pledgee's position limit (registry.proto); a breach it causes raises a
// position-limit alert to the regulators, naming the pledgee.
TEST_F(RegistryCommandsTest, AnEnforcementThatBreachesThePledgeesLimitRaisesAnAlert) {
  ASSERT_TRUE(run(authority, direct(unit, 500)).reply.status.is_ok());
  const Outcome pledged =
      run(authority, PledgeUnits{unit.holding_account, "CEA2024", Qty{300}, bank.id, "loan 7", next_key()});
  ASSERT_TRUE(pledged.reply.status.is_ok()) << pledged.reply.status.message();
  const registry::PledgeId id = pledged.reply.pledges.at(0).record.id;
  UpdateInstrumentRules limit{"CEA2024", {}};
  limit.rules.position_limit = 100;
  const Outcome updated = run(op, limit);
  ASSERT_TRUE(updated.reply.status.is_ok()) << updated.reply.status.message();
  auto alerts_in = [](const Outcome& out) {
    std::vector<AlertRecord> alerts;
    for (const Event& event : out.events) {
      if (const auto* raised = std::get_if<AlertRaised>(&event)) alerts.push_back(raised->alert);
    }
    return alerts;
  };
  const Outcome within = run(authority, EnforcePledge{id, Qty{100}, "default notice", next_key()});
  ASSERT_TRUE(within.reply.status.is_ok()) << within.reply.status.message();
  EXPECT_TRUE(alerts_in(within).empty()) << "100 t is the limit, not above it";
  const Outcome beyond = run(authority, EnforcePledge{id, Qty{50}, "default notice", next_key()});
  ASSERT_TRUE(beyond.reply.status.is_ok()) << beyond.reply.status.message();
  EXPECT_EQ(exchange.registry().holding(bank.holding_account, "CEA2024").available, Qty{150});
  const std::vector<AlertRecord> alerts = alerts_in(beyond);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].type, AlertRecord::kPositionLimitBreach);
  EXPECT_EQ(alerts[0].participants, std::vector<ParticipantId>{bank.id});
  EXPECT_EQ(alerts[0].metric_value, 150);
  EXPECT_EQ(alerts[0].threshold_value, 100);
  EXPECT_NE(alerts[0].description.find("pledge " + std::to_string(id) + " enforced: position limit"),
            std::string::npos)
      << alerts[0].description;
}

TEST_F(RegistryCommandsTest, PledgedUnitsAreLockedUntilReleasedOrEnforcedAndSurviveARestore) {
  ASSERT_TRUE(run(authority, direct(unit, 500)).reply.status.is_ok());
  Outcome out = run(authority, PledgeUnits{unit.holding_account, "CEA2024", Qty{300}, bank.id, "loan 1", next_key()});
  ASSERT_TRUE(out.reply.status.is_ok()) << out.reply.status.message();
  const registry::PledgeId id = out.reply.pledges.at(0).record.id;
  EXPECT_NE(out.reply.ledger_entry_id, 0u);
  EXPECT_EQ(out.reply.holdings.at(0).holding.pledged, Qty{300});
  EXPECT_EQ(out.reply.holdings.at(0).holding.available, Qty{200});
  // Pledged units cannot be transferred, surrendered, sold or pledged again.
  expect_rejected(authority, TransferUnits{unit.holding_account, other.holding_account, "CEA2024", Qty{201}, "r",
                                           next_key()},
                  ErrorCode::failed_precondition, "pledged: these cannot move");
  expect_rejected(authority, PledgeUnits{unit.holding_account, "CEA2024", Qty{201}, bank.id, "loan 2", next_key()},
                  ErrorCode::failed_precondition, "insufficient units");
  // Partial release, then a restart, then partial enforcement and release of the rest.
  out = run(authority, ReleasePledge{id, Qty{100}, "repaid in part", next_key()});
  ASSERT_TRUE(out.reply.status.is_ok()) << out.reply.status.message();
  EXPECT_EQ(out.reply.pledges.at(0).remaining, Qty{200});
  EXPECT_EQ(out.reply.pledges.at(0).released, Qty{100});
  EXPECT_EQ(exchange.registry().holding(unit.holding_account, "CEA2024").available, Qty{300});

  Exchange restored(config);
  restored.restore(recovered());
  EXPECT_EQ(restored.registry().holding(unit.holding_account, "CEA2024"),
            exchange.registry().holding(unit.holding_account, "CEA2024"));
  const EnforcePledge enforce{id, Qty{150}, "default notice 9", next_key()};
  const Outcome a = exchange.execute(Command{authority, enforce}, now + 1);
  const Outcome b = restored.execute(Command{authority, enforce}, now + 1);
  record(a);
  ASSERT_TRUE(a.reply.status.is_ok() && b.reply.status.is_ok()) << a.reply.status.message() << b.reply.status.message();
  EXPECT_EQ(a.reply.pledges.at(0).enforced, Qty{150});
  EXPECT_EQ(a.reply.pledges.at(0).remaining, Qty{50});
  EXPECT_EQ(a.reply.holdings.at(1).holding.available, Qty{150}) << "the pledgee's available units";
  EXPECT_EQ(restored.registry().ledger().last_hash(), exchange.registry().ledger().last_hash());
  EXPECT_EQ(exchange.registry().net_total("CEA2024"), Qty{0});
  out = run(authority, EnforcePledge{id, Qty{0}, "the rest", next_key()});
  ASSERT_TRUE(out.reply.status.is_ok()) << out.reply.status.message();
  EXPECT_FALSE(out.reply.pledges.at(0).active());
  EXPECT_TRUE(out.reply.pledges.at(0).last_enforced);
  EXPECT_EQ(exchange.registry().holding(bank.holding_account, "CEA2024").available, Qty{200});
  expect_rejected(authority, ReleasePledge{id, Qty{0}, "late", next_key()}, ErrorCode::failed_precondition,
                  "no longer active (enforced)");

  Reply reply;
  ASSERT_TRUE(query(trader(bank), ListPledges{0, 3}, &reply).is_ok());
  EXPECT_EQ(reply.pledges.size(), 1u) << "the pledgee sees the pledge";
  ASSERT_TRUE(query(trader(other), ListPledges{0, 0}, &reply).is_ok());
  EXPECT_TRUE(reply.pledges.empty());
  EXPECT_EQ(query(trader(other), ListPledges{unit.id, 0}).code(), ErrorCode::permission_denied);
  EXPECT_EQ(query(auditor, ListPledges{0, 4}).code(), ErrorCode::invalid_argument);
  EXPECT_EQ(query(op, ListPledges{0, 0}).code(), ErrorCode::permission_denied);
}

TEST_F(RegistryCommandsTest, PledgeAndConfigurationRejectionsHaveTheirStatusAndChangeNothing) {
  ASSERT_TRUE(run(authority, direct(unit, 100)).reply.status.is_ok());
  ASSERT_TRUE(run(regulator, Freeze{unit.holding_account, "CEA2024", Qty{60}, "probe", "", next_key()})
                  .reply.status.is_ok());
  const Outcome pledged =
      run(authority, PledgeUnits{unit.holding_account, "CEA2024", Qty{10}, bank.id, "loan", "pledge-key"});
  ASSERT_TRUE(pledged.reply.status.is_ok()) << pledged.reply.status.message();
  const registry::PledgeId id = pledged.reply.pledges.at(0).record.id;
  ASSERT_TRUE(run(authority, ReleasePledge{id, Qty{5}, "part", "release-key"}).reply.status.is_ok());
  const ErrorCode inv = ErrorCode::invalid_argument, pre = ErrorCode::failed_precondition,
                  nf = ErrorCode::not_found, perm = ErrorCode::permission_denied;
  const AccountId acct = unit.holding_account;
  struct Case {
    const char* name;
    Principal who;
    CommandBody body;
    ErrorCode code;
    std::string rule;
  };
  const std::vector<Case> cases = {
      {"Configure by a regulator", regulator, ConfigureComplianceYear{2024, now + kHour, 0, 5, 0}, perm,
       "registry authority"},
      {"Configure year", authority, ConfigureComplianceYear{1999, now + kHour, 0, 5, 0}, inv, "compliance_year"},
      {"Configure no deadline", authority, ConfigureComplianceYear{2024, 0, 0, 5, 0}, inv, "deadline"},
      {"Configure multiple 4", authority, ConfigureComplianceYear{2024, now + kHour, 0, 4, 0}, inv,
       "decree 775, art. 24"},
      {"Configure multiple 11", authority, ConfigureComplianceYear{2024, now + kHour, 0, 11, 0}, inv,
       "penalty multiplier must be 5 to 10"},
      {"Configure CCER limit range", authority, ConfigureComplianceYear{2024, now + kHour, 10'001, 5, 0}, inv,
       "ccer_limit_bps"},
      {"Configure CCER limit other than 5%", authority, ConfigureComplianceYear{2024, now + kHour, 1'000, 5, 0}, pre,
       "art. 29"},
      {"Configure threshold", authority, ConfigureComplianceYear{2024, now + kHour, 0, 5, 10'001}, inv,
       "early_warning_threshold_bps"},
      {"Configure deadline in the past", authority, ConfigureComplianceYear{2024, now - kHour, 0, 5, 0}, pre,
       "in the past"},
      {"Pledge by a regulator", regulator, PledgeUnits{acct, "CEA2024", Qty{1}, bank.id, "c", "k1"}, perm,
       "registry authority"},
      {"Pledge no account", authority, PledgeUnits{0, "CEA2024", Qty{1}, bank.id, "c", "k1"}, inv,
       "holding_account_id"},
      {"Pledge zero", authority, PledgeUnits{acct, "CEA2024", Qty{0}, bank.id, "c", "k1"}, inv, "quantity"},
      {"Pledge no pledgee", authority, PledgeUnits{acct, "CEA2024", Qty{1}, 0, "c", "k1"}, inv, "pledgee"},
      {"Pledge no contract", authority, PledgeUnits{acct, "CEA2024", Qty{1}, bank.id, "", "k1"}, inv,
       "contract_reference"},
      {"Pledge no key", authority, PledgeUnits{acct, "CEA2024", Qty{1}, bank.id, "c", ""}, inv, "idempotency_key"},
      {"Pledge unknown instrument", authority, PledgeUnits{acct, "CEA2099", Qty{1}, bank.id, "c", "k1"}, nf,
       "unknown instrument"},
      {"Pledge unknown account", authority, PledgeUnits{999, "CEA2024", Qty{1}, bank.id, "c", "k1"}, nf, "999"},
      {"Pledge unknown pledgee", authority, PledgeUnits{acct, "CEA2024", Qty{1}, 99, "c", "k1"}, nf,
       "pledgee participant 99"},
      {"Pledge system account", authority,
       PledgeUnits{registry::kReserveAccount, "CEA2024", Qty{1}, bank.id, "c", "k1"}, pre, "system account"},
      {"Pledge to itself", authority, PledgeUnits{acct, "CEA2024", Qty{1}, unit.id, "c", "k1"}, pre,
       "pledgee is the pledgor"},
      {"Pledge to a natural person", authority, PledgeUnits{acct, "CEA2024", Qty{1}, person.id, "c", "k1"}, pre,
       "natural persons"},
      {"Pledge frozen units", authority, PledgeUnits{acct, "CEA2024", Qty{36}, bank.id, "c", "k1"}, pre,
       "60 t frozen"},
      {"Pledge key reused", authority, PledgeUnits{acct, "CEA2024", Qty{2}, bank.id, "loan", "pledge-key"}, pre,
       "idempotency key"},
      {"Release by a trader", trader(unit), ReleasePledge{id, Qty{0}, "r", "k2"}, perm, "registry authority"},
      {"Release no id", authority, ReleasePledge{0, Qty{0}, "r", "k2"}, inv, "pledge_id"},
      {"Release negative", authority, ReleasePledge{id, Qty{-1}, "r", "k2"}, inv, "quantity"},
      {"Release no reason", authority, ReleasePledge{id, Qty{0}, "", "k2"}, inv, "reason"},
      {"Release unknown", authority, ReleasePledge{77, Qty{0}, "r", "k2"}, nf, "pledge 77"},
      {"Release too much", authority, ReleasePledge{id, Qty{6}, "r", "k2"}, pre, "still pledged"},
      {"Release key reused", authority, ReleasePledge{id, Qty{1}, "part", "release-key"}, pre, "idempotency key"},
      {"Enforce by a regulator", regulator, EnforcePledge{id, Qty{0}, "r", "k3"}, perm, "registry authority"},
      {"Enforce negative", authority, EnforcePledge{id, Qty{-1}, "r", "k3"}, inv, "quantity"},
      {"Enforce no key", authority, EnforcePledge{id, Qty{0}, "r", ""}, inv, "idempotency_key"},
      {"Enforce unknown", authority, EnforcePledge{77, Qty{0}, "r", "k3"}, nf, "pledge 77"},
      {"Enforce too much", authority, EnforcePledge{id, Qty{6}, "r", "k3"}, pre, "still pledged"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    expect_rejected(c.who, c.body, c.code, c.rule);
  }
  // A repeat with the same key answers the first result without a second effect.
  const Outcome again =
      run(authority, PledgeUnits{unit.holding_account, "CEA2024", Qty{10}, bank.id, "loan", "pledge-key"});
  ASSERT_TRUE(again.reply.status.is_ok());
  EXPECT_TRUE(again.events.empty());
  EXPECT_EQ(again.reply.pledges.at(0).record.id, id);
  EXPECT_EQ(exchange.registry().holding(unit.holding_account, "CEA2024").pledged, Qty{5});
}

}  // namespace
}  // namespace carbon::engine
