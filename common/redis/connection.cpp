#include "common/redis/connection.hpp"

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <cerrno>
#include <utility>

#include "common/metrics/client_counters.hpp"
#include "common/redis/error.hpp"
#include "common/redis/hiredis_argv.hpp"
#include "common/redis/hiredis_error.hpp"

namespace jobgate::redis {

namespace {

timeval to_timeval(std::chrono::milliseconds duration) {
  timeval value{};
  value.tv_sec = static_cast<time_t>(duration.count() / 1000);
  value.tv_usec = static_cast<suseconds_t>((duration.count() % 1000) * 1000);
  return value;
}

}  // namespace

void connection::context_deleter::operator()(redisContext* context) const noexcept {
  redisFree(context);
}

connection::connection(redis_endpoint endpoint, connection_options options)
    : endpoint_(std::move(endpoint)), options_(options) {}

connection::~connection() = default;
connection::connection(connection&& other) noexcept = default;
connection& connection::operator=(connection&& other) noexcept = default;

boost::system::result<connection> connection::connect(redis_endpoint endpoint,
                                                      connection_options options) {
  connection result{std::move(endpoint), options};
  if (const auto error = result.open()) {
    metrics::count_client_event(metrics::client_event::redis_error);
    return error;
  }
  return result;
}

boost::system::error_code connection::open() {
  context_.reset();
  replies_pending_ = 0;

  // TCP connect, bounded by connect_timeout.
  redisContext* raw = nullptr;
  if (options_.connect_timeout.count() > 0) {
    raw = redisConnectWithTimeout(endpoint_.host.c_str(), endpoint_.port,
                                  to_timeval(options_.connect_timeout));
  } else {
    raw = redisConnect(endpoint_.host.c_str(), endpoint_.port);
  }
  const int saved_errno = errno;
  if (raw == nullptr) {
    return errc::out_of_memory;
  }
  std::unique_ptr<redisContext, context_deleter> context{raw};
  if (context->err != 0) {
    return hiredis_error_code(context->err, saved_errno, true);
  }
  if (redisSetTimeout(context.get(), to_timeval(options_.command_timeout)) != REDIS_OK) {
    return hiredis_error_code(context->err, errno, true);
  }
  if (options_.keep_alive && redisEnableKeepAlive(context.get()) != REDIS_OK) {
    return hiredis_error_code(context->err, errno, true);
  }
  context_ = std::move(context);

  // Log in and pick the database; these run on every reconnect as well.
  if (!endpoint_.password.empty()) {
    auto login = endpoint_.username.empty()
                     ? command({"AUTH", endpoint_.password})
                     : command({"AUTH", endpoint_.username, endpoint_.password});
    if (!login) {
      return login.error();
    }
    if (login->is_error()) {
      context_.reset();
      return errc::auth_failed;
    }
  }
  if (endpoint_.database != 0) {
    auto selected = command({"SELECT", std::to_string(endpoint_.database)});
    if (!selected) {
      return selected.error();
    }
    if (selected->is_error()) {
      context_.reset();
      return errc::select_failed;
    }
  }
  return {};
}

boost::system::error_code connection::ensure_open() {
  if (context_ != nullptr) {
    return {};
  }
  // The context is gone only after drop(), so opening it again is a reconnect.
  const auto error = open();
  metrics::count_client_event(error ? metrics::client_event::redis_error
                                    : metrics::client_event::redis_reconnect);
  return error;
}

boost::system::error_code connection::drop(int saved_errno) {
  const auto error = hiredis_error_code(context_->err, saved_errno, false);
  // After a transport failure or a timeout, replies may still arrive out of step: start afresh.
  context_.reset();
  replies_pending_ = 0;
  metrics::count_client_event(metrics::client_event::redis_error);
  return error;
}

boost::system::error_code connection::append(int count, const char** pointers,
                                             const std::size_t* lengths) {
  if (count == 0) {
    return errc::invalid_command;
  }
  if (redisAppendCommandArgv(context_.get(), count, pointers, lengths) != REDIS_OK) {
    return drop(errno);
  }
  return {};
}

boost::system::result<reply> connection::read_reply() {
  void* raw = nullptr;
  if (redisGetReply(context_.get(), &raw) != REDIS_OK) {
    return drop(errno);
  }
  return reply{static_cast<redisReply*>(raw)};
}

boost::system::error_code connection::flush() {
  int done = 0;
  while (done == 0) {
    if (redisBufferWrite(context_.get(), &done) != REDIS_OK) {
      return drop(errno);
    }
  }
  return {};
}

boost::system::error_code connection::send(const request& arguments) {
  if (arguments.empty()) {
    return errc::invalid_command;
  }
  if (const auto error = ensure_open()) {
    return error;
  }
  hiredis_argv argv{arguments};
  if (const auto error = append(argv.count(), argv.pointers(), argv.lengths())) {
    return error;
  }
  // Written now rather than by the next read, so Redis starts on the command while the caller
  // prepares the next one.
  if (const auto error = flush()) {
    return error;
  }
  ++replies_pending_;
  return {};
}

boost::system::result<reply> connection::receive_reply() {
  if (replies_pending_ == 0) {
    return errc::no_reply_pending;
  }
  auto next = read_reply();
  if (next) {
    --replies_pending_;
  }
  return next;
}

boost::system::result<reply> connection::receive() {
  if (context_ == nullptr) {
    return errc::not_connected;
  }
  if (replies_pending_ > 0) {
    return errc::replies_pending;
  }
  return read_reply();
}

int connection::native_socket() const noexcept {
  return context_ == nullptr ? -1 : context_->fd;
}

boost::system::result<reply> connection::run(int count, const char** pointers,
                                             const std::size_t* lengths) {
  if (count == 0) {
    return errc::invalid_command;
  }
  if (replies_pending_ > 0) {
    return errc::replies_pending;
  }
  if (const auto error = ensure_open()) {
    return error;
  }
  if (const auto error = append(count, pointers, lengths)) {
    return error;
  }
  return read_reply();
}

boost::system::result<reply> connection::command(
    std::initializer_list<std::string_view> arguments) {
  return command(std::span<const std::string_view>(arguments.begin(), arguments.size()));
}

boost::system::result<reply> connection::command(std::span<const std::string_view> arguments) {
  hiredis_argv argv{arguments};
  return run(argv.count(), argv.pointers(), argv.lengths());
}

boost::system::result<reply> connection::command(std::span<const std::string> arguments) {
  hiredis_argv argv{arguments};
  return run(argv.count(), argv.pointers(), argv.lengths());
}

boost::system::result<reply> connection::command(const request& arguments) {
  hiredis_argv argv{arguments};
  return run(argv.count(), argv.pointers(), argv.lengths());
}

boost::system::result<std::vector<reply>> connection::pipeline(std::span<const request> commands) {
  for (const request& item : commands) {
    if (item.empty()) {
      return errc::invalid_command;
    }
  }
  if (replies_pending_ > 0) {
    return errc::replies_pending;
  }
  if (const auto error = ensure_open()) {
    return error;
  }

  // hiredis buffers appended commands and writes them all before the first read.
  for (const request& item : commands) {
    hiredis_argv argv{item};
    if (const auto error = append(argv.count(), argv.pointers(), argv.lengths())) {
      return error;
    }
  }

  std::vector<reply> replies;
  replies.reserve(commands.size());
  for (std::size_t i = 0; i < commands.size(); ++i) {
    auto next = read_reply();
    if (!next) {
      return next.error();
    }
    replies.push_back(std::move(*next));
  }
  return replies;
}

}  // namespace jobgate::redis
