#include "gateway/idle_watchdog.hpp"

#include <algorithm>

namespace jobgate::gateway {

namespace asio = boost::asio;

struct idle_watchdog::state {
  state(asio::ip::tcp::socket& watched, clock::duration limit)
      : socket(&watched), timer(watched.get_executor()), timeout(limit) {}

  // Null once the watchdog is destroyed, which stops the handler.
  asio::ip::tcp::socket* socket;
  asio::steady_timer timer;
  clock::duration timeout;
  clock::time_point waiting_since{};
  bool is_waiting = false;
  bool expired = false;
};

idle_watchdog::idle_watchdog(asio::ip::tcp::socket& socket, clock::duration timeout)
    : socket_(socket),
      // A timeout of zero would re-arm the timer at once, forever.
      timeout_(std::max(timeout, clock::duration(std::chrono::milliseconds(1)))) {}

idle_watchdog::~idle_watchdog() {
  if (state_) {
    state_->socket = nullptr;
    state_->timer.cancel();
  }
}

void idle_watchdog::waiting() {
  // The timer starts with the first wait, so a connection that never waits arms none.
  if (!state_) {
    state_ = std::make_shared<state>(socket_, timeout_);
    arm(state_, clock::now() + timeout_);
  }
  state_->waiting_since = clock::now();
  state_->is_waiting = true;
  state_->expired = false;
}

void idle_watchdog::busy() {
  if (state_) {
    state_->is_waiting = false;
  }
}

bool idle_watchdog::expired() const {
  return state_ && state_->expired;
}

void idle_watchdog::arm(const std::shared_ptr<state>& watch, clock::time_point at) {
  watch->timer.expires_at(at);
  watch->timer.async_wait([watch](const boost::system::error_code& error) {
    if (!error && watch->socket != nullptr) {
      on_timer(watch);
    }
  });
}

void idle_watchdog::on_timer(const std::shared_ptr<state>& watch) {
  const auto now = clock::now();
  if (watch->is_waiting) {
    const auto deadline = watch->waiting_since + watch->timeout;
    if (now < deadline) {
      arm(watch, deadline);
      return;
    }
    watch->expired = true;
    boost::system::error_code ignored;
    watch->socket->cancel(ignored);
  }
  // The timer keeps running after a cancellation, because a read that completed just before it
  // lets the connection go on.
  arm(watch, now + watch->timeout);
}

}  // namespace jobgate::gateway
