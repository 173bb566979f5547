// The registry's projections in PostgreSQL (migration 0003, store/registry_rows)
// and the regulator's ledger reader (store/ledger_reader): what a batch writes
// comes back on recovery, and an entry altered in the database is named.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "engine/exchange.h"
#include "store/journal.h"
#include "store/ledger_reader.h"
#include "store/migrations.h"
#include "store/pg.h"
#include "store/recovery.h"
#include "support/test_database.h"

namespace carbon::store {
namespace {

using engine::Command;
using engine::Principal;

class RegistryStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    conn = connect_or_throw(db.conninfo());
    apply_migrations(conn.get());
    unit = run(op, engine::CreateParticipant{"KEU", "Unit", ParticipantType::key_emitting_unit, {1}})
               .reply.participants.at(0);
    ok(run(authority, engine::SetCap{2024, "power", Qty{10'000}, 1'000, "plan"}));
    engine::AllocateFree allocate;
    allocate.year = 2024;
    allocate.sector = "power";
    allocate.participant = unit.id;
    allocate.instrument = "CEA2024";
    allocate.formula = registry::AllocationFormula{1'000, 500'000, {10'000, 9'000}};  // 1,000 × 0.5 × 0.9 = 450 t
    allocate.output_unit = "MWh";
    allocate.reason = "plan";
    allocate.idempotency_key = "a1";
    ok(run(authority, allocate));
    ok(run(authority, engine::RecordVerifiedEmissions{unit.id, 2024, "power", Qty{500}, "CQC", "VR-1", "", "e1"}));
    ok(run(engine::Principal{Role::trader, unit.id, "KEU"}, engine::Surrender{0, 2024, "CEA2024", Qty{400}, "s1"}));
    ok(run(regulator, engine::Freeze{unit.holding_account, "CEA2024", Qty{20}, "probe", "case 1", "f1"}));
    ok(run(authority, engine::CloseComplianceYear{2024, Price{9'800}}));
    commit_pending();
  }

  static void ok(const engine::Outcome& outcome) {
    ASSERT_TRUE(outcome.reply.status.is_ok()) << outcome.reply.status.message();
  }

  engine::Outcome run(const Principal& who, engine::CommandBody body) {
    now += 1'000;
    engine::Outcome outcome = exchange.execute(Command{who, std::move(body)}, now);
    pending.push_back(std::make_unique<engine::Outcome>(outcome));
    return outcome;
  }

  void commit_pending() {
    std::vector<const engine::Outcome*> batch;
    for (const auto& o : pending) {
      if (!o->events.empty()) batch.push_back(o.get());
    }
    ASSERT_TRUE(journal.commit(batch).is_ok());
    pending.clear();
  }

  testing::TestDatabase db;
  PgConn conn;
  Config config = [] {
    Config c = default_config();
    for (auto& instrument : c.instruments) instrument.reference_price = Price{5'000};
    return c;
  }();
  engine::Exchange exchange{config};
  PostgresJournal journal{db.conninfo()};
  std::vector<std::unique_ptr<engine::Outcome>> pending;
  UnixNanos now = 1'763'949'600'000'000'000;
  Principal op{Role::operator_, 0, "ops"};
  Principal authority{Role::registry_authority, 0, "registry"};
  Principal regulator{Role::regulator, 0, "regulator"};
  engine::ParticipantRecord unit;
};

TEST_F(RegistryStoreTest, AReadTheServerDoesNotAnswerIsAbandonedWithUnavailableNamingTheLimit) {
  PgConn reader;
  ASSERT_TRUE(open_read_snapshot(db.conninfo(), reader).is_ok());
  // Another session holds the table: the read waits, as on a server that does not answer.
  exec_or_throw(conn.get(), "BEGIN", "begin");
  exec_or_throw(conn.get(), "LOCK TABLE ledger_entries IN ACCESS EXCLUSIVE MODE", "lock");
  const auto started = std::chrono::steady_clock::now();
  PgResult rows;
  const Status abandoned =
      read_query(reader.get(), "SELECT count(*) FROM ledger_entries", {}, rows, std::chrono::milliseconds(300));
  const auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(abandoned.code(), ErrorCode::unavailable) << abandoned.message();
  EXPECT_NE(abandoned.message().find("did not answer within 300 ms"), std::string::npos) << abandoned.message();
  EXPECT_GE(waited, std::chrono::milliseconds(300));
  EXPECT_LT(waited, std::chrono::seconds(3));
  exec_or_throw(conn.get(), "ROLLBACK", "rollback");

  PgConn again;
  ASSERT_TRUE(open_read_snapshot(db.conninfo(), again).is_ok());
  const Status answered = read_query(again.get(), "SELECT count(*) FROM ledger_entries WHERE entry_id > $1", {"0"}, rows);
  ASSERT_TRUE(answered.is_ok()) << answered.message();
  EXPECT_GT(std::stoi(PQgetvalue(rows.get(), 0, 0)), 0);
  EXPECT_EQ(read_query(again.get(), "SELECT no_such_column FROM ledger_entries", {}, rows).code(), ErrorCode::internal)
      << "a failing statement keeps its own status";
}

TEST_F(RegistryStoreTest, RegistryProjectionsReloadIntoTheSameState) {
  const engine::RecoveredState state = load_state(conn.get());
  check_state(conn.get(), state);
  ASSERT_EQ(state.caps.size(), 1u);
  EXPECT_EQ(state.caps[0].free_allocated, Qty{450});
  EXPECT_EQ(state.caps[0].paid_share_bps, 1'000);
  ASSERT_EQ(state.allocations.size(), 1u);
  ASSERT_TRUE(state.allocations[0].formula.has_value());
  EXPECT_EQ(state.allocations[0].formula->factors_per_10000, (std::vector<std::int64_t>{10'000, 9'000}));
  EXPECT_EQ(state.allocations[0].output_unit, "MWh");
  ASSERT_EQ(state.compliance.size(), 1u);
  EXPECT_EQ(state.compliance[0].status.shortfall, Qty{100});
  EXPECT_TRUE(state.compliance[0].status.closed);
  EXPECT_EQ(state.compliance[0].penalty, Cash{100 * 9'800 * 5});
  EXPECT_EQ(state.compliance[0].verifier, "CQC");
  ASSERT_EQ(state.closed_years.size(), 1u);
  EXPECT_EQ(state.closed_years[0].penalty_basis, Price{9'800});
  ASSERT_EQ(state.shortfalls_owed.size(), 1u);
  EXPECT_EQ(state.shortfalls_owed[0].owed, Qty{100});
  ASSERT_EQ(state.freezes.size(), 1u);
  EXPECT_EQ(state.freezes[0].remaining, Qty{20});
  EXPECT_EQ(state.freezes[0].legal_reference, "case 1");

  engine::Exchange restored(config);
  restored.restore(state);
  EXPECT_EQ(restored.registry().deduction_owed(unit.holding_account), Qty{100});
  EXPECT_EQ(restored.registry().holding(unit.holding_account, "CEA2024"),
            exchange.registry().holding(unit.holding_account, "CEA2024"));
  const auto a = exchange.execute(Command{regulator, engine::GetComplianceStatus{unit.id, 2024}}, now);
  const auto b = restored.execute(Command{regulator, engine::GetComplianceStatus{unit.id, 2024}}, now);
  ASSERT_TRUE(b.reply.status.is_ok());
  EXPECT_EQ(a.reply.compliance.at(0).penalty, b.reply.compliance.at(0).penalty);
  EXPECT_EQ(a.reply.compliance.at(0).sector, b.reply.compliance.at(0).sector);
  EXPECT_EQ(db.query("SELECT count(*) FROM journal WHERE kind = 'ComplianceYearClosed'"), "1");
}

TEST_F(RegistryStoreTest, VerifyLedgerNamesTheFirstAlteredEntry) {
  LedgerVerificationReport report;
  ASSERT_TRUE(verify_ledger(db.conninfo(), 0, 0, unit.holding_account, report).is_ok());
  EXPECT_TRUE(report.valid) << report.failure;
  const std::uint64_t last = std::stoull(db.query("SELECT max(entry_id) FROM ledger_entries"));
  EXPECT_EQ(report.entries_checked, last);
  EXPECT_EQ(report.last_entry_id, last);
  EXPECT_EQ(report.last_hash, exchange.registry().ledger().last_hash());

  // Someone edits entry 2 (the surrender) directly in the database.
  db.query("UPDATE ledger_entries SET quantity = quantity - 1 WHERE entry_id = 2");
  ASSERT_TRUE(verify_ledger(db.conninfo(), 0, 0, 0, report).is_ok());
  EXPECT_FALSE(report.valid);
  EXPECT_EQ(report.first_bad_entry_id, 2u);
  EXPECT_NE(report.failure.find("hash mismatch"), std::string::npos) << report.failure;
  EXPECT_EQ(report.entries_checked, 1u);
  // A range before it is still sound; a range from it is not.
  ASSERT_TRUE(verify_ledger(db.conninfo(), 1, 1, 0, report).is_ok());
  EXPECT_TRUE(report.valid);
  ASSERT_TRUE(verify_ledger(db.conninfo(), 2, 0, 0, report).is_ok());
  EXPECT_EQ(report.first_bad_entry_id, 2u);
  // The account replay sees the edited quantity too.
  db.query("UPDATE ledger_entries SET quantity = quantity + 1 WHERE entry_id = 2");
  db.query("UPDATE holdings SET available = available + 5 WHERE holding_account_id = " +
           std::to_string(unit.holding_account) + " AND instrument = 'CEA2024'");
  ASSERT_TRUE(verify_ledger(db.conninfo(), 0, 0, unit.holding_account, report).is_ok());
  EXPECT_FALSE(report.valid);
  EXPECT_EQ(report.first_bad_entry_id, 0u);
  EXPECT_NE(report.failure.find("CEA2024 in account"), std::string::npos) << report.failure;

  // The last entry cut off (the holding put back first): the chain that is left links, but the journal recorded
  // one more.
  db.query("UPDATE holdings SET available = available - 5 WHERE holding_account_id = " +
           std::to_string(unit.holding_account) + " AND instrument = 'CEA2024'");
  db.query("CREATE TABLE cut AS SELECT * FROM ledger_entries WHERE entry_id = " + std::to_string(last) +
           "; DELETE FROM ledger_entries WHERE entry_id = " + std::to_string(last));
  const std::string cut_sequence = db.query("SELECT sequence FROM cut");
  ASSERT_TRUE(verify_ledger(db.conninfo(), 0, 0, 0, report).is_ok());
  EXPECT_FALSE(report.valid);
  EXPECT_EQ(report.first_bad_entry_id, last);
  EXPECT_EQ(report.failure, "missing: the journal recorded entry " + std::to_string(last) + " at sequence " +
                                cut_sequence + ", the ledger ends at entry " + std::to_string(last - 1));
  ASSERT_TRUE(verify_ledger(db.conninfo(), 1, last - 2, 0, report).is_ok());
  EXPECT_TRUE(report.valid) << "a range that stops before the end is not compared with the journal";
  db.query("INSERT INTO ledger_entries SELECT * FROM cut; DROP TABLE cut");
  ASSERT_TRUE(verify_ledger(db.conninfo(), 0, 0, 0, report).is_ok());
  EXPECT_TRUE(report.valid) << report.failure;

  EXPECT_EQ(verify_ledger(db.conninfo(), 3, 1, 0, report).code(), ErrorCode::invalid_argument);
  EXPECT_EQ(verify_ledger(db.conninfo(), 0, last + 1, 0, report).code(), ErrorCode::not_found);
  EXPECT_EQ(verify_ledger(db.conninfo(), 0, 0, 12'345, report).code(), ErrorCode::not_found);
}

// The whole ledger deleted, with the holdings and freezes it made (so that units still reconcile: none issued, none
// held): the journal still records entries, so the start is refused.
TEST_F(RegistryStoreTest, AStartIsRefusedWhenTheWholeLedgerIsGone) {
  const std::string newest = db.query("SELECT max(sequence) FROM ledger_entries");
  db.query("DELETE FROM ledger_entries; DELETE FROM holdings; DELETE FROM freezes");
  const engine::RecoveredState state = load_state(conn.get());
  EXPECT_EQ(state.last_ledger_entry_id, 0u);
  try {
    check_state(conn.get(), state);
    ADD_FAILURE() << "an emptied ledger passed the start's checks";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), "the ledger is empty, but the journal recorded ledger entries up to sequence " +
                                         newest + ": ledger entries are missing");
  }
}

TEST_F(RegistryStoreTest, LedgerEntriesAreListedByAccountKindAndPage) {
  std::vector<registry::LedgerEntry> entries;
  LedgerFilter filter;
  filter.account = unit.holding_account;
  ASSERT_TRUE(list_ledger_entries(db.conninfo(), filter, entries).is_ok());
  ASSERT_EQ(entries.size(), 3u);  // allocation, surrender, freeze
  EXPECT_EQ(entries[0].kind, registry::TransferKind::allocation);
  EXPECT_EQ(entries[1].kind, registry::TransferKind::surrender);
  EXPECT_EQ(entries[2].kind, registry::TransferKind::freeze);
  entries.clear();
  filter.kinds = {registry::TransferKind::surrender};
  ASSERT_TRUE(list_ledger_entries(db.conninfo(), filter, entries).is_ok());
  ASSERT_EQ(entries.size(), 1u);
  entries.clear();
  filter.kinds.clear();
  filter.limit = 2;
  filter.after_entry_id = 1;
  ASSERT_TRUE(list_ledger_entries(db.conninfo(), filter, entries).is_ok());
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].entry_id, 2u);
  filter.account = 12'345;
  EXPECT_EQ(list_ledger_entries(db.conninfo(), filter, entries).code(), ErrorCode::not_found);
}

}  // namespace
}  // namespace carbon::store
