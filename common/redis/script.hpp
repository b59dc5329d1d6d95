#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

#include "common/redis/reply.hpp"
#include "common/redis/request.hpp"

namespace jobgate::redis {

class async_connection;
class connection;

// A Lua script run by its SHA1 digest. run() sends EVALSHA and, when the server replies NOSCRIPT
// (after a restart or SCRIPT FLUSH), sends EVAL with the source, which also caches it again.
// An error raised by the script itself is returned as an error reply, not as a failure.
// Immutable after construction, so one object may serve any number of threads.
class script {
 public:
  explicit script(std::string_view source);

  const std::string& source() const noexcept { return source_; }
  // 40 lowercase hexadecimal digits, the form SCRIPT LOAD returns.
  const std::string& sha1() const noexcept { return sha1_; }

  // EVALSHA and EVAL commands for these keys and arguments, for callers that batch them.
  request evalsha_request(std::span<const std::string_view> keys,
                          std::span<const std::string_view> arguments) const;
  request eval_request(std::span<const std::string_view> keys,
                       std::span<const std::string_view> arguments) const;

  // Runs the script on a blocking connection; fails as connection::command does.
  boost::system::result<reply> run(connection& target, std::initializer_list<std::string_view> keys,
                                   std::initializer_list<std::string_view> arguments) const;
  boost::system::result<reply> run(connection& target, std::span<const std::string_view> keys,
                                   std::span<const std::string_view> arguments) const;
  boost::system::result<reply> run(connection& target, std::span<const std::string> keys,
                                   std::span<const std::string> arguments) const;

  // Runs the script on an async connection; fails as async_connection::async_command does. The
  // keys and arguments are copied before this returns, and the script object must outlive the
  // returned awaitable. GCC 12 rejects braced lists inside a co_await expression, so coroutines
  // pass arrays or vectors declared in an earlier statement.
  boost::asio::awaitable<boost::system::result<reply>> async_run(
      async_connection& target, std::initializer_list<std::string_view> keys,
      std::initializer_list<std::string_view> arguments) const;
  boost::asio::awaitable<boost::system::result<reply>> async_run(
      async_connection& target, std::span<const std::string_view> keys,
      std::span<const std::string_view> arguments) const;
  boost::asio::awaitable<boost::system::result<reply>> async_run(
      async_connection& target, std::span<const std::string> keys,
      std::span<const std::string> arguments) const;

 private:
  template <typename Keys, typename Arguments>
  request build_request(std::string_view command, std::string_view script_argument,
                        const Keys& keys, const Arguments& arguments) const;

  template <typename Keys, typename Arguments>
  boost::system::result<reply> run_with(connection& target, const Keys& keys,
                                        const Arguments& arguments) const;

  boost::asio::awaitable<boost::system::result<reply>> async_run_requests(async_connection& target,
                                                                          request by_digest,
                                                                          request by_source) const;

  std::string source_;
  std::string sha1_;
};

// Runs a prepared "EVAL source numkeys key... argument..." request as EVALSHA with the source's
// digest, and sends the EVAL itself only when the server replies NOSCRIPT. Redis runs EVALSHA
// without hashing and parsing the source again, which made a 2.4 KB job script run three times
// as often per second in redis-benchmark on a 2-core machine. A request that is not an EVAL is
// sent as it is.
boost::system::result<reply> run_eval(connection& target, const request& eval);

// The EVALSHA form of a prepared EVAL request, for callers that send it with connection::send()
// and keep the EVAL for a NOSCRIPT reply. A request that is not an EVAL is returned as it is.
request evalsha_form(const request& eval);

// True for the NOSCRIPT error reply: the server does not have the script cached.
bool is_noscript(const reply& value);
boost::asio::awaitable<boost::system::result<reply>> async_run_eval(async_connection& target,
                                                                    request eval);

}  // namespace jobgate::redis
