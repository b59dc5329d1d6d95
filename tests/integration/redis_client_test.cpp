#include <unistd.h>

#include <array>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/metrics/client_counters.hpp"
#include "common/redis/async_connection.hpp"
#include "common/redis/connection.hpp"
#include "common/redis/error.hpp"
#include "common/redis/script.hpp"
#include "redis_test_server.hpp"

namespace asio = boost::asio;
namespace redis = jobgate::redis;
using namespace std::chrono_literals;
using namespace std::string_view_literals;
using redis_result = boost::system::result<redis::reply>;

using jobgate::metrics::client_event;
using jobgate::metrics::client_event_total;

namespace {

redis::redis_endpoint endpoint_from_url(const std::string& url) {
  auto parsed = redis::parse_redis_url(url);
  REQUIRE(parsed.has_value());
  return *parsed;
}

redis::redis_endpoint shared_endpoint() {
  return endpoint_from_url(jobgate::test::shared_redis_url());
}

// Keys unique to this process and test, so runs against one shared server do not collide.
std::string key_prefix(std::string_view test) {
  static const std::string run =
      std::to_string(::getpid()) + "-" +
      std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
  return "jobgate:test:" + run + ":" + std::string(test) + ":";
}

redis::connection connect_sync(const redis::redis_endpoint& endpoint,
                               redis::connection_options options = {}) {
  auto connected = redis::connection::connect(endpoint, options);
  if (!connected) {
    FAIL("connect to " << endpoint.masked_url() << " failed: " << connected.error().message());
  }
  return std::move(*connected);
}

// Reads one counter from INFO commandstats, e.g. the number of EVALSHA calls.
long long command_calls(redis::connection& connection, std::string_view command) {
  const auto info = connection.command({"INFO", "commandstats"});
  REQUIRE(info.has_value());
  const std::string marker = "cmdstat_" + std::string(command) + ":calls=";
  const std::string_view text = info->text();
  const std::size_t at = text.find(marker);
  if (at == std::string_view::npos) {
    return 0;
  }
  return std::stoll(std::string(text.substr(at + marker.size(), 20)));
}

long long elapsed_ms(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               since)
      .count();
}

asio::awaitable<void> sleep_for(std::chrono::milliseconds duration) {
  asio::steady_timer timer{co_await asio::this_coro::executor, duration};
  co_await timer.async_wait(asio::use_awaitable);
}

// Threads running one io_context, kept running until join_within(), which reports whether run()
// then returned by itself.
class io_threads {
 public:
  io_threads(asio::io_context& io, int count) : io_(io), work_(asio::make_work_guard(io)) {
    for (int i = 0; i < count; ++i) {
      threads_.emplace_back([this] {
        io_.run();
        ++finished_;
      });
    }
  }
  ~io_threads() { join_within(0s); }

  bool join_within(std::chrono::milliseconds limit) {
    work_.reset();
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (finished_ < static_cast<int>(threads_.size()) &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(5ms);
    }
    const bool drained = finished_ == static_cast<int>(threads_.size());
    if (!drained) {
      io_.stop();
    }
    for (auto& thread : threads_) {
      if (thread.joinable()) {
        thread.join();
      }
    }
    return drained;
  }

 private:
  asio::io_context& io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::vector<std::thread> threads_;
  std::atomic<int> finished_{0};
};

// Runs a coroutine on io with thread_count threads, then closes the connection and checks that
// the io_context runs out of work, which proves close() leaves no timer or wait behind.
template <typename Task>
auto run_async(asio::io_context& io, redis::async_connection& connection, Task task,
               int thread_count = 1) {
  auto future = asio::co_spawn(io, std::move(task), asio::use_future);
  io_threads threads{io, thread_count};
  const bool finished = future.wait_for(60s) == std::future_status::ready;
  connection.close();
  const bool drained = threads.join_within(10s);
  REQUIRE(finished);
  CHECK(drained);
  return future.get();
}

}  // namespace

// --- synchronous connection ----------------------------------------------------------------

TEST_CASE("sync command and pipeline", "[redis][sync]") {
  auto connection = connect_sync(shared_endpoint());
  const std::string key = key_prefix("sync-basic") + "counter";

  const auto set = connection.command({"SET", key, "41"});
  REQUIRE(set.has_value());
  CHECK(set->is_status());
  CHECK(set->text() == "OK");

  const auto incremented = connection.command({"INCR", key});
  REQUIRE(incremented.has_value());
  CHECK(incremented->integer() == 42);

  const std::vector<redis::request> batch{
      {"INCR", key}, {"GET", key}, {"DEL", key}, {"EXISTS", key}};
  const auto replies = connection.pipeline(batch);
  REQUIRE(replies.has_value());
  REQUIRE(replies->size() == 4);
  CHECK((*replies)[0].integer() == 43);
  CHECK((*replies)[1].text() == "43");
  CHECK((*replies)[2].integer() == 1);
  CHECK((*replies)[3].integer() == 0);

  const std::vector<std::string> owned{"ECHO", "hello"};
  const auto echoed = connection.command(owned);
  REQUIRE(echoed.has_value());
  CHECK(echoed->text() == "hello");

  const auto empty = connection.command(redis::request{});
  REQUIRE_FALSE(empty.has_value());
  CHECK(empty.error() == redis::errc::invalid_command);
  CHECK(connection.is_connected());
}

TEST_CASE("sync values keep NUL bytes", "[redis][sync]") {
  auto connection = connect_sync(shared_endpoint());
  const std::string key = key_prefix("sync-binary") + std::string("bin\0key", 7);
  std::string value;
  for (int byte = 0; byte < 256; ++byte) {
    value += static_cast<char>(byte);
  }
  value += "\r\n";

  REQUIRE(connection.command({"SET", key, value}).has_value());
  const auto read = connection.command({"GET", key});
  REQUIRE(read.has_value());
  CHECK(read->is_string());
  CHECK(read->text().size() == 258);
  CHECK(read->text() == value);

  const auto length = connection.command({"STRLEN", key});
  REQUIRE(length.has_value());
  CHECK(length->integer() == 258);

  const auto other_key =
      connection.command({"GET", std::string_view(key).substr(0, key.size() - 4)});
  REQUIRE(other_key.has_value());
  CHECK(other_key->is_nil());
}

