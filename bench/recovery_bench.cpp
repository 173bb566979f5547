// Recovery benchmark (issue 5): how long carbond takes to come back on a
// large database. A standalone runner against a real PostgreSQL that it
// starts itself (embedded cluster under --dir, reused between runs: the data
// is generated once and kept, --regenerate to rebuild it).
//
//   1. generate (binary COPY): --participants participants (half sellers
//      holding issued CEA2024, half buyers with deposited cash), --orders open
//      listed orders (buys below 100.00, sells above, so none cross) with their
//      reservations, --closed filled orders of earlier trading days (none
//      by default; each with a client order id: the engine does not hold
//      them, and a start reads only their client order ids), and --entries
//      ledger entries (the issuances, then
//      transfers between sellers) hash-chained as the registry chains them;
//      holdings, cash and reservations are those the entries and orders imply,
//      so the start-up integrity checks pass. The journal holds the last
//      command's LedgerAppended event (the start check reads the journal's
//      last sequence and the head's event, nothing else of it); it is not a
//      full history. The trading day in progress opened before the last
//      100,000 ledger entries (market_state, set before the runs).
//   2. recovery, the daemon's code path: store::load_state, store::check_state,
//      store::store_closed_client_id_digests and engine::Exchange::restore
//      (books rebuilt in time priority), each timed, --runs times.
//   3. ceiling, same run, same database: the tables recovery reads copied out
//      whole by binary COPY TO STDOUT (orders, participants, cash, holdings,
//      cash movements), and one sequential scan of the ledger (count(*)).
//
// Usage: recovery_bench [--orders N] [--closed N] [--entries N] [--participants N] [--runs R] [--dir DIR]
//                       [--regenerate]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/spdlog.h>

#include "engine/exchange.h"
#include "registry/ledger.h"
#include "registry/registry.h"
#include "store/binary_copy.h"
#include "store/embedded_postgres.h"
#include "store/migrations.h"
#include "store/pg.h"
#include "store/recovery.h"

