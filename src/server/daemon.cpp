#include "server/daemon.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <prometheus/exposer.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <future>
#include <stdexcept>
#include <toml.hpp>

#include "server/audit.h"
#include "server/commit_fanout.h"
#include "server/market_feed.h"
#include "server/order_session.h"
#include "server/services.h"
#include "store/migrations.h"
#include "store/pg.h"
#include "store/recovery.h"

namespace carbon::server {
namespace {

/// One command of carbond's own at start, waited for: the reply once committed.
class Awaited final : public engine::Completion {
 public:
  std::future<engine::Reply> future() { return promise_.get_future(); }
  void complete(engine::Reply&& reply) override {
    promise_.set_value(std::move(reply));
    delete this;  // the runtime no longer touches it; the future holds the reply
  }

 private:
  std::promise<engine::Reply> promise_;
};

}  // namespace

std::vector<BootstrapToken> bootstrap_staff_tokens(const std::filesystem::path& data_dir) {
  const std::filesystem::path path = data_dir / "staff-tokens.toml";
  if (!std::filesystem::exists(path)) {
    const std::pair<Role, const char*> staff[] = {{Role::operator_, "operator"},
                                                  {Role::registry_authority, "registry"},
                                                  {Role::regulator, "regulator"},
                                                  {Role::auditor, "auditor"}};
    const std::filesystem::path temporary = data_dir / "staff-tokens.toml.tmp";
    {
      const mode_t old_mask = ::umask(077);
      std::ofstream out(temporary, std::ios::trunc);
      ::umask(old_mask);
      out << "# carbond bootstrap staff tokens, made on first start because the config names no [[staff]].\n"
             "# Keep this file secret. For production, put token_sha256 entries in the config instead.\n";
      for (const auto& [role, name] : staff) {
        out << "\n[[staff]]\nname = \"" << name << "\"\nrole = \"" << role_name(role) << "\"\ntoken = \""
            << generate_token() << "\"\n";
      }
      if (!out) throw std::runtime_error("cannot write " + temporary.string());
    }
    std::filesystem::rename(temporary, path);
    spdlog::warn("no staff configured: wrote bootstrap staff tokens to {}", path.string());
  }
  std::vector<BootstrapToken> out;
  try {
    const auto root = toml::parse(path.string());
    for (const auto& entry : toml::find<toml::array>(root, "staff")) {
      out.push_back(BootstrapToken{parse_role(toml::find<std::string>(entry, "role")),
                                   toml::find<std::string>(entry, "name"), toml::find<std::string>(entry, "token")});
    }
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot read " + path.string() + ": " + e.what());
  }
  return out;
}

std::shared_ptr<grpc::ServerCredentials> server_credentials(const Config& config) {
  const bool cert = !config.tls_cert_file.empty();
  const bool key = !config.tls_key_file.empty();
  if (!cert && !key) {
    if (!config.tls_client_ca_file.empty() || config.require_client_cert) {
      throw std::runtime_error("[server] tls_client_ca_file and require_client_cert need tls_cert_file and tls_key_file");
    }
    return grpc::InsecureServerCredentials();
  }
  if (cert != key) throw std::runtime_error("[server] tls_cert_file and tls_key_file go together");
  if (config.require_client_cert && config.tls_client_ca_file.empty()) {
    throw std::runtime_error("[server] require_client_cert needs tls_client_ca_file");
  }
  auto read = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  grpc::SslServerCredentialsOptions options(
      config.tls_client_ca_file.empty() ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
      : config.require_client_cert      ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                                        : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  if (!config.tls_client_ca_file.empty()) options.pem_root_certs = read(config.tls_client_ca_file);
  options.pem_key_cert_pairs.push_back({read(config.tls_key_file), read(config.tls_cert_file)});
  return grpc::SslServerCredentials(options);
}

Daemon::Daemon(Config config) : config_(std::move(config)) {}

Daemon::~Daemon() {
  try {
    stop();
  } catch (const std::exception& e) {
    spdlog::error("stopping carbond: {}", e.what());
  }
}

void Daemon::load_staff_tokens() {
  if (config_.staff.empty()) {
    for (const BootstrapToken& staff : bootstrap_staff_tokens(config_.data_dir)) {
      auth_.add_staff(hash_token(staff.token), staff.role, staff.name);
    }
    return;
  }
  for (const StaffPrincipal& staff : config_.staff) {
    auth_.add_staff(*hash_from_hex(staff.token_sha256_hex), staff.role, staff.name);
  }
}

void Daemon::set_serving(bool serving) {
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  health->SetServingStatus(serving);
  for (const char* service : {"carbon.v1.TradingService", "carbon.v1.MarketDataService", "carbon.v1.AdminService",
                              "carbon.v1.RegistryService", "carbon.v1.RegulatorService"}) {
    health->SetServingStatus(service, serving);
  }
}

void Daemon::start() {
  std::filesystem::create_directories(config_.data_dir);
  if (config_.postgres.empty()) {
    store::EmbeddedPostgresOptions options;
    options.data_dir = config_.data_dir;
    options.os_user = config_.embedded_os_user;
    options.port = config_.embedded_port;
    options.settings = config_.embedded_settings;
    embedded_ = std::make_unique<store::EmbeddedPostgres>(options);
    embedded_->start();
    conninfo_ = embedded_->conninfo();
  } else {
    conninfo_ = config_.postgres;
  }

  engine::RecoveredState state;
  {
    // A carbond killed during a commit leaves its transaction running in the server: migrate and read the
    // state after it. The lock stays held (shared) on its own connection while this carbond runs.
    writer_lock_ = store::connect_or_throw(conninfo_);
    const std::chrono::milliseconds wait(config_.earlier_writer_wait_ms);
    if (Status s = store::take_journal_writer_lock(writer_lock_.get(), wait); !s.is_ok()) {
      throw std::runtime_error(s.message());
    }
    store::PgConn conn = store::connect_or_throw(conninfo_);
    const int applied = store::apply_migrations(conn.get());
    if (applied > 0) spdlog::info("applied {} migration(s)", applied);
    store::ClosedClientIdRun closed_ids;
    state = store::load_state(conn.get(), &closed_ids);
    store::check_state(conn.get(), state);
    if (Status s = store::store_closed_client_id_digests(conn.get(), state, closed_ids); !s.is_ok()) {
      spdlog::warn("the closed orders' client order ids were not stored for the next start, which reads them"
                   " from the orders table instead: {}", s.message());
    }
  }
  if (config_.clock_start.empty()) {
    clock_ = std::make_unique<SystemClock>();
  } else {
    const auto start = parse_rfc3339(config_.clock_start);
    if (!start) {
      throw std::runtime_error("clock_start \"" + config_.clock_start +
                               "\" is not an RFC 3339 instant such as 2026-11-24T10:00:00+08:00");
    }
    clock_ = std::make_unique<ShiftedClock>(*start);
    spdlog::warn("the engine's clock starts at {} (clock_start), not at the system time", config_.clock_start);
  }
  exchange_ = std::make_unique<engine::Exchange>(config_);
  try {
    exchange_->restore(state);
  } catch (const std::out_of_range&) {
    throw std::runtime_error("the database holds orders of an instrument missing from the config's [[instruments]]");
  }
  spdlog::info("recovered sequence {}: {} participants, {} orders ({} trades)", state.last_sequence,
               state.participants.size(), state.orders.size(), state.trades.size());

  load_staff_tokens();
  for (const engine::ParticipantRecord& participant : exchange_->participants()) {
    auth_.add_trader(participant.token_hash, participant.id, participant.code);
  }
  // API tokens: issued ones added, revoked ones refused (traders' forgotten, staff ones kept to name attempts).
  for (const engine::ApiTokenRecord& token : exchange_->api_tokens()) auth_.apply_token(token);
  auth_.set_clock(clock_.get());

  // Also with one connection: its thread waits in the statements, the writer watches it (a commit that does not return).
  journal_ = std::make_unique<store::PipelinedJournal>(conninfo_, config_.journal_connections);
  engine::RuntimeOptions options;
  options.command_ring_capacity = config_.command_ring_capacity;
  options.event_ring_capacity = config_.event_ring_capacity;
  options.max_batch = config_.journal_max_batch;
  options.max_batch_wait_us = config_.journal_max_wait_us;
  options.unavailable_after_ms = config_.journal_unavailable_after_ms;
  options.stop_commit_retry_ms = config_.shutdown_grace_ms;
  runtime_ = std::make_unique<engine::EngineRuntime>(*exchange_, *clock_, *journal_, options);
  metrics_ = std::make_shared<metrics::Registry>();
  runtime_metrics_ = std::make_unique<engine::RuntimeMetrics>(*metrics_);
  runtime_->set_metrics(runtime_metrics_.get());

  // Market data starts from the restored books; then it follows the commits.
  OrderSessionOptions session_options;
  session_options.max_outbound_messages = config_.session_max_outbound_messages;
  session_options.max_sessions_per_participant = config_.session_max_per_participant;
  sessions_ = std::make_unique<OrderSessions>(session_options, exchange_->last_sequence());
  const std::vector<std::string> codes = exchange_->instrument_codes();  // configured and created
  MarketFeedOptions feed_options;
  feed_options.max_subscribers = config_.market_data_max_streams;
  feed_ = std::make_unique<MarketFeed>(codes, feed_options);
  feed_->set_authenticator(&auth_);  // streams end when their token is revoked or expires
  for (const std::string& code : codes) {
    if (const matching::LadderBook* book = exchange_->book(code)) feed_->seed(code, *book, exchange_->last_sequence());
  }
  feed_->seed_trades(state.trades, exchange_->market_state().day_opened_sequence);  // for StreamTrades replay
  feed_->start();
  fanout_ = std::make_unique<CommitFanout>(auth_, *sessions_, *feed_);
  runtime_->set_commit_listener(fanout_.get());
  // Resting orders a listed band no longer admits (a config that narrowed it, or a database from before bands
  // were kept on resting orders) must not trade: before serving, a SetReferencePrice at the reference in force
  // cancels them through the engine, journaled, their owners' reservations released.
  std::vector<std::pair<std::string, Price>> outside_band;
  for (const std::string& code : exchange_->instruments_with_orders_outside_band()) {
    outside_band.emplace_back(code, exchange_->instrument_state(code)->reference);
  }
  runtime_->start();
  for (const auto& [code, reference] : outside_band) {
    auto* awaited = new Awaited;
    std::future<engine::Reply> reply = awaited->future();
    const engine::Principal carbond{Role::operator_, 0, "carbond (start)", 0, 0};
    const std::string why = "start: resting orders outside the listed band of " + code + " are cancelled";
    // Audited as an operator's SetReferencePrice would be: regulators see that carbond cancelled the orders
    // at start, and why.
    v1::SetReferencePriceRequest request;
    request.set_instrument(code);
    request.set_price_fen(reference.value);
    request.set_reason(why);
    const engine::Command command{carbond, engine::SetReferencePrice{code, reference, why},
                                  "/carbon.v1.AdminService/SetReferencePrice", "carbond (start)",
                                  request_summary(&request), 0};
    if (Status s = runtime_->submit(command, awaited); !s.is_ok()) {
      delete awaited;
      throw std::runtime_error(why + ": " + s.message());
    }
    if (reply.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
      throw std::runtime_error(why + ": no reply within 60 s");
    }
    if (const engine::Reply done = reply.get(); !done.status.is_ok()) {
      throw std::runtime_error(why + ": " + done.status.message());
    }
    spdlog::warn("{} (the band moved under them while carbond was stopped)", why);
  }

  ServiceContext context{auth_, *runtime_, config_, sessions_.get(), feed_.get()};
  context.ledger_conninfo = conninfo_;
  read_slots_ = std::make_unique<ReadSlots>(config_.max_database_reads);
  context.read_slots = read_slots_.get();
  read_pool_ = std::make_unique<ReadPool>(config_.max_database_reads);
  context.read_pool = read_pool_.get();
  audit_writer_ = std::make_unique<store::AuditWriter>(conninfo_);
  context.audit_writer = audit_writer_.get();
  context.clock = clock_.get();
  trading_ = std::make_unique<TradingService>(context);
  market_data_ = std::make_unique<MarketDataService>(context);
  admin_ = std::make_unique<AdminService>(context);
  registry_ = std::make_unique<RegistryService>(context);
  regulator_ = std::make_unique<RegulatorService>(context);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(config_.listen_address, server_credentials(config_), &port);
  builder.RegisterService(trading_.get());
  builder.RegisterService(market_data_.get());
  builder.RegisterService(admin_.get());
  builder.RegisterService(registry_.get());
  builder.RegisterService(regulator_.get());
  server_ = builder.BuildAndStart();
  if (!server_ || port == 0) {
    runtime_->stop();
    throw std::runtime_error("cannot listen on " + config_.listen_address);
  }
  bound_address_ = config_.listen_address.substr(0, config_.listen_address.rfind(':')) + ":" + std::to_string(port);
  set_serving(true);
  spdlog::info("carbond serving on {}", bound_address_);
  start_metrics();
  health_thread_ = std::thread([this] { watch_health(); });
}

std::string Daemon::metrics_address() const { return metrics_address_; }

void Daemon::start_metrics() {
  metrics::Registry& r = *metrics_;
  const engine::RuntimeCounters& counters = runtime_->counters();
  auto& command_ring = r.gauge("carbond_command_ring_depth", "Commands waiting for the engine thread (sampled)");
  auto& event_ring = r.gauge("carbond_event_ring_depth", "Outcomes waiting for the journal writer (sampled)");
  auto& journal_down = r.gauge("carbond_journal_unavailable",
                               "1 while journal commits fail (database unreachable): commands are refused");
  auto& batches = r.counter("carbond_commit_batches_total", "Journal transactions committed");
  auto& commit_failures = r.counter("carbond_commit_failures_total", "Journal commit attempts that failed");
  const std::string refusal_help = "Commands refused before the engine, by gRPC status code";
  auto& ring_full = r.counter("carbond_submit_refused_total", refusal_help, {{"code", "RESOURCE_EXHAUSTED"}});
  auto& refused_down = r.counter("carbond_submit_refused_total", refusal_help, {{"code", "UNAVAILABLE"}});
  auto& answered_down = r.counter("carbond_outage_unknown_outcome_total",
                                  "Waiting commands answered UNAVAILABLE (outcome unknown) during an outage");
  auto& sessions = r.gauge("carbond_order_sessions", "Open TradingService.OrderSession streams");
  const std::string stream_help = "Open MarketDataService streams, by kind";
  auto& depth_streams = r.gauge("carbond_market_data_streams", stream_help, {{"kind", "depth"}});
  auto& trade_streams = r.gauge("carbond_market_data_streams", stream_help, {{"kind", "trades"}});
  auto& retained_trades = r.gauge("carbond_market_data_retained_trades",
                                  "Public trades kept in memory for StreamTrades replay (the trading day in progress)");
  auto& reads = r.gauge("carbond_database_reads_in_use",
                        "Reads of PostgreSQL by gRPC threads in progress ([server] max_database_reads at most)");
  auto& reads_refused = r.counter("carbond_database_reads_refused_total",
                                  "Database reads refused RESOURCE_EXHAUSTED: max_database_reads were in use");
  r.add_collector([this, &r, &counters, &command_ring, &event_ring, &journal_down, &batches, &commit_failures,
                   &ring_full, &refused_down, &answered_down, &sessions, &depth_streams, &trade_streams, &retained_trades,
                   &reads, &reads_refused] {
    command_ring.Set(static_cast<double>(runtime_->command_ring_depth()));
    event_ring.Set(static_cast<double>(runtime_->event_ring_depth()));
    journal_down.Set(runtime_->journal_unavailable() ? 1 : 0);
    metrics::set_total(batches, counters.batches.load(std::memory_order_relaxed));
    metrics::set_total(commit_failures, counters.commit_failures.load(std::memory_order_relaxed));
    metrics::set_total(ring_full, counters.rejected_full.load(std::memory_order_relaxed));
    metrics::set_total(refused_down, counters.refused_unavailable.load(std::memory_order_relaxed));
    metrics::set_total(answered_down, counters.answered_unavailable.load(std::memory_order_relaxed));
    sessions.Set(static_cast<double>(sessions_->open_count()));
    const MarketFeed::Stats stats = feed_->stats();
    depth_streams.Set(static_cast<double>(stats.depth_streams));
    trade_streams.Set(static_cast<double>(stats.trade_streams));
    retained_trades.Set(static_cast<double>(stats.retained_trades));
    reads.Set(static_cast<double>(read_slots_->in_use()));
    metrics::set_total(reads_refused, read_slots_->refused());
    // Every instrument the feed has a book for, those created since the start included (found or added: the
    // registry's lock, once per instrument per scrape).
    for (const auto& [code, count] : stats.resting_orders) {
      r.gauge("carbond_book_resting_orders", "Resting orders in the listed book, by instrument (as committed)",
              {{"instrument", code}})
          .Set(static_cast<double>(count));
    }
  });
  if (config_.metrics_listen.empty()) return;
  const auto colon = config_.metrics_listen.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    throw std::runtime_error("metrics: [metrics] listen must be host:port, e.g. 127.0.0.1:9464, not \"" +
                             config_.metrics_listen + "\"");
  }
  try {
    exposer_ = std::make_unique<prometheus::Exposer>(config_.metrics_listen, 1);
  } catch (const std::exception& e) {
    throw std::runtime_error("metrics: cannot listen on " + config_.metrics_listen + " ([metrics] listen): " +
                             e.what());
  }
  exposer_->RegisterCollectable(metrics_);
  const std::vector<int> ports = exposer_->GetListeningPorts();
  const std::string host = config_.metrics_listen.substr(0, colon);
  metrics_address_ = host + ":" + (ports.empty() ? std::string("?") : std::to_string(ports.front()));
  spdlog::info("metrics on http://{}/metrics", metrics_address_);
}

void Daemon::watch_health() {
  metrics::Gauge& database_up =
      metrics_->gauge("carbond_database_up", "1 if PostgreSQL answered the last health ping (every 500 ms)");
  bool serving = true;
  std::unique_lock lock(health_mutex_);
  while (!health_stop_) {
    lock.unlock();
    // The writer knows when commits fail; an idle exchange learns of an
    // outage from a ping (PQping: no login, no query).
    const bool reachable = store::database_reachable(conninfo_);
    database_up.Set(reachable ? 1 : 0);
    const bool healthy = reachable && !runtime_->journal_unavailable();
    lock.lock();
    if (health_stop_) break;
    if (healthy != serving) {
      serving = healthy;
      set_serving(serving);
      if (serving) spdlog::info("health: SERVING (the database is reachable again)");
      else spdlog::warn("health: NOT_SERVING (the database is unreachable)");
    }
    health_wake_.wait_for(lock, std::chrono::milliseconds(500), [this] { return health_stop_; });
  }
}

void Daemon::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (health_thread_.joinable()) {
    {
      std::lock_guard lock(health_mutex_);
      health_stop_ = true;
    }
    health_wake_.notify_all();
    health_thread_.join();
  }
  if (server_) set_serving(false);
  if (runtime_) {
    runtime_->stop();
    spdlog::info("engine drained at sequence {}", exchange_->last_sequence());
  }
  // Every reply is out of the runtime now: end the streams, after what they have queued.
  if (sessions_) sessions_->close_all();
  if (feed_) feed_->stop();
  if (server_) {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(config_.shutdown_grace_ms));
    server_->Wait();
  }
  // The embedded cluster is carbond's own, even when this run found it left
  // running by a killed predecessor: stop it either way.
  exposer_.reset();  // stops its threads: no scrape outlives the runtime it samples
  if (embedded_) embedded_->stop_any();
  spdlog::info("carbond stopped");
}

}  // namespace carbon::server
