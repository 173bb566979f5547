// The audit writer of staff reads against a real PostgreSQL: a record is
// committed before its call is told, QueryAuditLog's reader returns it with
// its own audit id after the journal's records, and an unreachable database
// answers UNAVAILABLE (the read is not answered unaudited). Migration 0012
// keeps the records written before it, under their sequence as audit id.
// The hash chain of migration 0024: records chained as they are inserted
// (by either writer, several in one statement), verified by carbond's own
// encoder; a record altered, removed, or altered with its hash recomputed is
// found; records written before 0024 are chained by the migration.

#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include "store/audit_reader.h"
#include "store/audit_writer.h"
#include "store/migrations.h"
#include "store/pg.h"
#include "support/test_database.h"

namespace carbon::store {
namespace {

engine::AuditEntry read_by(const std::string& who, const std::string& method, ErrorCode code) {
  engine::AuditEntry e;
  e.at = 1'763'949'600'000'000'000;
  e.role = Role::regulator;
  e.principal = who;
  e.method = method;
  e.peer = "ipv4:127.0.0.1:1";
  e.request_summary = "{\"holding_account_id\":\"7\"}";
  e.code = code;
  e.message = code == ErrorCode::ok ? "" : "refused";
  return e;
}

/// The schema as it stood after migration `last`, recorded as applied, so that apply_migrations goes on from it.
void apply_migrations_up_to(PgConn& conn, int last) {
  exec_or_throw(conn.get(),
                "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
                "schema_migrations");
  for (const Migration& m : all_migrations()) {
    if (m.version > last) break;
    exec_or_throw(conn.get(), std::string(m.sql), "an earlier migration");
    exec_params_or_throw(conn.get(), "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                         {std::to_string(m.version), std::string(m.name)}, "record");
  }
}

/// `sql` fails with an error that contains `words`.
void expect_refused(PgConn& conn, const std::string& sql, const std::string& words) {
  try {
    exec_or_throw(conn.get(), sql, "a statement to be refused");
    ADD_FAILURE() << sql << " was not refused";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
  }
}

Status write_one(AuditWriter& writer, engine::AuditEntry entry) {
  std::promise<Status> done;
  writer.submit(std::move(entry), [&done](Status s) { done.set_value(std::move(s)); });
  return done.get_future().get();
}

TEST(AuditWriterTest, ReadsAreCommittedBeforeTheCallIsToldAndReadBackNewestFirst) {
  testing::TestDatabase db;
  PgConn conn = connect_or_throw(db.conninfo());
  apply_migrations(conn.get());
  // A command's record as the journal writes it (sequence 12), then two reads.
  exec_or_throw(conn.get(),
                "INSERT INTO audit_log (sequence, recorded_at_unix_nanos, token_id, role, principal, participant_id,"
                " method, peer, request_summary, status_code, status_message)"
                " VALUES (12, 1, 0, 2, 'ops', 0, '/carbon.v1.AdminService/Deposit', 'p', '{}', 0, '')",
                "insert a command's record");
  AuditWriter writer(db.conninfo());
  ASSERT_TRUE(write_one(writer, read_by("regulator", "/carbon.v1.RegulatorService/ListLedgerEntries", ErrorCode::ok))
                  .is_ok());
  ASSERT_TRUE(write_one(writer, read_by("regulator", "/carbon.v1.RegulatorService/ListLedgerEntries",
                                        ErrorCode::invalid_argument))
                  .is_ok());
  std::vector<engine::AuditEntry> out;
  ASSERT_TRUE(query_audit_log(db.conninfo(), AuditFilter{}, out).is_ok());
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].code, ErrorCode::invalid_argument);
  EXPECT_EQ(out[0].message, "refused");
  EXPECT_EQ(out[0].sequence, 0u);
  EXPECT_EQ(out[1].code, ErrorCode::ok);
  EXPECT_EQ(out[1].request_summary, "{\"holding_account_id\":\"7\"}");
  EXPECT_EQ(out[2].sequence, 12u);
  EXPECT_GT(out[0].audit_id, out[1].audit_id);
  EXPECT_GT(out[1].audit_id, out[2].audit_id);
  // Paging by audit id, and the failures filter.
  AuditFilter older;
  older.before_audit_id = out[1].audit_id;
  std::vector<engine::AuditEntry> page;
  ASSERT_TRUE(query_audit_log(db.conninfo(), older, page).is_ok());
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page[0].sequence, 12u);
  // Commands stay unique by sequence; reads share sequence 0.
  EXPECT_THROW(exec_or_throw(conn.get(),
                             "INSERT INTO audit_log (sequence, recorded_at_unix_nanos, token_id, role, principal,"
                             " participant_id, method, peer, request_summary, status_code, status_message)"
                             " VALUES (12, 1, 0, 2, 'ops', 0, 'm', 'p', '{}', 0, '')",
                             "a second record of sequence 12"),
               std::runtime_error);
  // Append-only (migration 0023): no record can be changed or removed, the whole table neither.
  for (const char* change : {"UPDATE audit_log SET status_code = 0", "DELETE FROM audit_log WHERE sequence = 12",
                             "TRUNCATE audit_log"}) {
    expect_refused(conn, change, "audit_log is append-only");
  }
  EXPECT_EQ(db.query("SELECT count(*) FROM audit_log"), "3");
  EXPECT_EQ(db.query("SELECT count(*) FROM audit_log WHERE status_code <> 0"), "1");
}

