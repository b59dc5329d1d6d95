#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <string>
#include <thread>

#include "common/redis/async_connection.hpp"
#include "common/redis/redis_endpoint.hpp"
#include "redis_test_server.hpp"

namespace jobgate::test {

// An async connection to the shared Redis with one io thread serving it, and a Repository built on
// that connection, as the gateway runs them. run() waits for a coroutine on the io thread, so
// checks stay on the test thread.
template <typename Repository>
class async_redis_fixture {
 public:
  async_redis_fixture()
      : work_(boost::asio::make_work_guard(io_)),
        connection_(io_.get_executor(), shared_endpoint()),
        repository_(connection_),
        thread_([this] { io_.run(); }) {
    auto connected =
        boost::asio::co_spawn(io_, connection_.async_connect(), boost::asio::use_future);
    if (connected.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
      // The destructor does not run after a throwing constructor, so the io thread stops here.
      stop();
      FAIL("async connect to Redis timed out");
    }
    if (auto outcome = connected.get(); !outcome) {
      stop();
      FAIL("async connect to Redis failed: " << outcome.error().message());
    }
  }

  ~async_redis_fixture() { stop(); }

  async_redis_fixture(const async_redis_fixture&) = delete;
  async_redis_fixture& operator=(const async_redis_fixture&) = delete;

  // Runs the coroutine that call(repository) returns and returns its result. The repository's
  // coroutines keep references to their arguments, so each argument must outlive run().
  template <typename Call>
  auto run(Call call) {
    auto future = boost::asio::co_spawn(io_, call(repository_), boost::asio::use_future);
    REQUIRE(future.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
    return future.get();
  }

  void close() { connection_.close(); }

  // The repository itself, for its calls that return at once and may come from any thread.
  Repository& repository() { return repository_; }

 private:
  static redis::redis_endpoint shared_endpoint() {
    auto parsed = redis::parse_redis_url(shared_redis_url());
    REQUIRE(parsed.has_value());
    return *parsed;
  }

  void stop() {
    connection_.close();
    work_.reset();
    io_.stop();
    if (thread_.joinable()) {
      thread_.join();
    }
  }

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  redis::async_connection connection_;
  Repository repository_;
  std::thread thread_;
};

}  // namespace jobgate::test
