#pragma once

#include <boost/system/result.hpp>
#include <chrono>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/redis/redis_endpoint.hpp"
#include "common/redis/reply.hpp"
#include "common/redis/request.hpp"

struct redisContext;

namespace jobgate::redis {

struct connection_options {
  // Limit for TCP connect; 0 waits as long as the operating system does.
  std::chrono::milliseconds connect_timeout{2000};
  // Limit for each socket read or write of a command; 0 disables it. Blocking commands such as
  // BLPOP need a limit above their own timeout.
  std::chrono::milliseconds command_timeout{5000};
  // Turns on TCP keepalive, so a connection that waits for pushed messages without a timeout still
  // notices a dead peer.
  bool keep_alive = false;
};

// A blocking connection to one Redis server, for threads that may wait (the worker's job threads).
// Not thread-safe: one thread uses it at a time. Owns one hiredis redisContext.
//
// Transport failures are returned as errc values. After one, the context is dropped, and the next
// call connects again (with AUTH and SELECT) before sending, so a restarted server is picked up
// without the caller's help. The failed command itself is never resent, because it may have run.
// A Redis error reply (WRONGTYPE, NOSCRIPT, ...) is a successful call returning an error reply.
//
// The process must ignore SIGPIPE: hiredis 0.14 sends with write(2), so writing to a connection
// the server has closed raises SIGPIPE.
class connection {
 public:
  // Connects, then sends AUTH when the endpoint has a password and SELECT when its database is
  // not 0.
  // Fails with resolve_failed, connection_refused, timeout, connection_lost, auth_failed or
  // select_failed.
  static boost::system::result<connection> connect(redis_endpoint endpoint,
                                                   connection_options options = {});

  ~connection();
  connection(connection&& other) noexcept;
  connection& operator=(connection&& other) noexcept;
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  // Sends one command and waits for its reply. Fails with a transport errc (connection_lost,
  // timeout, protocol_error, or a connect error when reconnecting) or invalid_command when empty.
  boost::system::result<reply> command(std::initializer_list<std::string_view> arguments);
  boost::system::result<reply> command(std::span<const std::string_view> arguments);
  boost::system::result<reply> command(std::span<const std::string> arguments);
  boost::system::result<reply> command(const request& arguments);
  // The same with separate arguments: command("HSET", key, "attempts", 3).
  template <request_argument... Arguments>
  requires(sizeof...(Arguments) >
           0) boost::system::result<reply> command(const Arguments&... arguments) {
    return command(make_request(arguments...));
  }

  // Sends all commands in one write, then reads one reply per command, in order. A transport
  // failure fails the whole call, though some of the commands may have run.
  boost::system::result<std::vector<reply>> pipeline(std::span<const request> commands);

  // Sends one command without waiting for its reply: appends it to hiredis's output buffer and
  // writes the buffer to the socket. receive_reply() reads the replies in the order of sending, so
  // a caller may send the next command while Redis still runs this one. Until every reply was
  // read, command(), pipeline() and receive() fail with replies_pending, because they would read
  // a reply meant for an earlier send(). Fails as command() does. After a transport failure the
  // unread replies are lost (some of their commands may have run) and replies_pending() is 0.
  boost::system::error_code send(const request& arguments);

  // Reads the reply to the oldest send() whose reply is still unread. Fails with no_reply_pending
  // when there is none, or with a transport errc, which drops the connection and the other
  // unread replies.
  boost::system::result<reply> receive_reply();

  // The number of send() calls whose replies receive_reply() has not read yet.
  std::size_t replies_pending() const noexcept { return replies_pending_; }

  // Waits for the next reply without sending a command, as a connection in SUBSCRIBE mode does.
  // Fails with not_connected when the connection dropped; it does not reconnect by itself.
  boost::system::result<reply> receive();

  // The socket's descriptor while connected, else -1. Another thread may shut it down to wake a
  // receive() that blocks.
  int native_socket() const noexcept;

  // False after a transport failure, until the next call has connected again.
  bool is_connected() const noexcept { return context_ != nullptr; }
  const redis_endpoint& endpoint() const noexcept { return endpoint_; }

 private:
  struct context_deleter {
    void operator()(redisContext* context) const noexcept;
  };

  connection(redis_endpoint endpoint, connection_options options);

  boost::system::error_code open();
  boost::system::error_code ensure_open();
  boost::system::error_code append(int count, const char** pointers, const std::size_t* lengths);
  boost::system::result<reply> read_reply();
  boost::system::result<reply> run(int count, const char** pointers, const std::size_t* lengths);
  boost::system::error_code flush();
  boost::system::error_code drop(int saved_errno);

  redis_endpoint endpoint_;
  connection_options options_;
  std::unique_ptr<redisContext, context_deleter> context_;
  std::size_t replies_pending_ = 0;
};

}  // namespace jobgate::redis
