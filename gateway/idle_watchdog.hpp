#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>

namespace jobgate::gateway {

// Cancels a connection's socket operations once it has waited for its next request for longer
// than a timeout. The connection marks each wait with waiting() and its end with busy(). The
// watchdog owns one timer from the first wait to the end of the connection. The timer is armed
// once per timeout period rather than once per request. When it fires before the current wait can
// have run out, it is armed again for the end of that wait. While the connection is busy, it checks
// again one timeout later. Deadlines of the busy part (header, body, response writes) stay with
// their own operations.
//
// A cancelled read completes with asio::error::operation_aborted and expired() returns true.
// Used on the connection's executor only; the socket must outlive the watchdog.
class idle_watchdog {
 public:
  using clock = std::chrono::steady_clock;

  idle_watchdog(boost::asio::ip::tcp::socket& socket, clock::duration timeout);
  ~idle_watchdog();
  idle_watchdog(const idle_watchdog&) = delete;
  idle_watchdog& operator=(const idle_watchdog&) = delete;

  // Marks the start of a wait for the first byte of the next request.
  void waiting();
  // Marks the end of the wait, whether bytes arrived or the read failed.
  void busy();
  // Returns true once a wait ran out and its socket operations were cancelled.
  bool expired() const;

 private:
  struct state;
  static void arm(const std::shared_ptr<state>& watch, clock::time_point at);
  static void on_timer(const std::shared_ptr<state>& watch);

  boost::asio::ip::tcp::socket& socket_;
  clock::duration timeout_;
  // Created by the first wait. Shared with the pending timer handler, which may run after the
  // watchdog is gone.
  std::shared_ptr<state> state_;
};

}  // namespace jobgate::gateway
