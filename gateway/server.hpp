#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <span>
#include <vector>

#include "gateway/router.hpp"

namespace jobgate::gateway {

// Deadlines that bound how long a slow or silent client can hold a connection.
struct connection_timeouts {
  // Maximum wait for the first byte of the next request on a kept-alive connection, and the limit
  // of each response write.
  std::chrono::seconds idle{60};
  // Time from connect, or from the first byte of a later request, until its header is complete.
  // Bytes arriving do not extend it.
  std::chrono::seconds header{10};
  // Maximum time a request body may stall. Every read that receives bytes restarts it.
  std::chrono::seconds body_idle{30};
};

// Accepts connections on the first io_context and hands them to the contexts in turn, where each
// runs as one coroutine. Each context must be run by one thread, which then serves its connections
// from the first byte to the last. The acceptor runs until stop(); connections in progress finish
// their current request.
class server {
 public:
  // max_body_bytes is the largest body any route accepts; routes apply their own lower limits.
  server(std::span<boost::asio::io_context* const> contexts,
         const boost::asio::ip::tcp::endpoint& endpoint, router& routes,
         connection_timeouts timeouts, std::uint64_t max_body_bytes);

  void start();
  // Stops accepting connections. Requests in progress go on, and each connection closes after its
  // next response, which carries Connection: close.
  void stop();
  std::uint16_t port() const;
  // Requests whose header was read and whose response is not written yet.
  std::size_t active_requests() const { return active_requests_.load(); }

 private:
  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> run_connection(boost::asio::ip::tcp::socket socket,
                                              std::uint64_t connection_id);

  std::vector<boost::asio::io_context*> contexts_;
  std::size_t next_context_ = 0;
  boost::asio::ip::tcp::acceptor acceptor_;
  router& routes_;
  connection_timeouts timeouts_;
  std::uint64_t max_body_bytes_;
  std::atomic<std::uint64_t> next_connection_id_{1};
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> active_requests_{0};
};

// Completes with true once the server has no request in progress, or with false after timeout.
boost::asio::awaitable<bool> wait_for_requests(const server& http_server,
                                               std::chrono::steady_clock::duration timeout);

}  // namespace jobgate::gateway