namespace carbon {
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

struct Options {
  std::size_t orders = 1'000'000;
  std::size_t closed = 0;
  std::size_t entries = 10'000'000;
  std::size_t participants = 1'000;
  int runs = 3;
  std::filesystem::path dir = "/tmp/carbond-recovery-bench";
  bool regenerate = false;
};

constexpr std::int64_t kDepositFen = 1'000'000'000'000;
constexpr std::int64_t kIssuedTonnes = 1'000'000'000;
constexpr UnixNanos kStart = 1'764'000'000'000'000'000;

/// Streams one table's rows by binary COPY, flushing every few MiB.
class CopyIn {
 public:
  CopyIn(PGconn* conn, const std::string& sql) : conn_(conn) {
    store::PgResult r(PQexec(conn_, sql.c_str()));
    if (PQresultStatus(r.get()) != PGRES_COPY_IN) throw std::runtime_error(PQerrorMessage(conn_));
  }
  store::BinaryCopy& rows() { return copy_; }
  void maybe_flush() {
    if (copy_.rows() >= 200'000) flush(false);
  }
  void finish() {
    flush(true);
    if (PQputCopyEnd(conn_, nullptr) != 1) throw std::runtime_error(PQerrorMessage(conn_));
    store::PgResult done(PQgetResult(conn_));
    if (PQresultStatus(done.get()) != PGRES_COMMAND_OK) throw std::runtime_error(PQerrorMessage(conn_));
    while (PGresult* extra = PQgetResult(conn_)) PQclear(extra);
  }

 private:
  void flush(bool last) {
    // The first chunk carries the header; only the last one the trailer.
    std::string_view data = copy_.finish();
    if (!last) data.remove_suffix(2);
    if (!first_) data.remove_prefix(kHeader);
    first_ = false;
    if (PQputCopyData(conn_, data.data(), static_cast<int>(data.size())) != 1) {
      throw std::runtime_error(PQerrorMessage(conn_));
    }
    copy_.clear();
  }
  static constexpr std::size_t kHeader = 19;  // PGCOPY\n\377\r\n\0 + flags + extension length
  PGconn* conn_;
  store::BinaryCopy copy_;
  bool first_ = true;
};

struct Participant {
  std::uint64_t id, holding, cash;
  bool seller;
  std::int64_t units = 0, units_reserved = 0, cash_reserved = 0;
};

/// One row of `orders` as the bench writes it: a listed limit order of CEA2024, entered at its sequence.
struct BenchOrder {
  std::uint64_t id;
  std::string client_order_id;
  std::uint64_t participant;
  bool sell;
  TimeInForce time_in_force;
  std::int64_t price;
  std::int64_t quantity;
  std::int64_t filled;
  OrderStatus status;
  std::uint64_t sequence;
  std::int64_t reserved;
};

void write_order(CopyIn& copy, const BenchOrder& order) {
  const auto sequence = static_cast<std::int64_t>(order.sequence);
  auto& c = copy.rows();
  c.begin_row(19);
  c.i64(static_cast<std::int64_t>(order.id));
  c.text(order.client_order_id);
  c.i64(static_cast<std::int64_t>(order.participant));
  c.text("CEA2024");
  c.i16(static_cast<int>(order.sell ? Side::sell : Side::buy));
  c.i16(static_cast<int>(OrderType::limit));
  c.i16(static_cast<int>(order.time_in_force));
  c.i16(static_cast<int>(TradingMode::listed));
  c.i64(order.price);
  c.i64(order.quantity);
  c.i64(order.filled);
  c.i16(static_cast<int>(order.status));
  c.i64(sequence);                 // sequence
  c.i64(kStart + sequence);        // entered_at_unix_nanos
  c.i64(sequence);                 // priority
  c.i64(order.reserved);           // reserved_fen
  c.i64(0);                        // reserved_unsettled_fen
  c.i64(sequence);                 // updated_sequence
  c.i64(0);                        // counterparty_participant_id
  copy.maybe_flush();
}

void generate(const std::string& conninfo, const Options& o) {
  const auto start = Clock::now();
  store::PgConn conn = store::connect_or_throw(conninfo);
  store::exec_or_throw(conn.get(), "BEGIN", "begin");
  std::mt19937_64 rng(20261125);
  std::vector<Participant> people;
  for (std::uint64_t i = 1; i <= o.participants; ++i) {
    people.push_back(Participant{i, 1'000 + 2 * i, 1'001 + 2 * i, i <= o.participants / 2});
  }
  const std::size_t sellers = o.participants / 2;
  Sequence sequence = 0;

  {
    CopyIn p(conn.get(),
             "COPY participants (participant_id, code, name, participant_type, holding_account_id, cash_account_id,"
             " token_sha256, created_sequence) FROM STDIN (FORMAT binary)");
    for (const Participant& x : people) {
      auto& c = p.rows();
      c.begin_row(8);
      c.i64(static_cast<std::int64_t>(x.id));
      c.text("BENCH-" + std::to_string(x.id));
      c.text("Bench participant " + std::to_string(x.id));
      c.i16(static_cast<int>(ParticipantType::institution));
      c.i64(static_cast<std::int64_t>(x.holding));
      c.i64(static_cast<std::int64_t>(x.cash));
      registry::Hash token{};
      for (auto& b : token) b = static_cast<std::uint8_t>(rng());
      c.bytes(token.data(), token.size());
      c.i64(static_cast<std::int64_t>(++sequence));
    }
    p.finish();
  }

  // Orders: buys at 90.00-99.99 by buyers, sells at 100.01-110.00 by sellers; all open, in time priority.
  {
    CopyIn copy(conn.get(),
                "COPY orders (order_id, client_order_id, participant_id, instrument, side, order_type, time_in_force,"
                " mode, price_fen, quantity, filled_quantity, status, sequence, entered_at_unix_nanos, priority,"
                " reserved_fen, reserved_unsettled_fen, updated_sequence, counterparty_participant_id)"
                " FROM STDIN (FORMAT binary)");
    for (std::uint64_t id = 1; id <= o.orders; ++id) {
      const bool sell = id % 2 == 0;
      Participant& owner = people[sell ? rng() % sellers : sellers + rng() % (o.participants - sellers)];
      const std::int64_t price = sell ? 10'001 + static_cast<std::int64_t>(rng() % 1'000)
                                      : 9'000 + static_cast<std::int64_t>(rng() % 1'000);
      const std::int64_t quantity = 1 + static_cast<std::int64_t>(rng() % 10);
      const std::int64_t reserved = sell ? 0 : price * quantity;
      if (sell) {
        owner.units_reserved += quantity;
      } else {
        owner.cash_reserved += reserved;
      }
      ++sequence;
      write_order(copy, BenchOrder{id, "bench-" + std::to_string(id), owner.id, sell, TimeInForce::gtc, price,
                                   quantity, 0, OrderStatus::open, sequence, reserved});
    }
    // Filled orders of earlier days: each bought what another sold, so nothing is left reserved.
    for (std::uint64_t id = o.orders + 1; id <= o.orders + o.closed; ++id) {
      const bool sell = id % 2 == 0;
      const Participant& owner = people[sell ? rng() % sellers : sellers + rng() % (o.participants - sellers)];
      const std::int64_t quantity = 1 + static_cast<std::int64_t>(rng() % 10);
      ++sequence;
      write_order(copy, BenchOrder{id, "closed-" + std::to_string(id), owner.id, sell, TimeInForce::day, 10'000,
                                   quantity, quantity, OrderStatus::filled, sequence, 0});
    }
    copy.finish();
  }
  // The journal writer upserts a changed order as a new row version at the end of the table, and inserts a
  // batch's new orders in no particular order: move every tenth open order's row, so that the table is not in
  // id order and a start sorts what it loads, as it does in production.
  store::exec_or_throw(conn.get(),
                       "UPDATE orders SET updated_sequence = updated_sequence WHERE order_id % 10 = 0 AND order_id <= " +
                           std::to_string(o.orders),
                       "move every tenth open order's row");
  std::printf("  participants, %zu open and %zu closed orders: %.1f s\n", o.orders, o.closed, seconds_since(start));

