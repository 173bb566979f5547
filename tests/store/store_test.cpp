#include <gtest/gtest.h>

#include "engine/exchange.h"
#include "store/journal.h"
#include "store/migrations.h"
#include "store/pg.h"
#include "store/recovery.h"
#include "support/test_database.h"

namespace carbon::store {
namespace {

using engine::Command;
using engine::Principal;

class StoreTest : public ::testing::Test {
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

  /// A small market: two participants, cash, units, a trade and resting orders on both sides.
  void trade_a_little() {
    Principal op{Role::operator_, 0, "ops"};
    const auto seller = run(op, engine::CreateParticipant{"S", "Seller", ParticipantType::key_emitting_unit, {1}})
                            .reply.participants.at(0);
    const auto buyer =
        run(op, engine::CreateParticipant{"B", "Buyer", ParticipantType::institution, {2}}).reply.participants.at(0);
    run(op, engine::MoveCash{buyer.cash_account, Cash{1'000'000}, "d1", false});
    run(Principal{Role::registry_authority, 0, "reg"},
        engine::SetCap{2024, "power", Qty{1'000'000'000}, 0, "cap for the test"});  // issuance counts against caps
    run(Principal{Role::registry_authority, 0, "reg"},
        engine::IssueAllowances{"CEA2024", seller.holding_account, Qty{500}, "alloc"});
    const Principal s{Role::trader, seller.id, "S"}, b{Role::trader, buyer.id, "B"};
    using engine::PlaceOrder;
    run(s, PlaceOrder{"CEA2024", Side::sell, OrderType::limit, TimeInForce::day, TradingMode::listed, Price{5'000},
                      Qty{100}, "s1"});
    run(s, PlaceOrder{"CEA2024", Side::sell, OrderType::limit, TimeInForce::day, TradingMode::listed, Price{5'200},
                      Qty{100}, "s2"});
    run(b, PlaceOrder{"CEA2024", Side::buy, OrderType::limit, TimeInForce::day, TradingMode::listed, Price{5'100},
                      Qty{150}, "b1"});
    run(b, PlaceOrder{"CEA2024", Side::buy, OrderType::limit, TimeInForce::day, TradingMode::listed, Price{0},
                      Qty{1}, "bad"});
    run(b, PlaceOrder{"CEA2024", Side::buy, OrderType::limit, TimeInForce::day, TradingMode::listed, Price{4'600},
                      Qty{10}, "b2"});
    seller_ = seller;
    buyer_ = buyer;
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
  UnixNanos now = 1'763'949'600'000'000'000;  // Monday 2025-11-24 10:00 Asia/Shanghai
  engine::ParticipantRecord seller_, buyer_;
};

TEST(PgTest, AConnectionErrorDoesNotShowThePassword) {
  const std::string plain = conninfo_for_logs("host=db.example port=5432 dbname=carbond user=carbond password=s3cret");
  EXPECT_EQ(plain.find("s3cret"), std::string::npos) << plain;
  EXPECT_EQ(plain.find("password"), std::string::npos) << plain;
  for (const char* kept : {"host=db.example", "port=5432", "dbname=carbond", "user=carbond"}) {
    EXPECT_NE(plain.find(kept), std::string::npos) << plain;
  }
  const std::string uri = conninfo_for_logs("postgresql://carbond:s3cret@db.example:5432/carbond");
  EXPECT_EQ(uri.find("s3cret"), std::string::npos) << uri;
  EXPECT_NE(uri.find("host=db.example"), std::string::npos) << uri;
  EXPECT_EQ(conninfo_for_logs("host='unterminated"), "a connection string libpq cannot parse");
  try {
    connect_or_throw("host=127.0.0.1 port=1 connect_timeout=2 user=carbond password=s3cret");
    ADD_FAILURE() << "nothing listens on port 1";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.find("s3cret"), std::string::npos) << what;
    EXPECT_NE(what.find("port=1"), std::string::npos) << what;
  }
}

TEST_F(StoreTest, MigrationsApplyOnceEach) {
  EXPECT_EQ(apply_migrations(conn.get()), 0);
  EXPECT_EQ(db.query("SELECT count(*) FROM schema_migrations"), std::to_string(all_migrations().size()));
}

TEST_F(StoreTest, CommittedBatchReloadsIntoTheSameState) {
  trade_a_little();
  commit_pending();
  EXPECT_EQ(db.query("SELECT count(*) FROM trades"), "1");
  EXPECT_EQ(db.query("SELECT count(*) FROM journal WHERE kind = 'CommandRejected'"), "1");
  EXPECT_EQ(db.query("SELECT max(sequence) FROM journal"), std::to_string(exchange.last_sequence()));

  const engine::RecoveredState state = load_state(conn.get());
  EXPECT_NO_THROW(check_state(conn.get(), state));
  engine::Exchange restored(config);
  restored.restore(state);
  EXPECT_EQ(restored.last_sequence(), exchange.last_sequence());
  for (const auto* p : {&seller_, &buyer_}) {
    EXPECT_EQ(restored.clearing().account(p->cash_account), exchange.clearing().account(p->cash_account));
    EXPECT_EQ(restored.registry().holding(p->holding_account, "CEA2024"),
              exchange.registry().holding(p->holding_account, "CEA2024"));
  }
  EXPECT_EQ(restored.registry().ledger().last_hash(), exchange.registry().ledger().last_hash());
  const auto* before = exchange.book("CEA2024");
  const auto* after = restored.book("CEA2024");
  EXPECT_EQ(after->order_count(), before->order_count());
  const auto a = before->depth(Side::sell, 10), b = after->depth(Side::sell, 10);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].price, b[i].price);
    EXPECT_EQ(a[i].quantity, b[i].quantity);
  }
}

// A database or role with synchronous_commit off would let a PostgreSQL crash lose acknowledged commits:
// carbond's writing connections turn it back on (kDurableCommitsSql: the journal's session setup, the audit
// writer's transactions, connect_or_throw), and leave a stronger setting as it is.
TEST_F(StoreTest, CommitsAreDurableWhereTheDatabaseTurnedSynchronousCommitOff) {
  db.query("ALTER DATABASE \"" + db.name() + "\" SET synchronous_commit = off");
  auto setting = [](const PgConn& conn) {
    return std::string(PQgetvalue(PgResult(PQexec(conn.get(), "SHOW synchronous_commit")).get(), 0, 0));
  };
  std::string error;
  const PgConn plain = connect_bounded(db.conninfo(), error);
  ASSERT_NE(plain, nullptr) << error;
  EXPECT_EQ(setting(plain), "off") << "the database's own setting, for a connection that writes nothing";
  ASSERT_EQ(PQresultStatus(PgResult(PQexec(plain.get(), kDurableCommitsSql)).get()), PGRES_TUPLES_OK);
  EXPECT_EQ(setting(plain), "on");
  EXPECT_EQ(setting(connect_or_throw(db.conninfo())), "on");
  db.query("ALTER DATABASE \"" + db.name() + "\" SET synchronous_commit = remote_apply");
  const PgConn stronger = connect_or_throw(db.conninfo());
  ASSERT_EQ(PQresultStatus(PgResult(PQexec(stronger.get(), kDurableCommitsSql)).get()), PGRES_TUPLES_OK);
  EXPECT_EQ(setting(stronger), "remote_apply");
}

// The journal's statements escape only quotes in their text (and arrays double backslashes): a database or role
// with standard_conforming_strings off would read a backslash as an escape, so carbond turns it on for its own
// connections. A reason with a backslash and a quote, and a token hash (a bytea array), come back as written.
TEST_F(StoreTest, TextIsWrittenAsIsWhereTheDatabaseTurnedStandardConformingStringsOff) {
  db.query("ALTER DATABASE \"" + db.name() + "\" SET standard_conforming_strings = off");
  registry::Hash token{};
  token.fill(0x5c);  // backslashes
  Principal op{Role::operator_, 0, "ops"};
  const auto p = run(op, engine::CreateParticipant{"Q", "Q", ParticipantType::institution, token});
  ASSERT_TRUE(p.reply.status.is_ok()) << p.reply.status.message();
  const std::string reason = R"(a\b x\'y')";
  ASSERT_TRUE(run(op, engine::HaltTrading{"CEA2024", reason}).reply.status.is_ok());
  {
    PostgresJournal off{db.conninfo()};
    std::vector<const engine::Outcome*> batch;
    for (const auto& o : pending) batch.push_back(o.get());
    const Status committed = off.commit(batch);
    ASSERT_TRUE(committed.is_ok()) << committed.message();
    pending.clear();
  }
  const PgConn fresh = connect_or_throw(db.conninfo());
  EXPECT_STREQ(PQparameterStatus(fresh.get(), "standard_conforming_strings"), "on");
  const engine::RecoveredState state = load_state(fresh.get());
  ASSERT_EQ(state.participants.size(), 1u);
  EXPECT_EQ(state.participants[0].token_hash, token);
  bool found = false;
  for (const engine::InstrumentState& s : state.instrument_states) {
    if (s.instrument != "CEA2024") continue;
    found = true;
    EXPECT_TRUE(s.halted);
    EXPECT_EQ(s.halt_reason, reason);
  }
  EXPECT_TRUE(found);
}

TEST_F(StoreTest, ProjectionsAreWrittenOncePerRowPerBatch) {
  trade_a_little();
  commit_pending();
  // Many events touched the buyer's cash account; the table has one row with its final balance.
  EXPECT_EQ(db.query("SELECT count(*) FROM cash_accounts WHERE cash_account_id = " + std::to_string(buyer_.cash_account)),
            "1");
  EXPECT_EQ(db.query("SELECT reserved_fen FROM cash_accounts WHERE cash_account_id = " +
                     std::to_string(buyer_.cash_account)),
            std::to_string(exchange.clearing().account(buyer_.cash_account).reserved.value));
}

TEST_F(StoreTest, AFailingBatchLeavesNothingBehind) {
  trade_a_little();
  commit_pending();
  const std::string journal_rows = db.query("SELECT count(*) FROM journal");
  // A batch whose second outcome collides with the journal: all of it must roll back.
  run(Principal{Role::operator_, 0, "ops"}, engine::MoveCash{buyer_.cash_account, Cash{7}, "d2", false});
  engine::Outcome duplicate = *pending.back();
  duplicate.sequence = 1;
  std::vector<const engine::Outcome*> batch{pending.back().get(), &duplicate};
  EXPECT_FALSE(journal.commit(batch).is_ok());
  EXPECT_EQ(db.query("SELECT count(*) FROM journal"), journal_rows);
  EXPECT_EQ(db.query("SELECT count(*) FROM cash_movements WHERE idempotency_key = 'd2'"), "0");
}

TEST_F(StoreTest, RecoveryRefusesAnAlteredLedgerEntry) {
  trade_a_little();
  commit_pending();
  const std::string last = db.query("SELECT max(entry_id) FROM ledger_entries");
  db.query("UPDATE ledger_entries SET quantity = quantity + 1 WHERE entry_id = " + last);
  const engine::RecoveredState state = load_state(conn.get());
  try {
    check_state(conn.get(), state);
    FAIL() << "an altered ledger entry was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("entry " + last), std::string::npos) << e.what();
  }
}

TEST_F(StoreTest, RecoveryRefusesCashThatIsNotConserved) {
  trade_a_little();
  commit_pending();
  db.query("UPDATE cash_accounts SET available_fen = available_fen + 1 WHERE cash_account_id = " +
           std::to_string(buyer_.cash_account));
  const engine::RecoveredState state = load_state(conn.get());
  EXPECT_THROW(check_state(conn.get(), state), std::runtime_error);
}

TEST_F(StoreTest, RecoveryRefusesUnitsThatAreNotConserved) {
  trade_a_little();
  commit_pending();
  db.query("UPDATE holdings SET available = available + 5 WHERE holding_account_id = " +
           std::to_string(seller_.holding_account));
  const engine::RecoveredState state = load_state(conn.get());
  EXPECT_THROW(check_state(conn.get(), state), std::runtime_error);
}

TEST_F(StoreTest, UnreachableDatabaseIsUnavailable) {
  PostgresJournal broken("host=/nonexistent-socket-dir dbname=x connect_timeout=1");
  trade_a_little();
  std::vector<const engine::Outcome*> batch{pending.front().get()};
  EXPECT_EQ(broken.commit(batch).code(), ErrorCode::unavailable);
}

}  // namespace
}  // namespace carbon::store
