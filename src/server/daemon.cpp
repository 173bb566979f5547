#include "server/daemon.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <stdexcept>
#include <toml.hpp>

#include "server/commit_fanout.h"
#include "server/market_feed.h"
#include "server/order_session.h"
#include "server/services.h"
#include "store/migrations.h"
#include "store/pg.h"
#include "store/recovery.h"

namespace carbon::server {

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
    embedded_ = std::make_unique<store::EmbeddedPostgres>(options);
    embedded_->start();
    conninfo_ = embedded_->conninfo();
  } else {
    conninfo_ = config_.postgres;
  }

  engine::RecoveredState state;
  {
    store::PgConn conn = store::connect_or_throw(conninfo_);
    const int applied = store::apply_migrations(conn.get());
    if (applied > 0) spdlog::info("applied {} migration(s)", applied);
    state = store::load_state(conn.get());
    store::check_state(conn.get(), state);
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
  // API tokens: issued ones added, revoked ones (first trader tokens included) forgotten.
  for (const engine::ApiTokenRecord& token : exchange_->api_tokens()) auth_.apply_token(token);
  auth_.set_clock(clock_.get());

  journal_ = std::make_unique<store::PostgresJournal>(conninfo_);
  engine::RuntimeOptions options;
  options.command_ring_capacity = config_.command_ring_capacity;
  options.event_ring_capacity = config_.event_ring_capacity;
  options.max_batch = config_.journal_max_batch;
  options.max_batch_wait_us = config_.journal_max_wait_us;
  options.unavailable_after_ms = config_.journal_unavailable_after_ms;
  options.stop_commit_retry_ms = config_.shutdown_grace_ms;
  runtime_ = std::make_unique<engine::EngineRuntime>(*exchange_, *clock_, *journal_, options);

  // Market data starts from the restored books; then it follows the commits.
  sessions_ = std::make_unique<OrderSessions>();
  std::vector<std::string> codes;
  for (const InstrumentConfig& instrument : config_.instruments) codes.push_back(instrument.code);
  feed_ = std::make_unique<MarketFeed>(codes, MarketFeedOptions{});
  for (const std::string& code : codes) {
    if (const matching::LadderBook* book = exchange_->book(code)) feed_->seed(code, *book, exchange_->last_sequence());
  }
  feed_->start();
  fanout_ = std::make_unique<CommitFanout>(*sessions_, *feed_);
  runtime_->set_commit_listener(fanout_.get());
  runtime_->start();

  ServiceContext context{auth_, *runtime_, config_, sessions_.get(), feed_.get()};
  context.ledger_conninfo = conninfo_;
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
}

void Daemon::stop() {
  if (stopped_) return;
  stopped_ = true;
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
  if (embedded_) embedded_->stop_any();
  spdlog::info("carbond stopped");
}

}  // namespace carbon::server
