#pragma once
/// The Prometheus endpoint: HTTP/1.1 GET /metrics answered with the text
/// exposition format 0.0.4, served by Boost.Beast on a thread of its own.
/// (prometheus-cpp is not packaged for Debian 12; the format is small and
/// rendered by common/metrics.h.)

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <functional>
#include <string>
#include <thread>

namespace carbon::server {

class MetricsHttpServer {
 public:
  /// Binds `listen` ("host:port", port 0 = any free port) and starts serving;
  /// `render` is called on the server's thread for every scrape. Throws
  /// std::runtime_error when the address cannot be bound.
  MetricsHttpServer(const std::string& listen, std::function<std::string()> render);
  ~MetricsHttpServer();
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  /// "host:port" with the bound port.
  const std::string& bound_address() const { return bound_address_; }

  /// Stops accepting, closes connections and joins the thread. Idempotent.
  void stop();

 private:
  void accept();

  std::function<std::string()> render_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::string bound_address_;
  std::thread thread_;
};

}  // namespace carbon::server
