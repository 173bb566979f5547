// The journal writer against a real PostgreSQL: a batch whose COMMIT landed is
// not written again, odd strings survive the binary COPY, and an outage of
// the database (a cluster this test starts and stops itself) is answered
// UNAVAILABLE and then committed whole, nothing lost and nothing twice.

#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <set>

#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <thread>

#include "common/clock.h"
#include "engine/exchange.h"
#include "engine/runtime.h"
#include "store/audit_reader.h"
#include "store/audit_writer.h"
#include "store/embedded_postgres.h"
#include "store/journal.h"
#include "store/migrations.h"
#include "store/pg.h"
#include "store/pipelined_journal.h"
#include "store/recovery.h"
#include "support/eventually.h"
#include "support/test_database.h"

namespace carbon::store {
namespace {

using engine::Command;
using engine::Principal;
using testing::eventually;

const Principal kOperator{Role::operator_, 0, "ops"};
/// Monday 2025-11-24 10:00 Asia/Shanghai: inside the morning listed session.
constexpr UnixNanos kMondayMorning = 1'763'949'600'000'000'000;

/// The default market with every reference price at 5,000 fen, so orders near 5,000 are inside the bands.
Config session_config() {
  Config config = default_config();
  for (auto& instrument : config.instruments) instrument.reference_price = Price{5'000};
  return config;
}

std::string query(PGconn* conn, const std::string& sql) {
  PgResult result = exec_or_throw(conn, sql, "test query");
  return PQntuples(result.get()) > 0 ? PQgetvalue(result.get(), 0, 0) : "";
}

engine::PlaceOrder buy(std::int64_t price, std::int64_t quantity, std::string client_order_id) {
  return engine::PlaceOrder{"CEA2024",     Side::buy,      OrderType::limit,  TimeInForce::day,
                            TradingMode::listed, Price{price}, Qty{quantity}, std::move(client_order_id)};
}

class JournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    conn = connect_or_throw(db.conninfo());
    apply_migrations(conn.get());
  }
  const engine::Outcome& run(const Principal& who, engine::CommandBody body) {
    outcomes.push_back(std::make_unique<engine::Outcome>(exchange.execute(Command{who, std::move(body)}, now += 1'000)));
    return *outcomes.back();
  }
  std::vector<const engine::Outcome*> all() const {
    std::vector<const engine::Outcome*> batch;
    for (const auto& o : outcomes) {
      if (!o->events.empty()) batch.push_back(o.get());
    }
    return batch;
  }
  /// Empties the database and applies the migrations before `version`, as an older carbond left it.
  void migrate_to_before(int version) {
    exec_or_throw(conn.get(), "DROP SCHEMA public CASCADE; CREATE SCHEMA public", "empty the database");
    exec_or_throw(conn.get(),
                  "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                  " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
                  "schema_migrations");
    for (const Migration& m : all_migrations()) {
      if (m.version >= version) break;
      exec_or_throw(conn.get(), std::string(m.sql), "old migration");
      exec_or_throw(conn.get(), "INSERT INTO schema_migrations (version, name) VALUES (" + std::to_string(m.version) +
                                    ", '" + std::string(m.name) + "')",
                    "record old migration");
    }
  }
  engine::ParticipantRecord funded_buyer() {
    const auto buyer =
        run(kOperator, engine::CreateParticipant{"B", "Buyer", ParticipantType::institution, {2}}).reply.participants.at(0);
    run(kOperator, engine::MoveCash{buyer.cash_account, Cash{10'000'000}, "d1", false});
    return buyer;
  }

  testing::TestDatabase db;
  PgConn conn;
  Config config = session_config();
  engine::Exchange exchange{config};
  std::vector<std::unique_ptr<engine::Outcome>> outcomes;
  UnixNanos now = kMondayMorning;
};

TEST_F(JournalTest, ABatchWhoseCommitLandedIsNotWrittenAgainByAFreshConnection) {
  const auto buyer = funded_buyer();
  run(Principal{Role::trader, buyer.id, "B"}, buy(5'000, 10, "b1"));
  PostgresJournal first(db.conninfo());
  ASSERT_TRUE(first.commit(all()).is_ok());
  const std::string rows = query(conn.get(), "SELECT count(*) FROM journal");

  // The answer to COMMIT was lost: the writer retries the same batch on a new connection.
  PostgresJournal retry(db.conninfo());
  EXPECT_TRUE(retry.commit(all()).is_ok());
  EXPECT_EQ(retry.last_committed(), exchange.last_sequence());
  EXPECT_EQ(query(conn.get(), "SELECT count(*) FROM journal"), rows);
}

TEST_F(JournalTest, ABatchWhoseSequencesAnotherCarbondWroteIsNotTakenAsLanded) {
  // This carbond's batch: a buyer, its deposit and an order.
  const auto buyer = funded_buyer();
  run(Principal{Role::trader, buyer.id, "B"}, buy(5'000, 10, "b1"));
  // A second carbond, started on the same database while this one's connections were down, committed
  // other commands under the same sequences, at the same instants.
  engine::Exchange other{config};
  std::vector<std::unique_ptr<engine::Outcome>> other_outcomes;
  UnixNanos other_now = kMondayMorning;
  const auto run_other = [&](const Principal& who, engine::CommandBody body) -> const engine::Outcome& {
    other_outcomes.push_back(
        std::make_unique<engine::Outcome>(other.execute(Command{who, std::move(body)}, other_now += 1'000)));
    return *other_outcomes.back();
  };
  const auto seller =
      run_other(kOperator, engine::CreateParticipant{"S", "Seller", ParticipantType::institution, {2}})
          .reply.participants.at(0);
  run_other(kOperator, engine::MoveCash{seller.cash_account, Cash{10'000'000}, "d1", false});
  run_other(Principal{Role::trader, seller.id, "S"}, buy(4'999, 10, "s1"));
  std::vector<const engine::Outcome*> theirs;
  for (const auto& o : other_outcomes) theirs.push_back(o.get());
  ASSERT_EQ(theirs.size(), all().size());
  ASSERT_EQ(theirs.back()->sequence, all().back()->sequence);
  PostgresJournal second_carbond(db.conninfo());
  ASSERT_TRUE(second_carbond.commit(theirs).is_ok());

  // This carbond's writer retries its batch on a fresh connection: the rows under its sequences are not its own.
  PostgresJournal retry(db.conninfo());
  const Status status = retry.commit(all());
  EXPECT_EQ(status.code(), ErrorCode::internal) << status.message();
  EXPECT_NE(status.message().find("another carbond"), std::string::npos) << status.message();
  EXPECT_EQ(query(conn.get(), "SELECT string_agg(code, ',') FROM participants"), "S");
  EXPECT_EQ(query(conn.get(), "SELECT count(*) FROM orders WHERE client_order_id = 'b1'"), "0");
}

TEST_F(JournalTest, ABatchWhoseSequencesAnotherCarbondWroteWithTheSameEventsAtOtherInstantsIsNotTakenAsLanded) {
  funded_buyer();  // a participant (sequence 1) and its deposit (sequence 2, this carbond's batch)
  // The other carbond made the very same commands, the deposit half a microsecond later: the same events.
  engine::Exchange other{config};
  std::vector<std::unique_ptr<engine::Outcome>> theirs;
  theirs.push_back(std::make_unique<engine::Outcome>(other.execute(
      Command{kOperator, engine::CreateParticipant{"B", "Buyer", ParticipantType::institution, {2}}},
      outcomes[0]->at)));
  const AccountId cash = theirs[0]->reply.participants.at(0).cash_account;
  theirs.push_back(std::make_unique<engine::Outcome>(other.execute(
      Command{kOperator, engine::MoveCash{cash, Cash{10'000'000}, "d1", false}}, outcomes[1]->at + 500)));
  const engine::Outcome& ours = *outcomes[1];
  std::string mine, their;
  append_events(mine, ours.events);
  append_events(their, theirs[1]->events);
  ASSERT_EQ(mine, their) << "the test needs the same events, to check the instants alone";
  ASSERT_EQ(ours.sequence, theirs[1]->sequence);
  PostgresJournal second_carbond(db.conninfo());
  ASSERT_TRUE(second_carbond.commit({theirs[0].get(), theirs[1].get()}).is_ok());
  PostgresJournal retry(db.conninfo());
  EXPECT_EQ(retry.commit({&ours}).code(), ErrorCode::internal);
}

// A database that comes back without commands this writer saw committed (a failover to a replica that had not
// received them, a restore) must not be written on: the next batch would sit above a gap of acknowledged
// commands. The writer stops (INTERNAL, which stops carbond) and writes nothing, however often it is retried.
TEST_F(JournalTest, ADatabaseWhoseJournalEndsBehindWhatWasCommittedIsNotWrittenOn) {
  const auto buyer = funded_buyer();
  PostgresJournal journal(db.conninfo());
  ASSERT_TRUE(journal.commit(all()).is_ok());
  const Sequence kept = journal.last_committed();
  const std::size_t committed = outcomes.size();
  run(Principal{Role::trader, buyer.id, "B"}, buy(5'000, 10, "b1"));
  std::vector<const engine::Outcome*> second{outcomes.back().get()};
  ASSERT_TRUE(journal.commit(second).is_ok());
  ASSERT_GT(journal.last_committed(), kept);
  ASSERT_EQ(outcomes.size(), committed + 1);

  // The database now ends at `kept`, and the writer's connection is cut.
  query(conn.get(), "DELETE FROM journal_commands WHERE sequence > " + std::to_string(kept));
  query(conn.get(), "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND pid <> pg_backend_pid()");
  run(Principal{Role::trader, buyer.id, "B"}, buy(5'001, 10, "b2"));
  std::vector<const engine::Outcome*> third{outcomes.back().get()};
  Status status = journal.commit(third);
  for (int k = 0; k < 3 && status.code() == ErrorCode::unavailable; ++k) status = journal.commit(third);
  EXPECT_EQ(status.code(), ErrorCode::internal) << status.message();
  EXPECT_NE(status.message().find("ends at sequence " + std::to_string(kept) + ", behind sequence " +
                                  std::to_string(second.back()->sequence)),
            std::string::npos)
      << status.message();
  const Status again = journal.commit(third);
  EXPECT_EQ(again.code(), ErrorCode::internal) << again.message();
  EXPECT_EQ(query(conn.get(), "SELECT max(sequence) FROM journal_commands"), std::to_string(kept));

  // Another connection of the same carbond (a pipeline lane) that knows the tail refuses likewise.
  PostgresJournal lane(db.conninfo());
  const Status from_lane = lane.commit(third, second.back()->sequence);
  EXPECT_EQ(from_lane.code(), ErrorCode::internal) << from_lane.message();
  EXPECT_EQ(query(conn.get(), "SELECT max(sequence) FROM journal_commands"), std::to_string(kept));
}

// A role's or database's time limits do not cut the journal's batches: one waiting on a lock for longer than the
// database's lock_timeout and statement_timeout still commits once the lock is released (it would otherwise fail
// at every whole retry, for ever).
TEST_F(JournalTest, TheDatabasesTimeLimitsDoNotCutABatch) {
  funded_buyer();
  const std::string database = "ALTER DATABASE \"" + db.name() + "\" SET ";
  query(conn.get(), database + "lock_timeout = '50ms'");
  query(conn.get(), database + "statement_timeout = '100ms'");
  query(conn.get(), database + "idle_in_transaction_session_timeout = '100ms'");
  query(conn.get(), "BEGIN");
  query(conn.get(), "LOCK TABLE journal_commands IN EXCLUSIVE MODE");
  PostgresJournal journal(db.conninfo());
  auto committing = std::async(std::launch::async, [&] { return journal.commit(all()); });
  // The batch waits on the lock (seen from another connection), then longer than both limits.
  PgConn watcher = connect_or_throw(db.conninfo());
  ASSERT_TRUE(eventually([&] {
    return query(watcher.get(), "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                                " AND wait_event_type = 'Lock'") == "1";
  })) << "the batch never waited on the lock";
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  query(conn.get(), "COMMIT");
  const Status committed = committing.get();
  EXPECT_TRUE(committed.is_ok()) << committed.message();
  EXPECT_EQ(query(conn.get(), "SELECT count(*) FROM journal_commands"), std::to_string(all().size()));
}

// A database that answers read-only (a standby, around a failover) is an outage, waited out: the commit is
// UNAVAILABLE, not a fault that stops carbond, and goes through once the database takes writes again.
TEST_F(JournalTest, AReadOnlyDatabaseIsAnOutageNotAFault) {
  funded_buyer();
  query(conn.get(), "ALTER DATABASE \"" + db.name() + "\" SET default_transaction_read_only = on");
  PostgresJournal journal(db.conninfo());
  const Status refused = journal.commit(all());
  EXPECT_EQ(refused.code(), ErrorCode::unavailable) << refused.message();
  EXPECT_NE(refused.message().find("25006"), std::string::npos) << refused.message();
  EXPECT_EQ(query(conn.get(), "SELECT count(*) FROM journal_commands"), "0");

  query(conn.get(), "ALTER DATABASE \"" + db.name() + "\" RESET default_transaction_read_only");
  query(conn.get(), "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND pid <> pg_backend_pid()");
  Status status = journal.commit(all());
  for (int k = 0; k < 3 && status.code() == ErrorCode::unavailable; ++k) status = journal.commit(all());
  EXPECT_TRUE(status.is_ok()) << status.message();
  EXPECT_EQ(query(conn.get(), "SELECT count(*) FROM journal_commands"), std::to_string(all().size()));
}

TEST_F(JournalTest, ABatchIsRetriedWholeAfterTheServerDroppedTheConnection) {
  const auto buyer = funded_buyer();
  PostgresJournal journal(db.conninfo());
  ASSERT_TRUE(journal.commit(all()).is_ok());
  const std::size_t committed = outcomes.size();
  run(Principal{Role::trader, buyer.id, "B"}, buy(5'000, 10, "b1"));
  run(Principal{Role::trader, buyer.id, "B"}, buy(5'001, 10, "b2"));
  std::vector<const engine::Outcome*> second;
  for (std::size_t k = committed; k < outcomes.size(); ++k) second.push_back(outcomes[k].get());

  query(conn.get(), "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND pid <> pg_backend_pid()");
  Status status = journal.commit(second);
  if (!status.is_ok()) {
    EXPECT_EQ(status.code(), ErrorCode::unavailable) << status.message();
    status = journal.commit(second);
  }
  ASSERT_TRUE(status.is_ok()) << status.message();
  EXPECT_TRUE(journal.commit(second).is_ok()) << "a repeat of a committed batch is a no-op";
  EXPECT_EQ(query(conn.get(), "SELECT count(*) FROM orders"), "2");
  EXPECT_EQ(query(conn.get(), "SELECT count(*) FROM (SELECT sequence, event_index FROM journal"
                              " GROUP BY 1, 2 HAVING count(*) > 1) d"),
            "0");
  EXPECT_EQ(query(conn.get(), "SELECT max(sequence) FROM journal"), std::to_string(exchange.last_sequence()));
}

/// A buyer's order in a batch whose commit waits on the buyer's cash row, held
/// by another session (as on a server that does not answer), and is then
/// interrupted: the server still holds that transaction, COMMIT included.
class InterruptedCommitTest : public JournalTest {
 protected:
  void SetUp() override {
    JournalTest::SetUp();
    const auto buyer = funded_buyer();
    ASSERT_TRUE(journal.commit(all()).is_ok());
    const std::size_t committed = outcomes.size();
    run(Principal{Role::trader, buyer.id, "B"}, buy(5'000, 10, "b1"));
    second = {outcomes[committed].get()};
    query(conn.get(), "BEGIN");
    query(conn.get(), "SELECT 1 FROM cash_accounts WHERE cash_account_id = " + std::to_string(buyer.cash_account) +
                          " FOR UPDATE");
    auto pending = std::async(std::launch::async, [&] { return journal.commit(second); });
    ASSERT_EQ(pending.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout) << "the lock did not hold";
    journal.interrupt();
    ASSERT_EQ(pending.wait_for(std::chrono::seconds(5)), std::future_status::ready) << "interrupt() did not end the wait";
    const Status interrupted = pending.get();
    EXPECT_EQ(interrupted.code(), ErrorCode::unavailable) << interrupted.message();
  }
  /// The batch is in the journal once, and its order once.
  void expect_landed_once() {
    EXPECT_EQ(journal.last_committed(), exchange.last_sequence());
    EXPECT_EQ(query(conn.get(), "SELECT count(*) FROM journal_commands WHERE sequence = " +
                                    std::to_string(exchange.last_sequence())),
              "1");
    EXPECT_EQ(query(conn.get(), "SELECT count(*) FROM orders"), "1");
  }
  PostgresJournal journal{db.conninfo()};
  std::vector<const engine::Outcome*> second;
};

TEST_F(InterruptedCommitTest, TheBatchLandsOnceWhateverTheOrphanedTransactionDid) {
  query(conn.get(), "ROLLBACK");  // the orphan may now commit the batch unseen
  for (int i = 0; i < 500 && query(conn.get(), "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                                               "current_database() AND pid <> pg_backend_pid()") != "0";
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const Status retried = journal.commit(second);  // a fresh connection: recognised if it landed, else written
  ASSERT_TRUE(retried.is_ok()) << retried.message();
  expect_landed_once();
}

TEST_F(InterruptedCommitTest, ARetryRacingTheOrphanedTransactionEndsUnavailableThenLandsOnce) {
  // Retried at once, on a fresh connection: the orphaned transaction still holds the batch's journal row,
  // so the retry waits on that key; then the orphan commits and the retry's row collides with it.
  auto retry = std::async(std::launch::async, [&] { return journal.commit(second); });
  ASSERT_EQ(retry.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout);
  query(conn.get(), "ROLLBACK");
  ASSERT_EQ(retry.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  const Status collided = retry.get();
  EXPECT_EQ(collided.code(), ErrorCode::unavailable)
      << "a batch that landed through an earlier connection is not a fault to stop for: " << collided.message();
  const Status recognised = journal.commit(second);
  ASSERT_TRUE(recognised.is_ok()) << recognised.message();
  expect_landed_once();
}

TEST_F(InterruptedCommitTest, AStartReadsTheStateOnlyOnceTheOrphanedTransactionHasEnded) {
  // The orphan (this writer's connection, its client gone) holds the writers' lock while its transaction
  // waits: a start waiting for it gives up after its wait, naming the backend, and reads nothing.
  PgConn starter = connect_or_throw(db.conninfo());
  const Status refused = take_journal_writer_lock(starter.get(), std::chrono::milliseconds(300));
  EXPECT_EQ(refused.code(), ErrorCode::failed_precondition) << refused.message();
  EXPECT_NE(refused.message().find("journal writer connections of another carbond"), std::string::npos)
      << refused.message();
  EXPECT_NE(refused.message().find("in a transaction for"), std::string::npos) << refused.message();
  // Once the orphan may go on, a start waits for it to commit and end; the state it reads then has the batch.
  auto started = std::async(std::launch::async,
                            [&] { return take_journal_writer_lock(starter.get(), std::chrono::seconds(20)); });
  ASSERT_EQ(started.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout) << "the start did not wait";
  query(conn.get(), "ROLLBACK");
  ASSERT_EQ(started.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  const Status waited = started.get();
  ASSERT_TRUE(waited.is_ok()) << waited.message();
  EXPECT_EQ(load_state(starter.get()).last_sequence, exchange.last_sequence());
  // The started carbond holds the lock (shared) from then on, before its journal has connected: a second
  // start is refused.
  PgConn second = connect_or_throw(db.conninfo());
  EXPECT_EQ(take_journal_writer_lock(second.get(), std::chrono::milliseconds(200)).code(),
            ErrorCode::failed_precondition);
  // So is one while a live journal connection is open, the start's own connection gone.
  starter.reset();
  PostgresJournal live{db.conninfo()};
  run(kOperator, engine::MoveCash{1, Cash{1}, "live-key", false});
  ASSERT_TRUE(live.commit({outcomes.back().get()}).is_ok());
  EXPECT_EQ(take_journal_writer_lock(second.get(), std::chrono::milliseconds(200)).code(),
            ErrorCode::failed_precondition);
}

TEST_F(JournalTest, AuditRecordsBecomeVisibleInTheOrderOfTheirIds) {
  // A command's audit record, journaled with its effects; its transaction is
  // left open after drawing the record's id (as a slow commit would).
  engine::Outcome created = exchange.execute(
      Command{kOperator, engine::CreateParticipant{"A", "Audited", ParticipantType::institution, {}}}, now += 1'000);
  engine::AuditEntry command_record;
  command_record.sequence = created.sequence;
  command_record.at = created.at;
  command_record.role = Role::operator_;
  command_record.principal = "ops";
  command_record.method = "/carbon.v1.AdminService/CreateParticipant";
  command_record.request_summary = "{\"code\":\"A\"}";
  created.audit = command_record;
  PostgresJournal journal(db.conninfo());
  ASSERT_TRUE(journal.begin({&created}, 0).is_ok());
  ASSERT_TRUE(journal.update().is_ok());

  // A staff read's record meanwhile: drawn after the command's, it must not
  // be visible before the command's is, or a regulator reading the log by
  // audit_id would pass the command's record over.
  AuditWriter writer(db.conninfo());
  engine::AuditEntry read_record;
  read_record.at = created.at + 1;
  read_record.role = Role::regulator;
  read_record.principal = "reg";
  read_record.method = "/carbon.v1.RegulatorService/VerifyLedger";
  std::promise<Status> done;
  auto written = done.get_future();
  writer.submit(read_record, [&done](Status s) { done.set_value(std::move(s)); });
  EXPECT_EQ(written.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout)
      << "a later record committed while an earlier one's transaction was still open";
  std::vector<engine::AuditEntry> seen;
  ASSERT_TRUE(query_audit_log(db.conninfo(), AuditFilter{}, seen).is_ok());
  EXPECT_TRUE(seen.empty());

  ASSERT_TRUE(journal.end(true).is_ok());
  ASSERT_EQ(written.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_TRUE(written.get().is_ok());
  ASSERT_TRUE(query_audit_log(db.conninfo(), AuditFilter{}, seen).is_ok());
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].method, read_record.method);  // newest first
  EXPECT_EQ(seen[1].sequence, created.sequence);
  EXPECT_GT(seen[0].audit_id, seen[1].audit_id);
}

TEST_F(JournalTest, StringsNeedingEscapesSurviveTheCopyAndThePayload) {
  const auto buyer = funded_buyer();
  const std::string odd = "q\"uo\\te \xc3\xa9 1";
  run(Principal{Role::trader, buyer.id, "B"}, buy(5'000, 10, odd));
  PostgresJournal journal(db.conninfo());
  ASSERT_TRUE(journal.commit(all()).is_ok());
  EXPECT_EQ(query(conn.get(), "SELECT client_order_id FROM orders"), odd);
  EXPECT_EQ(query(conn.get(), "SELECT payload->>'client_order_id' FROM journal WHERE kind = 'OrderChanged'"), odd);
  EXPECT_EQ(query(conn.get(), "SELECT payload->>'price_fen' FROM journal WHERE kind = 'OrderChanged'"), "5000");
  EXPECT_EQ(query(conn.get(), "SELECT payload->>'reserved_fen' FROM journal WHERE kind = 'OrderChanged'"),
            query(conn.get(), "SELECT reserved_fen FROM orders"));
}

TEST_F(JournalTest, AnOrderTouchedManyTimesInABatchIsStoredWithItsLastState) {
  const auto buyer = funded_buyer();
  const auto& placed = run(Principal{Role::trader, buyer.id, "B"}, buy(5'000, 10, "b1"));
  const OrderId id = placed.reply.orders.at(0).id;
  run(Principal{Role::trader, buyer.id, "B"}, engine::CancelOrder{id});
  PostgresJournal journal(db.conninfo());
  ASSERT_TRUE(journal.commit(all()).is_ok());
  EXPECT_EQ(query(conn.get(), "SELECT count(*) FROM journal WHERE kind = 'OrderChanged'"), "2");
  EXPECT_EQ(query(conn.get(), "SELECT status FROM orders WHERE order_id = " + std::to_string(id)),
            std::to_string(static_cast<int>(exchange.order(id)->status)));
  EXPECT_EQ(query(conn.get(), "SELECT reserved_fen FROM orders WHERE order_id = " + std::to_string(id)), "0");
}

TEST_F(JournalTest, ProjectionsStayRightAcrossManySmallBatches) {
  // One command per commit, each placing an order and cancelling the one
  // before: every commit upserts a cash row and an order row entered by an
  // earlier commit, thousands of times on one connection.
  const auto buyer = funded_buyer();
  const Principal trader{Role::trader, buyer.id, "B"};
  PostgresJournal journal(db.conninfo());
  ASSERT_TRUE(journal.commit(all()).is_ok());
  std::vector<OrderId> ids;
  for (int k = 0; k < 1'500; ++k) {
    const std::size_t before = outcomes.size();
    ids.push_back(run(trader, buy(5'000, 1, "o" + std::to_string(k))).reply.orders.at(0).id);
    if (k > 0) {
      ASSERT_TRUE(run(trader, engine::CancelOrder{ids[ids.size() - 2]}).reply.status.is_ok());
    }
    std::vector<const engine::Outcome*> batch;
    for (std::size_t i = before; i < outcomes.size(); ++i) batch.push_back(outcomes[i].get());
    ASSERT_TRUE(journal.commit(batch).is_ok()) << "batch " << k;
  }
  EXPECT_EQ(query(conn.get(), "SELECT count(*) FROM orders WHERE status = " +
                                  std::to_string(static_cast<int>(OrderStatus::cancelled)) + " AND reserved_fen = 0"),
            "1499");
  EXPECT_EQ(query(conn.get(), "SELECT status FROM orders WHERE order_id = " + std::to_string(ids.back())),
            std::to_string(static_cast<int>(exchange.order(ids.back())->status)));
  const settlement::CashAccount cash = exchange.clearing().account(buyer.cash_account);
  EXPECT_GT(cash.reserved.value, 0);
  EXPECT_EQ(query(conn.get(), "SELECT available_fen || ' ' || reserved_fen FROM cash_accounts WHERE cash_account_id = " +
                                  std::to_string(buyer.cash_account)),
            std::to_string(cash.available.value) + " " + std::to_string(cash.reserved.value));
}

TEST_F(JournalTest, PipelinedBatchesCommitInSequenceOrderAndTheLaterOnesUpdatesSeeTheEarlierOnesRows) {
  const auto buyer = funded_buyer();
  const Principal trader{Role::trader, buyer.id, "B"};
  PipelinedJournal journal(db.conninfo(), 2);
  ASSERT_TRUE(journal.commit(all()).is_ok());
  // Pairs of batches in flight together: an order, then its cancellation (the
  // same cash row and order row, changed by both); the later one must win.
  IdleWaiter ready;
  for (int k = 0; k < 50; ++k) {
    const std::size_t before = outcomes.size();
    const OrderId id = run(trader, buy(5'000, 1 + k, "p" + std::to_string(k))).reply.orders.at(0).id;
    const std::vector<const engine::Outcome*> place{outcomes[before].get()};
    ASSERT_TRUE(run(trader, engine::CancelOrder{id}).reply.status.is_ok());
    const std::vector<const engine::Outcome*> cancel{outcomes[before + 1].get()};
    journal.start(place, ready);
    journal.start(cancel, ready);
    ASSERT_TRUE(journal.finish_oldest().is_ok()) << k;
    ASSERT_TRUE(journal.finish_oldest().is_ok()) << k;
  }
  EXPECT_EQ(journal.last_committed(), exchange.last_sequence());
  EXPECT_EQ(query(conn.get(), "SELECT max(sequence) FROM journal_commands"), std::to_string(exchange.last_sequence()));
  EXPECT_EQ(query(conn.get(), "SELECT count(*) FROM orders WHERE status = " +
                                  std::to_string(static_cast<int>(OrderStatus::cancelled)) + " AND reserved_fen = 0"),
            "50");
  const settlement::CashAccount cash = exchange.clearing().account(buyer.cash_account);
  EXPECT_EQ(cash.reserved.value, 0);
  EXPECT_EQ(query(conn.get(), "SELECT available_fen || ' ' || reserved_fen FROM cash_accounts WHERE cash_account_id = " +
                                  std::to_string(buyer.cash_account)),
            std::to_string(cash.available.value) + " 0");
}

/// Two one-order batches after a committed start; the first breaks a CHECK
/// constraint added to orders (quantity <> 7), so its transaction fails.
class PipelineFailureTest : public JournalTest {
 protected:
  void SetUp() override {
    JournalTest::SetUp();
    const auto buyer = funded_buyer();
    const Principal trader{Role::trader, buyer.id, "B"};
    ASSERT_TRUE(journal.commit(all()).is_ok());
    committed = exchange.last_sequence();
    first = {&run(trader, buy(5'000, 7, "fails"))};
    second = {&run(trader, buy(5'000, 1, "second"))};
    exec_or_throw(conn.get(), "ALTER TABLE orders ADD CONSTRAINT test_no_seven CHECK (quantity <> 7)", "constraint");
  }
  /// Neither batch is in the database; once the constraint is gone both commit, one at a time, in order.
  void expect_neither_then_both_in_order() {
    EXPECT_EQ(query(conn.get(), "SELECT max(sequence) FROM journal_commands"), std::to_string(committed));
    EXPECT_EQ(query(conn.get(), "SELECT count(*) FROM orders"), "0");
    EXPECT_EQ(journal.last_committed(), committed);
    exec_or_throw(conn.get(), "ALTER TABLE orders DROP CONSTRAINT test_no_seven", "drop constraint");
    ASSERT_TRUE(journal.commit(first).is_ok());
    ASSERT_TRUE(journal.commit(second).is_ok());
    EXPECT_EQ(query(conn.get(), "SELECT string_agg(client_order_id, ',' ORDER BY order_id) FROM orders"),
              "fails,second");
    EXPECT_EQ(journal.last_committed(), exchange.last_sequence());
  }
  PipelinedJournal journal{db.conninfo(), 2};
  Sequence committed = 0;
  std::vector<const engine::Outcome*> first, second;
  IdleWaiter ready;
};

TEST_F(PipelineFailureTest, ABatchThatFailsTakesTheOnesStartedAfterItBackWithIt) {
  journal.start(first, ready);
  journal.start(second, ready);
  const Status failed = journal.finish_oldest();
  EXPECT_FALSE(failed.is_ok());
  EXPECT_NE(failed.message().find("test_no_seven"), std::string::npos) << failed.message();
  expect_neither_then_both_in_order();
  // A batch committed already (its COMMIT landed, say) is recognised, not written twice.
  ASSERT_TRUE(journal.commit(second).is_ok());
  EXPECT_EQ(query(conn.get(), "SELECT count(*) FROM journal_commands WHERE sequence = " +
                                  std::to_string(second.front()->sequence)),
            "1");
}

TEST_F(PipelineFailureTest, ALaterBatchStuckOnALockIsCutWhenAnEarlierOneFails) {
  // Another transaction holds the second batch's journal key (an uncommitted
  // row with its sequence), so the second's COPY waits for it, with no end.
  PgConn blocker = connect_or_throw(db.conninfo());
  exec_or_throw(blocker.get(), "BEGIN", "begin");
  exec_or_throw(blocker.get(),
                "INSERT INTO journal_commands (sequence, recorded_at_unix_nanos, events) VALUES (" +
                    std::to_string(second.front()->sequence) + ", 0, '[]')",
                "hold the key");
  journal.start(first, ready);
  journal.start(second, ready);
  auto finished = std::async(std::launch::async, [&] { return journal.finish_oldest(); });
  const bool prompt = finished.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  exec_or_throw(blocker.get(), "ROLLBACK", "release the key");  // lets a stuck second go either way
  EXPECT_TRUE(prompt) << "the failure was held up by a later batch that could no longer commit";
  EXPECT_FALSE(finished.get().is_ok());
  expect_neither_then_both_in_order();
}

TEST_F(PipelineFailureTest, ABatchStartedAfterAnEarlierOneFailedIsNotCommittedAheadOfIt) {
  journal.start(first, ready);
  // The first has failed, its failure not taken yet, before the second starts:
  // the second must not take the one-round-trip path of a batch with nothing before it.
  for (int k = 0; k < 500 && !journal.oldest_ready(); ++k) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(journal.oldest_ready());
  journal.start(second, ready);
  EXPECT_FALSE(journal.finish_oldest().is_ok());
  expect_neither_then_both_in_order();
}

TEST_F(JournalTest, PipelinedRegistryStatementsSeeTheRowsOfTheBatchBeforeThem) {
  // Each project references the methodology the batch before it registered
  // (a foreign key): its statements must not run before that batch committed.
  const Principal registry{Role::registry_authority, 0, "reg"};
  const auto owner =
      run(kOperator, engine::CreateParticipant{"O", "Owner", ParticipantType::key_emitting_unit, {3}}).reply.participants.at(0);
  PipelinedJournal journal(db.conninfo(), 2);
  ASSERT_TRUE(journal.commit(all()).is_ok());
  std::vector<std::vector<const engine::Outcome*>> batches;
  for (int k = 0; k < 20; ++k) {
    char code[32];
    std::snprintf(code, sizeof code, "CCER-14-%03d-V01", k + 1);
    const auto& m = run(registry, engine::RegisterMethodology{engine::MethodologyRecord{
                                      code, "Afforestation carbon sink", "V01", "forestry", "MEE 2023 No. 1", 0, 0}});
    ASSERT_TRUE(m.reply.status.is_ok()) << m.reply.status.message();
    batches.push_back({&m});
    const auto& p = run(registry, engine::RegisterCcerProject{"P" + std::to_string(k), "Hilltop forest", code, owner.id,
                                                              "Yunnan", "CQC", "VAL-1", "notice-1", "2023-01-01",
                                                              "2032-12-31"});
    ASSERT_TRUE(p.reply.status.is_ok()) << p.reply.status.message();
    batches.push_back({&p});
  }
  IdleWaiter ready;
  journal.start(batches[0], ready);
  for (std::size_t k = 1; k < batches.size(); ++k) {
    journal.start(batches[k], ready);
    const Status s = journal.finish_oldest();
    ASSERT_TRUE(s.is_ok()) << "batch " << k - 1 << ": " << s.message();
  }
  ASSERT_TRUE(journal.finish_oldest().is_ok());
  EXPECT_EQ(query(conn.get(), "SELECT count(*) FROM ccer_projects"), "20");
  EXPECT_EQ(journal.last_committed(), exchange.last_sequence());
}

TEST_F(JournalTest, OneRowPerCommandHoldsItsEventsInOrderAndTheViewShowsEachEvent) {
  const auto buyer = funded_buyer();
  const auto seller =
      run(kOperator, engine::CreateParticipant{"S", "Seller", ParticipantType::key_emitting_unit, {1}}).reply.participants.at(0);
  run(Principal{Role::registry_authority, 0, "reg"}, engine::SetCap{2024, "power", Qty{1'000'000'000}, 0, "cap"});
  run(Principal{Role::registry_authority, 0, "reg"},
      engine::IssueAllowances{"CEA2024", seller.holding_account, Qty{10'000}, "alloc"});
  for (int k = 0; k < 60; ++k) {
    run(Principal{Role::trader, seller.id, "S"},
        engine::PlaceOrder{"CEA2024", Side::sell, OrderType::limit, TimeInForce::day, TradingMode::listed,
                           Price{5'000 + k}, Qty{10}, "s" + std::to_string(k)});
  }
  // One command sweeping 60 orders: its events are far larger than a page (stored out of line).
  const engine::Outcome& sweep = run(Principal{Role::trader, buyer.id, "B"}, buy(5'100, 600, "sweep"));
  ASSERT_TRUE(sweep.reply.status.is_ok());
  ASSERT_GT(sweep.events.size(), 120u);
  PostgresJournal journal(db.conninfo());
  ASSERT_TRUE(journal.commit(all()).is_ok());

  EXPECT_EQ(query(conn.get(), "SELECT count(*) FROM journal_commands"), std::to_string(all().size()));
  std::string expected;
  append_events(expected, sweep.events);
  EXPECT_GT(expected.size(), 8'192u);
  const std::string seq = std::to_string(sweep.sequence);
  EXPECT_EQ(query(conn.get(), "SELECT events::text FROM journal_commands WHERE sequence = " + seq), expected);
  // The view: one row per event, in the engine's order, each payload as written.
  PgResult rows = exec_or_throw(conn.get(),
                                "SELECT event_index, kind, payload::text, recorded_at_unix_nanos FROM journal"
                                " WHERE sequence = " + seq + " ORDER BY event_index",
                                "read the view");
  ASSERT_EQ(static_cast<std::size_t>(PQntuples(rows.get())), sweep.events.size());
  for (std::size_t k = 0; k < sweep.events.size(); ++k) {
    const int row = static_cast<int>(k);
    EXPECT_EQ(PQgetvalue(rows.get(), row, 0), std::to_string(k));
    EXPECT_STREQ(PQgetvalue(rows.get(), row, 1), engine::event_name(sweep.events[k]));
    EXPECT_EQ(PQgetvalue(rows.get(), row, 2), event_payload_json(sweep.events[k])) << "event " << k;
    EXPECT_EQ(PQgetvalue(rows.get(), row, 3), std::to_string(sweep.at));
  }
  EXPECT_EQ(query(conn.get(), "SELECT count(*) FROM journal WHERE sequence = " + seq + " AND kind = 'TradeExecuted'"),
            "60");
}

TEST_F(JournalTest, Migration13FoldsAnOlderJournalIntoOneRowPerCommandWithTheSameEvents) {
  // A database as migration 12 left it, with a journal of one row per event.
  migrate_to_before(13);
  exec_or_throw(conn.get(),
                "INSERT INTO journal (sequence, event_index, recorded_at_unix_nanos, kind, payload) VALUES"
                " (1, 0, 100, 'ParticipantCreated', '{\"code\":\"B\"}'),"
                " (2, 1, 200, 'CashChanged', '{\"available_fen\":5}'),"
                " (2, 0, 200, 'CashMoved', '{\"amount_fen\":5,\"note\":\"a \\\"quoted\\\" word\"}'),"
                " (3, 0, 300, 'CommandRejected', '{\"code\":\"INVALID_ARGUMENT\"}')",
                "old journal rows");
  EXPECT_EQ(apply_migrations(conn.get()), static_cast<int>(all_migrations().size()) - 12);
  EXPECT_EQ(query(conn.get(), "SELECT count(*) FROM journal_commands"), "3");
  EXPECT_EQ(query(conn.get(), "SELECT recorded_at_unix_nanos FROM journal_commands WHERE sequence = 2"), "200");
  PgResult rows = exec_or_throw(conn.get(),
                                "SELECT sequence, event_index, recorded_at_unix_nanos, kind, payload::text FROM journal"
                                " ORDER BY sequence, event_index",
                                "read the view");
  ASSERT_EQ(PQntuples(rows.get()), 4);
  auto row = [&](int r) {
    std::string out;
    for (int c = 0; c < 5; ++c) out += std::string(c ? "|" : "") + PQgetvalue(rows.get(), r, c);
    return out;
  };
  EXPECT_EQ(row(0), "1|0|100|ParticipantCreated|{\"code\":\"B\"}");
  EXPECT_EQ(row(1), "2|0|200|CashMoved|{\"amount_fen\":5,\"note\":\"a \\\"quoted\\\" word\"}");
  EXPECT_EQ(row(2), "2|1|200|CashChanged|{\"available_fen\":5}");
  EXPECT_EQ(row(3), "3|0|300|CommandRejected|{\"code\":\"INVALID_ARGUMENT\"}");
  EXPECT_EQ(query(conn.get(), "SELECT payload->>'note' FROM journal WHERE kind = 'CashMoved'"), "a \"quoted\" word");
  // The writer resumes after the migrated tail: a batch holding sequence 4 only is appended to it.
  PostgresJournal journal(db.conninfo());
  for (const char* code : {"X", "Y", "Z", "W"}) {
    run(kOperator, engine::CreateParticipant{code, code, ParticipantType::institution, {2}});
  }
  ASSERT_EQ(outcomes.back()->sequence, 4u);
  ASSERT_TRUE(journal.commit({outcomes.back().get()}).is_ok());
  EXPECT_EQ(journal.last_committed(), 4u);
  EXPECT_EQ(query(conn.get(), "SELECT count(*) FROM journal_commands"), "4");
  // The migrated rows are not this exchange's commands under the same sequences: never taken as landed.
  EXPECT_EQ(journal.commit({outcomes.front().get()}).code(), ErrorCode::internal);
}

TEST_F(JournalTest, Migration21SettlesTheProceedsOpenBuysKeptFromEarlierDays) {
  // A database as migration 20 left it: the day in progress opened at sequence 100.
  migrate_to_before(21);
  exec_or_throw(conn.get(),
                "INSERT INTO market_state (trading_date, day_opened_sequence, halted, halt_reason, updated_sequence)"
                " VALUES ('2025-11-25', 100, false, '', 100)",
                "market state");
  // order id, status, reserved_unsettled_fen, updated_sequence: an open GTC buy untouched since an earlier day,
  // one partly filled today, one closed earlier.
  for (const char* row : {"1, 1, 500, 90", "2, 2, 400, 120", "3, 3, 0, 50", "4, 1, 300, 100"}) {
    exec_or_throw(conn.get(),
                  std::string("INSERT INTO orders (order_id, status, reserved_unsettled_fen, updated_sequence,"
                              " client_order_id, participant_id, instrument, side, order_type, time_in_force, mode,"
                              " price_fen, quantity, filled_quantity, sequence, entered_at_unix_nanos, priority,"
                              " reserved_fen) SELECT v.* , '', 7, 'CEA2024', 1, 1, 2, 1, 5000, 10, 0, 1, 1, 1, 50030"
                              " FROM (VALUES (") + row + ")) AS v",
                  "an order");
  }
  EXPECT_EQ(apply_migrations(conn.get()), static_cast<int>(all_migrations().size()) - 20);
  EXPECT_EQ(query(conn.get(), "SELECT string_agg(order_id || ':' || reserved_unsettled_fen, ',' ORDER BY order_id)"
                              " FROM orders"),
            "1:0,2:400,3:0,4:0");
}

TEST_F(JournalTest, Migration22GivesOlderFreezeAndPledgeKeysTheLedgerEntryOfTheirFirstUse) {
  // A database as migration 21 left it: account 7's freeze (sequence 10, entry 3) and pledge (sequence 11,
  // entry 5, after another account's entry 4 of the same sequence kind), and a transfer's key.
  migrate_to_before(22);
  const std::string hash = "'\\x" + std::string(64, '0') + "'";
  for (const char* row : {"3, 10, 7, 7, 8", "4, 11, 9, 9, 10", "5, 11, 7, 7, 10", "6, 12, 7, 8, 4"}) {
    exec_or_throw(conn.get(),
                  std::string("INSERT INTO ledger_entries (entry_id, sequence, from_account_id, to_account_id, kind,"
                              " recorded_at_unix_nanos, instrument, quantity, reference, prev_hash, hash)"
                              " SELECT v.*, 0, 'CEA2024', 1, '', ") +
                      hash + ", " + hash + " FROM (VALUES (" + row + ")) AS v",
                  "a ledger entry");
  }
  exec_or_throw(conn.get(),
                "INSERT INTO registry_idempotency (command, target, idempotency_key, fingerprint, sequence, object_id)"
                " VALUES ('Freeze', 7, 'f', '', 10, 1), ('Pledge', 7, 'p', '', 11, 1), ('Transfer', 7, 't', '', 12, 6)",
                "older keys");
  EXPECT_EQ(apply_migrations(conn.get()), static_cast<int>(all_migrations().size()) - 21);
  EXPECT_EQ(query(conn.get(), "SELECT string_agg(command || ':' || ledger_entry_id, ',' ORDER BY sequence)"
                              " FROM registry_idempotency"),
            "Freeze:3,Pledge:5,Transfer:0");
}

TEST_F(JournalTest, PayloadKeysComeInJsonbOrderAndTheServerStoresTheSameObject) {
  const auto buyer = funded_buyer();
  const auto seller =
      run(kOperator, engine::CreateParticipant{"S", "Seller", ParticipantType::key_emitting_unit, {1}}).reply.participants.at(0);
  run(Principal{Role::registry_authority, 0, "reg"},
      engine::SetCap{2024, "power", Qty{1'000'000'000}, 0, "cap for the test"});  // issuance counts against caps
  run(Principal{Role::registry_authority, 0, "reg"},
      engine::IssueAllowances{"CEA2024", seller.holding_account, Qty{500}, "alloc"});
  run(Principal{Role::trader, seller.id, "S"},
      engine::PlaceOrder{"CEA2024", Side::sell, OrderType::limit, TimeInForce::day, TradingMode::listed, Price{5'000},
                         Qty{100}, "s1"});
  run(Principal{Role::trader, buyer.id, "B"}, buy(5'000, 40, "b1"));
  run(Principal{Role::trader, buyer.id, "B"}, buy(0, 1, "bad"));
  engine::SetParticipantControls controls;
  controls.participant = buyer.id;
  controls.suspended = true;
  controls.reason = "margin call: \"quoted\"";
  run(kOperator, controls);
  run(kOperator, engine::HaltTrading{"CEA2024", "news"});
  run(kOperator, engine::SetTradingCalendar{2026, {"2026-10-01", "2026-10-02"}});
  engine::CreateInstrument instrument;  // InstrumentDefined
  instrument.code = "CEA2026";
  instrument.market = static_cast<int>(Market::compliance);
  instrument.vintage_year = 2026;
  instrument.tick_fen = 1;
  instrument.lot = 1;
  ASSERT_TRUE(run(kOperator, instrument).reply.status.is_ok());
  now = kMondayMorning + 5LL * 3600 * 1'000'000'000;  // 15:00
  ASSERT_TRUE(run(kOperator, engine::RunEndOfDay{"2025-11-24"}).reply.status.is_ok());
  std::set<std::string> kinds;
  for (const engine::Outcome* outcome : all()) {
    for (const engine::Event& event : outcome->events) {
      // The cap set so that the issuance counts against it: a registry event, left to registry_store_test.
      if (std::holds_alternative<engine::CapChanged>(event)) continue;
      kinds.insert(engine::event_name(event));
      // Clearing's end-of-day events are nlohmann objects too (store/clearing_rows.cpp, clearing_store_test).
      if (std::holds_alternative<engine::StatementWritten>(event) ||
          std::holds_alternative<engine::ReconciliationRecorded>(event)) {
        continue;
      }
      const auto payload = nlohmann::ordered_json::parse(event_payload_json(event));
      std::string previous;
      for (const auto& [key, value] : payload.items()) {
        const bool in_order = previous.size() < key.size() || (previous.size() == key.size() && previous < key);
        EXPECT_TRUE(in_order) << engine::event_name(event) << ": " << previous << " before " << key;
        previous = key;
      }
    }
  }
  // The registry's events have their own payloads (store/registry_rows.cpp and ccer_rows.cpp, keys
  // in nlohmann's bytewise order) and their own tests (registry_store_test, e2e ccer_test and
  // pledge_test, repo_test); every other kind is covered here.
  constexpr std::size_t registry_kinds = 15;  // CapChanged ... IdempotencyKeyUsed, pledge, CCER and repo events
  for (const std::string& kind : kinds) EXPECT_FALSE(kind == "CapChanged" || kind == "FreezeChanged") << kind;
  constexpr std::size_t clearing_kinds_not_raised = 1;  // AlertRaised: only a failed reconciliation raises one
  constexpr std::size_t auction_kinds = 1;  // AuctionChanged: store/auction_rows.cpp, e2e auction_test
  EXPECT_EQ(kinds.size(),
            std::variant_size_v<engine::Event> - registry_kinds - clearing_kinds_not_raised - auction_kinds)
      << "every other event kind is covered";
  PostgresJournal journal(db.conninfo());
  ASSERT_TRUE(journal.commit(all()).is_ok());
  EXPECT_EQ(query(conn.get(), "SELECT count(*) FROM journal"), std::to_string([&] {
              std::size_t n = 0;
              for (const engine::Outcome* o : all()) n += o->events.size();
              return n;
            }()));
  const std::string trade = query(conn.get(), "SELECT payload::text FROM journal WHERE kind = 'TradeExecuted'");
  const auto stored = nlohmann::json::parse(trade);
  EXPECT_EQ(stored.at("quantity"), 40);
  EXPECT_EQ(stored.at("price_fen"), 5'000);
  EXPECT_EQ(stored.at("instrument"), "CEA2024");
  // The market-state projections of the same batch.
  EXPECT_EQ(query(conn.get(), "SELECT suspension_reason FROM participant_controls"), "margin call: \"quoted\"");
  EXPECT_EQ(query(conn.get(), "SELECT reference_price_fen FROM instrument_state WHERE instrument = 'CEA2024'"), "5000");
  EXPECT_EQ(query(conn.get(), "SELECT definition->>'vintage_year' FROM instrument_definitions WHERE instrument = 'CEA2026'"),
            "2026");
  EXPECT_EQ(query(conn.get(), "SELECT definition->>'auction_enabled' FROM instrument_definitions"), "true");
  EXPECT_EQ(query(conn.get(), "SELECT definition->>'auction_sell_fee_bps' FROM instrument_definitions"), "0");
  EXPECT_EQ(query(conn.get(), "SELECT trading_date FROM market_state"), "2025-11-25");
  EXPECT_EQ(query(conn.get(), "SELECT array_to_string(holidays, ',') FROM trading_calendar WHERE year = 2026"),
            "2026-10-01,2026-10-02");
  EXPECT_EQ(query(conn.get(), "SELECT close_fen FROM daily_bars WHERE instrument = 'CEA2024' AND mode = 1"), "5000");
}

/// Records the reply and signals a future.
class PromiseCompletion final : public engine::Completion {
 public:
  void complete(engine::Reply&& reply) override { promise.set_value(std::move(reply)); }
  std::promise<engine::Reply> promise;
};

/// A PostgreSQL cluster of its own, so that the test may stop and start it.
/// The parameter: the writer's connections, as journal_connections (a
/// PipelinedJournal, what carbond runs), or 0 for a bare PostgresJournal.
class JournalOutageTest : public ::testing::TestWithParam<std::size_t> {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::filesystem::path(std::filesystem::temp_directory_path() /
                                     ("carbond-journal-outage-" + std::to_string(::getpid())));
    EmbeddedPostgresOptions options;
    options.data_dir = *dir_;
    options.port = 5499;
    options.database = "carbond";
    postgres_ = new EmbeddedPostgres(options);
    postgres_->start();
  }
  static void TearDownTestSuite() {
    delete postgres_;  // stops the server
    std::error_code ec;
    std::filesystem::remove_all(*dir_, ec);
    delete dir_;
  }

  static std::filesystem::path* dir_;
  static EmbeddedPostgres* postgres_;
};
std::filesystem::path* JournalOutageTest::dir_ = nullptr;
EmbeddedPostgres* JournalOutageTest::postgres_ = nullptr;

TEST_P(JournalOutageTest, AnOutageIsAnsweredUnavailableAndThePendingBatchIsCommittedOnceWhenTheDatabaseIsBack) {
  const std::string database = "outage_" + std::to_string(GetParam());
  {
    PgConn admin = connect_or_throw(postgres_->conninfo("postgres"));
    exec_or_throw(admin.get(), "DROP DATABASE IF EXISTS " + database, "drop database");
    exec_or_throw(admin.get(), "CREATE DATABASE " + database, "create database");
  }
  const std::string conninfo = postgres_->conninfo(database);
  {
    PgConn conn = connect_or_throw(conninfo);
    apply_migrations(conn.get());
  }
  Config config = session_config();
  engine::Exchange exchange(config);
  ShiftedClock clock(kMondayMorning);
  std::unique_ptr<engine::JournalSink> journal;
  if (GetParam() == 0) {
    journal = std::make_unique<PostgresJournal>(conninfo);
  } else {
    journal = std::make_unique<PipelinedJournal>(conninfo, GetParam());
  }
  engine::RuntimeOptions options;
  options.unavailable_after_ms = 300;
  engine::EngineRuntime runtime(exchange, clock, *journal, options);
  runtime.start();
  auto submit = [&](engine::CommandBody body, const Principal& who = kOperator) {
    auto completion = std::make_unique<PromiseCompletion>();
    auto reply = completion->promise.get_future();
    const Status status = runtime.submit(Command{who, std::move(body)}, completion.get());
    return std::make_tuple(status, std::move(completion), std::move(reply));
  };

  auto [created_status, created_completion, created] =
      submit(engine::CreateParticipant{"B", "Buyer", ParticipantType::institution, {2}});
  ASSERT_TRUE(created_status.is_ok());
  ASSERT_EQ(created.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  const auto buyer = created.get().participants.at(0);
  const Principal trader{Role::trader, buyer.id, "B"};
  auto [deposit_status, deposit_completion, deposit] =
      submit(engine::MoveCash{buyer.cash_account, Cash{10'000'000}, "d1", false});
  ASSERT_EQ(deposit.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  ASSERT_TRUE(deposit.get().status.is_ok());

  postgres_->stop();
  // Taken before the writer notices: it waits, then is answered UNAVAILABLE (outcome unknown).
  const auto sent = std::chrono::steady_clock::now();
  auto [during_status, during_completion, during] = submit(buy(5'000, 10, "during"), trader);
  ASSERT_TRUE(during_status.is_ok());
  ASSERT_EQ(during.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  const engine::Reply during_reply = during.get();
  EXPECT_EQ(during_reply.status.code(), ErrorCode::unavailable);
  EXPECT_GE(std::chrono::steady_clock::now() - sent, std::chrono::milliseconds(300));
  // While the outage lasts nothing new is taken.
  EXPECT_TRUE(runtime.journal_unavailable());
  auto [refused_status, refused_completion, refused] = submit(buy(5'000, 10, "refused"), trader);
  EXPECT_EQ(refused_status.code(), ErrorCode::unavailable);

  postgres_->start();
  ASSERT_TRUE(eventually([&] { return !runtime.journal_unavailable(); })) << "the writer did not reconnect";
  auto [after_status, after_completion, after] = submit(buy(5'001, 10, "after"), trader);
  ASSERT_TRUE(after_status.is_ok());
  ASSERT_EQ(after.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_TRUE(after.get().status.is_ok());
  runtime.stop();

  // Every sequence the engine issued is in the journal exactly once, and the state reloads.
  PgConn conn = connect_or_throw(conninfo);
  EXPECT_EQ(query(conn.get(), "SELECT count(DISTINCT sequence) FROM journal"), std::to_string(exchange.last_sequence()));
  EXPECT_EQ(query(conn.get(), "SELECT max(sequence) FROM journal"), std::to_string(exchange.last_sequence()));
  EXPECT_EQ(query(conn.get(), "SELECT string_agg(client_order_id, ',' ORDER BY order_id) FROM orders"),
            "during,after");
  const engine::RecoveredState state = load_state(conn.get());
  EXPECT_NO_THROW(check_state(conn.get(), state));
  engine::Exchange restored(config);
  restored.restore(state);
  EXPECT_EQ(restored.clearing().account(buyer.cash_account), exchange.clearing().account(buyer.cash_account));
}

INSTANTIATE_TEST_SUITE_P(Writers, JournalOutageTest, ::testing::Values(std::size_t{0}, std::size_t{1}, std::size_t{2}),
                         [](const ::testing::TestParamInfo<std::size_t>& writer) {
                           return writer.param == 0 ? std::string("PostgresJournal")
                                                  : "Pipelined" + std::to_string(writer.param);
                         });

}  // namespace
}  // namespace carbon::store
