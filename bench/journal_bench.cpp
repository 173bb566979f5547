// Journal writer benchmark against a real PostgreSQL that the benchmark
// starts itself (embedded cluster under a temporary directory, durable
// defaults: fsync and synchronous_commit on). A standalone runner, not
// Google Benchmark: it needs a database, open-loop pacing and percentiles.
//
//   1. writer: the outcomes of N realistic PlaceOrder commands (resting
//      orders, fills with trades, ledger entries, cash and holding changes),
//      produced beforehand by a real Exchange, committed by PostgresJournal
//      in batches of --batch: orders and journal rows committed per second.
//   2. ceiling, same run, same database: the same journal rows by one binary
//      COPY into an empty copy of the journal table, one transaction; before
//      and after the writer.
//   3. runtime: engine + writer (EngineRuntime) fed as fast as its rings take
//      commands: orders acknowledged per second.
//   4. latency: open loop at --rate orders/s for --seconds; each
//      acknowledgement is timed from the command's intended send time, so a
//      stall delays every later command's figure (no coordinated omission).
//
// Usage: journal_bench [--orders N] [--batch B] [--rate R] [--seconds S]
//                      [--max-wait-us W] [--cross-percent P] [--dir DIR]
//                      [--pg NAME=VALUE]... [--pg-defaults] [--statements]
//                      [--connections N] [--expected-orders N]
//   --pg sets one PostgreSQL setting over carbond's embedded defaults
//   (store::kJournalSettings); --pg-defaults puts PostgreSQL's own defaults
//   back for those, to compare. --statements loads pg_stat_statements and
//   prints where the server spent the writer and latency phases' time, statement by statement.
//   --connections is the writer's journal_connections (default 2, carbond's
//   default; 1: PostgresJournal, one batch at a time). --expected-orders is the
//   engine's [engine] expected_orders_per_day (0: its tables start empty and grow).

#include <algorithm>
#include <cstdint>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <initializer_list>
#include <map>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>
#include <unistd.h>

#include "engine/exchange.h"
#include "engine/runtime.h"
#include "store/binary_copy.h"
#include "store/embedded_postgres.h"
#include "store/journal.h"
#include "store/migrations.h"
#include "store/pg.h"
#include "store/pipelined_journal.h"

