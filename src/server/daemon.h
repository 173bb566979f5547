#pragma once
/// carbond's life: database, recovery, engine, gRPC server, and an orderly stop.

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/clock.h"
#include "common/config.h"
#include "common/metrics.h"
#include "engine/exchange.h"
#include "engine/runtime.h"
#include "server/auth.h"
#include "server/read_pool.h"
#include "server/read_slots.h"
#include "store/audit_writer.h"
#include "store/embedded_postgres.h"
#include "store/journal.h"
#include "store/pipelined_journal.h"

namespace prometheus {
class Exposer;
}

namespace carbon::server {

class TradingService;
class MarketDataService;
class AdminService;
class RegistryService;
class RegulatorService;
class OrderSessions;
class MarketFeed;
class CommitFanout;

/// One running exchange. start() and stop() from the main thread only.
class Daemon {
 public:
  explicit Daemon(Config config);
  ~Daemon();

  /// Starts PostgreSQL (embedded unless configured), applies migrations,
  /// recovers and checks the state, starts the engine and the gRPC server.
  /// Throws std::runtime_error with a clear message when any step fails.
  void start();

  /// Stops intake, drains the engine, commits, shuts the server down and
  /// stops an embedded PostgreSQL. Idempotent.
  void stop();

  /// The address the gRPC server listens on (with the port it bound).
  const std::string& bound_address() const { return bound_address_; }
  /// The metrics endpoint's address with its bound port ("" when off).
  std::string metrics_address() const;

 private:
  void load_staff_tokens();
  /// Health status of the server and of each carbon.v1 service.
  void set_serving(bool serving);
  /// Registers the metrics sampled at each scrape and starts the endpoint.
  void start_metrics();
  /// Health follows the database: NOT_SERVING while commits fail or the
  /// server does not answer a ping, SERVING again once both are fine.
  void watch_health();

  Config config_;
  std::unique_ptr<Clock> clock_;  ///< the system clock, or a shifted one (clock_start)
  std::unique_ptr<store::EmbeddedPostgres> embedded_;
  std::string conninfo_;
  store::PgConn writer_lock_;  ///< holds kJournalWriterLock (shared) from the start on: another start waits for it
  std::unique_ptr<engine::Exchange> exchange_;
  std::unique_ptr<engine::JournalSink> journal_;  ///< a PipelinedJournal on journal_connections connections
  std::unique_ptr<ReadSlots> read_slots_;    ///< the bound on database reads by gRPC threads; outlives the sessions
  std::unique_ptr<ReadPool> read_pool_;      ///< reads after the engine's reply (GetOrder of an earlier day's order)
  std::unique_ptr<OrderSessions> sessions_;  ///< open order sessions; outlive the server and the runtime
  std::unique_ptr<MarketFeed> feed_;         ///< market data mirror and streams; likewise
  std::unique_ptr<CommitFanout> fanout_;     ///< the runtime's commit listener
  std::unique_ptr<engine::EngineRuntime> runtime_;
  std::unique_ptr<store::AuditWriter> audit_writer_;  ///< staff reads' audit records; outlives the server
  Authenticator auth_;
  std::unique_ptr<TradingService> trading_;
  std::unique_ptr<MarketDataService> market_data_;
  std::unique_ptr<AdminService> admin_;
  std::unique_ptr<RegistryService> registry_;
  std::unique_ptr<RegulatorService> regulator_;
  std::unique_ptr<grpc::Server> server_;
  std::string bound_address_;
  bool stopped_ = false;
  // Operations (metrics, health). The registry outlives every thread that updates it.
  std::shared_ptr<metrics::Registry> metrics_;  ///< shared: the exposer holds it as a weak_ptr
  std::unique_ptr<engine::RuntimeMetrics> runtime_metrics_;
  std::unique_ptr<prometheus::Exposer> exposer_;  ///< GET /metrics; null when [metrics] listen is empty
  std::string metrics_address_;
  std::thread health_thread_;
  std::mutex health_mutex_;
  std::condition_variable health_wake_;
  bool health_stop_ = false;  ///< guarded by health_mutex_
};

/// Reads `<data_dir>/staff-tokens.toml`, creating it (mode 0600) with fresh
/// tokens for an operator, a registry authority, a regulator and an auditor
/// when it does not exist. Returns (role, name, token) triples.
struct BootstrapToken {
  Role role;
  std::string name;
  std::string token;
};
std::vector<BootstrapToken> bootstrap_staff_tokens(const std::filesystem::path& data_dir);
/// The credentials of the listening port from [server] tls_*: plaintext, TLS,
/// or TLS verifying (and with require_client_cert requiring) client certificates.
/// Throws std::runtime_error on an inconsistent setting or an unreadable file.
std::shared_ptr<grpc::ServerCredentials> server_credentials(const Config& config);

}  // namespace carbon::server
