#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>
#include <chrono>
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <span>
#include <string_view>
#include <tuple>
#include <vector>

#include "common/redis/redis_endpoint.hpp"
#include "common/redis/reply.hpp"
#include "common/redis/request.hpp"

namespace jobgate::redis {

struct async_connection_options {
  // Limit for one connection attempt: name lookup, TCP connect, AUTH and SELECT together.
  std::chrono::milliseconds connect_timeout{2000};
  // Limit for each command or pipeline from submission to its last reply; 0 disables it.
  std::chrono::milliseconds command_timeout{2000};
  // When the oldest pending command has had no reply for this long, the connection is dropped and
  // opened again, because a dead peer can keep a TCP connection open for minutes. 0 disables it;
  // values below command_timeout act as command_timeout.
  std::chrono::milliseconds stall_timeout{10000};
  // Delay before reconnect attempt n is reconnect_delay_min * 2^n, capped at reconnect_delay_max,
  // then a random value from half of it up to all of it, so many clients do not retry in step.
  std::chrono::milliseconds reconnect_delay_min{100};
  std::chrono::milliseconds reconnect_delay_max{5000};
  // Commands and pipelines beyond this many awaiting replies fail with errc::queue_full.
  std::size_t max_pending_commands = 100000;
};

// One non-blocking connection to a Redis server on an Asio executor, shared by any number of
// threads and coroutines: concurrent commands are pipelined on it, and replies return in submission
// order.
//
// It owns a hiredis redisAsyncContext whose socket is watched by a posix::stream_descriptor; all
// hiredis calls and all state live on one strand of the given executor, and each public function
// may be called from any thread. Completion handlers run on their associated executor (for a
// coroutine, its own), never inside a hiredis callback.
//
// Connection management: start() or async_connect() opens the connection in the background. When it
// drops, pending commands fail with errc::connection_lost (or timeout when this side dropped a
// stalled connection), and the connection reconnects with bounded exponential backoff until
// close(). While it is not connected, commands fail at once with errc::not_connected, which is
// retryable.
//
// Timeouts: hiredis 0.14 has none for async commands. One steady_timer per connection is armed for
// the earliest deadline among pending commands; a command that times out completes with
// errc::timeout, and its late reply is read and discarded so later replies stay matched.
//
// Not supported: SUBSCRIBE, PSUBSCRIBE, UNSUBSCRIBE, PUNSUBSCRIBE and MONITOR
// (errc::invalid_command), and MULTI/EXEC as separate commands, because commands from other callers
// may land between them: send a transaction with async_pipeline or use a Lua script. A blocking
// command (BLPOP, XREAD BLOCK) holds up every later command and trips the stall check, so it needs
// its own connection.
//
// Lanes: built over several io_contexts, each run by one thread, the object opens one connection
// per context. A caller on one of those threads uses its own context's connection, so the command,
// its reply and the resumed coroutine stay on that thread and no thread has to wake another. Other
// callers use the first context's connection. While a caller's connection is down and another is
// connected, its commands go to the connected one. Commands of one caller keep their order;
// commands of callers on different threads have no order between them.
//
// The process must ignore SIGPIPE: hiredis 0.14 sends with write(2), so writing to a connection
// the server has closed raises SIGPIPE.
class async_connection {
 public:
  using command_signature = void(boost::system::error_code, reply);
  using pipeline_signature = void(boost::system::error_code, std::vector<reply>);
  using connect_signature = void(boost::system::error_code);

  async_connection(boost::asio::any_io_executor executor, redis_endpoint endpoint,
                   async_connection_options options = {});
  // One lane per context; each context must be run by one thread. Needs at least one context.
  async_connection(std::span<boost::asio::io_context* const> contexts, redis_endpoint endpoint,
                   async_connection_options options = {});
  // Closes the connection; pending commands complete with errc::closed.
  ~async_connection();

  async_connection(const async_connection&) = delete;
  async_connection& operator=(const async_connection&) = delete;

  // Starts connecting every lane in the background; does nothing when already started.
  void start();