  // The ledger: one issuance per seller, then transfers between sellers, hash-chained.
  registry::LedgerEntry last;
  std::int64_t issued = 0;
  {
    CopyIn copy(conn.get(),
                "COPY ledger_entries (entry_id, sequence, recorded_at_unix_nanos, instrument, from_account_id,"
                " to_account_id, quantity, kind, reference, prev_hash, hash) FROM STDIN (FORMAT binary)");
    registry::LedgerEntry e;
    e.instrument = "CEA2024";
    registry::Hash prev{};
    for (std::uint64_t id = 1; id <= o.entries; ++id) {
      e.entry_id = id;
      e.sequence = ++sequence;
      e.recorded_at = kStart + static_cast<std::int64_t>(sequence);
      e.prev_hash = prev;
      if (id <= sellers) {
        Participant& to = people[id - 1];
        e.from_account = registry::kIssuanceAccount;
        e.to_account = to.holding;
        e.quantity = Qty{kIssuedTonnes};
        e.kind = registry::TransferKind::issuance;
        e.reference = "bench allocation";
        to.units += kIssuedTonnes;
        issued += kIssuedTonnes;
      } else {
        Participant& from = people[rng() % sellers];
        Participant& to = people[rng() % sellers];
        e.from_account = from.holding;
        e.to_account = to.holding;
        e.quantity = Qty{1 + static_cast<std::int64_t>(rng() % 10)};
        e.kind = registry::TransferKind::transfer;
        e.reference = "bench transfer " + std::to_string(id);
        from.units -= e.quantity.value;
        to.units += e.quantity.value;
      }
      e.hash = registry::chain_hash(prev, e);
      prev = e.hash;
      auto& c = copy.rows();
      c.begin_row(11);
      c.i64(static_cast<std::int64_t>(e.entry_id));
      c.i64(static_cast<std::int64_t>(e.sequence));
      c.i64(e.recorded_at);
      c.text(e.instrument);
      c.i64(static_cast<std::int64_t>(e.from_account));
      c.i64(static_cast<std::int64_t>(e.to_account));
      c.i64(e.quantity.value);
      c.i16(static_cast<int>(e.kind));
      c.text(e.reference);
      c.bytes(e.prev_hash.data(), e.prev_hash.size());
      c.bytes(e.hash.data(), e.hash.size());
      copy.maybe_flush();
    }
    copy.finish();
    last = e;
  }
  std::printf("  %zu ledger entries: %.1f s\n", o.entries, seconds_since(start));