TEST(AuditWriterTest, AnUnreachableDatabaseIsUnavailableNotUnaudited) {
  AuditWriter writer("host=/nonexistent-carbond-socket-dir dbname=carbond connect_timeout=2");
  const Status s = write_one(writer, read_by("regulator", "/carbon.v1.RegulatorService/VerifyLedger", ErrorCode::ok));
  EXPECT_EQ(s.code(), ErrorCode::unavailable) << s.message();
  EXPECT_NE(s.message().find("not answered unaudited"), std::string::npos) << s.message();
}

TEST(AuditWriterTest, ALockHeldPastTheTimeoutIsUnavailableNotAWaitWithoutEnd) {
  testing::TestDatabase db;
  PgConn conn = connect_or_throw(db.conninfo());
  apply_migrations(conn.get());
  // A journal transaction that does not end holds the audit log's lock.
  PgConn holder = connect_or_throw(db.conninfo());
  exec_or_throw(holder.get(), "BEGIN; LOCK TABLE audit_log_writers IN EXCLUSIVE MODE", "hold the lock");
  AuditWriter writer(db.conninfo(), /*lock_timeout_ms=*/200);
  const Status s = write_one(writer, read_by("regulator", "/carbon.v1.RegulatorService/VerifyLedger", ErrorCode::ok));
  EXPECT_EQ(s.code(), ErrorCode::unavailable) << s.message();
  EXPECT_NE(s.message().find("55P03"), std::string::npos) << s.message();
  exec_or_throw(holder.get(), "ROLLBACK", "release the lock");
  const Status later = write_one(writer, read_by("regulator", "/carbon.v1.RegulatorService/VerifyLedger", ErrorCode::ok));
  EXPECT_TRUE(later.is_ok()) << "the same connection writes once the lock is free: " << later.message();
  EXPECT_EQ(db.query("SELECT count(*) FROM audit_log"), "1");
}

/// Sends SIGCONT to a stopped backend when it goes out of scope, however the test ends.
struct Resume {
  pid_t pid;
  ~Resume() { ::kill(pid, SIGCONT); }
};

