/// carbond: the national carbon market daemon.

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <fstream>

#include "common/config.h"
#include "server/daemon.h"

int main(int argc, char** argv) {
  CLI::App app{"carbond: the national carbon market daemon (CEA allowances and CCER)"};
  std::string config_path;
  std::string listen;
  std::string data_dir;
  std::string postgres;
  std::string log_level;
  std::string ready_file;
  std::string embedded_os_user;
  int embedded_port = 0;
  std::string clock_start;
  std::string metrics_listen;
  app.add_option("-c,--config", config_path, "TOML config file (see deploy/carbond.example.toml)")
      ->check(CLI::ExistingFile);
  app.add_option("--listen", listen, "gRPC address host:port (default 127.0.0.1:50051)");
  app.add_option("--data-dir", data_dir, "data directory: embedded PostgreSQL, bootstrap tokens (default /var/lib/carbond)");
  app.add_option("--postgres", postgres, "libpq conninfo of an external PostgreSQL; empty = embedded cluster");
  app.add_option("--embedded-os-user", embedded_os_user, "OS user that runs the embedded cluster when carbond is root");
  app.add_option("--embedded-port", embedded_port, "port number of the embedded cluster's Unix socket");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error, critical");
  app.add_option("--ready-file", ready_file, "write the bound address here once serving (for supervisors and tests)");
  app.add_option("--clock-start", clock_start,
                 "start the engine's clock at this RFC 3339 instant, e.g. 2026-11-24T10:00:00+08:00, and run it on"
                 " from there (demonstrations and tests at session time; default: the system clock)");
  app.add_option("--metrics-listen", metrics_listen, "Prometheus endpoint host:port (GET /metrics); default off");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_default_logger(spdlog::stderr_color_mt("carbond"));

  carbon::Config config;
  try {
    config = config_path.empty() ? carbon::default_config() : carbon::load_config(config_path);
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    return 2;
  }
  if (!listen.empty()) config.listen_address = listen;
  if (!data_dir.empty()) config.data_dir = data_dir;
  if (!postgres.empty()) config.postgres = postgres;
  if (!embedded_os_user.empty()) config.embedded_os_user = embedded_os_user;
  if (embedded_port != 0) config.embedded_port = embedded_port;
  if (!log_level.empty()) config.log_level = log_level;
  if (!clock_start.empty()) config.clock_start = clock_start;
  if (!metrics_listen.empty()) config.metrics_listen = metrics_listen;
  spdlog::set_level(spdlog::level::from_str(config.log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");

  // SIGTERM and SIGINT are turned by Boost.Asio into a completion on the main
  // thread's io_context, whichever thread the kernel delivers them to.
  boost::asio::io_context io;
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  std::signal(SIGPIPE, SIG_IGN);

  carbon::server::Daemon daemon(config);
  try {
    daemon.start();
  } catch (const std::exception& e) {
    spdlog::critical("carbond cannot start: {}", e.what());
    try {
      daemon.stop();
    } catch (const std::exception& stop_error) {
      spdlog::error("{}", stop_error.what());
    }
    return 1;
  }
  if (!ready_file.empty()) {
    std::ofstream(ready_file + ".tmp") << daemon.bound_address() << "\n";
    std::rename((ready_file + ".tmp").c_str(), ready_file.c_str());
  }

  signals.async_wait([&](const boost::system::error_code& error, int signal_number) {
    if (!error) spdlog::info("signal {}: stopping intake, draining, committing", signal_number);
    io.stop();
  });
  io.run();

  try {
    daemon.stop();
  } catch (const std::exception& e) {
    spdlog::critical("carbond did not stop cleanly: {}", e.what());
    return 1;
  }
  return 0;
}
