#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>

#include "gateway/router.hpp"

namespace jobgate::gateway {

// Accepts connections and runs one coroutine per connection on its own strand. The acceptor runs
// until stop(); connections in progress finish their current request.
class server {
 public:
  // max_body_bytes is the largest body any route accepts; routes apply their own lower limits.
  server(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& endpoint,
         router& routes, std::chrono::seconds idle_timeout, std::uint64_t max_body_bytes);

  void start();
  void stop();
  std::uint16_t port() const;

 private:
  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> run_connection(boost::asio::ip::tcp::socket socket,
                                              std::uint64_t connection_id);

  boost::asio::io_context& io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  router& routes_;
  std::chrono::seconds idle_timeout_;
  std::uint64_t max_body_bytes_;
  std::atomic<std::uint64_t> next_connection_id_{1};
};

}  // namespace jobgate::gateway