TEST(AuditWriterTest, AServerThatDoesNotAnswerIsUnavailableWithinTheLockTimeoutAndItsMargin) {
  testing::TestDatabase db;
  {
    PgConn conn = connect_or_throw(db.conninfo());
    apply_migrations(conn.get());
  }
  AuditWriter writer(db.conninfo(), /*lock_timeout_ms=*/300);
  ASSERT_TRUE(write_one(writer, read_by("regulator", "m", ErrorCode::ok)).is_ok());
  // The writer's backend (once the migrations' connection has gone, the only other one, idle after its
  // COMMIT) stops answering: a frozen host.
  const std::string others = "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
                             " AND backend_type = 'client backend'";
  for (int i = 0; i < 500 && db.query("SELECT count(*) " + others) != "1"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(db.query("SELECT count(*) " + others), "1");
  const pid_t pid = std::stoi(db.query("SELECT pid " + others));
  ASSERT_EQ(::kill(pid, SIGSTOP), 0);
  {
    const Resume resume{pid};
    auto done = std::make_shared<std::promise<Status>>();  // the writer may outlive an early return
    auto answered = done->get_future();
    const auto started = std::chrono::steady_clock::now();
    writer.submit(read_by("regulator", "m", ErrorCode::ok), [done](Status s) { done->set_value(std::move(s)); });
    ASSERT_EQ(answered.wait_for(std::chrono::seconds(20)), std::future_status::ready) << "the write was not bounded";
    const auto took = std::chrono::steady_clock::now() - started;
    const Status s = answered.get();
    EXPECT_EQ(s.code(), ErrorCode::unavailable) << s.message();
    EXPECT_NE(s.message().find("did not answer within 2300 ms"), std::string::npos) << s.message();
    EXPECT_LT(took, std::chrono::seconds(10)) << "no second try against a server that did not answer";
  }
  // The next record goes through a fresh connection.
  EXPECT_TRUE(write_one(writer, read_by("regulator", "m", ErrorCode::ok)).is_ok());
}

TEST(AuditWriterTest, Migration0012KeepsEarlierRecordsUnderTheirSequence) {
  testing::TestDatabase db;
  PgConn conn = connect_or_throw(db.conninfo());
  apply_migrations_up_to(conn, 7);
  exec_or_throw(conn.get(),
                "INSERT INTO audit_log (sequence, recorded_at_unix_nanos, token_id, role, principal, participant_id,"
                " method, peer, request_summary, status_code, status_message)"
                " VALUES (40, 1, 0, 2, 'ops', 0, 'm', 'p', '{}', 0, '')",
                "a record before 0012");
  apply_migrations(conn.get());
  EXPECT_EQ(db.query("SELECT audit_id FROM audit_log WHERE sequence = 40"), "40");
  AuditWriter writer(db.conninfo());
  ASSERT_TRUE(write_one(writer, read_by("regulator", "m", ErrorCode::ok)).is_ok());
  EXPECT_EQ(db.query("SELECT max(audit_id) FROM audit_log"), "41");
}

constexpr const char* kInsertCommandRecord =
    "INSERT INTO audit_log (sequence, recorded_at_unix_nanos, token_id, role, principal, participant_id,"
    " method, peer, request_summary, status_code, status_message)";

AuditVerificationReport verified(const testing::TestDatabase& db, std::uint64_t from = 0, std::uint64_t to = 0) {
  AuditVerificationReport report;
  const Status s = verify_audit_log(db.conninfo(), from, to, report);
  EXPECT_TRUE(s.is_ok()) << s.message();
  return report;
}

/// Five records: a command's (inserted here without the writers' lock, which the journal writer takes first:
/// the trigger takes it), two reads by the audit writer, then two commands in one statement (as AccessRows
/// inserts a batch's).
void write_five(const testing::TestDatabase& db, PgConn& conn) {
  exec_or_throw(conn.get(),
                std::string(kInsertCommandRecord) +
                    " VALUES (12, 1, 0, 2, '运营', 0, '/carbon.v1.AdminService/Deposit', 'p', '{\"k\":\"é\"}', 0, '')",
                "a command's record");
  AuditWriter writer(db.conninfo());
  ASSERT_TRUE(
      write_one(writer, read_by("regulator", "/carbon.v1.RegulatorService/QueryTrades", ErrorCode::ok)).is_ok());
  ASSERT_TRUE(write_one(writer, read_by("auditor", "/carbon.v1.RegulatorService/QueryOrders", ErrorCode::not_found))
                  .is_ok());
  exec_or_throw(conn.get(),
                std::string(kInsertCommandRecord) +
                    " SELECT * FROM unnest('{13,14}'::bigint[], '{5,6}'::bigint[], '{0,7}'::bigint[],"
                    " '{2,3}'::smallint[], '{ops,reg}'::text[], '{3,0}'::bigint[], '{m1,m2}'::text[], '{p,p}'::text[],"
                    " '{\"{}\",\"{}\"}'::text[], '{0,9}'::int[], '{\"\",refused}'::text[])",
                "two commands in one statement");
}

TEST(AuditChainTest, RecordsAreChainedAsInsertedAndVerifyWithCarbondsOwnEncoder) {
  testing::TestDatabase db;
  PgConn conn = connect_or_throw(db.conninfo());
  apply_migrations(conn.get());
  AuditVerificationReport empty = verified(db);
  EXPECT_TRUE(empty.valid);
  EXPECT_EQ(empty.records_checked, 0u);
  EXPECT_EQ(empty.first_audit_id, 0u);
  write_five(db, conn);

  AuditVerificationReport all = verified(db);
  EXPECT_TRUE(all.valid) << all.failure;
  EXPECT_EQ(all.records_checked, 5u);
  EXPECT_EQ(all.first_audit_id, 1u);
  EXPECT_EQ(all.last_audit_id, 5u);
  EXPECT_EQ("\\x" + registry::to_hex(all.last_hash), db.query("SELECT record_hash FROM audit_log WHERE audit_id = 5"));
  EXPECT_EQ(db.query("SELECT prev_hash FROM audit_log WHERE audit_id = 1"), "\\x" + std::string(64, '0'));
  EXPECT_EQ(db.query("SELECT count(*) FROM audit_log a JOIN audit_log b ON b.audit_id = a.audit_id + 1"
                     " WHERE b.prev_hash = a.record_hash"),
            "4")
      << "each record links to the one before it, also within one statement";
  // The reader returns each record's hash with it.
  std::vector<engine::AuditEntry> out;
  std::vector<registry::Hash> hashes;
  ASSERT_TRUE(query_audit_log(db.conninfo(), AuditFilter{}, out, &hashes).is_ok());
  ASSERT_EQ(hashes.size(), 5u);
  EXPECT_EQ(out[0].audit_id, 5u);
  EXPECT_EQ(hashes[0], all.last_hash);

  // Ranges: a part of the chain, bounds that are no record's id, and refusals.
  AuditVerificationReport middle = verified(db, 2, 4);
  EXPECT_TRUE(middle.valid) << middle.failure;
  EXPECT_EQ(middle.records_checked, 3u);
  EXPECT_EQ(middle.first_audit_id, 2u);
  EXPECT_EQ(middle.last_audit_id, 4u);
  AuditVerificationReport report;
  EXPECT_EQ(verify_audit_log(db.conninfo(), 4, 2, report).code(), ErrorCode::invalid_argument);
  const Status beyond = verify_audit_log(db.conninfo(), 0, 6, report);
  EXPECT_EQ(beyond.code(), ErrorCode::not_found);
  EXPECT_NE(beyond.message().find("ends at record 5"), std::string::npos) << beyond.message();
  EXPECT_EQ(verify_audit_log(db.conninfo(), 6, 0, report).code(), ErrorCode::not_found);
  // Ids have gaps (this insert drew 6 and rolled back): the chain still links across them.
  EXPECT_THROW(exec_or_throw(conn.get(),
                             std::string(kInsertCommandRecord) + " VALUES (0, 1, 0, 2, 'x', 0, 'm', 'p', '{}', 0, '')"
                                                                 " , (12, 1, 0, 2, 'x', 0, 'm', 'p', '{}', 0, '')",
                             "a duplicate sequence rolls the statement back"),
               std::runtime_error);
  exec_or_throw(conn.get(), std::string(kInsertCommandRecord) + " VALUES (16, 1, 0, 2, 'x', 0, 'm', 'p', '{}', 0, '')",
                "after a gap");
  AuditVerificationReport gapped = verified(db);
  EXPECT_TRUE(gapped.valid) << gapped.failure;
  EXPECT_EQ(gapped.records_checked, 6u);
  EXPECT_GT(gapped.last_audit_id, 6u);
  AuditVerificationReport from_gap = verified(db, 6, 0);
  EXPECT_TRUE(from_gap.valid) << from_gap.failure;
  EXPECT_EQ(from_gap.records_checked, 1u);
  // A record whose id would not follow the last one is refused (an insert that skipped the writers' lock and
  // raced another), though the id is free.
  const std::string with_id = "INSERT INTO audit_log (audit_id, sequence, recorded_at_unix_nanos, token_id, role,"
                              " principal, participant_id, method, peer, request_summary, status_code, status_message)";
  expect_refused(conn, with_id + " VALUES (7, 17, 1, 0, 2, 'x', 0, 'm', 'p', '{}', 0, '')",
                 "would not follow record 8");
  // Nor one far above every id the sequence drew: every later record would be refused after it.
  expect_refused(conn, with_id + " VALUES (9000000000000000000, 18, 1, 0, 2, 'x', 0, 'm', 'p', '{}', 0, '')",
                 "above the last audit id drawn");
  // Nor under another isolation than READ COMMITTED: its snapshot may miss the last record committed.
  expect_refused(conn,
                 "BEGIN ISOLATION LEVEL REPEATABLE READ; " + std::string(kInsertCommandRecord) +
                     " VALUES (19, 1, 0, 2, 'x', 0, 'm', 'p', '{}', 0, '')",
                 "under READ COMMITTED, not REPEATABLE READ");
  exec_or_throw(conn.get(), "ROLLBACK", "end the failed transaction");
  EXPECT_TRUE(verified(db).valid);
}

TEST(AuditChainTest, CarbondsConnectionsChainAndVerifyWhateverTheDatabasesDefaults) {
  testing::TestDatabase db;
  PgConn conn = connect_or_throw(db.conninfo());
  apply_migrations(conn.get());
  // A database whose sessions default to REPEATABLE READ, bytea in escape form, and LATIN1 text.
  db.query("DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET default_transaction_isolation = %L',"
           " current_database(), 'repeatable read'); EXECUTE format('ALTER DATABASE %I SET bytea_output = %L',"
           " current_database(), 'escape'); EXECUTE format('ALTER DATABASE %I SET client_encoding = %L',"
           " current_database(), 'LATIN1'); END $$");
  EXPECT_EQ(db.query("SHOW default_transaction_isolation"), "repeatable read");
  PgConn fresh = connect_or_throw(db.conninfo());  // carbond's connection: its own settings
  write_five(db, fresh);
  AuditVerificationReport report = verified(db);
  EXPECT_TRUE(report.valid) << report.failure;
  EXPECT_EQ(report.records_checked, 5u);
  EXPECT_EQ(registry::to_hex(report.last_hash),
            db.query("SELECT encode(record_hash, 'hex') FROM audit_log WHERE audit_id = 5"));
  // Under the database's own defaults (the test's plain connection), a bytea comes back in escape form, which
  // carbond's connections never see.
  EXPECT_NE(db.query("SELECT record_hash FROM audit_log WHERE audit_id = 5").substr(0, 2), "\\x");
}

TEST(AuditChainTest, TheTwoWritersInsertingAtOnceKeepOneChain) {
  testing::TestDatabase db;
  {
    PgConn conn = connect_or_throw(db.conninfo());
    apply_migrations(conn.get());
  }
  constexpr int kEach = 60;
  // The journal writer's way: its own transaction, the writers' lock first, then the command's record.
  std::thread journal([&] {
    PgConn conn = connect_or_throw(db.conninfo());
    for (int k = 0; k < kEach; ++k) {
      exec_or_throw(conn.get(),
                    "BEGIN; LOCK TABLE audit_log_writers IN EXCLUSIVE MODE; " + std::string(kInsertCommandRecord) +
                        " VALUES (" + std::to_string(100 + k) + ", 1, 0, 2, 'ops', 0, 'm', 'p', '{}', 0, ''); COMMIT",
                    "a command's record");
    }
  });
  AuditWriter writer(db.conninfo());
  for (int k = 0; k < kEach; ++k) {
    ASSERT_TRUE(write_one(writer, read_by("regulator", "/carbon.v1.RegulatorService/QueryTrades", ErrorCode::ok))
                    .is_ok());
  }
  journal.join();
  const AuditVerificationReport report = verified(db);
  EXPECT_TRUE(report.valid) << report.failure;
  EXPECT_EQ(report.records_checked, 2u * kEach);
  EXPECT_EQ(db.query("SELECT count(DISTINCT prev_hash) FROM audit_log"), std::to_string(2 * kEach))
      << "no two records link to the same one";
  // They did insert at once: the chain passes from one writer's records to the other's more than once (119
  // times in 120 records when this was written).
  EXPECT_GT(std::stoi(db.query("SELECT count(*) FROM (SELECT principal, lag(principal) OVER (ORDER BY audit_id)"
                               " AS before FROM audit_log) AS t WHERE principal <> before")),
            1);
}

TEST(AuditChainTest, AlteredRemovedAndRehashedRecordsAreFound) {
  testing::TestDatabase db;
  PgConn conn = connect_or_throw(db.conninfo());
  apply_migrations(conn.get());
  write_five(db, conn);
  const std::string kept_hash = registry::to_hex(verified(db).last_hash);
  // Someone with the table's ownership turns the append-only trigger off.
  db.query("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_or_delete");

  // A refusal rewritten as a success.
  db.query("UPDATE audit_log SET status_code = 0 WHERE audit_id = 3");
  AuditVerificationReport altered = verified(db);
  EXPECT_FALSE(altered.valid);
  EXPECT_EQ(altered.first_bad_audit_id, 3u);
  EXPECT_EQ(altered.records_checked, 2u);
  EXPECT_EQ(altered.last_audit_id, 2u);
  EXPECT_EQ(altered.failure, "hash mismatch: record 3 was altered");
  EXPECT_TRUE(verified(db, 1, 2).valid) << "the records before it still verify";
  EXPECT_FALSE(verified(db, 3, 3).valid);
  db.query("UPDATE audit_log SET status_code = 5 WHERE audit_id = 3");
  EXPECT_TRUE(verified(db).valid) << "restored";

  // The same, with its hash computed again by the database's own function: the next record no longer links.
  db.query("UPDATE audit_log SET status_code = 0 WHERE audit_id = 3;"
           " UPDATE audit_log a SET record_hash = sha256(a.prev_hash || audit_log_canonical(a)) WHERE audit_id = 3");
  AuditVerificationReport rehashed = verified(db);
  EXPECT_FALSE(rehashed.valid);
  EXPECT_EQ(rehashed.first_bad_audit_id, 4u);
  EXPECT_NE(rehashed.failure.find("prev_hash of record 4 does not link to record 3"), std::string::npos)
      << rehashed.failure;
  // Every later hash computed again makes the chain link; the hash a regulator kept no longer matches.
  db.query("DO $$ DECLARE r audit_log; previous bytea; BEGIN"
           " FOR r IN SELECT * FROM audit_log WHERE audit_id > 3 ORDER BY audit_id LOOP"
           " SELECT record_hash INTO previous FROM audit_log WHERE audit_id = r.audit_id - 1;"
           " UPDATE audit_log SET prev_hash = previous, record_hash = sha256(previous || audit_log_canonical(r))"
           " WHERE audit_id = r.audit_id; END LOOP; END $$");
  AuditVerificationReport rewritten = verified(db);
  EXPECT_TRUE(rewritten.valid) << rewritten.failure;
  EXPECT_NE(registry::to_hex(rewritten.last_hash), kept_hash);

  // A record removed: the one after it does not link; the first one removed: the log does not start at zero.
  db.query("DELETE FROM audit_log WHERE audit_id = 2");
  AuditVerificationReport removed = verified(db);
  EXPECT_FALSE(removed.valid);
  EXPECT_EQ(removed.first_bad_audit_id, 3u);
  EXPECT_NE(removed.failure.find("prev_hash of record 3 does not link to record 1"), std::string::npos)
      << removed.failure;
  db.query("DELETE FROM audit_log WHERE audit_id = 1");
  AuditVerificationReport headless = verified(db);
  EXPECT_FALSE(headless.valid);
  EXPECT_EQ(headless.first_bad_audit_id, 3u);
  EXPECT_NE(headless.failure.find("does not link to the start of the log"), std::string::npos) << headless.failure;
}

TEST(AuditChainTest, Migration0024ChainsTheRecordsWrittenBeforeIt) {
  testing::TestDatabase db;
  PgConn conn = connect_or_throw(db.conninfo());
  apply_migrations_up_to(conn, 23);
  for (int k = 0; k < 3; ++k) {
    exec_or_throw(conn.get(),
                  std::string(kInsertCommandRecord) + " VALUES (" + std::to_string(20 + k) +
                      ", 1, 0, 2, 'ops', 0, 'm', 'p', '{}', 0, '')",
                  "a record before 0024");
  }
  apply_migrations(conn.get());
  AuditVerificationReport report = verified(db);
  EXPECT_TRUE(report.valid) << report.failure;
  EXPECT_EQ(report.records_checked, 3u);
  exec_or_throw(conn.get(),
                std::string(kInsertCommandRecord) + " VALUES (30, 1, 0, 2, 'ops', 0, 'm', 'p', '{}', 0, '')",
                "a record after 0024");
  report = verified(db);
  EXPECT_TRUE(report.valid) << report.failure;
  EXPECT_EQ(report.records_checked, 4u);
  // The migration turned the append-only trigger back on.
  EXPECT_THROW(exec_or_throw(conn.get(), "DELETE FROM audit_log", "delete"), std::runtime_error);
}

}  // namespace
}  // namespace carbon::store