TEST_CASE("sync error reply is value", "[redis][sync]") {
  auto connection = connect_sync(shared_endpoint());
  const std::string key = key_prefix("sync-error") + "text";
  REQUIRE(connection.command({"SET", key, "x"}).has_value());

  const auto wrong_type = connection.command({"LPUSH", key, "y"});
  REQUIRE(wrong_type.has_value());
  CHECK(wrong_type->is_error());
  CHECK(wrong_type->error_prefix() == "WRONGTYPE");

  const auto unknown = connection.command({"NOSUCHCOMMAND", key});
  REQUIRE(unknown.has_value());
  CHECK(unknown->error_prefix() == "ERR");

  CHECK(connection.is_connected());
  const auto after = connection.command({"GET", key});
  REQUIRE(after.has_value());
  CHECK(after->text() == "x");
}

TEST_CASE("sync nil and array replies", "[redis][sync]") {
  auto connection = connect_sync(shared_endpoint());
  const std::string prefix = key_prefix("sync-arrays");

  const auto missing = connection.command({"GET", prefix + "missing"});
  REQUIRE(missing.has_value());
  CHECK(missing->is_nil());

  REQUIRE(connection.command({"RPUSH", prefix + "list", "a", "", "c"}).has_value());
  const auto range = connection.command({"LRANGE", prefix + "list", "0", "-1"});
  REQUIRE(range.has_value());
  REQUIRE(range->is_array());
  REQUIRE(range->size() == 3);
  CHECK((*range)[0].text() == "a");
  CHECK((*range)[1].is_string());
  CHECK((*range)[1].text().empty());
  CHECK((*range)[2].text() == "c");

  const auto empty = connection.command({"HGETALL", prefix + "no-hash"});
  REQUIRE(empty.has_value());
  CHECK(empty->is_array());
  CHECK(empty->size() == 0);

  const auto nested = connection.command(
      {"EVAL",
       "return {1, 'two', {3, 'four'}, redis.status_reply('fine'), redis.error_reply('ERR inner')}",
       "0"});
  REQUIRE(nested.has_value());
  REQUIRE(nested->size() == 5);
  CHECK((*nested)[0].integer() == 1);
  CHECK((*nested)[1].text() == "two");
  CHECK((*nested)[2][0].integer() == 3);
  CHECK((*nested)[2][1].text() == "four");
  CHECK((*nested)[3].is_status());
  CHECK((*nested)[4].is_error());
  CHECK((*nested)[4].text() == "ERR inner");
}

TEST_CASE("sync AUTH and SELECT", "[redis][sync][auth]") {
  jobgate::test::redis_test_server server{"jobgate-test-password"};
  const auto endpoint = endpoint_from_url(server.url() + "/3");
  const std::string key = key_prefix("sync-auth") + "k";

  auto in_db3 = connect_sync(endpoint);
  REQUIRE(in_db3.command({"SET", key, "three"}).has_value());

  auto db0_endpoint = endpoint;
  db0_endpoint.database = 0;
  auto in_db0 = connect_sync(db0_endpoint);
  const auto absent = in_db0.command({"GET", key});
  REQUIRE(absent.has_value());
  CHECK(absent->is_nil());

  auto acl_endpoint = endpoint;
  acl_endpoint.username = "default";
  auto as_default_user = connect_sync(acl_endpoint);
  const auto present = as_default_user.command({"GET", key});
  REQUIRE(present.has_value());
  CHECK(present->text() == "three");

  auto wrong = endpoint;
  wrong.password = "not-the-password";
  const auto rejected = redis::connection::connect(wrong);
  REQUIRE_FALSE(rejected.has_value());
  CHECK(rejected.error() == redis::errc::auth_failed);
  CHECK_FALSE(redis::is_retryable(rejected.error()));

  auto bad_database = endpoint;
  bad_database.database = 999;
  const auto not_selected = redis::connection::connect(bad_database);
  REQUIRE_FALSE(not_selected.has_value());
  CHECK(not_selected.error() == redis::errc::select_failed);

  auto anonymous = endpoint;
  anonymous.password.clear();
  anonymous.database = 0;
  auto without_auth = connect_sync(anonymous);
  const auto unauthenticated = without_auth.command({"GET", key});
  REQUIRE(unauthenticated.has_value());
  CHECK(unauthenticated->error_prefix() == "NOAUTH");
}

TEST_CASE("sync reconnects after server restart", "[redis][sync][restart]") {
  jobgate::test::redis_test_server server;
  auto connection = connect_sync(endpoint_from_url(server.url()));
  REQUIRE(connection.command({"SET", "before", "1"}).has_value());
  const auto errors_before = client_event_total(client_event::redis_error);
  const auto reconnects_before = client_event_total(client_event::redis_reconnect);

  server.kill();
  const auto lost = connection.command({"PING"});
  REQUIRE_FALSE(lost.has_value());
  CHECK(lost.error() == redis::errc::connection_lost);
  CHECK(redis::is_retryable(lost.error()));
  CHECK_FALSE(connection.is_connected());

  const auto down = connection.command({"PING"});
  REQUIRE_FALSE(down.has_value());
  CHECK(down.error() == redis::errc::connection_refused);

  server.restart();
  const auto back = connection.command({"PING"});
  REQUIRE(back.has_value());
  CHECK(back->text() == "PONG");
  CHECK(connection.is_connected());

  // The lost connection and the refused attempt are errors; the reopened connection a reconnect.
  CHECK(client_event_total(client_event::redis_error) == errors_before + 2);
  CHECK(client_event_total(client_event::redis_reconnect) == reconnects_before + 1);
}