  // Starts connecting if needed and waits for the current attempt of every lane. Completes at once
  // when connected; otherwise with the attempt's error (resolve_failed, connection_refused,
  // timeout, auth_failed, select_failed, ...), after which reconnect attempts go on in the
  // background.
  boost::asio::awaitable<boost::system::result<void>> async_connect();

  // Stops reconnecting and drops the connection; pending and later commands fail with
  // errc::closed.
  void close();

  // True from a successful AUTH and SELECT until the connection drops, on every lane. For
  // readiness probes.
  bool is_connected() const noexcept;
  const redis_endpoint& endpoint() const noexcept;

  // Sends one command. Transport failures are errors (not_connected, connection_lost, timeout,
  // queue_full, invalid_command, closed, protocol_error); a Redis error reply is a value.
  boost::asio::awaitable<boost::system::result<reply>> async_command(request command);
  boost::asio::awaitable<boost::system::result<reply>> async_command(
      std::initializer_list<std::string_view> arguments);
  // The same with separate arguments: co_await connection.async_command("HGET", key, "status").
  // GCC 12 rejects a braced list inside a co_await expression ("array used as initializer"), so
  // coroutines use this form, or build the request in a statement of its own.
  template <request_argument... Arguments>
  requires(sizeof...(Arguments) > 0)
      boost::asio::awaitable<boost::system::result<reply>> async_command(
          const Arguments&... arguments) {
    return async_command(make_request(arguments...));
  }

  // Sends the commands back to back, so no other caller's command lands between them (as MULTI ...
  // EXEC needs), and completes with one reply per command once all have arrived.
  boost::asio::awaitable<boost::system::result<std::vector<reply>>> async_pipeline(
      std::vector<request> commands);

  // Completion-token forms of the three operations above, with signatures connect_signature,
  // command_signature and pipeline_signature. The connect form waits for the calling thread's lane.
  template <typename CompletionToken>
  auto async_connect(CompletionToken&& token) {
    return boost::asio::async_initiate<CompletionToken, connect_signature>(
        [state = lane()](auto handler) {
          initiate_connect(state, connect_handler(std::move(handler)));
        },
        token);
  }

  template <typename CompletionToken>
  auto async_command(request command, CompletionToken&& token) {
    return boost::asio::async_initiate<CompletionToken, command_signature>(
        [state = lane()](auto handler, request arguments) {
          initiate_command(state, std::move(arguments), command_handler(std::move(handler)));
        },
        token, std::move(command));
  }

  template <typename CompletionToken>
  auto async_pipeline(std::vector<request> commands, CompletionToken&& token) {
    return boost::asio::async_initiate<CompletionToken, pipeline_signature>(
        [state = lane()](auto handler, std::vector<request> batch) {
          initiate_pipeline(state, std::move(batch), pipeline_handler(std::move(handler)));
        },
        token, std::move(commands));
  }

 private:
  class impl;
  using command_handler = boost::asio::any_completion_handler<command_signature>;
  using pipeline_handler = boost::asio::any_completion_handler<pipeline_signature>;
  using connect_handler = boost::asio::any_completion_handler<connect_signature>;

  static void initiate_command(const std::shared_ptr<impl>& state, request command,
                               command_handler handler);
  static void initiate_pipeline(const std::shared_ptr<impl>& state, std::vector<request> commands,
                                pipeline_handler handler);
  static void initiate_connect(const std::shared_ptr<impl>& state, connect_handler handler);

  // Waits for the current connection attempt of one lane.
  static boost::asio::awaitable<std::tuple<boost::system::error_code>> connect_lane(
      const std::shared_ptr<impl>& state);
  // The lane of the calling thread, else the first; a connected lane when that one is down.
  const std::shared_ptr<impl>& lane() const noexcept;

  std::vector<std::shared_ptr<impl>> lanes_;
  // Empty for a connection built on one executor.
  std::vector<boost::asio::io_context*> contexts_;
};

}  // namespace jobgate::redis
