#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include "common/log/logger.hpp"

namespace jobgate::worker {

// A small HTTP/1.1 server on a thread of its own that serves GET /metrics with the text that
// `render` returns and GET /healthz with 200, for Prometheus and Kubernetes probes.
class metrics_server {
 public:
  // Binds at once; throws boost::system::system_error when the address is taken. Port 0 picks a
  // free port.
  metrics_server(const std::string& address, std::uint16_t port,
                 std::function<std::string()> render);
  ~metrics_server();

  metrics_server(const metrics_server&) = delete;
  metrics_server& operator=(const metrics_server&) = delete;

  std::uint16_t port() const;
  void start();
  void stop();

 private:
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::function<std::string()> render_;
  std::thread thread_;
  log::logger logger_;
};

}  // namespace jobgate::worker