TEST_CASE("sync command timeout", "[redis][sync][timeout]") {
  redis::connection_options options;
  options.command_timeout = 200ms;
  auto connection = connect_sync(shared_endpoint(), options);
  const std::string key = key_prefix("sync-timeout") + "empty-list";

  const auto started = std::chrono::steady_clock::now();
  const auto blocked = connection.command({"BLPOP", key, "2"});
  const auto waited = elapsed_ms(started);
  REQUIRE_FALSE(blocked.has_value());
  CHECK(blocked.error() == redis::errc::timeout);
  CHECK(waited >= 150);
  CHECK(waited < 1500);

  // The late BLPOP reply must not be taken for the next command's reply.
  const auto next = connection.command({"ECHO", "after"});
  REQUIRE(next.has_value());
  CHECK(next->text() == "after");
}

TEST_CASE("sync send reads replies in order", "[redis][sync][send]") {
  auto connection = connect_sync(shared_endpoint());
  const std::string key = key_prefix("sync-send") + "counter";

  REQUIRE_FALSE(connection.send(redis::request{"SET", key, "10"}));
  REQUIRE_FALSE(connection.send(redis::request{"INCR", key}));
  REQUIRE_FALSE(connection.send(redis::request{"GET", key}));
  CHECK(connection.replies_pending() == 3);

  // A blocking command would read the SET reply as its own, so it is rejected until all are read.
  const auto blocked = connection.command({"PING"});
  REQUIRE_FALSE(blocked.has_value());
  CHECK(blocked.error() == redis::errc::replies_pending);
  const std::vector<redis::request> batch{{"PING"}};
  const auto blocked_pipeline = connection.pipeline(batch);
  REQUIRE_FALSE(blocked_pipeline.has_value());
  CHECK(blocked_pipeline.error() == redis::errc::replies_pending);
  const auto blocked_receive = connection.receive();
  REQUIRE_FALSE(blocked_receive.has_value());
  CHECK(blocked_receive.error() == redis::errc::replies_pending);

  const auto set = connection.receive_reply();
  REQUIRE(set.has_value());
  CHECK(set->text() == "OK");
  const auto incremented = connection.receive_reply();
  REQUIRE(incremented.has_value());
  CHECK(incremented->integer() == 11);
  const auto read = connection.receive_reply();
  REQUIRE(read.has_value());
  CHECK(read->text() == "11");
  CHECK(connection.replies_pending() == 0);

  const auto none = connection.receive_reply();
  REQUIRE_FALSE(none.has_value());
  CHECK(none.error() == redis::errc::no_reply_pending);
  CHECK(connection.send(redis::request{}) == redis::errc::invalid_command);
  CHECK(connection.replies_pending() == 0);

  const auto after = connection.command({"DEL", key});
  REQUIRE(after.has_value());
  CHECK(after->integer() == 1);
}

TEST_CASE("sync send error reply keeps order", "[redis][sync][send]") {
  auto connection = connect_sync(shared_endpoint());
  const std::string key = key_prefix("sync-send-error") + "list";

  REQUIRE_FALSE(connection.send(redis::request{"RPUSH", key, "a"}));
  REQUIRE_FALSE(connection.send(redis::request{"INCR", key}));
  REQUIRE_FALSE(connection.send(redis::request{"LLEN", key}));

  const auto pushed = connection.receive_reply();
  REQUIRE(pushed.has_value());
  CHECK(pushed->integer() == 1);
  const auto wrong_type = connection.receive_reply();
  REQUIRE(wrong_type.has_value());
  CHECK(wrong_type->error_prefix() == "WRONGTYPE");
  const auto length = connection.receive_reply();
  REQUIRE(length.has_value());
  CHECK(length->integer() == 1);
  REQUIRE(connection.command({"DEL", key}).has_value());
}

TEST_CASE("sync send after server loss", "[redis][sync][send][restart]") {
  jobgate::test::redis_test_server server;
  auto connection = connect_sync(endpoint_from_url(server.url()));
  REQUIRE_FALSE(connection.send(redis::request{"PING"}));
  const auto first = connection.receive_reply();
  REQUIRE(first.has_value());
  CHECK(first->text() == "PONG");

  server.kill();
  // The write may still succeed into the socket buffer, and then the read fails.
  const auto sent = connection.send(redis::request{"PING"});
  if (!sent) {
    const auto lost = connection.receive_reply();
    REQUIRE_FALSE(lost.has_value());
    CHECK(lost.error() == redis::errc::connection_lost);
  } else {
    CHECK(redis::is_retryable(sent));
  }
  CHECK(connection.replies_pending() == 0);
  CHECK_FALSE(connection.is_connected());

  // The next send connects again.
  server.restart();
  REQUIRE_FALSE(connection.send(redis::request{"ECHO", "back"}));
  const auto back = connection.receive_reply();
  REQUIRE(back.has_value());
  CHECK(back->text() == "back");
}

TEST_CASE("sync connect refused", "[redis][sync]") {
  redis::redis_endpoint endpoint;
  endpoint.port = jobgate::test::unused_local_port();
  const auto refused = redis::connection::connect(endpoint);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error() == redis::errc::connection_refused);
}

// --- async connection ----------------------------------------------------------------------

