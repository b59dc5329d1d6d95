#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <optional>
#include <string_view>
#include <thread>

#include "gateway/idle_watchdog.hpp"

// The watchdog on connected loopback sockets, with timeouts of a fraction of a second.

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using jobgate::gateway::idle_watchdog;
using clock_type = std::chrono::steady_clock;

// The outcome of one read on the server side.
struct read_result {
  boost::system::error_code error;
  std::size_t bytes = 0;
  clock_type::duration after{};
};

// A connected pair of loopback sockets whose server side is watched.
struct watched_connection {
  asio::io_context io;
  tcp::socket server{io};
  tcp::socket client{io};
  std::optional<idle_watchdog> watchdog;
  std::array<char, 64> storage{};

  explicit watched_connection(clock_type::duration timeout) {
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    client.connect(acceptor.local_endpoint());
    acceptor.accept(server);
    watchdog.emplace(server, timeout);
  }

  // Starts a read on the server socket that marks the watchdog waiting and records its outcome.
  void start_read(std::optional<read_result>& result) {
    const auto started = clock_type::now();
    watchdog->waiting();
    server.async_read_some(
        asio::buffer(storage),
        [this, &result, started](const boost::system::error_code& error, std::size_t bytes) {
          watchdog->busy();
          result = read_result{error, bytes, clock_type::now() - started};
        });
  }

  // Runs handlers until the read finished. The watchdog's timer never lets the io_context run out
  // of work, so run() would not return.
  void run_until_done(const std::optional<read_result>& result) {
    const auto give_up = clock_type::now() + 5s;
    while (!result && clock_type::now() < give_up && io.run_one_for(1s) > 0) {
    }
  }
};

// Checks that the read was cancelled no earlier than `timeout` after it began. The upper bound
// leaves room for a slow sanitizer build.
void check_cut_after(const std::optional<read_result>& result, clock_type::duration timeout) {
  REQUIRE(result);
  CHECK(result->error == asio::error::operation_aborted);
  CHECK(result->after >= timeout);
  CHECK(result->after < timeout + 3s);
}

}  // namespace

TEST_CASE("idle watchdog times each wait", "[gateway][idle]") {
  // The first wait arms the timer for 400 ms and ends at once. The second starts 300 ms later, so
  // the timer fires 100 ms into it and must wait for the rest of its 400 ms.
  watched_connection connection(400ms);
  std::optional<read_result> first;
  std::optional<read_result> second;
  asio::write(connection.client, asio::buffer(std::string_view("GET")));
  connection.start_read(first);
  connection.run_until_done(first);
  REQUIRE(first);
  CHECK_FALSE(first->error);

  asio::steady_timer busy_stretch(connection.io, 300ms);
  busy_stretch.async_wait([&](const boost::system::error_code&) { connection.start_read(second); });
  connection.run_until_done(second);
  check_cut_after(second, 400ms);
}

TEST_CASE("idle watchdog cuts expired wait only", "[gateway][idle]") {
  // Bytes arrive 10 ms into a 500 ms timeout. The next wait gets none and is cut.
  watched_connection connection(500ms);
  std::optional<read_result> first;
  std::optional<read_result> second;
  connection.start_read(first);
  asio::steady_timer sender(connection.io, 10ms);
  sender.async_wait([&](const boost::system::error_code&) {
    asio::write(connection.client, asio::buffer(std::string_view("GET")));
  });
  connection.run_until_done(first);

  REQUIRE(first);
  CHECK_FALSE(first->error);
  CHECK(first->bytes == 3);
  CHECK_FALSE(connection.watchdog->expired());

  connection.start_read(second);
  connection.run_until_done(second);
  check_cut_after(second, 500ms);
  CHECK(connection.watchdog->expired());
}

TEST_CASE("idle watchdog destroyed with handler queued", "[gateway][idle]") {
  // Both timers have expired when the io_context starts, so the watchdog's handler is already
  // queued when an earlier handler destroys the watchdog. It must then leave the socket alone.
  watched_connection connection(50ms);
  std::optional<read_result> result;
  connection.watchdog->waiting();
  connection.server.async_read_some(
      asio::buffer(connection.storage),
      [&result](const boost::system::error_code& error, std::size_t bytes) {
        result = read_result{error, bytes, {}};
      });
  asio::steady_timer closer(connection.io, 10ms);
  closer.async_wait([&](const boost::system::error_code&) {
    connection.watchdog.reset();
    asio::write(connection.client, asio::buffer(std::string_view("GET")));
  });
  std::this_thread::sleep_for(100ms);
  connection.run_until_done(result);

  REQUIRE(result);
  CHECK_FALSE(result->error);
  CHECK(result->bytes == 3);
}