  {
    CopyIn copy(conn.get(),
                "COPY holdings (holding_account_id, instrument, available, reserved, pending, frozen, pledged,"
                " updated_sequence) FROM STDIN (FORMAT binary)");
    auto row = [&](std::uint64_t account, std::int64_t available, std::int64_t reserved) {
      auto& c = copy.rows();
      c.begin_row(8);
      c.i64(static_cast<std::int64_t>(account));
      c.text("CEA2024");
      c.i64(available);
      c.i64(reserved);
      c.i64(0);
      c.i64(0);
      c.i64(0);
      c.i64(static_cast<std::int64_t>(sequence));
    };
    row(registry::kIssuanceAccount, -issued, 0);
    for (const Participant& x : people) {
      if (x.seller) row(x.holding, x.units - x.units_reserved, x.units_reserved);
    }
    copy.finish();
  }
  {
    CopyIn copy(conn.get(),
                "COPY cash_accounts (cash_account_id, participant_id, available_fen, reserved_fen, unsettled_fen,"
                " updated_sequence) FROM STDIN (FORMAT binary)");
    for (const Participant& x : people) {
      auto& c = copy.rows();
      c.begin_row(6);
      c.i64(static_cast<std::int64_t>(x.cash));
      c.i64(static_cast<std::int64_t>(x.id));
      c.i64(x.seller ? 0 : kDepositFen - x.cash_reserved);
      c.i64(x.cash_reserved);
      c.i64(0);
      c.i64(static_cast<std::int64_t>(sequence));
    }
    copy.finish();
  }
  {
    CopyIn copy(conn.get(),
                "COPY cash_movements (cash_account_id, withdrawal, idempotency_key, amount_fen, sequence,"
                " available_after_fen, reserved_after_fen, unsettled_after_fen) FROM STDIN (FORMAT binary)");
    for (const Participant& x : people) {
      if (x.seller) continue;
      auto& c = copy.rows();
      c.begin_row(8);
      c.i64(static_cast<std::int64_t>(x.cash));
      c.boolean(false);
      c.text("bench-funding");
      c.i64(kDepositFen);
      c.i64(static_cast<std::int64_t>(x.id));
      c.i64(kDepositFen);
      c.i64(0);
      c.i64(0);
    }
    copy.finish();
  }
  const std::string payload = "{\"hash\":\"" + registry::to_hex(last.hash) + "\",\"kind\":" +
                              std::to_string(static_cast<int>(last.kind)) + ",\"entry_id\":" +
                              std::to_string(last.entry_id) + "}";
  store::exec_params_or_throw(conn.get(),
                              "INSERT INTO journal_commands (sequence, recorded_at_unix_nanos, events)"
                              " VALUES ($1, $2, $3::json)",
                              {std::to_string(last.sequence), std::to_string(last.recorded_at),
                               "[[\"LedgerAppended\"," + payload + "]]"},
                              "journal head");
  store::exec_or_throw(conn.get(), "COMMIT", "commit");
  store::exec_or_throw(conn.get(), "VACUUM ANALYZE", "vacuum");
  std::printf("generated in %.1f s\n", seconds_since(start));
}

/// Reads `sql` (a COPY ... TO STDOUT) to the end; returns the bytes read.
std::size_t copy_out(PGconn* conn, const std::string& sql) {
  store::PgResult r(PQexec(conn, sql.c_str()));
  if (PQresultStatus(r.get()) != PGRES_COPY_OUT) throw std::runtime_error(PQerrorMessage(conn));
  std::size_t bytes = 0;
  char* buffer = nullptr;
  int n = 0;
  while ((n = PQgetCopyData(conn, &buffer, 0)) > 0) {
    bytes += static_cast<std::size_t>(n);
    PQfreemem(buffer);
  }
  if (n == -2) throw std::runtime_error(PQerrorMessage(conn));
  store::PgResult done(PQgetResult(conn));
  while (PGresult* extra = PQgetResult(conn)) PQclear(extra);
  return bytes;
}