TEST_CASE("async command and pipeline", "[redis][async]") {
  asio::io_context io;
  redis::async_connection connection{io.get_executor(), shared_endpoint()};
  const std::string key = key_prefix("async-basic") + "counter";

  struct outcome {
    boost::system::result<void> connected;
    std::vector<redis_result> replies;
    boost::system::result<std::vector<redis::reply>> transaction;
  };
  auto result = run_async(io, connection, [&]() -> asio::awaitable<outcome> {
    outcome out;
    out.connected = co_await connection.async_connect();
    out.replies.push_back(co_await connection.async_command("SET", key, "41"));
    out.replies.push_back(co_await connection.async_command("INCR", key));
    std::vector<redis::request> transaction{{"MULTI"}, {"INCR", key}, {"INCR", key}, {"EXEC"}};
    out.transaction = co_await connection.async_pipeline(std::move(transaction));
    co_return out;
  });

  REQUIRE(result.connected.has_value());
  REQUIRE(result.replies.size() == 2);
  REQUIRE(result.replies[0].has_value());
  CHECK(result.replies[0]->text() == "OK");
  REQUIRE(result.replies[1].has_value());
  CHECK(result.replies[1]->integer() == 42);

  REQUIRE(result.transaction.has_value());
  const auto& replies = *result.transaction;
  REQUIRE(replies.size() == 4);
  CHECK(replies[0].text() == "OK");
  CHECK(replies[1].text() == "QUEUED");
  CHECK(replies[2].text() == "QUEUED");
  REQUIRE(replies[3].size() == 2);
  CHECK(replies[3][0].integer() == 43);
  CHECK(replies[3][1].integer() == 44);
}

TEST_CASE("async binary, error and nil replies", "[redis][async]") {
  asio::io_context io;
  redis::async_connection connection{io.get_executor(), shared_endpoint()};
  const std::string prefix = key_prefix("async-kinds");
  const std::string binary_key = prefix + std::string("k\0ey", 4);
  const std::string value = std::string("\0\r\n\xff value \0", 12);

  auto replies = run_async(io, connection, [&]() -> asio::awaitable<std::vector<redis_result>> {
    std::vector<redis_result> out;
    if (!co_await connection.async_connect()) {
      co_return out;
    }
    out.push_back(co_await connection.async_command("SET", binary_key, value));
    out.push_back(co_await connection.async_command("GET", binary_key));
    out.push_back(co_await connection.async_command("LPUSH", binary_key, "x"));
    out.push_back(co_await connection.async_command("GET", prefix + "missing"));
    out.push_back(co_await connection.async_command("RPUSH", prefix + "list", "a", "b"));
    out.push_back(co_await connection.async_command("LRANGE", prefix + "list", "0", "-1"));
    co_return out;
  });

  REQUIRE(replies.size() == 6);
  for (const auto& item : replies) {
    REQUIRE(item.has_value());
  }
  CHECK(replies[0]->text() == "OK");
  CHECK(replies[1]->text() == value);
  CHECK(replies[2]->error_prefix() == "WRONGTYPE");
  CHECK(replies[3]->is_nil());
  CHECK(replies[4]->integer() == 2);
  REQUIRE(replies[5]->size() == 2);
  CHECK((*replies[5])[0].text() == "a");
  CHECK((*replies[5])[1].text() == "b");
}

TEST_CASE("async commands from many threads", "[redis][async][load]") {
  constexpr int key_count = 100;
  constexpr int per_key = 100;
  asio::io_context io;
  redis::async_connection connection{io.get_executor(), shared_endpoint()};
  const std::string prefix = key_prefix("async-load");

  // Declared before the threads, so a failed REQUIRE joins them before this state goes away.
  std::promise<boost::system::result<void>> connected;
  std::vector<std::vector<long long>> counted(key_count);
  std::atomic<int> coroutines_left{key_count};
  std::promise<void> coroutines_done;
  std::vector<std::vector<long long>> lengths(key_count, std::vector<long long>(per_key, 0));
  std::atomic<int> replies_left{key_count * per_key};
  std::promise<void> replies_done;
  io_threads threads{io, 4};

  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<boost::system::result<void>> {
        co_return co_await connection.async_connect();
      },
      [&](std::exception_ptr, boost::system::result<void> outcome) {
        connected.set_value(outcome);
      });
  REQUIRE(connected.get_future().get().has_value());

  // Phase 1: one coroutine per key awaits 100 INCRs in turn; coroutines run on all 4 threads.
  for (int k = 0; k < key_count; ++k) {
    asio::co_spawn(
        io,
        [&, k]() -> asio::awaitable<void> {
          const std::string key = prefix + "counter:" + std::to_string(k);
          for (int i = 0; i < per_key; ++i) {
            const auto answer = co_await connection.async_command("INCR", key);
            counted[k].push_back(answer ? answer->integer() : -1);
          }
        },
        [&](std::exception_ptr) {
          if (--coroutines_left == 0) {
            coroutines_done.set_value();
          }
        });
  }
  REQUIRE(coroutines_done.get_future().wait_for(60s) == std::future_status::ready);

  // Phase 2: 10,000 RPUSHes issued without waiting, with keys interleaved. Each reply is the list
  // length after that push, so it proves both the order per key and the reply-to-command matching.
  for (int i = 0; i < per_key; ++i) {
    for (int k = 0; k < key_count; ++k) {
      connection.async_command(
          redis::request{"RPUSH", prefix + "list:" + std::to_string(k), std::to_string(i)},
          [&, k, i](boost::system::error_code error, redis::reply answer) {
            lengths[k][i] = error ? -1 : answer.integer();
            if (--replies_left == 0) {
              replies_done.set_value();
            }
          });
    }
  }
  REQUIRE(replies_done.get_future().wait_for(60s) == std::future_status::ready);

  connection.close();
  CHECK(threads.join_within(10s));

  int wrong_counts = 0;
  int wrong_lengths = 0;
  for (int k = 0; k < key_count; ++k) {
    REQUIRE(counted[k].size() == per_key);
    for (int i = 0; i < per_key; ++i) {
      wrong_counts += counted[k][i] != i + 1 ? 1 : 0;
      wrong_lengths += lengths[k][i] != i + 1 ? 1 : 0;
    }
  }
  CHECK(wrong_counts == 0);
  CHECK(wrong_lengths == 0);
}

