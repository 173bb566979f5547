// Clearing in PostgreSQL (migration 0006, store/clearing_rows): trade fees,
// the fee account, end-of-day statements, reconciliations and alerts written
// in the batch come back on recovery (statements: each participant's latest),
// a restored engine answers the same, and read_statement reads any day's.
#include <gtest/gtest.h>

#include <algorithm>

#include "engine/exchange.h"
#include "engine/written_statement.h"
#include "store/clearing_rows.h"
#include "store/journal.h"
#include "store/migrations.h"
#include "store/pg.h"
#include "store/recovery.h"
#include "support/test_database.h"

namespace carbon::store {
namespace {

using engine::Command;
using engine::Principal;

constexpr UnixNanos kMonday1030 = 1'763'951'400'000'000'000;  // 2025-11-24 10:30 Asia/Shanghai
constexpr UnixNanos kHour = 3'600'000'000'000;

class ClearingStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    conn = connect_or_throw(db.conninfo());
    apply_migrations(conn.get());
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

  std::string query(const std::string& sql) {
    PgResult r = exec_or_throw(conn.get(), sql, "test query");
    return PQntuples(r.get()) == 0 ? "" : PQgetvalue(r.get(), 0, 0);
  }

  testing::TestDatabase db;
  PgConn conn;
  Config config = [] {
    Config c = default_config();
    for (auto& instrument : c.instruments) instrument.reference_price = Price{5'000};
    c.fees = FeeSchedule{5, 3, 2, 1};
    return c;
  }();
  engine::Exchange exchange{config};
  PostgresJournal journal{db.conninfo()};
  std::vector<std::unique_ptr<engine::Outcome>> pending;
  UnixNanos now = kMonday1030;
  Principal op{Role::operator_, 0, "ops"};
};

TEST_F(ClearingStoreTest, FeesStatementsAndReconciliationsComeBack) {
  const auto b = run(op, engine::CreateParticipant{"B", "Buyer", ParticipantType::institution, {1}}).reply.participants.at(0);
  const auto s = run(op, engine::CreateParticipant{"S", "Seller", ParticipantType::institution, {2}}).reply.participants.at(0);
  ASSERT_TRUE(run(op, engine::MoveCash{b.cash_account, Cash{1'000'000}, "d", false}).reply.status.is_ok());
  run(Principal{Role::registry_authority, 0, "reg"},
      engine::SetCap{2024, "power", Qty{1'000'000'000}, 0, "cap for the test"});  // issuance counts against caps
  ASSERT_TRUE(run(Principal{Role::registry_authority, 0, "reg"},
                  engine::IssueAllowances{"CEA2024", s.holding_account, Qty{100}, "a"})
                  .reply.status.is_ok());
  ASSERT_TRUE(run(Principal{Role::trader, s.id, "S"},
                  engine::PlaceOrder{"CEA2024", Side::sell, OrderType::limit, TimeInForce::day, TradingMode::listed,
                                     Price{5'000}, Qty{10}, ""})
                  .reply.status.is_ok());
  ASSERT_TRUE(run(Principal{Role::trader, b.id, "B"},
                  engine::PlaceOrder{"CEA2024", Side::buy, OrderType::limit, TimeInForce::day, TradingMode::listed,
                                     Price{5'000}, Qty{10}, ""})
                  .reply.status.is_ok());
  now = kMonday1030 + 5 * kHour;
  const engine::Outcome eod = run(op, engine::RunEndOfDay{"2025-11-24"});
  ASSERT_TRUE(eod.reply.status.is_ok()) << eod.reply.status.message();
  commit_pending();

  // 50,000 fen: buyer 25, seller 15.
  EXPECT_EQ(query("SELECT buyer_fee_fen || '/' || seller_fee_fen FROM trades"), "25/15");
  EXPECT_EQ(query("SELECT available_fen FROM cash_accounts WHERE cash_account_id = 10"), "40");
  EXPECT_EQ(query("SELECT balanced FROM reconciliations WHERE trading_date = '2025-11-24'"), "t");
  EXPECT_EQ(query("SELECT count(*) FROM statements WHERE trading_date = '2025-11-24'"), "2");
  EXPECT_EQ(query("SELECT statement->>'fees_fen' FROM statements WHERE participant_id = " + std::to_string(b.id)),
            "25");

  const engine::RecoveredState state = load_state(conn.get());
  EXPECT_NO_THROW(check_state(conn.get(), state));
  ASSERT_EQ(state.trades.size(), 1u);
  EXPECT_EQ(state.trades[0].buyer_fee, Cash{25});
  EXPECT_EQ(state.trades[0].seller_fee, Cash{15});
  ASSERT_EQ(state.reconciliations.size(), 1u);
  EXPECT_EQ(state.reconciliations[0].cash.fee_account, Cash{40});
  EXPECT_EQ(state.statements.size(), 2u);
  EXPECT_EQ(state.reconciliations[0].statements_written, 2u);
  EXPECT_TRUE(state.day_transfers.empty());  // the issuance was before the day closed

  engine::Exchange restored{config};
  restored.restore(state);
  EXPECT_EQ(restored.clearing().account(settlement::kFeeCashAccount).total(), Cash{40});
  engine::StatementRecord st;
  ASSERT_TRUE(read_statement(db.conninfo(), b.id, "2025-11-24", st).is_ok());
  const engine::StatementRecord original = engine::written_statement(eod, b.id);
  EXPECT_EQ(st.closing_cash, original.closing_cash);
  EXPECT_EQ(st.bought_value, Cash{50'000});
  EXPECT_EQ(st.fees, Cash{25});
  ASSERT_EQ(st.trades.size(), 1u);
  EXPECT_EQ(st.trades[0].buyer_fee, Cash{25});
  ASSERT_EQ(st.lines.size(), 1u);
  EXPECT_EQ(st.lines[0].closing.available, Qty{10});
  const auto recon = restored.execute(Command{op, engine::GetReconciliation{"2025-11-24"}}, now);
  ASSERT_TRUE(recon.reply.status.is_ok());
  EXPECT_TRUE(recon.reply.reconciliation->balanced);
  const auto repeated = restored.execute(Command{op, engine::RunEndOfDay{"2025-11-24"}}, now);
  ASSERT_TRUE(repeated.reply.status.is_ok());
  EXPECT_EQ(repeated.reply.statements_written, 2u) << "the count recorded with the day's reconciliation";

  // A report written before the count was recorded gets it from migration 0016.
  exec_or_throw(conn.get(), "UPDATE reconciliations SET report = report - 'statements_written'", "an older report");
  EXPECT_EQ(load_state(conn.get()).reconciliations[0].statements_written, 0u);
  const auto migration = std::find_if(all_migrations().begin(), all_migrations().end(),
                                      [](const Migration& m) { return m.version == 16; });
  ASSERT_NE(migration, all_migrations().end());
  exec_or_throw(conn.get(), std::string(migration->sql), "migration 0016");
  EXPECT_EQ(load_state(conn.get()).reconciliations[0].statements_written, 2u);

  // The empty date is the last day closed; other days, participants and no end of day are NOT_FOUND.
  engine::StatementRecord last;
  ASSERT_TRUE(read_statement(db.conninfo(), s.id, "", last).is_ok());
  EXPECT_EQ(last.trading_date, "2025-11-24");
  EXPECT_EQ(last.participant, s.id);
  EXPECT_EQ(read_statement(db.conninfo(), s.id, "2025-11-25", last).code(), ErrorCode::not_found);
  EXPECT_EQ(read_statement(db.conninfo(), 999, "2025-11-24", last).code(), ErrorCode::not_found);
  EXPECT_EQ(read_statement(db.conninfo(), ~ParticipantId{0}, "2025-11-24", last).code(), ErrorCode::not_found)
      << "an id beyond BIGINT names nothing";
  exec_or_throw(conn.get(), "DELETE FROM reconciliations", "forget the end of day");
  const Status none = read_statement(db.conninfo(), s.id, "", last);
  EXPECT_EQ(none.code(), ErrorCode::not_found);
  EXPECT_NE(none.message().find("end of day has not been run"), std::string::npos) << none.message();
}

TEST_F(ClearingStoreTest, TheDaysTransfersAreReloadedForItsStatements) {
  const auto s = run(op, engine::CreateParticipant{"S", "Seller", ParticipantType::institution, {2}}).reply.participants.at(0);
  run(Principal{Role::registry_authority, 0, "reg"},
      engine::SetCap{2024, "power", Qty{1'000'000'000}, 0, "cap for the test"});  // issuance counts against caps
  ASSERT_TRUE(run(Principal{Role::registry_authority, 0, "reg"},
                  engine::IssueAllowances{"CEA2024", s.holding_account, Qty{70}, "a"})
                  .reply.status.is_ok());
  commit_pending();
  const engine::RecoveredState state = load_state(conn.get());
  ASSERT_EQ(state.day_transfers.size(), 1u);
  EXPECT_EQ(std::get<1>(state.day_transfers[0]), s.holding_account);
  EXPECT_EQ(std::get<3>(state.day_transfers[0]), Qty{70});

  engine::Exchange restored{config};
  restored.restore(state);
  const auto eod = restored.execute(Command{op, engine::RunEndOfDay{"2025-11-24"}}, kMonday1030 + 5 * kHour);
  ASSERT_TRUE(eod.reply.status.is_ok()) << eod.reply.status.message();
  const engine::StatementRecord got = engine::written_statement(eod, s.id);
  ASSERT_EQ(got.lines.size(), 1u);
  EXPECT_EQ(got.lines[0].received, Qty{70});
}

TEST_F(ClearingStoreTest, OnlyTheLedgerEntriesSinceTheDayOpenedAreReloaded) {
  const auto s = run(op, engine::CreateParticipant{"S", "Seller", ParticipantType::institution, {2}}).reply.participants.at(0);
  const Principal reg{Role::registry_authority, 0, "reg"};
  run(reg, engine::SetCap{2024, "power", Qty{1'000'000'000}, 0, "cap for the test"});
  for (int k = 0; k < 5; ++k) {  // the day before: five issuances
    ASSERT_TRUE(run(reg, engine::IssueAllowances{"CEA2024", s.holding_account, Qty{10 + k}, "before" + std::to_string(k)})
                    .reply.status.is_ok());
  }
  now = kMonday1030 + 5 * kHour;  // after the close
  const auto eod = run(op, engine::RunEndOfDay{"2025-11-24"});  // the next day opens here
  ASSERT_TRUE(eod.reply.status.is_ok()) << eod.reply.status.message();
  for (int k = 0; k < 3; ++k) {  // this day: three more
    ASSERT_TRUE(run(reg, engine::IssueAllowances{"CEA2024", s.holding_account, Qty{100 + k}, "today" + std::to_string(k)})
                    .reply.status.is_ok());
  }
  commit_pending();
  const engine::RecoveredState state = load_state(conn.get());
  ASSERT_EQ(state.day_transfers.size(), 3u);
  for (int k = 0; k < 3; ++k) EXPECT_EQ(std::get<3>(state.day_transfers[k]), Qty{100 + k});
}

TEST_F(ClearingStoreTest, RecoveryLoadsOnlyTheLastStatementOfEachParticipant) {
  const auto b = run(op, engine::CreateParticipant{"B", "Buyer", ParticipantType::institution, {1}}).reply.participants.at(0);
  const auto s = run(op, engine::CreateParticipant{"S", "Seller", ParticipantType::institution, {2}}).reply.participants.at(0);
  ASSERT_TRUE(run(op, engine::MoveCash{b.cash_account, Cash{1'000}, "d1", false}).reply.status.is_ok());
  now = kMonday1030 + 5 * kHour;
  ASSERT_TRUE(run(op, engine::RunEndOfDay{"2025-11-24"}).reply.status.is_ok());
  now = kMonday1030 + 24 * kHour;
  ASSERT_TRUE(run(op, engine::MoveCash{b.cash_account, Cash{500}, "d2", false}).reply.status.is_ok());
  now = kMonday1030 + 29 * kHour;
  ASSERT_TRUE(run(op, engine::RunEndOfDay{"2025-11-25"}).reply.status.is_ok());
  commit_pending();
  EXPECT_EQ(query("SELECT count(*) FROM statements"), "4");

  const engine::RecoveredState state = load_state(conn.get());
  ASSERT_EQ(state.statements.size(), 2u);
  for (const engine::StatementRecord& st : state.statements) EXPECT_EQ(st.trading_date, "2025-11-25");
  // Monday's statement is read where it is; a restored engine opens Wednesday's at Tuesday's close.
  engine::StatementRecord monday;
  ASSERT_TRUE(read_statement(db.conninfo(), b.id, "2025-11-24", monday).is_ok());
  EXPECT_EQ(monday.deposits, Cash{1'000});
  engine::Exchange restored{config};
  restored.restore(state);
  const auto wednesday = restored.execute(Command{op, engine::RunEndOfDay{"2025-11-26"}}, kMonday1030 + 53 * kHour);
  ASSERT_TRUE(wednesday.reply.status.is_ok()) << wednesday.reply.status.message();
  EXPECT_EQ(engine::written_statement(wednesday, b.id).opening_cash, Cash{1'500});
  EXPECT_EQ(engine::written_statement(wednesday, s.id).opening_cash, Cash{0});
}

}  // namespace
}  // namespace carbon::store