namespace carbon {
namespace {

using Clock = std::chrono::steady_clock;
using engine::Command;
using engine::Principal;

/// Monday 2025-11-24 10:00 Asia/Shanghai: orders are placed in the morning session.
constexpr UnixNanos kMondayMorning = 1'763'949'600'000'000'000;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

struct Options {
  std::size_t orders = 300'000;
  std::size_t batch = 4'096;
  int rate = 20'000;
  int seconds = 10;
  int max_wait_us = 0;
  std::size_t pipeline_min_batch = engine::RuntimeOptions{}.pipeline_min_batch;  ///< carbond's default
  int cross_percent = 20;
  bool statements = false;
  std::size_t connections = 2;  ///< carbond's default journal_connections
  std::size_t expected_orders = default_config().expected_orders_per_day;  ///< the engine's tables, sized up front
  std::filesystem::path dir;
  std::vector<std::pair<std::string, std::string>> pg_settings;
};

Options parse(int argc, char** argv) {
  Options o;
  o.dir = std::filesystem::temp_directory_path() / ("carbond-journal-bench-" + std::to_string(::getpid()));
  for (int k = 1; k < argc; ++k) {
    const std::string arg = argv[k];
    auto value = [&]() -> std::string {
      if (k + 1 >= argc) throw std::runtime_error(arg + " needs a value");
      return argv[++k];
    };
    if (arg == "--orders") o.orders = std::stoul(value());
    else if (arg == "--batch") o.batch = std::stoul(value());
    else if (arg == "--rate") o.rate = std::stoi(value());
    else if (arg == "--seconds") o.seconds = std::stoi(value());
    else if (arg == "--max-wait-us") o.max_wait_us = std::stoi(value());
    else if (arg == "--pipeline-min-batch") o.pipeline_min_batch = std::stoul(value());
    else if (arg == "--cross-percent") o.cross_percent = std::stoi(value());
    else if (arg == "--dir") o.dir = value();
    else if (arg == "--connections") o.connections = std::stoul(value());
    else if (arg == "--expected-orders") o.expected_orders = std::stoul(value());
    else if (arg == "--statements") {
      o.statements = true;
      o.pg_settings.emplace_back("shared_preload_libraries", "pg_stat_statements");
      o.pg_settings.emplace_back("pg_stat_statements.track_utility", "on");
    }
    else if (arg == "--pg") {
      const std::string setting = value();
      const auto eq = setting.find('=');
      if (eq == std::string::npos || eq == 0) throw std::runtime_error("--pg wants NAME=VALUE, not " + setting);
      o.pg_settings.emplace_back(setting.substr(0, eq), setting.substr(eq + 1));
    } else if (arg == "--pg-defaults") {
      // PostgreSQL 15's defaults for what kJournalSettings changes.
      for (const auto& [name, setting] : store::Settings{
               {"shared_buffers", "128MB"}, {"wal_buffers", "-1"}, {"max_wal_size", "1GB"},
               {"min_wal_size", "80MB"}, {"checkpoint_timeout", "5min"}, {"checkpoint_completion_target", "0.9"}}) {
        o.pg_settings.emplace_back(name, setting);
      }
    }
    else throw std::runtime_error("unknown argument " + arg);
  }
  return o;
}

/// A market of funded traders and a seeded stream of limit orders around
/// one price: about half of them cross, so fills, trades, ledger entries,
/// cash and holding changes come in realistic proportions.
class Workload {
 public:
  /// `expected_orders`: the engine's [engine] expected_orders_per_day.
  Workload(int cross_percent, std::size_t expected_orders, int traders = 100)
      : cross_percent_(cross_percent), config_(config_for(expected_orders)) {
    const Principal op{Role::operator_, 0, "ops"};
    const Principal registry_authority{Role::registry_authority, 0, "reg"};
    // Issuance counts against the caps of the vintage year.
    keep(registry_authority, engine::SetCap{2024, "bench", Qty{INT64_MAX / 2}, 10'000, "bench"});
    keep(registry_authority, engine::SetCap{2025, "bench", Qty{INT64_MAX / 2}, 10'000, "bench"});
    for (int t = 0; t < traders; ++t) {
      const std::string code = "T" + std::to_string(t);
      registry::Hash token_hash{};  // each trader's token is an API token: distinct hashes
      token_hash[0] = static_cast<unsigned char>(t + 1);
      token_hash[1] = static_cast<unsigned char>((t + 1) >> 8);
      const auto participant =
          keep(op, engine::CreateParticipant{code, "Trader " + code, ParticipantType::institution, token_hash})
              .reply.participants.at(0);
      keep(op, engine::MoveCash{participant.cash_account, Cash{1'000'000'000'000'000}, "fund-" + code, false});
      for (const char* instrument : kInstruments) {
        keep(registry_authority,
             // 400,000 t each: room to sell, and holdings plus open buys stay under the
             // 1,000,000 t position limit of an institution.
             engine::IssueAllowances{instrument, participant.holding_account, Qty{400'000}, "bench"});
      }
      traders_.push_back(Principal{Role::trader, participant.id, code});
    }
  }

  /// The next order of the stream.
  /// The next order of the stream: `cross_percent` of them are marketable
  /// (IOC through the touch, one or more fills), the rest rest in the book
  /// (bids 99.91..100.00, asks 100.01..100.10 yuan, inside the ±10% band of the 100.00 reference).
  Command next_order() {
    const Principal& who = traders_[rng_() % traders_.size()];
    const Side side = rng_() % 2 == 0 ? Side::buy : Side::sell;
    const bool marketable = static_cast<int>(rng_() % 100) < cross_percent_;
    const std::int64_t offset = static_cast<std::int64_t>(rng_() % 10);
    const std::int64_t price = marketable ? (side == Side::buy ? 10'005 : 9'996)
                                          : (side == Side::buy ? 9'991 + offset : 10'001 + offset);
    const std::int64_t quantity = 1 + static_cast<std::int64_t>(rng_() % 50);
    return Command{who, engine::PlaceOrder{kInstruments[rng_() % 2], side, OrderType::limit,
                                           marketable ? TimeInForce::ioc : TimeInForce::day, TradingMode::listed,
                                           Price{price}, Qty{quantity}, "c" + std::to_string(++orders_)}};
  }
  engine::Outcome execute(const Command& command) { return exchange_.execute(command, now_ += 1'000); }

  engine::Exchange& exchange() { return exchange_; }
  /// The set-up outcomes (participants, deposits, issuance), to commit before measuring.
  std::vector<const engine::Outcome*> setup() const {
    std::vector<const engine::Outcome*> out;
    for (const auto& o : setup_) out.push_back(o.get());
    return out;
  }

 private:
  static constexpr const char* kInstruments[] = {"CEA2024", "CEA2025"};
  const engine::Outcome& keep(const Principal& who, engine::CommandBody body) {
    setup_.push_back(std::make_unique<engine::Outcome>(execute(Command{who, std::move(body)})));
    if (!setup_.back()->reply.status.is_ok()) throw std::runtime_error(setup_.back()->reply.status.message());
    return *setup_.back();
  }

  static Config config_for(std::size_t expected_orders) {
    Config config = default_config();
    config.expected_orders_per_day = expected_orders;
    return config;
  }

  int cross_percent_;
  Config config_;
  engine::Exchange exchange_{config_};
  UnixNanos now_ = kMondayMorning;
  std::mt19937_64 rng_{20'260'101};
  std::uint64_t orders_ = 0;
  std::vector<Principal> traders_;
  std::vector<std::unique_ptr<engine::Outcome>> setup_;
};

/// A fresh database with the schema, its conninfo.
/// Drops the databases of the phases before and checkpoints, so a phase is
/// not measured against autovacuum of the rows an earlier phase left behind.
void clear_earlier_phases(store::EmbeddedPostgres& postgres, std::initializer_list<const char*> names) {
  store::PgConn admin = store::connect_or_throw(postgres.conninfo("postgres"));
  for (const char* name : names) {
    store::exec_or_throw(admin.get(), std::string("DROP DATABASE IF EXISTS ") + name, "drop database");
  }
  store::exec_or_throw(admin.get(), "CHECKPOINT", "checkpoint");
}

std::string create_database(store::EmbeddedPostgres& postgres, const std::string& name) {
  store::PgConn admin = store::connect_or_throw(postgres.conninfo("postgres"));
  store::exec_or_throw(admin.get(), "DROP DATABASE IF EXISTS " + name, "drop database");
  store::exec_or_throw(admin.get(), "CREATE DATABASE " + name, "create database");
  const std::string conninfo = postgres.conninfo(name);
  store::PgConn conn = store::connect_or_throw(conninfo);
  store::apply_migrations(conn.get());
  return conninfo;
}

/// The writer carbond uses with `journal_connections` = `connections`.
std::unique_ptr<engine::JournalSink> make_journal(const std::string& conninfo, std::size_t connections) {
  return std::make_unique<store::PipelinedJournal>(conninfo, connections);
}

void commit_or_throw(engine::JournalSink& journal, const std::vector<const engine::Outcome*>& batch) {
  if (Status s = journal.commit(batch); !s.is_ok()) throw std::runtime_error("commit: " + s.message());
}

/// The ceiling: every journal row of `outcomes` (one per command, its events
/// as the writer encodes them) by one binary COPY into an empty table shaped
/// like journal_commands, committed once. Returns rows per second.
double copy_ceiling(const std::string& conninfo, const std::vector<const engine::Outcome*>& outcomes,
                    const std::string& table) {
  store::PgConn conn = store::connect_or_throw(conninfo);
  store::exec_or_throw(conn.get(), "DROP TABLE IF EXISTS " + table, "drop ceiling table");
  store::exec_or_throw(conn.get(), "CREATE TABLE " + table + " (LIKE journal_commands INCLUDING ALL) WITH (toast_tuple_target = 8160)",
                       "create ceiling table");
  const auto start = Clock::now();
  store::BinaryCopy copy;
  std::string events;
  for (const engine::Outcome* outcome : outcomes) {
    copy.begin_row(3);
    copy.i64(static_cast<std::int64_t>(outcome->sequence));
    copy.i64(outcome->at);
    store::append_events(events, outcome->events);
    copy.text(events);
  }
  const std::size_t rows = outcomes.size();
  store::exec_or_throw(conn.get(), "BEGIN", "begin");
  store::PgResult copying(PQexec(conn.get(), ("COPY " + table + " FROM STDIN (FORMAT binary)").c_str()));
  if (PQresultStatus(copying.get()) != PGRES_COPY_IN) throw std::runtime_error(PQerrorMessage(conn.get()));
  const std::string& data = copy.finish();
  constexpr std::size_t kChunk = 256 * 1024;
  for (std::size_t at = 0; at < data.size(); at += kChunk) {
    if (PQputCopyData(conn.get(), data.data() + at, static_cast<int>(std::min(kChunk, data.size() - at))) != 1) {
      throw std::runtime_error(PQerrorMessage(conn.get()));
    }
  }
  if (PQputCopyEnd(conn.get(), nullptr) != 1) throw std::runtime_error(PQerrorMessage(conn.get()));
  store::PgResult copied(PQgetResult(conn.get()));
  if (PQresultStatus(copied.get()) != PGRES_COMMAND_OK) throw std::runtime_error(PQerrorMessage(conn.get()));
  while (PGresult* extra = PQgetResult(conn.get())) PQclear(extra);
  store::exec_or_throw(conn.get(), "COMMIT", "commit");
  return static_cast<double>(rows) / seconds_since(start);
}

/// Counts acknowledgements; complete() runs on the writer thread.
class CountingCompletion final : public engine::Completion {
 public:
  void complete(engine::Reply&& reply) override {
    if (!reply.status.is_ok()) failed->fetch_add(1, std::memory_order_relaxed);
    done->fetch_add(1, std::memory_order_release);
  }
  std::atomic<std::size_t>* done = nullptr;
  std::atomic<std::size_t>* failed = nullptr;
};

/// Records the acknowledgement time measured from the intended send time.
class TimedCompletion final : public engine::Completion {
 public:
  void complete(engine::Reply&& reply) override {
    const auto now = Clock::now();
    latency_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now - intended).count();
    from_sent_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now - sent).count();
    ok = reply.status.is_ok();
    done->fetch_add(1, std::memory_order_release);
  }
  Clock::time_point intended;
  Clock::time_point sent;  ///< when the sender submitted it: intended, or later if the sender ran late
  std::int64_t latency_ns = -1;
  std::int64_t from_sent_ns = -1;
  bool ok = false;
  std::atomic<std::size_t>* done = nullptr;
};

/// Times every commit of the sink it wraps (writer thread only), so the
/// latency phase can tell slow commits from queueing behind them; pipelined
/// batches are timed from start() to their result.
class TimedSink final : public engine::JournalSink {
 public:
  explicit TimedSink(engine::JournalSink& inner) : inner_(inner) { commits_.reserve(1 << 16); }
  Status commit(const std::vector<const engine::Outcome*>& batch) override {
    const auto begin = Clock::now();
    Status status = inner_.commit(batch);
    record(begin, batch.size());
    return status;
  }
  std::size_t pipeline_depth() const override { return inner_.pipeline_depth(); }
  bool asynchronous() const override { return inner_.asynchronous(); }
  void start(const std::vector<const engine::Outcome*>& batch, IdleWaiter& ready) override {
    const auto now = Clock::now();
    if (started_.empty() && last_finish_ != Clock::time_point{}) {
      idle_gaps_.push_back(std::chrono::duration_cast<std::chrono::microseconds>(now - last_finish_).count());
    }
    started_.push_back({now, batch.size()});
    inner_.start(batch, ready);
  }
  bool oldest_ready() const override { return inner_.oldest_ready(); }
  Status finish_oldest() override {
    Status status = inner_.finish_oldest();
    record(started_.front().first, started_.front().second);
    started_.pop_front();
    last_finish_ = Clock::now();
    if (!status.is_ok()) started_.clear();  // the sink dropped every batch in flight
    return status;
  }
  struct Commit {
    Clock::time_point begin;
    std::int64_t micros;
    std::size_t commands;
  };
  /// Read after the runtime stopped.
  const std::vector<Commit>& commits() const { return commits_; }
  /// Read after the runtime stopped: for each batch started with none in flight, how long (µs) after
  /// the previous one's result (pipelined sinks only): the writer's own turnaround plus waiting for work.
  const std::vector<std::int64_t>& idle_gaps() const { return idle_gaps_; }

 private:
  void record(Clock::time_point begin, std::size_t commands) {
    commits_.push_back(
        {begin, std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - begin).count(), commands});
  }
  engine::JournalSink& inner_;
  std::deque<std::pair<Clock::time_point, std::size_t>> started_;
  std::vector<Commit> commits_;
  Clock::time_point last_finish_{};
  std::vector<std::int64_t> idle_gaps_;
};

/// Where the server spent its time since the last pg_stat_statements_reset(), statement by statement,
/// in the current database (--statements).
void print_statements(PGconn* conn, const char* phase) {
  store::PgResult top = store::exec_or_throw(
      conn,
      "SELECT round(100 * total_exec_time / sum(total_exec_time) OVER ())::int, round(total_exec_time)::bigint,"
      " calls, rows, round((1000 * mean_exec_time)::numeric)::bigint,"
      " left(regexp_replace(query, '\\s+', ' ', 'g'), 80) FROM pg_stat_statements"
      " WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
      " ORDER BY total_exec_time DESC LIMIT 14",
      "read pg_stat_statements");
  std::printf("\nserver time by statement (%s; %% of the total, ms, calls, rows, mean us):\n", phase);
  for (int r = 0; r < PQntuples(top.get()); ++r) {
    std::printf("  %3s%%  %7s ms  %7s calls  %8s rows  %6s us  %s\n", PQgetvalue(top.get(), r, 0),
                PQgetvalue(top.get(), r, 1), PQgetvalue(top.get(), r, 2), PQgetvalue(top.get(), r, 3),
                PQgetvalue(top.get(), r, 4), PQgetvalue(top.get(), r, 5));
  }
  // Updates that had to insert into every index (not HOT) are what a projection's fill factor decides.
  store::PgResult tables = store::exec_or_throw(
      conn,
      "SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd, n_live_tup, n_dead_tup FROM pg_stat_user_tables"
      " WHERE relname IN ('orders', 'cash_accounts', 'holdings') ORDER BY relname",
      "read pg_stat_user_tables");
  std::printf("rows by table since start (inserted, updated, of which HOT, live, dead):\n");
  for (int r = 0; r < PQntuples(tables.get()); ++r) {
    std::printf("  %-14s %9s %9s %9s %9s %9s\n", PQgetvalue(tables.get(), r, 0), PQgetvalue(tables.get(), r, 1),
                PQgetvalue(tables.get(), r, 2), PQgetvalue(tables.get(), r, 3), PQgetvalue(tables.get(), r, 4),
                PQgetvalue(tables.get(), r, 5));
  }
}

void wait_for(const std::atomic<std::size_t>& done, std::size_t target) {
  const auto give_up = Clock::now() + std::chrono::minutes(5);
  while (done.load(std::memory_order_acquire) < target) {
    if (Clock::now() > give_up) throw std::runtime_error("acknowledgements stopped arriving");
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

int run(const Options& options) {
  std::printf("journal_bench: %zu orders (%d%% marketable), batch %zu, open loop %d orders/s for %d s, max wait %d us,"
              " a batch beside another from %zu\n",
              options.orders, options.cross_percent, options.batch, options.rate, options.seconds, options.max_wait_us,
              options.pipeline_min_batch);
  store::EmbeddedPostgresOptions pg_options;
  pg_options.data_dir = options.dir;
  pg_options.port = 5497;
  pg_options.database = "postgres";
  pg_options.settings = options.pg_settings;
  store::EmbeddedPostgres postgres(pg_options);
  postgres.start();
  std::printf("PostgreSQL cluster in %s\n", options.dir.string().c_str());
  for (const store::Settings* settings :
       {&store::kJournalSettings, static_cast<const store::Settings*>(&options.pg_settings)}) {
    std::printf("%s", settings == &store::kJournalSettings ? "  carbond defaults:" : "  --pg:");
    for (const auto& [name, value] : *settings) std::printf(" %s=%s", name.c_str(), value.c_str());
    std::printf("\n");
  }

  // ---- 1 and 2: the writer alone, between two COPY ceilings -------------------------------
  {
    Workload workload(options.cross_percent, options.expected_orders);
    const std::string conninfo = create_database(postgres, "bench_writer");
    const auto journal = make_journal(conninfo, options.connections);
    commit_or_throw(*journal, workload.setup());

    std::vector<std::unique_ptr<engine::Outcome>> outcomes;
    outcomes.reserve(options.orders);
    std::map<std::string, std::size_t> kinds;
    std::size_t events = 0, rejected = 0;
    const auto generate_start = Clock::now();
    // The slowest single commands: a pause in the engine (a hash table growing) holds up every
    // command behind it, so it shows in the latency phase's tail.
    std::vector<std::pair<std::int64_t, std::size_t>> slowest;  // (ns, order number)
    for (std::size_t k = 0; k < options.orders; ++k) {
      Command order = workload.next_order();
      const auto begin = Clock::now();
      outcomes.push_back(std::make_unique<engine::Outcome>(workload.execute(order)));
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - begin).count();
      if (slowest.size() < 5 || ns > slowest.back().first) {
        if (slowest.size() == 5) slowest.pop_back();
        slowest.insert(std::upper_bound(slowest.begin(), slowest.end(), std::pair{ns, k},
                                        [](const auto& a, const auto& b) { return a.first > b.first; }),
                       {ns, k});
      }
      if (!outcomes.back()->reply.status.is_ok() && rejected++ == 0) {
        // A benchmark of refusals would measure the wrong thing.
        throw std::runtime_error("the workload was refused: " + outcomes.back()->reply.status.message());
      }
    }
    const double generate_seconds = seconds_since(generate_start);
    std::vector<const engine::Outcome*> journaled;
    for (const auto& o : outcomes) {
      if (o->events.empty()) continue;
      journaled.push_back(o.get());
      events += o->events.size();
      for (const auto& e : o->events) ++kinds[engine::event_name(e)];
    }
    std::printf("\nworkload: %zu orders (%zu rejected) -> %zu journal rows (one per command) holding %zu events"
                " (%.2f per order), engine %.0f orders/s\n",
                options.orders, rejected, journaled.size(), events, static_cast<double>(events) / static_cast<double>(options.orders),
                static_cast<double>(options.orders) / generate_seconds);
    for (const auto& [kind, count] : kinds) std::printf("  %-16s %zu\n", kind.c_str(), count);
    std::printf("  slowest single orders in the engine (ms, order number):");
    for (const auto& [ns, k] : slowest) std::printf(" %.3f, #%zu;", static_cast<double>(ns) / 1e6, k);
    std::printf("\n");

    const double ceiling_before = copy_ceiling(conninfo, journaled, "journal_ceiling_before");

    store::PgConn probe = store::connect_or_throw(conninfo);
    const std::string wal_before =
        PQgetvalue(store::exec_or_throw(probe.get(), "SELECT pg_current_wal_lsn()", "wal position").get(), 0, 0);
    if (options.statements) {
      store::exec_or_throw(probe.get(), "CREATE EXTENSION IF NOT EXISTS pg_stat_statements", "pg_stat_statements");
      store::exec_or_throw(probe.get(), "SELECT pg_stat_statements_reset()", "reset statements");
    }
    const auto start = Clock::now();
    std::vector<std::vector<const engine::Outcome*>> batches;
    for (std::size_t at = 0; at < journaled.size(); at += options.batch) {
      batches.emplace_back(journaled.begin() + static_cast<std::ptrdiff_t>(at),
                           journaled.begin() + static_cast<std::ptrdiff_t>(std::min(journaled.size(), at + options.batch)));
    }
    // As the runtime drives the sink: up to pipeline_depth() batches in flight, results taken in order.
    IdleWaiter ready;
    std::size_t finished = 0;
    for (std::size_t k = 0; k < batches.size(); ++k) {
      if (journal->pipeline_depth() == 1) {
        commit_or_throw(*journal, batches[k]);
        ++finished;
        continue;
      }
      journal->start(batches[k], ready);
      if (k + 1 - finished >= journal->pipeline_depth()) {
        if (Status s = journal->finish_oldest(); !s.is_ok()) throw std::runtime_error("commit: " + s.message());
        ++finished;
      }
    }
    for (; finished < batches.size(); ++finished) {
      if (Status s = journal->finish_oldest(); !s.is_ok()) throw std::runtime_error("commit: " + s.message());
    }
    const double writer_seconds = seconds_since(start);
    const double wal_bytes = std::stod(PQgetvalue(
        store::exec_or_throw(probe.get(), "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '" + wal_before + "')",
                             "wal written")
            .get(),
        0, 0));

    if (options.statements) print_statements(probe.get(), "writer phase");
    const double ceiling_after = copy_ceiling(conninfo, journaled, "journal_ceiling_after");
    const double writer_rows = static_cast<double>(journaled.size()) / writer_seconds;
    const double ceiling = std::max(ceiling_before, ceiling_after);
    std::printf("\nwriter (the journal alone, %zu connection(s), %zu commits of <= %zu orders):\n",
                journal->pipeline_depth(), batches.size(), options.batch);
    std::printf("  %.0f orders/s committed, %.0f journal rows/s, %.0f bytes of WAL per order\n",
                static_cast<double>(options.orders) / writer_seconds, writer_rows,
                wal_bytes / static_cast<double>(options.orders));
    std::printf("ceiling (one binary COPY of the same journal rows, one commit): %.0f rows/s before, %.0f after\n",
                ceiling_before, ceiling_after);
    std::printf("  writer journal rows/s = %.0f%% of the better ceiling\n", 100.0 * writer_rows / ceiling);
  }

  // ---- 3: engine + writer, as fast as the rings take commands ------------------------------
  {
    clear_earlier_phases(postgres, {"bench_writer"});
    Workload workload(options.cross_percent, options.expected_orders);
    const std::string conninfo = create_database(postgres, "bench_runtime");
    const auto journal = make_journal(conninfo, options.connections);
    commit_or_throw(*journal, workload.setup());
    ShiftedClock clock(kMondayMorning);  // in the morning session, whatever the hour of the run
    engine::RuntimeOptions runtime_options;
    runtime_options.max_batch = options.batch;
    runtime_options.max_batch_wait_us = options.max_wait_us;
    runtime_options.pipeline_min_batch = options.pipeline_min_batch;
    engine::EngineRuntime runtime(workload.exchange(), clock, *journal, runtime_options);
    runtime.start();
    std::vector<Command> commands;
    commands.reserve(options.orders);
    for (std::size_t k = 0; k < options.orders; ++k) commands.push_back(workload.next_order());
    std::vector<CountingCompletion> completions(options.orders);
    std::atomic<std::size_t> done{0}, failed{0};
    const auto start = Clock::now();
    for (std::size_t k = 0; k < options.orders; ++k) {
      completions[k].done = &done;
      completions[k].failed = &failed;
      for (;;) {
        const Status s = runtime.submit(commands[k], &completions[k]);
        if (s.is_ok()) break;
        if (s.code() != ErrorCode::resource_exhausted) throw std::runtime_error(s.message());
        std::this_thread::sleep_for(std::chrono::microseconds(100));  // back-pressure: the ring is full
      }
    }
    wait_for(done, options.orders);
    const double elapsed = seconds_since(start);
    const auto batches = runtime.counters().batches.load();
    runtime.stop();
    std::printf("\nruntime (engine + writer, closed loop): %.0f orders/s acknowledged, %llu commits (%.0f orders each)"
                ", %zu not ok\n",
                static_cast<double>(options.orders) / elapsed, static_cast<unsigned long long>(batches),
                static_cast<double>(options.orders) / static_cast<double>(std::max<std::uint64_t>(batches, 1)),
                failed.load());
  }

  // ---- 4: acknowledgement latency at a fixed offered rate ----------------------------------
  {
    clear_earlier_phases(postgres, {"bench_writer", "bench_runtime"});
    Workload workload(options.cross_percent, options.expected_orders);
    const std::string conninfo = create_database(postgres, "bench_latency");
    const auto journal = make_journal(conninfo, options.connections);
    commit_or_throw(*journal, workload.setup());
    store::PgConn probe = store::connect_or_throw(conninfo);
    if (options.statements) {
      store::exec_or_throw(probe.get(), "CREATE EXTENSION IF NOT EXISTS pg_stat_statements", "pg_stat_statements");
      store::exec_or_throw(probe.get(), "SELECT pg_stat_statements_reset()", "reset statements");
    }
    ShiftedClock clock(kMondayMorning);  // in the morning session, whatever the hour of the run
    engine::RuntimeOptions runtime_options;
    runtime_options.max_batch = options.batch;
    runtime_options.max_batch_wait_us = options.max_wait_us;
    runtime_options.pipeline_min_batch = options.pipeline_min_batch;
    TimedSink timed(*journal);
    engine::EngineRuntime runtime(workload.exchange(), clock, timed, runtime_options);
    runtime.start();
    const std::size_t total = static_cast<std::size_t>(options.rate) * static_cast<std::size_t>(options.seconds);
    std::vector<Command> commands;
    commands.reserve(total);
    for (std::size_t k = 0; k < total; ++k) commands.push_back(workload.next_order());
    std::vector<TimedCompletion> completions(total);
    std::atomic<std::size_t> done{0};
    std::size_t refused = 0;
    const auto period = std::chrono::nanoseconds(1'000'000'000LL / options.rate);
    const auto start = Clock::now() + std::chrono::milliseconds(10);
    for (std::size_t k = 0; k < total; ++k) {
      TimedCompletion& completion = completions[k];
      completion.done = &done;
      completion.intended = start + period * static_cast<std::int64_t>(k);
      if (Clock::now() < completion.intended) std::this_thread::sleep_until(completion.intended);
      completion.sent = Clock::now();
      if (!runtime.submit(commands[k], &completion).is_ok()) {
        ++refused;
        done.fetch_add(1, std::memory_order_release);
      }
    }
    const double send_seconds = seconds_since(start);
    wait_for(done, total);
    const auto batches = runtime.counters().batches.load();
    runtime.stop();
    std::vector<std::int64_t> latencies;
    std::vector<std::int64_t> from_sent;  // the same, from the actual send: without the sender's own lateness
    std::vector<std::int64_t> lateness;   // how late the sender submitted each command
    std::size_t not_ok = 0;
    for (const auto& c : completions) {
      if (c.latency_ns >= 0) latencies.push_back(c.latency_ns);
      if (c.from_sent_ns >= 0) from_sent.push_back(c.from_sent_ns);
      if (c.latency_ns >= 0) lateness.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(c.sent - c.intended).count());
      if (c.latency_ns >= 0 && !c.ok) ++not_ok;
    }
    std::sort(latencies.begin(), latencies.end());
    std::sort(from_sent.begin(), from_sent.end());
    std::sort(lateness.begin(), lateness.end());
    auto percentile_of = [](const std::vector<std::int64_t>& sorted, double p) {
      if (sorted.empty()) return 0.0;
      const auto at = std::min(sorted.size() - 1, static_cast<std::size_t>(p * static_cast<double>(sorted.size())));
      return static_cast<double>(sorted[at]) / 1e6;
    };
    auto percentile = [&](double p) { return percentile_of(latencies, p); };
    std::printf("\nlatency (open loop, %d orders/s offered for %d s, achieved %.0f/s sending, %llu commits, "
                "%zu refused, %zu not ok), from intended send time:\n",
                options.rate, options.seconds, static_cast<double>(total) / send_seconds,
                static_cast<unsigned long long>(batches), refused, not_ok);
    std::printf("  p50 %.3f ms  p90 %.3f ms  p99 %.3f ms  p99.9 %.3f ms  max %.3f ms\n", percentile(0.50),
                percentile(0.90), percentile(0.99), percentile(0.999),
                latencies.empty() ? 0.0 : static_cast<double>(latencies.back()) / 1e6);
    // The load generator shares the machine: a sender that wakes late delays its commands and
    // counts against the figures above (as it should for a client); these tell the two apart.
    std::printf("  from the actual send: p50 %.3f ms  p99 %.3f ms; the sender's lateness: p50 %.3f ms  p99 %.3f ms"
                "  max %.3f ms\n",
                percentile_of(from_sent, 0.50), percentile_of(from_sent, 0.99), percentile_of(lateness, 0.50),
                percentile_of(lateness, 0.99), lateness.empty() ? 0.0 : static_cast<double>(lateness.back()) / 1e6);
    // The commits themselves: how long each took, and the slowest with when they began.
    std::vector<TimedSink::Commit> commits = timed.commits();
    if (!commits.empty()) {
      std::vector<std::int64_t> micros;
      std::size_t committed = 0;
      for (const auto& c : commits) {
        micros.push_back(c.micros);
        committed += c.commands;
      }
      std::sort(micros.begin(), micros.end());
      auto commit_percentile = [&](double p) {
        return static_cast<double>(micros[std::min(micros.size() - 1, static_cast<std::size_t>(p * static_cast<double>(micros.size())))]) / 1e3;
      };
      std::printf("  commits: %zu, %.1f commands each; commit time p50 %.3f ms  p90 %.3f ms  p99 %.3f ms  max %.3f ms\n",
                  commits.size(), static_cast<double>(committed) / static_cast<double>(commits.size()),
                  commit_percentile(0.50), commit_percentile(0.90), commit_percentile(0.99),
                  static_cast<double>(micros.back()) / 1e3);
      std::sort(commits.begin(), commits.end(), [](const auto& a, const auto& b) { return a.micros > b.micros; });
      std::printf("  slowest commits (seconds into the run: ms, commands):");
      for (std::size_t k = 0; k < std::min<std::size_t>(8, commits.size()); ++k) {
        std::printf(" %.2f: %.1f, %zu;", std::chrono::duration<double>(commits[k].begin - start).count(),
                    static_cast<double>(commits[k].micros) / 1e3, commits[k].commands);
      }
      std::printf("\n");
    }
    if (std::vector<std::int64_t> gaps = timed.idle_gaps(); !gaps.empty()) {
      std::sort(gaps.begin(), gaps.end());
      auto at = [&](double p) {
        return gaps[std::min(gaps.size() - 1, static_cast<std::size_t>(p * static_cast<double>(gaps.size())))];
      };
      std::printf("  from a result to the next batch's start, nothing in flight (%zu times): p50 %lld us  p90 %lld us"
                  "  p99 %lld us\n",
                  gaps.size(), static_cast<long long>(at(0.5)), static_cast<long long>(at(0.9)),
                  static_cast<long long>(at(0.99)));
    }
    if (options.statements) print_statements(probe.get(), "latency phase");
  }

  postgres.stop();
  std::error_code ec;
  std::filesystem::remove_all(options.dir, ec);
  return 0;
}

}  // namespace
}  // namespace carbon

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);
  try {
    return carbon::run(carbon::parse(argc, argv));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "journal_bench: %s\n", e.what());
    return 1;
  }
}
