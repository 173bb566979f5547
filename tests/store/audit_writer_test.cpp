// The audit writer of staff reads against a real PostgreSQL: a record is
// committed before its call is told, QueryAuditLog's reader returns it with
// its own audit id after the journal's records, and an unreachable database
// answers UNAVAILABLE (the read is not answered unaudited). Migration 0012
// keeps the records written before it, under their sequence as audit id.

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
    try {
      exec_or_throw(conn.get(), change, change);
      ADD_FAILURE() << change << " was not refused";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("audit_log is append-only"), std::string::npos) << e.what();
    }
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
  exec_or_throw(conn.get(),
                "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
                "schema_migrations");
  for (const Migration& m : all_migrations()) {
    if (m.version > 7) break;
    exec_or_throw(conn.get(), std::string(m.sql), "an early migration");
    exec_params_or_throw(conn.get(), "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                         {std::to_string(m.version), std::string(m.name)}, "record");
  }
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

}  // namespace
}  // namespace carbon::store