TEST_CASE("async lanes keep each thread on its own connection", "[redis][async][lanes]") {
  asio::io_context first(1);
  asio::io_context second(1);
  const std::array<asio::io_context*, 2> contexts{&first, &second};
  redis::async_connection connection{contexts, shared_endpoint()};
  const std::string key = key_prefix("lanes") + "counter";

  // Declared before the threads, so a failed REQUIRE joins them before this state goes away.
  struct lane_answer {
    long long client_id = -1;
    std::thread::id resumed_on;
    std::thread::id runs_on;
    int wrong_counts = 0;
  };
  std::array<std::promise<lane_answer>, 2> answers;
  io_threads first_thread{first, 1};
  io_threads second_thread{second, 1};

  REQUIRE(asio::co_spawn(first, connection.async_connect(), asio::use_future).get().has_value());
  CHECK(connection.is_connected());

  // Each lane sends CLIENT ID and then 200 INCRs of one key. Both lanes increment the key, so
  // each lane checks only that its own replies increase.
  for (std::size_t lane = 0; lane < contexts.size(); ++lane) {
    asio::co_spawn(
        *contexts[lane],
        [&, lane]() -> asio::awaitable<void> {
          lane_answer out;
          out.runs_on = std::this_thread::get_id();
          const auto id = co_await connection.async_command("CLIENT", "ID");
          out.client_id = id ? id->integer() : -1;
          out.resumed_on = std::this_thread::get_id();
          long long last = 0;
          for (int i = 0; i < 200; ++i) {
            const auto answer = co_await connection.async_command("INCR", key);
            const long long value = answer ? answer->integer() : -1;
            out.wrong_counts += value > last ? 0 : 1;
            last = value;
          }
          answers[lane].set_value(out);
        },
        asio::detached);
  }
  const lane_answer from_first = answers[0].get_future().get();
  const lane_answer from_second = answers[1].get_future().get();
  CHECK(from_first.client_id > 0);
  CHECK(from_second.client_id > 0);
  CHECK(from_first.client_id != from_second.client_id);
  CHECK(from_first.resumed_on == from_first.runs_on);
  CHECK(from_second.resumed_on == from_second.runs_on);
  CHECK(from_first.wrong_counts == 0);
  CHECK(from_second.wrong_counts == 0);

  // A thread that runs neither context uses the first lane.
  auto from_outside =
      connection.async_command(redis::request{"CLIENT", "ID"}, asio::use_future).get();
  CHECK(from_outside.integer() == from_first.client_id);
  auto total = connection.async_command(redis::request{"GET", key}, asio::use_future).get();
  CHECK(total.text() == "400");

  connection.close();
  CHECK(first_thread.join_within(10s));
  CHECK(second_thread.join_within(10s));
}

