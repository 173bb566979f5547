// Durability under crashes (issue 5): buyers and sellers stream crossing
// orders over gRPC, amending some (reduce: priority kept; re-price: lost),
// while carbond is killed with SIGKILL at random moments and restarted, or
// while its PostgreSQL is stopped (-m fast) or crashed (-m immediate) and
// restarted under it, or frozen (SIGSTOP) and thawed; afterwards every
// acknowledged order and trade is present exactly once, nothing is
// half-applied, cash and units are conserved, the hash chain verifies and the
// books equal a replay of the journal (tests/e2e/crash_support.h), down to the
// engine's queues: a final sweep must take the resting orders in the replay's
// price-time order. And the
// start-up integrity checks: carbond refuses to start on a database whose
// balances, reservations or ledger disagree, naming what disagrees.
//
// Short in the suite (3 SIGKILL rounds); CARBON_CRASH_ROUNDS=50 runs it long.

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/types.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "e2e/crash_support.h"
#include "store/embedded_postgres.h"

namespace carbon::testing {
namespace {

using crash::Acknowledged;
using crash::Load;
using crash::Trader;

int crash_rounds() {
  const char* rounds = std::getenv("CARBON_CRASH_ROUNDS");
  return rounds != nullptr && std::atoi(rounds) > 0 ? std::atoi(rounds) : 3;
}

TEST(CrashTest, AcknowledgedWorkSurvivesSigkillAtRandomMomentsAndTheBooksEqualAReplay) {
  TestDatabase db;
  RunningExchange exchange({"--postgres=" + db.conninfo()});
  ASSERT_NO_THROW(exchange.start());
  const std::vector<Trader> traders = crash::open_market(exchange);
  ASSERT_FALSE(::testing::Test::HasFailure());

  Acknowledged acked;
  std::mt19937 random(20261125);
  const int rounds = crash_rounds();
  for (int round = 0; round < rounds; ++round) {
    std::size_t answered = 0;
    {
      Load load(exchange, traders, acked, round);
      std::this_thread::sleep_for(std::chrono::milliseconds(300 + random() % 700));
      ASSERT_EQ(exchange.stop(SIGKILL), 128 + SIGKILL);
      load.finish();
      answered = load.answered();
    }
    EXPECT_GT(answered, 0u) << "round " << round << ": no order got in before the kill";
    ASSERT_NO_THROW(exchange.start()) << "carbond must restart after SIGKILL (round " << round << ")";
    crash::check_after_restart(exchange, db.conninfo(), traders, acked);
    ASSERT_FALSE(::testing::Test::HasFailure()) << "round " << round;
  }
  EXPECT_GT(acked.amends_kept, 0u) << "no reduction was acknowledged: the replay did not check one";
  EXPECT_GT(acked.amends_requeued, 0u) << "no re-pricing was acknowledged: the replay did not check one";
  crash::check_queues_by_sweeping(exchange, db.conninfo());
  EXPECT_GT(acked.burst_orders, 0u) << "no order session message got in: no large batches were committed";
  std::cout << acked.orders.size() << " orders (" << acked.burst_orders << " of them in session messages of "
            << Load::kBurst << "), " << acked.amends_kept << " reductions, " << acked.amends_requeued
            << " re-pricings (" << acked.amends_refused << " refused: filled first) and " << acked.trades.size()
            << " trades acknowledged across " << rounds << " SIGKILLs (" << acked.unanswered
            << " calls cut by a kill), all recovered; journal has " << db.query("SELECT count(*) FROM journal")
            << " events\n";
  EXPECT_EQ(exchange.stop(), 0);
}

/// How PostgreSQL goes away under load.
enum class Outage {
  stop,   ///< pg_ctl stop -m fast: every connection is cut; then started again
  crash,  ///< pg_ctl stop -m immediate: a crash with transactions in flight and no checkpoint; WAL recovery on start
  freeze  ///< SIGSTOP to every process of the cluster (a frozen host): connections stay open, nothing answers; SIGCONT
};

/// Sends `signal` to the cluster's postmaster and every process it started.
void signal_cluster(const std::filesystem::path& data_dir, int signal) {
  std::ifstream pid_file(data_dir / "pg" / "postmaster.pid");
  pid_t postmaster = 0;
  ASSERT_TRUE(pid_file >> postmaster) << "no postmaster.pid in " << data_dir;
  std::vector<pid_t> children;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line) || line.rfind(')') == std::string::npos) continue;
    std::istringstream rest(line.substr(line.rfind(')') + 2));
    char state = 0;
    pid_t parent = 0;
    if (rest >> state >> parent && parent == postmaster) children.push_back(std::stoi(name));
  }
  ASSERT_FALSE(children.empty()) << "no backends under postmaster " << postmaster;
  ASSERT_EQ(::kill(postmaster, signal), 0);
  for (pid_t child : children) ::kill(child, signal);  // a backend may have just exited
}

