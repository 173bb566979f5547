// CCER as the engine runs it: methodologies, projects, issuance of
// serial-numbered blocks, delivery of the oldest serials on a trade,
// retirement, the queries, and a restore that keeps every block. Every
// rejection is checked for its code, its rule, a journaled rejection and no
// change.
#include <gtest/gtest.h>

#include <limits>
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

using Blocks = std::vector<registry::CcerBlock>;

registry::CcerBlock block(std::uint64_t first, std::uint64_t last, registry::ProjectId project = 1,
                          std::uint16_t vintage = 2024) {
  return registry::CcerBlock{first, last, project, vintage};
}

class CcerCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    developer = create("INST-DEV", ParticipantType::institution);
    buyer = create("KEU-001", ParticipantType::key_emitting_unit);
    person = create("PERSON-1", ParticipantType::natural_person);
    ASSERT_TRUE(run(authority, methodology("CCER-14-001-V01")).reply.status.is_ok());
    const Outcome project = run(authority, project_of("P-0001", developer));
    ASSERT_TRUE(project.reply.status.is_ok()) << project.reply.status.message();
  }

  Outcome run(const Principal& who, CommandBody body) {
    now += 1'000'000;
    Outcome outcome = exchange.execute(Command{who, std::move(body)}, now);
    record(outcome);
    return outcome;
  }

  /// Keeps the events the way the store projects them, for a restore.
  void record(const Outcome& outcome) {
    if (outcome.sequence != 0) state.last_sequence = outcome.sequence;
    for (const Event& event : outcome.events) {
      if (auto* e = std::get_if<ParticipantCreated>(&event)) state.participants.push_back(e->participant);
      if (auto* e = std::get_if<HoldingChanged>(&event)) holdings[{e->holding.account, e->holding.instrument}] = e->holding;
      if (auto* e = std::get_if<CashChanged>(&event)) cash[e->cash.account] = e->cash;
      if (auto* e = std::get_if<LedgerAppended>(&event)) {
        state.last_ledger_entry_id = e->entry.entry_id;
        state.last_ledger_hash = e->entry.hash;
      }
      if (auto* e = std::get_if<MarketStateChanged>(&event)) state.market = e->state;
      if (auto* e = std::get_if<IdempotencyKeyUsed>(&event)) state.idempotency.push_back(e->record);
      if (auto* e = std::get_if<MethodologyRegistered>(&event)) state.methodologies.push_back(e->methodology);
      if (auto* e = std::get_if<CcerProjectChanged>(&event)) projects[e->project.project.id] = e->project;
      if (auto* e = std::get_if<CcerIssued>(&event)) state.issuances.push_back(e->issuance);
      if (auto* e = std::get_if<CcerBlocksChanged>(&event)) blocks[e->account] = *e;
      if (auto* e = std::get_if<UnitsRetired>(&event)) state.retirements.push_back(e->retirement);
    }
  }

  RecoveredState recovered() const {
    RecoveredState out = state;
    for (const auto& [k, v] : holdings) out.holdings.push_back(v);
    for (const auto& [k, v] : cash) out.cash.push_back(v);
    for (const auto& [k, v] : projects) out.projects.push_back(v);
    for (const auto& [k, v] : blocks) out.ccer_blocks.push_back(v);
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

  static RegisterMethodology methodology(std::string code) {
    return RegisterMethodology{MethodologyRecord{std::move(code), "Afforestation carbon sink", "V01", "forestry",
                                                 "MEE 2023 No. 1", 0, 0}};
  }
  static RegisterCcerProject project_of(std::string code, const ParticipantRecord& owner,
                                        std::string methodology_code = "CCER-14-001-V01") {
    return RegisterCcerProject{std::move(code), "Hilltop forest", std::move(methodology_code), owner.id,
                               "Yunnan, Pu'er", "CQC", "VAL-2024-17", "notice-88", "2023-01-01", "2032-12-31"};
  }
  IssueCcerCredits issue(std::int64_t tonnes, std::string start = "2024-01-01", std::string end = "2024-06-30",
                         int vintage = 2024, registry::ProjectId project = 1) {
    return IssueCcerCredits{project, vintage, Qty{tonnes}, std::move(start), std::move(end), "CEC", "VER-1",
                            next_key()};
  }
  RetireUnits retire(std::int64_t tonnes, ParticipantId participant = 0, std::string instrument = "CCER") {
    return RetireUnits{participant, std::move(instrument), Qty{tonnes}, "Green Games 2026", "offset of 2025 scope 1",
                       next_key()};
  }
  std::string next_key() { return "key-" + std::to_string(++keys_used); }
  int keys_used = 0;

  Blocks blocks_of(const ParticipantRecord& p) const { return exchange.registry().ccer_blocks_of(p.holding_account); }

  /// Everything a CCER rejection must leave unchanged.
  std::string snapshot() const {
    std::string out;
    for (AccountId account : {developer.holding_account, buyer.holding_account, person.holding_account,
                              registry::kIssuanceAccount, registry::kCancellationAccount}) {
      for (const auto& h : exchange.registry().holdings_of(account)) {
        out += std::to_string(account) + h.instrument + ":" + std::to_string(h.holding.available.value) + "/" +
               std::to_string(h.holding.frozen.value) + ";";
      }
      for (const auto& b : exchange.registry().ccer_blocks_of(account)) {
        out += "[" + std::to_string(b.first_serial) + "-" + std::to_string(b.last_serial) + "]";
      }
    }
    out += "|" + std::to_string(exchange.registry().ledger().last_entry_id());
    out += "|p" + std::to_string(exchange.registry().projects().size());
    out += "|m" + std::to_string(exchange.registry().methodologies().size());
    out += "|r" + std::to_string(exchange.registry().retirements().size());
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

  /// The developer sells `tonnes` CCER to the buyer on the listed book.
  void trade(std::int64_t tonnes) {
    ASSERT_TRUE(run(op, MoveCash{buyer.cash_account, Cash{100'000'000}, next_key(), false}).reply.status.is_ok());
    const Outcome sell =
        run(trader(developer), PlaceOrder{"CCER", Side::sell, OrderType::limit, TimeInForce::day, TradingMode::listed,
                                          Price{5'000}, Qty{tonnes}, next_key()});
    ASSERT_TRUE(sell.reply.status.is_ok()) << sell.reply.status.message();
    const Outcome buy =
        run(trader(buyer), PlaceOrder{"CCER", Side::buy, OrderType::limit, TimeInForce::day, TradingMode::listed,
                                      Price{5'000}, Qty{tonnes}, next_key()});
    ASSERT_TRUE(buy.reply.status.is_ok()) << buy.reply.status.message();
    ASSERT_EQ(buy.reply.trades.size(), 1u);
  }

  Config config = test_config();
  Exchange exchange{config};
  UnixNanos now = kStart;
  Principal op{Role::operator_, 0, "ops"};
  Principal authority{Role::registry_authority, 0, "registry"};
  Principal regulator{Role::regulator, 0, "regulator"};
  Principal auditor{Role::auditor, 0, "auditor"};
  ParticipantRecord developer, buyer, person;

  RecoveredState state;
  std::map<std::pair<AccountId, std::string>, registry::HoldingRecord> holdings;
  std::map<AccountId, CashRecord> cash;
  std::map<registry::ProjectId, CcerProjectRecord> projects;
  std::map<AccountId, CcerBlocksChanged> blocks;
};

TEST_F(CcerCommandsTest, IssuanceCreditsTheOwnerWithAFreshBlockOfSerials) {
  const Outcome first = run(authority, issue(1'000));
  ASSERT_TRUE(first.reply.status.is_ok()) << first.reply.status.message();
  ASSERT_EQ(first.reply.issuances.size(), 1u);
  EXPECT_EQ(first.reply.issuances[0].block, block(1, 1'000));
  EXPECT_EQ(first.reply.issuances[0].account, developer.holding_account);
  EXPECT_EQ(first.reply.holdings.at(0).holding.available, Qty{1'000});
  const Outcome second = run(authority, issue(500, "2024-07-01", "2024-12-31"));
  ASSERT_TRUE(second.reply.status.is_ok()) << second.reply.status.message();
  EXPECT_EQ(blocks_of(developer), (Blocks{block(1, 1'000), block(1'001, 1'500)}));
  EXPECT_EQ(exchange.registry().ledger().last_appended().reference, "ccer:P-0001:2024:1001-1500:VER-1");

  Reply reply;
  ASSERT_TRUE(query(trader(person), ListCcerProjects{}, &reply).is_ok());
  ASSERT_EQ(reply.projects.size(), 1u);
  EXPECT_EQ(reply.projects[0].issued, Qty{1'500});
  EXPECT_EQ(reply.projects[0].owner, developer.id);
  ASSERT_TRUE(query(trader(person), ListMethodologies{}, &reply).is_ok());
  ASSERT_EQ(reply.methodologies.size(), 1u);
  EXPECT_EQ(reply.methodologies[0].version, "V01");
}

TEST_F(CcerCommandsTest, ATradeDeliversTheOldestSerialsAndRetirementCancelsTheNextOnes) {
  ASSERT_TRUE(run(authority, issue(1'000)).reply.status.is_ok());
  ASSERT_TRUE(run(authority, issue(500, "2025-01-01", "2025-06-30", 2025)).reply.status.is_ok());
  trade(1'200);
  EXPECT_EQ(blocks_of(buyer), (Blocks{block(1, 1'000), block(1'001, 1'200, 1, 2025)}));
  EXPECT_EQ(blocks_of(developer), (Blocks{block(1'201, 1'500, 1, 2025)}));
  ASSERT_EQ(blocks[buyer.holding_account].blocks, blocks_of(buyer)) << "the split is journaled";
  ASSERT_EQ(blocks[developer.holding_account].blocks, blocks_of(developer));

  const Outcome retired = run(trader(developer), retire(100));
  ASSERT_TRUE(retired.reply.status.is_ok()) << retired.reply.status.message();
  ASSERT_EQ(retired.reply.retirements.size(), 1u);
  const RetirementRecord& r = retired.reply.retirements[0];
  EXPECT_EQ(r.retirement.blocks, (Blocks{block(1'201, 1'300, 1, 2025)}));
  EXPECT_EQ(r.participant, developer.id);
  EXPECT_EQ(r.retirement.beneficiary, "Green Games 2026");
  EXPECT_EQ(retired.reply.holdings.at(0).holding.available, Qty{200});
  EXPECT_EQ(blocks_of(developer), (Blocks{block(1'301, 1'500, 1, 2025)}));
  EXPECT_EQ(exchange.registry().ccer_blocks_of(registry::kCancellationAccount), (Blocks{block(1'201, 1'300, 1, 2025)}));
  EXPECT_EQ(exchange.registry().holding(registry::kCancellationAccount, "CCER").available, Qty{100});

  // Public: any role reads it, newest first.
  ASSERT_TRUE(run(authority, retire(50, developer.id)).reply.status.is_ok());
  Reply reply;
  ASSERT_TRUE(query(trader(person), ListRetirements{}, &reply).is_ok());
  ASSERT_EQ(reply.retirements.size(), 2u);
  EXPECT_EQ(reply.retirements[0].retirement.id, 2u);
  EXPECT_EQ(reply.retirements[0].retirement.blocks, (Blocks{block(1'301, 1'350, 1, 2025)}));
  ASSERT_TRUE(query(auditor, ListRetirements{"CCER", developer.id, 0, reply.retirements[0].retirement.retired_at}, &reply)
                  .is_ok());
  ASSERT_EQ(reply.retirements.size(), 1u);
  EXPECT_EQ(reply.retirements[0].retirement.id, 1u);

  // The project's blocks across every account: cancellation first, then holders by participant id.
  ASSERT_TRUE(query(regulator, ListSerialBlocks{0, 1}, &reply).is_ok());
  ASSERT_EQ(reply.serial_blocks.size(), 4u);
  EXPECT_EQ(reply.serial_blocks[0].account, registry::kCancellationAccount);
  EXPECT_EQ(reply.serial_blocks[0].project_code, "P-0001");
  EXPECT_EQ(reply.serial_blocks[0].methodology, "CCER-14-001-V01");
  EXPECT_EQ(reply.serial_blocks[0].block, block(1'201, 1'350, 1, 2025)) << "consecutive serials join";
  EXPECT_EQ(reply.serial_blocks[1].block, block(1'351, 1'500, 1, 2025));
  EXPECT_EQ(reply.serial_blocks[1].account, developer.holding_account);
  EXPECT_EQ(reply.serial_blocks[3].account, buyer.holding_account);
  ASSERT_TRUE(query(trader(buyer), ListSerialBlocks{buyer.holding_account, 0}, &reply).is_ok());
  EXPECT_EQ(reply.serial_blocks.size(), 2u);
  EXPECT_TRUE(exchange.registry().check_ccer_blocks().is_ok());
}

TEST_F(CcerCommandsTest, ARestoredExchangeKeepsEveryBlockAndContinuesTheSerials) {
  ASSERT_TRUE(run(authority, issue(1'000)).reply.status.is_ok());
  trade(300);
  const IssueCcerCredits second = issue(200, "2024-07-01", "2024-12-31");
  ASSERT_TRUE(run(authority, second).reply.status.is_ok());
  ASSERT_TRUE(run(trader(developer), retire(150)).reply.status.is_ok());

  Exchange restored{config};
  restored.restore(recovered());
  for (AccountId account : {developer.holding_account, buyer.holding_account, registry::kCancellationAccount}) {
    EXPECT_EQ(restored.registry().ccer_blocks_of(account), exchange.registry().ccer_blocks_of(account)) << account;
  }
  EXPECT_TRUE(restored.registry().check_ccer_blocks().is_ok());
  Reply before;
  ASSERT_TRUE(query(auditor, ListRetirements{}, &before).is_ok());
  Reply after = restored.execute(Command{auditor, ListRetirements{}}, now).reply;
  ASSERT_TRUE(after.status.is_ok());
  ASSERT_EQ(after.retirements.size(), 1u);
  EXPECT_EQ(after.retirements[0].retirement.blocks, before.retirements[0].retirement.blocks);
  after = restored.execute(Command{auditor, ListCcerProjects{}}, now).reply;
  ASSERT_EQ(after.projects.size(), 1u);
  EXPECT_EQ(after.projects[0].issued, Qty{1'200});

  // The repeated key answers the first issuance; a new one continues after the last serial.
  Outcome repeat = restored.execute(Command{authority, second}, now + 1);
  ASSERT_TRUE(repeat.reply.status.is_ok()) << repeat.reply.status.message();
  EXPECT_EQ(repeat.reply.issuances.at(0).block, block(1'001, 1'200));
  Outcome next = restored.execute(Command{authority, issue(10, "2025-01-01", "2025-03-31", 2025)}, now + 2);
  ASSERT_TRUE(next.reply.status.is_ok()) << next.reply.status.message();
  EXPECT_EQ(next.reply.issuances.at(0).block, block(1'201, 1'210, 1, 2025));
  Outcome duplicate = restored.execute(Command{authority, project_of("P-0001", developer)}, now + 3);
  EXPECT_EQ(duplicate.reply.status.code(), ErrorCode::failed_precondition);
  Outcome next_project = restored.execute(Command{authority, project_of("P-0002", buyer)}, now + 4);
  ASSERT_TRUE(next_project.reply.status.is_ok()) << next_project.reply.status.message();
  EXPECT_EQ(next_project.reply.projects.at(0).project.id, 2u);
}

TEST_F(CcerCommandsTest, ARepeatedKeyAnswersTheFirstResultWithoutASecondEffect) {
  ASSERT_TRUE(run(authority, issue(1'000)).reply.status.is_ok());
  RetireUnits once = retire(10);
  const Outcome first = run(trader(developer), once);
  ASSERT_TRUE(first.reply.status.is_ok());
  const Outcome again = run(trader(developer), once);
  ASSERT_TRUE(again.reply.status.is_ok());
  EXPECT_TRUE(again.events.empty());
  EXPECT_EQ(again.reply.retirements.at(0).retirement.id, first.reply.retirements.at(0).retirement.id);
  EXPECT_EQ(again.reply.sequence, first.reply.sequence);
  EXPECT_EQ(exchange.registry().holding(developer.holding_account, "CCER").available, Qty{990});
  once.quantity = Qty{11};
  expect_rejected(trader(developer), once, ErrorCode::failed_precondition, "idempotency key");
}

TEST_F(CcerCommandsTest, EveryRejectionHasItsStatusAndChangesNothing) {
  ASSERT_TRUE(run(authority, issue(100)).reply.status.is_ok());
  ASSERT_TRUE(run(regulator, Freeze{developer.holding_account, "CCER", Qty{60}, "court order", "", next_key()})
                  .reply.status.is_ok());
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
      {"Methodology by a trader", trader(developer), methodology("M-2"), perm, "registry authority"},
      {"Methodology by a regulator", regulator, methodology("M-2"), perm, "registry authority"},
      {"Methodology no code", authority, methodology(""), inv, "code"},
      {"Methodology code too long", authority, methodology(std::string(65, 'M')), inv, "code"},
      {"Methodology no version", authority,
       with(methodology("M-2"), [](RegisterMethodology& c) { c.methodology.version = ""; }), inv, "version"},
      {"Methodology no name", authority,
       with(methodology("M-2"), [](RegisterMethodology& c) { c.methodology.name = ""; }), inv, "name"},
      {"Methodology control character", authority,
       with(methodology("M-2"), [](RegisterMethodology& c) { c.methodology.field = "a\nb"; }), inv, "field"},
      {"Methodology duplicate", authority, methodology("CCER-14-001-V01"), pre, "already registered"},
      {"Project by an operator", op, project_of("P-2", developer), perm, "registry authority"},
      {"Project no code", authority, project_of("", developer), inv, "project_code"},
      {"Project no validation body", authority,
       with(project_of("P-2", developer), [](RegisterCcerProject& c) { c.validation_body = ""; }), inv,
       "validation_body"},
      {"Project no validation report", authority,
       with(project_of("P-2", developer), [](RegisterCcerProject& c) { c.validation_report_reference = ""; }), inv,
       "validation_report_reference"},
      {"Project no owner", authority, with(project_of("P-2", developer), [](RegisterCcerProject& c) { c.owner = 0; }),
       inv, "owner_participant_id"},
      {"Project bad date", authority,
       with(project_of("P-2", developer), [](RegisterCcerProject& c) { c.crediting_start = "2023-02-30"; }), inv,
       "crediting period start date"},
      {"Project period reversed", authority,
       with(project_of("P-2", developer), [](RegisterCcerProject& c) { c.crediting_end = "2022-12-31"; }), inv,
       "start must be before the end"},
      {"Project unknown methodology", authority, project_of("P-2", developer, "M-404"), nf, "methodology M-404"},
      {"Project unknown owner", authority,
       with(project_of("P-2", developer), [](RegisterCcerProject& c) { c.owner = 99; }), nf, "participant 99"},
      {"Project duplicate code", authority, project_of("P-0001", buyer), pre, "already registered"},
      {"Project owned by a person", authority, project_of("P-2", person), pre, "natural person"},
      {"Issue by a regulator", regulator, issue(1), perm, "registry authority"},
      {"Issue by a trader", trader(developer), issue(1), perm, "registry authority"},
      {"Issue no project", authority, issue(1, "2024-07-01", "2024-12-31", 2024, 0), inv, "project_id"},
      {"Issue unknown project", authority, issue(1, "2024-07-01", "2024-12-31", 2024, 7), nf, "CCER project 7"},
      {"Issue zero", authority, issue(0, "2024-07-01", "2024-12-31"), inv, "quantity"},
      {"Issue negative", authority, issue(-5, "2024-07-01", "2024-12-31"), inv, "quantity"},
      {"Issue no vintage", authority, issue(1, "2024-07-01", "2024-12-31", 0), inv, "vintage_year"},
      {"Issue bad date", authority, issue(1, "2024-07-01", "2024-13-01"), inv, "monitoring period end date"},
      {"Issue period reversed", authority, issue(1, "2024-12-31", "2024-07-01"), inv, "start must be before the end"},
      {"Issue no verifier", authority,
       with(issue(1, "2024-07-01", "2024-12-31"), [](IssueCcerCredits& c) { c.verification_body = ""; }), inv,
       "verification_body"},
      {"Issue no report", authority,
       with(issue(1, "2024-07-01", "2024-12-31"), [](IssueCcerCredits& c) { c.verification_report_reference = ""; }),
       inv, "verification_report_reference"},
      {"Issue no key", authority,
       with(issue(1, "2024-07-01", "2024-12-31"), [](IssueCcerCredits& c) { c.idempotency_key = ""; }), inv,
       "idempotency_key"},
      {"Issue outside the crediting period", authority, issue(1, "2022-07-01", "2022-12-31", 2022), pre,
       "outside the crediting period"},
      {"Issue vintage outside the monitoring period", authority, issue(1, "2024-07-01", "2024-12-31", 2025), pre,
       "vintage 2025"},
      {"Issue a period not ended", authority, issue(1, "2025-07-01", "2025-11-24", 2025), pre,
       "the monitoring period 2025-07-01..2025-11-24 has not ended (today is 2025-11-24"},
      {"Issue overlapping period", authority, issue(1, "2024-06-01", "2024-12-31"), pre, "overlaps issuance 1"},
      {"Issue beyond the position limit", authority, issue(1'000'000, "2024-07-01", "2024-12-31"), pre,
       "position limit"},
      {"Issue wrapping the position past 64 bits", authority,
       issue(std::numeric_limits<std::int64_t>::max(), "2024-07-01", "2024-12-31"), pre, "position limit"},
      {"Retire by a regulator", regulator, retire(1, developer.id), perm, "RetireUnits"},
      {"Retire by an auditor", auditor, retire(1, developer.id), perm, "RetireUnits"},
      {"Retire for another", trader(buyer), retire(1, developer.id), perm, "another participant"},
      {"Retire authority without participant", authority, retire(1), inv, "participant_id"},
      {"Retire zero", trader(developer), retire(0), inv, "quantity"},
      {"Retire no instrument", trader(developer), retire(1, 0, ""), inv, "instrument"},
      {"Retire no beneficiary", trader(developer), with(retire(1), [](RetireUnits& c) { c.beneficiary = ""; }), inv,
       "beneficiary"},
      {"Retire purpose too long", trader(developer),
       with(retire(1), [](RetireUnits& c) { c.purpose = std::string(501, 'p'); }), inv, "purpose"},
      {"Retire no key", trader(developer), with(retire(1), [](RetireUnits& c) { c.idempotency_key = ""; }), inv,
       "idempotency_key"},
      {"Retire unknown participant", authority, retire(1, 99), nf, "participant 99"},
      {"Retire unknown instrument", trader(developer), retire(1, 0, "VER"), nf, "unknown instrument"},
      {"Retire an allowance", trader(buyer), retire(1, 0, "CEA2024"), pre, "only CCER"},
      {"Retire frozen units", trader(developer), retire(41), pre, "60 t frozen"},
      {"Retire more than held", trader(developer), retire(101), pre, "insufficient units"},
      {"Retire with nothing held", trader(buyer), retire(1), pre, "insufficient units"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    expect_rejected(c.who, c.body, c.code, c.rule);
  }
  // What is neither frozen nor retired still retires.
  EXPECT_TRUE(run(trader(developer), retire(40)).reply.status.is_ok());
}

TEST_F(CcerCommandsTest, QueriesRefuseWhatTheCallerMayNotSee) {
  ASSERT_TRUE(run(authority, issue(100)).reply.status.is_ok());
  EXPECT_EQ(query(trader(buyer), ListSerialBlocks{developer.holding_account, 0}).code(), ErrorCode::permission_denied);
  EXPECT_EQ(query(trader(developer), ListSerialBlocks{developer.holding_account, 0}).code(), ErrorCode::ok);
  EXPECT_EQ(query(trader(developer), ListSerialBlocks{0, 1}).code(), ErrorCode::permission_denied);
  EXPECT_EQ(query(auditor, ListSerialBlocks{0, 0}).code(), ErrorCode::invalid_argument);
  EXPECT_EQ(query(auditor, ListSerialBlocks{0, 9}).code(), ErrorCode::not_found);
  EXPECT_EQ(query(auditor, ListSerialBlocks{12345, 0}).code(), ErrorCode::not_found);
  EXPECT_EQ(query(auditor, ListRetirements{"", 0, 10, 5}).code(), ErrorCode::invalid_argument);
  EXPECT_EQ(query(trader(person), ListRetirements{}).code(), ErrorCode::ok);
  Reply reply;
  ASSERT_TRUE(query(op, ListCcerProjects{"M-404", 0}, &reply).is_ok());
  EXPECT_TRUE(reply.projects.empty());
  ASSERT_TRUE(query(op, ListCcerProjects{"", developer.id}, &reply).is_ok());
  EXPECT_EQ(reply.projects.size(), 1u);
}

}  // namespace
}  // namespace carbon::engine