TEST_CASE("async lane that lost its connection uses a connected one", "[redis][async][lanes]") {
  asio::io_context first(1);
  asio::io_context second(1);
  const std::array<asio::io_context*, 2> contexts{&first, &second};
  redis::async_connection_options options;
  // A long backoff keeps the second lane down while the test sends through it.
  options.reconnect_delay_min = 4000ms;
  options.reconnect_delay_max = 4000ms;
  redis::async_connection connection{contexts, shared_endpoint(), options};
  auto control = connect_sync(shared_endpoint());

  io_threads first_thread{first, 1};
  io_threads second_thread{second, 1};

  REQUIRE(asio::co_spawn(first, connection.async_connect(), asio::use_future).get().has_value());
  // The Redis client id of the connection that a command sent from `context`'s thread used.
  const auto client_id_from = [&connection](asio::io_context& context) {
    const auto id =
        asio::co_spawn(context, connection.async_command("CLIENT", "ID"), asio::use_future).get();
    return id && !id->is_error() ? id->integer() : -1;
  };
  const long long first_id = client_id_from(first);
  const long long second_id = client_id_from(second);
  REQUIRE(first_id > 0);
  REQUIRE(second_id > 0);
  REQUIRE(second_id != first_id);

  // The server drops the second lane's connection, and the lane waits out its backoff.
  REQUIRE(control.command("CLIENT", "KILL", "ID", std::to_string(second_id)).has_value());
  const auto deadline = std::chrono::steady_clock::now() + 2s;
  while (connection.is_connected() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  REQUIRE_FALSE(connection.is_connected());

  CHECK(client_id_from(second) == first_id);

  connection.close();
  CHECK(first_thread.join_within(10s));
  CHECK(second_thread.join_within(10s));
}

TEST_CASE("async command timeout", "[redis][async][timeout]") {
  asio::io_context io;
  redis::async_connection_options options;
  options.command_timeout = 150ms;
  redis::async_connection connection{io.get_executor(), shared_endpoint(), options};
  const std::string prefix = key_prefix("async-timeout");

  struct outcome {
    redis_result blocked;
    long long blocked_ms = 0;
    redis_result queued_behind;
    redis_result set;
    redis_result get;
    bool connected_throughout = false;
  };
  auto result = run_async(io, connection, [&]() -> asio::awaitable<outcome> {
    outcome out;
    if (!co_await connection.async_connect()) {
      co_return out;
    }
    const auto started = std::chrono::steady_clock::now();
    out.blocked = co_await connection.async_command("BLPOP", prefix + "empty", "0.6");
    out.blocked_ms = elapsed_ms(started);
    out.queued_behind = co_await connection.async_command("PING");

    // Once BLPOP has returned, its late nil reply and the late PONG are discarded in order.
    co_await sleep_for(800ms);
    out.set = co_await connection.async_command("SET", prefix + "k", "v");
    out.get = co_await connection.async_command("GET", prefix + "k");
    out.connected_throughout = connection.is_connected();
    co_return out;
  });

  REQUIRE_FALSE(result.blocked.has_value());
  CHECK(result.blocked.error() == redis::errc::timeout);
  CHECK(result.blocked_ms >= 100);
  CHECK(result.blocked_ms < 550);
  REQUIRE_FALSE(result.queued_behind.has_value());
  CHECK(result.queued_behind.error() == redis::errc::timeout);
  REQUIRE(result.set.has_value());
  CHECK(result.set->text() == "OK");
  REQUIRE(result.get.has_value());
  CHECK(result.get->text() == "v");
  CHECK(result.connected_throughout);
}

TEST_CASE("async stalled connection reconnects", "[redis][async][timeout]") {
  asio::io_context io;
  redis::async_connection_options options;
  options.command_timeout = 100ms;
  options.stall_timeout = 300ms;
  options.reconnect_delay_min = 20ms;
  redis::async_connection connection{io.get_executor(), shared_endpoint(), options};
  const std::string key = key_prefix("async-stall") + "empty";

  struct outcome {
    redis_result blocked;
    redis_result pong;
    long long recovered_ms = 0;
  };
  auto result = run_async(io, connection, [&]() -> asio::awaitable<outcome> {
    outcome out;
    if (!co_await connection.async_connect()) {
      co_return out;
    }
    const auto started = std::chrono::steady_clock::now();
    out.blocked = co_await connection.async_command("BLPOP", key, "5");

    // Without the stall reset, PING would wait behind BLPOP for 5 seconds.
    for (int attempt = 0; attempt < 60; ++attempt) {
      out.pong = co_await connection.async_command("PING");
      if (out.pong) {
        break;
      }
      co_await sleep_for(50ms);
    }
    out.recovered_ms = elapsed_ms(started);
    co_return out;
  });

  REQUIRE_FALSE(result.blocked.has_value());
  CHECK(result.blocked.error() == redis::errc::timeout);
  REQUIRE(result.pong.has_value());
  CHECK(result.pong->text() == "PONG");
  CHECK(result.recovered_ms < 2500);
}

TEST_CASE("async reconnects after server restart", "[redis][async][restart]") {
  jobgate::test::redis_test_server server;
  asio::io_context io;
  redis::async_connection_options options;
  options.reconnect_delay_min = 20ms;
  options.reconnect_delay_max = 200ms;
  redis::async_connection connection{io.get_executor(), endpoint_from_url(server.url()), options};
  std::promise<boost::system::error_code> in_flight;
  io_threads threads{io, 2};

  auto run = [&](auto task) {
    auto future = asio::co_spawn(io, std::move(task), asio::use_future);
    REQUIRE(future.wait_for(30s) == std::future_status::ready);
    return future.get();
  };

  REQUIRE(run([&]() -> asio::awaitable<boost::system::result<void>> {
            co_return co_await connection.async_connect();
          }).has_value());
  REQUIRE(connection.is_connected());
  const auto errors_before = client_event_total(client_event::redis_error);
  const auto reconnects_before = client_event_total(client_event::redis_reconnect);

  // A command in flight when the server dies completes with connection_lost.
  connection.async_command(
      redis::request{"BLPOP", "never-filled", "5"},
      [&](boost::system::error_code error, redis::reply) { in_flight.set_value(error); });
  std::this_thread::sleep_for(100ms);
  server.kill();
  auto in_flight_error = in_flight.get_future();
  REQUIRE(in_flight_error.wait_for(5s) == std::future_status::ready);
  CHECK(in_flight_error.get() == redis::errc::connection_lost);

  for (int i = 0; i < 200 && connection.is_connected(); ++i) {
    std::this_thread::sleep_for(10ms);
  }
  CHECK_FALSE(connection.is_connected());

  // While the server is down, commands fail at once with a retryable error.
  const auto started = std::chrono::steady_clock::now();
  const auto down = run([&]() -> asio::awaitable<redis_result> {
    co_return co_await connection.async_command("PING");
  });
  const auto fail_fast_ms = elapsed_ms(started);
  REQUIRE_FALSE(down.has_value());
  CHECK(down.error() == redis::errc::not_connected);
  CHECK(redis::is_retryable(down.error()));
  CHECK(fail_fast_ms < 500);

  const auto attempt = run([&]() -> asio::awaitable<boost::system::result<void>> {
    co_return co_await connection.async_connect();
  });
  REQUIRE_FALSE(attempt.has_value());
  CHECK(attempt.error() == redis::errc::connection_refused);

  server.restart();
  const auto back = run([&]() -> asio::awaitable<redis_result> {
    redis_result answer = redis::errc::not_connected;
    for (int i = 0; i < 200 && !answer; ++i) {
      answer = co_await connection.async_command("PING");
      if (!answer) {
        co_await sleep_for(50ms);
      }
    }
    co_return answer;
  });
  REQUIRE(back.has_value());
  CHECK(back->text() == "PONG");
  CHECK(connection.is_connected());
  // The lost connection and at least the refused attempt are errors; background attempts while
  // the server was down add more.
  CHECK(client_event_total(client_event::redis_error) >= errors_before + 2);
  CHECK(client_event_total(client_event::redis_reconnect) == reconnects_before + 1);

  connection.close();
  CHECK(threads.join_within(10s));
}

TEST_CASE("async AUTH and SELECT", "[redis][async][auth]") {
  jobgate::test::redis_test_server server{"jobgate-test-password"};
  const auto endpoint = endpoint_from_url(server.url() + "/5");
  const std::string key = key_prefix("async-auth") + "k";

  {
    asio::io_context io;
    redis::async_connection connection{io.get_executor(), endpoint};
    const auto set = run_async(io, connection, [&]() -> asio::awaitable<redis_result> {
      if (auto connected = co_await connection.async_connect(); !connected) {
        co_return connected.error();
      }
      co_return co_await connection.async_command("SET", key, "five");
    });
    REQUIRE(set.has_value());
    CHECK(set->text() == "OK");
  }

  auto in_db5 = connect_sync(endpoint);
  const auto stored = in_db5.command({"GET", key});
  REQUIRE(stored.has_value());
  CHECK(stored->text() == "five");

  auto wrong = endpoint;
  wrong.password = "not-the-password";
  asio::io_context io;
  redis::async_connection rejected{io.get_executor(), wrong};
  const auto attempt =
      run_async(io, rejected, [&]() -> asio::awaitable<boost::system::result<void>> {
        co_return co_await rejected.async_connect();
      });
  REQUIRE_FALSE(attempt.has_value());
  CHECK(attempt.error() == redis::errc::auth_failed);
}

TEST_CASE("async connects by host name", "[redis][async]") {
  jobgate::test::redis_test_server server;
  redis::redis_endpoint endpoint;
  endpoint.host = "localhost";
  endpoint.port = server.port();
  asio::io_context io;
  redis::async_connection connection{io.get_executor(), endpoint};
  const auto pong = run_async(io, connection, [&]() -> asio::awaitable<redis_result> {
    if (auto connected = co_await connection.async_connect(); !connected) {
      co_return connected.error();
    }
    co_return co_await connection.async_command("PING");
  });
  REQUIRE(pong.has_value());
  CHECK(pong->text() == "PONG");
}

TEST_CASE("async connect refused", "[redis][async]") {
  redis::redis_endpoint endpoint;
  endpoint.port = jobgate::test::unused_local_port();
  asio::io_context io;
  redis::async_connection connection{io.get_executor(), endpoint};
  const auto attempt =
      run_async(io, connection, [&]() -> asio::awaitable<boost::system::result<void>> {
        co_return co_await connection.async_connect();
      });
  REQUIRE_FALSE(attempt.has_value());
  CHECK(attempt.error() == redis::errc::connection_refused);
}

TEST_CASE("async rejects unsupported commands", "[redis][async]") {
  asio::io_context io;
  redis::async_connection connection{io.get_executor(), shared_endpoint()};

  struct outcome {
    redis_result before_connect;
    redis_result subscribe;
    redis_result empty;
    boost::system::result<std::vector<redis::reply>> monitor_batch;
    redis_result still_works;
  };
  auto result = run_async(io, connection, [&]() -> asio::awaitable<outcome> {
    outcome out;
    out.before_connect = co_await connection.async_command("PING");
    if (!co_await connection.async_connect()) {
      co_return out;
    }
    out.subscribe = co_await connection.async_command("subscribe", "channel");
    out.empty = co_await connection.async_command(redis::request{});
    std::vector<redis::request> with_monitor{{"PING"}, {"MONITOR"}};
    out.monitor_batch = co_await connection.async_pipeline(std::move(with_monitor));
    out.still_works = co_await connection.async_command("PING");
    co_return out;
  });

  REQUIRE_FALSE(result.before_connect.has_value());
  CHECK(result.before_connect.error() == redis::errc::not_connected);
  REQUIRE_FALSE(result.subscribe.has_value());
  CHECK(result.subscribe.error() == redis::errc::invalid_command);
  REQUIRE_FALSE(result.empty.has_value());
  CHECK(result.empty.error() == redis::errc::invalid_command);
  REQUIRE_FALSE(result.monitor_batch.has_value());
  CHECK(result.monitor_batch.error() == redis::errc::invalid_command);
  REQUIRE(result.still_works.has_value());
  CHECK(result.still_works->text() == "PONG");
}

TEST_CASE("async close fails pending commands", "[redis][async]") {
  asio::io_context io;
  redis::async_connection connection{io.get_executor(), shared_endpoint()};
  const std::string key = key_prefix("async-close") + "empty";

  struct outcome {
    boost::system::error_code pending;
    long long pending_ms = 0;
    redis_result after_close;
  };
  auto result = run_async(io, connection, [&]() -> asio::awaitable<outcome> {
    outcome out;
    if (!co_await connection.async_connect()) {
      co_return out;
    }
    std::promise<boost::system::error_code> pending;
    connection.async_command(
        redis::request{"BLPOP", key, "5"},
        [&](boost::system::error_code error, redis::reply) { pending.set_value(error); });
    co_await sleep_for(50ms);
    const auto started = std::chrono::steady_clock::now();
    connection.close();
    // The completion is posted to this io_context, so wait without blocking it.
    auto future = pending.get_future();
    while (future.wait_for(0s) != std::future_status::ready && elapsed_ms(started) < 3000) {
      co_await sleep_for(5ms);
    }
    out.pending_ms = elapsed_ms(started);
    if (future.wait_for(0s) == std::future_status::ready) {
      out.pending = future.get();
    }
    out.after_close = co_await connection.async_command("PING");
    co_return out;
  });

  CHECK(result.pending == redis::errc::closed);
  CHECK(result.pending_ms < 1000);
  REQUIRE_FALSE(result.after_close.has_value());
  CHECK(result.after_close.error() == redis::errc::closed);
}

// --- scripts -------------------------------------------------------------------------------

TEST_CASE("script digest matches SCRIPT LOAD", "[redis][script]") {
  CHECK(redis::script{""}.sha1() == "da39a3ee5e6b4b0d3255bfef95601890afd80709");

  auto connection = connect_sync(shared_endpoint());
  const redis::script counter{"return redis.call('INCRBY', KEYS[1], ARGV[1])"};
  const auto loaded = connection.command({"SCRIPT", "LOAD", counter.source()});
  REQUIRE(loaded.has_value());
  CHECK(loaded->text() == counter.sha1());
}

TEST_CASE("sync script falls back to EVAL", "[redis][script]") {
  auto connection = connect_sync(shared_endpoint());
  const std::string key = key_prefix("sync-script") + "counter";
  const redis::script counter{"return {KEYS[1], redis.call('INCRBY', KEYS[1], ARGV[1])}"};

  REQUIRE(connection.command({"SCRIPT", "FLUSH"}).has_value());
  REQUIRE(connection.command({"CONFIG", "RESETSTAT"}).has_value());

  const auto first = counter.run(connection, {key}, {"5"});
  REQUIRE(first.has_value());
  REQUIRE(first->size() == 2);
  CHECK((*first)[0].text() == key);
  CHECK((*first)[1].integer() == 5);
  CHECK(command_calls(connection, "evalsha") == 1);
  CHECK(command_calls(connection, "eval") == 1);

  const std::vector<std::string> keys{key};
  const std::vector<std::string> arguments{"2"};
  const auto second = counter.run(connection, keys, arguments);
  REQUIRE(second.has_value());
  CHECK((*second)[1].integer() == 7);
  CHECK(command_calls(connection, "evalsha") == 2);
  CHECK(command_calls(connection, "eval") == 1);

  REQUIRE(connection.command({"SCRIPT", "FLUSH"}).has_value());
  const auto after_flush = counter.run(connection, {key}, {"1"});
  REQUIRE(after_flush.has_value());
  CHECK((*after_flush)[1].integer() == 8);
  CHECK(command_calls(connection, "eval") == 2);

  const redis::script failing{"return redis.error_reply('BOOM script failed')"};
  const auto raised = failing.run(connection, {}, {});
  REQUIRE(raised.has_value());
  CHECK(raised->error_prefix() == "BOOM");
}

TEST_CASE("prepared EVAL runs by digest", "[redis][script]") {
  auto connection = connect_sync(shared_endpoint());
  const std::string key = key_prefix("prepared-eval") + "counter";
  const std::string source = "return redis.call('INCRBY', KEYS[1], ARGV[1])";
  const auto prepared = [&](std::string_view by) {
    redis::request eval{"EVAL", source, "1", key};
    eval.push_back(by);
    return eval;
  };

  REQUIRE(connection.command({"SCRIPT", "FLUSH"}).has_value());
  REQUIRE(connection.command({"CONFIG", "RESETSTAT"}).has_value());
  const auto first = redis::run_eval(connection, prepared("5"));
  REQUIRE(first.has_value());
  CHECK(first->integer() == 5);
  CHECK(command_calls(connection, "evalsha") == 1);
  CHECK(command_calls(connection, "eval") == 1);

  const auto second = redis::run_eval(connection, prepared("2"));
  REQUIRE(second.has_value());
  CHECK(second->integer() == 7);
  CHECK(command_calls(connection, "evalsha") == 2);
  CHECK(command_calls(connection, "eval") == 1);

  // Another command passes through unchanged.
  const auto plain = redis::run_eval(connection, redis::request{"GET", key});
  REQUIRE(plain.has_value());
  CHECK(plain->text() == "7");
}

TEST_CASE("async prepared EVAL runs by digest", "[redis][script][async]") {
  asio::io_context io;
  redis::async_connection connection{io.get_executor(), shared_endpoint()};
  auto inspect = connect_sync(shared_endpoint());
  const std::string key = key_prefix("async-prepared-eval") + "counter";
  REQUIRE(inspect.command({"SCRIPT", "FLUSH"}).has_value());
  REQUIRE(inspect.command({"CONFIG", "RESETSTAT"}).has_value());

  auto future = asio::co_spawn(
      io,
      [&]() -> asio::awaitable<std::vector<long long>> {
        std::vector<long long> values;
        auto connected = co_await connection.async_connect();
        if (!connected) {
          connection.close();
          co_return values;
        }
        const std::array<std::string_view, 2> increments{"5", "2"};
        for (const auto by : increments) {
          redis::request eval{"EVAL", "return redis.call('INCRBY', KEYS[1], ARGV[1])", "1", key};
          eval.push_back(by);
          auto reply = co_await redis::async_run_eval(connection, std::move(eval));
          values.push_back(reply ? reply->integer() : -1);
        }
        connection.close();
        co_return values;
      },
      asio::use_future);
  io.run();
  CHECK(future.get() == std::vector<long long>{5, 7});
  CHECK(command_calls(inspect, "evalsha") == 2);
  CHECK(command_calls(inspect, "eval") == 1);
}

TEST_CASE("async script falls back to EVAL", "[redis][script][async]") {
  asio::io_context io;
  redis::async_connection connection{io.get_executor(), shared_endpoint()};
  const std::string key = key_prefix("async-script") + "counter";
  const redis::script counter{"return redis.call('INCRBY', KEYS[1], ARGV[1])"};

  struct outcome {
    redis_result first;
    redis_result second;
    redis_result after_flush;
    redis_result cached;
  };
  auto result = run_async(io, connection, [&]() -> asio::awaitable<outcome> {
    outcome out;
    if (!co_await connection.async_connect()) {
      co_return out;
    }
    co_await connection.async_command("SCRIPT", "FLUSH");
    const std::array<std::string_view, 1> key_views{key};
    const std::array<std::string_view, 1> ten{"10"};
    out.first = co_await counter.async_run(connection, key_views, ten);
    const std::vector<std::string> keys{key};
    const std::vector<std::string> arguments{"1"};
    out.second = co_await counter.async_run(connection, keys, arguments);
    co_await connection.async_command("SCRIPT", "FLUSH");
    const std::array<std::string_view, 1> hundred{"100"};
    out.after_flush = co_await counter.async_run(connection, key_views, hundred);
    out.cached = co_await connection.async_command("SCRIPT", "EXISTS", counter.sha1());
    co_return out;
  });

  REQUIRE(result.first.has_value());
  CHECK(result.first->integer() == 10);
  REQUIRE(result.second.has_value());
  CHECK(result.second->integer() == 11);
  REQUIRE(result.after_flush.has_value());
  CHECK(result.after_flush->integer() == 111);
  REQUIRE(result.cached.has_value());
  REQUIRE(result.cached->size() == 1);
  CHECK((*result.cached)[0].integer() == 1);
}