/// PostgreSQL gone under load (see Outage) and back: carbond answers
/// UNAVAILABLE meanwhile, resumes, and nothing acknowledged is lost or
/// half-applied, before and after a restart of carbond.
void postgres_outage_under_load(Outage outage, int port) {
  // A cluster of its own: restarting the suite's shared one would cut the other tests' databases.
  const std::filesystem::path dir = make_world_traversable_temp_dir("carbond-crash-pg");
  store::EmbeddedPostgresOptions options;
  options.data_dir = dir;
  options.port = port;
  store::EmbeddedPostgres postgres(options);
  ASSERT_NO_THROW(postgres.start());
  const std::string conninfo = postgres.conninfo();

  RunningExchange exchange({"--postgres=" + conninfo});
  ASSERT_NO_THROW(exchange.start());
  const std::vector<Trader> traders = crash::open_market(exchange);
  ASSERT_FALSE(::testing::Test::HasFailure());

  Acknowledged acked;
  {
    Load load(exchange, traders, acked, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    const std::size_t before = load.answered();
    if (outage == Outage::crash) {
      postgres.stop_immediately();  // every backend quits at once, mid-transaction; WAL recovery on start
    } else if (outage == Outage::stop) {
      postgres.stop();  // pg_ctl stop -m fast: every connection is cut
    } else {
      signal_cluster(dir, SIGSTOP);
    }
    if (outage == Outage::freeze) {
      // Commits in flight never return and connections stay open: past journal_unavailable_after_ms
      // (2 s) carbond must answer UNAVAILABLE and say NOT_SERVING rather than wait with the database.
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
      while (exchange.health() != 2 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      EXPECT_EQ(exchange.health(), 2) << "health stayed SERVING with the database frozen";
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    }
    const std::size_t during = load.answered();
    if (outage == Outage::freeze) {
      signal_cluster(dir, SIGCONT);
    } else {
      ASSERT_NO_THROW(postgres.start());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    load.finish();
    EXPECT_GT(before, 0u);
    EXPECT_GT(load.answered(), during) << "carbond did not resume after PostgreSQL came back";
  }
  EXPECT_GT(acked.unavailable, 0u) << "no client saw UNAVAILABLE while PostgreSQL was down";
  // Still the same carbond process: its state and its database agree.
  crash::check_after_restart(exchange, conninfo, traders, acked);
  // And a restart recovers the same.
  ASSERT_EQ(exchange.stop(), 0);
  ASSERT_NO_THROW(exchange.start());
  crash::check_after_restart(exchange, conninfo, traders, acked);
  crash::check_queues_by_sweeping(exchange, conninfo);
  std::cout << acked.orders.size() << " orders, " << acked.amends_kept + acked.amends_requeued
            << " amendments and " << acked.trades.size() << " trades acknowledged; " << acked.unavailable
            << " UNAVAILABLE answers while PostgreSQL was "
            << (outage == Outage::crash ? "crashed" : outage == Outage::stop ? "stopped" : "frozen") << "\n";
  EXPECT_EQ(exchange.stop(), 0);
  postgres.stop();
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}

TEST(CrashTest, PostgresRestartedUnderLoadAnswersUnavailableThenResumesWithNothingLost) {
  postgres_outage_under_load(Outage::stop, 5449);
}

TEST(CrashTest, PostgresCrashedUnderLoadRecoversWithEveryAcknowledgedOrderAndTradeOnce) {
  postgres_outage_under_load(Outage::crash, 5451);
}

TEST(CrashTest, PostgresFrozenUnderLoadAnswersUnavailableInsteadOfWaitingThenResumesWithNothingLost) {
  postgres_outage_under_load(Outage::freeze, 5453);
}

// "Keeps serving reads from memory where safe": while nothing awaits its commit, the engine's memory is all
// committed and reads are answered from it, database or not; once a command waits for a commit that fails,
// memory holds what may not be shown, and reads are refused too, until the commit lands.
TEST(CrashTest, ReadsAreAnsweredFromMemoryWhileNothingAwaitsItsCommitAndRefusedWhileACommitFails) {
  const std::filesystem::path dir = make_world_traversable_temp_dir("carbond-crash-pg");
  store::EmbeddedPostgresOptions options;
  options.data_dir = dir;
  options.port = 5455;
  store::EmbeddedPostgres postgres(options);
  ASSERT_NO_THROW(postgres.start());
  RunningExchange exchange({"--postgres=" + postgres.conninfo()});
  ASSERT_NO_THROW(exchange.start());
  const std::vector<Trader> traders = crash::open_market(exchange);
  const Trader& buyer = traders.at(0);
  auto balances = [&] {
    v1::GetBalancesResponse response;
    return exchange.trading->GetBalances(RunningExchange::as(buyer.token).get(), {}, &response);
  };
  ASSERT_TRUE(balances().ok());

  postgres.stop();
  const grpc::Status idle = balances();
  EXPECT_TRUE(idle.ok()) << idle.error_message();
  v1::GetBookRequest book;
  book.set_instrument("CEA2024");
  v1::BookSnapshot depth;
  EXPECT_TRUE(exchange.market_data->GetBook(RunningExchange::as(buyer.token).get(), book, &depth).ok());

  v1::PlaceOrderRequest order;
  order.set_instrument("CEA2024");
  order.set_side(v1::SIDE_BUY);
  order.set_price_fen(crash::kMidPriceFen);
  order.set_quantity(1);
  order.set_client_order_id("while-down");
  v1::PlaceOrderResponse placed;
  const grpc::Status unknown = exchange.trading->PlaceOrder(RunningExchange::as(buyer.token).get(), order, &placed);
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::UNAVAILABLE) << "its commit cannot land: outcome unknown";
  const grpc::Status refused = balances();
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(refused.error_message().find("database is unreachable"), std::string::npos) << refused.error_message();

  ASSERT_NO_THROW(postgres.start());
  EXPECT_TRUE(eventually([&] { return balances().ok(); })) << "reads did not resume";
  const grpc::Status again = exchange.trading->PlaceOrder(RunningExchange::as(buyer.token).get(), order, &placed);
  ASSERT_TRUE(again.ok()) << again.error_message();
  EXPECT_GT(placed.order().order_id(), 0u) << "the order waiting for its commit landed once";
  EXPECT_EQ(exchange.stop(), 0);
  postgres.stop();
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}

// The lock a running carbond holds (kJournalWriterLock): a second one on the same database waits
// [storage] earlier_writer_wait_ms, then refuses to start naming the first's connections.
TEST(CrashTest, ASecondCarbondOnTheSameDatabaseRefusesToStart) {
  TestDatabase db;
  RunningExchange first({"--postgres=" + db.conninfo()});
  ASSERT_NO_THROW(first.start());
  RunningExchange second({"--postgres=" + db.conninfo()}, "\n[storage]\nearlier_writer_wait_ms = 500");
  EXPECT_THROW(second.start(), std::runtime_error);
  EXPECT_EQ(second.exit_code(), 1);
  EXPECT_NE(second.log().find("carbond cannot start: start: journal writer connections of another carbond are "
                              "still open in the database (pid "),
            std::string::npos)
      << second.log();
  EXPECT_EQ(first.stop(), 0);
  ASSERT_NO_THROW(second.start()) << "the first gone, the second starts";
  EXPECT_EQ(second.stop(), 0);
}

class StartupIntegrityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    exchange = std::make_unique<RunningExchange>(std::vector<std::string>{"--postgres=" + db.conninfo()});
    exchange->start();
    traders = crash::open_market(*exchange);
    // A trade and resting orders on both sides, so every kind of row exists; client order ids, so that a
    // closed order has one to keep.
    for (const auto& [trader, price, quantity] :
         {std::tuple{1, 10'000, 30}, std::tuple{0, 10'000, 10}, std::tuple{0, 9'990, 5}}) {
      v1::PlaceOrderRequest request;
      request.set_client_order_id("startup-" + std::to_string(price) + "-" + std::to_string(quantity));
      request.set_instrument("CEA2024");
      request.set_side(traders[trader].buyer ? v1::SIDE_BUY : v1::SIDE_SELL);
      request.set_price_fen(price);
      request.set_quantity(quantity);
      v1::PlaceOrderResponse response;
      ASSERT_TRUE(
          exchange->trading->PlaceOrder(RunningExchange::as(traders[trader].token).get(), request, &response).ok());
    }
    ASSERT_EQ(exchange->stop(), 0);
    last_entry = db.query("SELECT max(entry_id) FROM ledger_entries");
  }

  /// Applies `corrupt`, expects carbond to refuse to start (exit code 1) with `message` in its log, then applies
  /// `repair`.
  void expect_refusal(const std::string& corrupt, const std::string& message, const std::string& repair) {
    db.query(corrupt);
    EXPECT_THROW(exchange->start(), std::runtime_error) << "carbond started on: " << corrupt;
    EXPECT_EQ(exchange->exit_code(), 1);
    const std::string log = exchange->log();
    EXPECT_NE(log.find("carbond cannot start: " + message), std::string::npos)
        << "expected \"" << message << "\" in:\n" << log.substr(log.size() > 3000 ? log.size() - 3000 : 0);
    db.query(repair);
  }

  TestDatabase db;
  std::unique_ptr<RunningExchange> exchange;
  std::vector<Trader> traders;
  std::string last_entry;
};

TEST_F(StartupIntegrityTest, RefusesToStartWhenCashIsNotConserved) {
  const std::string account = std::to_string(traders[0].cash_account);
  expect_refusal("UPDATE cash_accounts SET available_fen = available_fen + 1 WHERE cash_account_id = " + account,
                 "conservation of cash fails: deposits minus withdrawals are 2000000000000 fen, all balances sum to "
                 "2000000000001 fen",
                 "UPDATE cash_accounts SET available_fen = available_fen - 1 WHERE cash_account_id = " + account);
  ASSERT_NO_THROW(exchange->start()) << "the repaired database must start";
  EXPECT_EQ(exchange->stop(), 0);
}

TEST_F(StartupIntegrityTest, RefusesToStartWhenUnitsAreNotConserved) {
  const std::string where =
      " WHERE instrument = 'CEA2024' AND holding_account_id = " + std::to_string(traders[1].holding_account);
  expect_refusal("UPDATE holdings SET available = available + 5" + where,
                 "conservation of units fails for CEA2024: all holdings sum to 5 t, not 0",
                 "UPDATE holdings SET available = available - 5" + where);
  ASSERT_NO_THROW(exchange->start());
  EXPECT_EQ(exchange->stop(), 0);
}

TEST_F(StartupIntegrityTest, RefusesToStartWhenReservationsDisagreeWithOpenOrders) {
  // The seller's 20 t left on the book are reserved; one more reserved tonne (moved from available) conserves
  // units but is reserved by no order.
  const std::string holding = std::to_string(traders[1].holding_account);
  const std::string where = " WHERE instrument = 'CEA2024' AND holding_account_id = " + holding;
  expect_refusal("UPDATE holdings SET reserved = reserved + 1, available = available - 1" + where,
                 "reservations disagree for holding account " + holding +
                     " CEA2024: it holds 21 t reserved, its open sell orders reserve 20 t",
                 "UPDATE holdings SET reserved = reserved - 1, available = available + 1" + where);
  // The buyer's resting 5 t at 99.90 reserve 49,950 fen.
  const std::string cash = std::to_string(traders[0].cash_account);
  expect_refusal(
      "UPDATE cash_accounts SET reserved_fen = reserved_fen - 50, available_fen = available_fen + 50"
      " WHERE cash_account_id = " + cash,
      "reservations disagree for cash account " + cash + ": it holds 49900 fen reserved, its open buy orders "
      "reserve 49950 fen",
      "UPDATE cash_accounts SET reserved_fen = reserved_fen + 50, available_fen = available_fen - 50"
      " WHERE cash_account_id = " + cash);
  // An order that lost its reservation (the half-applied order the crash test looks for).
  expect_refusal("UPDATE orders SET reserved_fen = 0 WHERE status IN (1, 2) AND side = 1",
                 "reservations disagree for cash account " + cash + ": it holds 49950 fen reserved, its open buy "
                 "orders reserve 0 fen",
                 "UPDATE orders SET reserved_fen = price_fen * (quantity - filled_quantity)"
                 " WHERE status IN (1, 2) AND side = 1");
  // An open buy of a participant that does not exist (the reservation moved back to available): its cash is
  // reserved in no account.
  const std::string buyer = std::to_string(traders[0].participant);
  expect_refusal("UPDATE cash_accounts SET reserved_fen = 0, available_fen = available_fen + 49950"
                 " WHERE cash_account_id = " + cash + "; UPDATE orders SET participant_id = 999999"
                 " WHERE status IN (1, 2) AND side = 1",
                 "open buy orders reserve 49950 fen in cash account 0, which does not exist",
                 "UPDATE orders SET participant_id = " + buyer + " WHERE participant_id = 999999;"
                 " UPDATE cash_accounts SET reserved_fen = 49950, available_fen = available_fen - 49950"
                 " WHERE cash_account_id = " + cash);
  ASSERT_NO_THROW(exchange->start());
  EXPECT_EQ(exchange->stop(), 0);
}

// Frozen and pledged units are those of the freezes and pledges in force: units locked by nothing (or a freeze
// whose units are free) refuse the start, even though every tonne is still conserved.
TEST_F(StartupIntegrityTest, RefusesToStartWhenFrozenOrPledgedUnitsDisagreeWithTheFreezesAndPledges) {
  const std::string holding = std::to_string(traders[1].holding_account);
  const std::string where = " WHERE instrument = 'CEA2024' AND holding_account_id = " + holding;
  expect_refusal("UPDATE holdings SET frozen = frozen + 3, available = available - 3" + where,
                 "frozen units disagree for holding account " + holding +
                     " CEA2024: it holds 3 t frozen, the freezes in force on it hold 0 t",
                 "UPDATE holdings SET frozen = frozen - 3, available = available + 3" + where);
  expect_refusal("UPDATE holdings SET pledged = pledged + 2, available = available - 2" + where,
                 "pledged units disagree for holding account " + holding +
                     " CEA2024: it holds 2 t pledged, the pledges in force on it hold 0 t",
                 "UPDATE holdings SET pledged = pledged - 2, available = available + 2" + where);
  // An open buy's reservation drawn from more sale proceeds than it reserves in all.
  ASSERT_EQ(db.query("SELECT count(*) FROM orders WHERE status IN (1, 2) AND side = 1"), "1");
  const std::string from_proceeds =
      db.query("SELECT reserved_unsettled_fen FROM orders WHERE status IN (1, 2) AND side = 1");
  const std::string buy = db.query("SELECT order_id FROM orders WHERE status IN (1, 2) AND side = 1");
  expect_refusal("UPDATE orders SET reserved_unsettled_fen = reserved_fen + 1 WHERE status IN (1, 2) AND side = 1",
                 "order " + buy + " reserves 49951 fen of sale proceeds, out of 49950 fen in all",
                 "UPDATE orders SET reserved_unsettled_fen = " + from_proceeds +
                     " WHERE status IN (1, 2) AND side = 1");
  ASSERT_NO_THROW(exchange->start());
  EXPECT_EQ(exchange->stop(), 0);
}

TEST_F(StartupIntegrityTest, RefusesToStartWhenAClosedOrderReservesOrARowOrTheDayIsNewerThanTheJournal) {
  const std::string filled = db.query("SELECT order_id FROM orders WHERE status = 3 AND side = 1");
  ASSERT_FALSE(filled.empty());
  expect_refusal("UPDATE orders SET reserved_fen = 5 WHERE order_id = " + filled,
                 "order " + filled + " is closed but still reserves 5 fen",
                 "UPDATE orders SET reserved_fen = 0 WHERE order_id = " + filled);
  const std::string last = db.query("SELECT max(sequence) FROM journal");
  const std::string later = std::to_string(std::stoll(last) + 7);
  expect_refusal("UPDATE orders SET updated_sequence = " + later + " WHERE order_id = " + filled,
                 "order " + filled + " was changed at sequence " + later + ", after the journal's last sequence " +
                     last,
                 "UPDATE orders SET updated_sequence = sequence WHERE order_id = " + filled);
  // A trade, or the trading day's opening, after the journal's last sequence (orders and trades are loaded from
  // the day's opening on: a later opening would hide them).
  const std::string trade = db.query("SELECT max(trade_id) FROM trades");
  ASSERT_FALSE(trade.empty());
  expect_refusal("UPDATE trades SET sequence = sequence + 1000 WHERE trade_id = " + trade,
                 "trade " + trade + " is at sequence ", "UPDATE trades SET sequence = sequence - 1000 WHERE trade_id = " +
                                                            trade);
  const std::string opened = db.query("SELECT day_opened_sequence FROM market_state");
  ASSERT_FALSE(opened.empty());
  expect_refusal("UPDATE market_state SET day_opened_sequence = " + later,
                 "the trading day opened at sequence " + later + ", after the journal's last sequence " + last,
                 "UPDATE market_state SET day_opened_sequence = " + opened);
  // The refused start read the day's filled buy as closed on an earlier day; it stored nothing (migration 0020).
  ASSERT_NE(db.query("SELECT client_order_id FROM orders WHERE order_id = " + filled), "");
  EXPECT_EQ(db.query("SELECT count(*) FROM closed_client_id_digests"), "0");
  ASSERT_NO_THROW(exchange->start());
  EXPECT_EQ(exchange->stop(), 0);
}

TEST_F(StartupIntegrityTest, RefusesToStartWhenTheLedgerTailIsAlteredUnlinkedOrDisagreesWithTheJournal) {
  ASSERT_EQ(last_entry, "3");  // two issuances and one delivery
  const std::string where = " WHERE entry_id = " + last_entry;
  // An altered entry, a broken link, a head that is not the one the journal recorded.
  expect_refusal("UPDATE ledger_entries SET reference = reference || 'x'" + where,
                 "the ledger's hash chain is broken at entry 3: its stored hash does not match its contents "
                 "(altered)",
                 "UPDATE ledger_entries SET reference = left(reference, -1)" + where);
  expect_refusal("UPDATE ledger_entries SET prev_hash = hash WHERE entry_id = 2",
                 "the ledger's hash chain is broken at entry 2: its prev_hash is not the hash of the entry before it",
                 "UPDATE ledger_entries SET prev_hash = (SELECT hash FROM ledger_entries WHERE entry_id = 1)"
                 " WHERE entry_id = 2");
  // The command's events are one json array (journal_commands.events, as written: no spaces).
  expect_refusal("UPDATE journal_commands j SET events = replace(j.events::text, '\"hash\":\"' || encode(l.hash, 'hex')"
                 " || '\"', '\"hash\":\"00\"')::json FROM ledger_entries l WHERE l.entry_id = 3 AND j.sequence = l.sequence",
                 "the ledger's head, entry 3, has a hash that differs from the one its journal event recorded",
                 "UPDATE journal_commands j SET events = replace(j.events::text, '\"hash\":\"00\"', '\"hash\":\"'"
                 " || encode(l.hash, 'hex') || '\"')::json FROM ledger_entries l WHERE l.entry_id = 3"
                 " AND j.sequence = l.sequence");
  // The tail cut off: the chain up to the new head still links, but the journal recorded a later entry.
  const std::string head_sequence = db.query("SELECT sequence FROM ledger_entries WHERE entry_id = 2");
  const std::string cut_sequence = db.query("SELECT sequence FROM ledger_entries" + where);
  expect_refusal("CREATE TABLE cut AS SELECT * FROM ledger_entries" + where + "; DELETE FROM ledger_entries" + where,
                 "the ledger ends at entry 2 (sequence " + head_sequence + "), but the journal recorded entry 3 at "
                 "sequence " + cut_sequence + ": ledger entries are missing",
                 "INSERT INTO ledger_entries SELECT * FROM cut; DROP TABLE cut");
  ASSERT_NO_THROW(exchange->start());
  EXPECT_EQ(exchange->stop(), 0);
}

}  // namespace
}  // namespace carbon::testing