int run(const Options& o) {
  store::EmbeddedPostgresOptions pg_options;
  pg_options.data_dir = o.dir;
  pg_options.port = 5498;
  pg_options.database = "recovery_bench";
  store::EmbeddedPostgres postgres(pg_options);
  postgres.start();
  const std::string conninfo = postgres.conninfo();
  {
    store::PgConn conn = store::connect_or_throw(conninfo);
    store::PgResult tables(
        PQexec(conn.get(), "SELECT count(*) FROM information_schema.tables WHERE table_name = 'ledger_entries'"));
    const bool exists = PQntuples(tables.get()) == 1 && std::string(PQgetvalue(tables.get(), 0, 0)) == "1";
    std::string have = "0";
    if (exists) {
      store::PgResult r = store::exec_or_throw(
          conn.get(), "SELECT (SELECT count(*) FROM orders) || '/' || (SELECT count(*) FROM ledger_entries)", "count");
      have = PQgetvalue(r.get(), 0, 0);
    }
    if (o.regenerate || have != std::to_string(o.orders + o.closed) + "/" + std::to_string(o.entries)) {
      std::printf("generating %zu open orders, %zu closed orders and %zu ledger entries in %s\n", o.orders, o.closed,
                  o.entries, o.dir.string().c_str());
      store::exec_or_throw(conn.get(), "DROP SCHEMA public CASCADE; CREATE SCHEMA public", "reset schema");
      store::apply_migrations(conn.get());
      generate(conninfo, o);
    } else {
      std::printf("reusing %s orders/ledger entries in %s\n", have.c_str(), o.dir.string().c_str());
      store::apply_migrations(conn.get());  // data generated by an older build gets the newer migrations (indexes)
    }
  }

  {
    // A trading day opened before the last 100,000 ledger entries (as at any
    // start during a day): recovery reads that day's non-trade movements of
    // units for its statements, and finds where the day began.
    store::PgConn conn = store::connect_or_throw(conninfo);
    store::exec_or_throw(conn.get(),
                         "INSERT INTO market_state (trading_date, day_opened_sequence, halted, halt_reason,"
                         " updated_sequence) SELECT '2026-11-24', sequence, false, '', sequence FROM ledger_entries"
                         " WHERE entry_id = GREATEST((SELECT max(entry_id) FROM ledger_entries) - 100000, 1)"
                         " ON CONFLICT (singleton) DO UPDATE SET day_opened_sequence = EXCLUDED.day_opened_sequence,"
                         " updated_sequence = EXCLUDED.updated_sequence",
                         "open the trading day");
  }
  Config config = default_config();
  for (int run = 0; run < o.runs; ++run) {
    // The daemon's path (server/daemon.cpp): a fresh connection, load, check, store the digests, restore.
    const auto start = Clock::now();
    store::PgConn conn = store::connect_or_throw(conninfo);
    store::ClosedClientIdRun closed_ids;
    engine::RecoveredState state = store::load_state(conn.get(), &closed_ids);
    const double loaded = seconds_since(start);
    store::check_state(conn.get(), state);
    if (Status s = store::store_closed_client_id_digests(conn.get(), state, closed_ids); !s.is_ok()) {
      throw std::runtime_error(s.message());
    }
    const double checked = seconds_since(start);
    engine::Exchange exchange(config);
    exchange.restore(state);
    const double restored = seconds_since(start);
    const matching::LadderBook* book = exchange.book("CEA2024");
    if (book == nullptr || book->order_count() != o.orders) throw std::runtime_error("the book lost orders");
    if (state.orders.size() != o.orders || state.closed_client_ids.size() != o.closed) {
      throw std::runtime_error("recovery loaded " + std::to_string(state.orders.size()) + " orders and " +
                               std::to_string(state.closed_client_ids.size()) + " closed client order ids, not " +
                               std::to_string(o.orders) + " and " + std::to_string(o.closed));
    }

    const auto ceiling_start = Clock::now();
    std::size_t bytes = 0;
    for (const char* table : {"orders", "participants", "cash_accounts", "holdings", "cash_movements"}) {
      bytes += copy_out(conn.get(), std::string("COPY ") + table + " TO STDOUT (FORMAT binary)");
    }
    const double copied = seconds_since(ceiling_start);
    const auto scan_start = Clock::now();
    store::exec_or_throw(conn.get(), "SELECT count(*) FROM ledger_entries", "scan ledger");
    const double scanned = seconds_since(scan_start);
    std::printf(
        "run %d: recovery %.2f s (load %.2f, checks and digests stored %.2f, restore %.2f); ceiling: COPY out of"
        " the tables read %.2f s (%.0f MiB), ledger count(*) %.2f s\n",
        run + 1, restored, loaded, checked - loaded, restored - checked, copied,
        static_cast<double>(bytes) / (1 << 20), scanned);
  }
  return 0;
}

}  // namespace
}  // namespace carbon

int main(int argc, char** argv) {
  carbon::Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(arg + " needs a value");
      return argv[++i];
    };
    try {
      if (arg == "--orders") {
        o.orders = std::stoull(value());
      } else if (arg == "--closed") {
        o.closed = std::stoull(value());
      } else if (arg == "--entries") {
        o.entries = std::stoull(value());
      } else if (arg == "--participants") {
        o.participants = std::stoull(value());
      } else if (arg == "--runs") {
        o.runs = std::stoi(value());
      } else if (arg == "--dir") {
        o.dir = value();
      } else if (arg == "--regenerate") {
        o.regenerate = true;
      } else {
        std::fprintf(stderr,
                     "usage: recovery_bench [--orders N] [--closed N] [--entries N] [--participants N] [--runs R]"
                     " [--dir DIR]"
                     " [--regenerate]\n");
        return 2;
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "recovery_bench: %s\n", e.what());
      return 2;
    }
  }
  spdlog::set_level(spdlog::level::warn);
  try {
    return carbon::run(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "recovery_bench: %s\n", e.what());
    return 1;
  }
}
