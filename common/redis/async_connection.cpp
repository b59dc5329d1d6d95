#include "common/redis/async_connection.hpp"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/append.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <deque>
#include <exception>
#include <new>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

#include "common/log/logger.hpp"
#include "common/metrics/client_counters.hpp"
#include "common/redis/error.hpp"
#include "common/redis/hiredis_argv.hpp"
#include "common/redis/hiredis_error.hpp"

namespace jobgate::redis {

namespace {

using clock_type = std::chrono::steady_clock;

// hiredis 0.14 routes replies of these commands outside its reply queue, which would break the
// one-reply-per-command matching below.
bool is_supported(const request& command) {
  if (command.empty()) {
    return false;
  }
  std::string name{command.name()};
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return name != "subscribe" && name != "psubscribe" && name != "unsubscribe" &&
         name != "punsubscribe" && name != "monitor";
}

// Reconnect attempts are logged at 1, 2, 4, 8, ... so a long outage does not flood the log.
bool should_log_attempt(unsigned attempt) {
  return (attempt & (attempt - 1)) == 0;
}

}  // namespace

// The connection's state. Every member is used on strand_ only, except connected_ and the
// immutable endpoint_ and options_. Handlers hold a shared_ptr to it, so it outlives the
// async_connection object until the last of them has run.
class async_connection::impl : public std::enable_shared_from_this<impl> {
 public:
  impl(boost::asio::any_io_executor executor, redis_endpoint endpoint,
       async_connection_options options);
  ~impl();

  impl(const impl&) = delete;
  impl& operator=(const impl&) = delete;

  boost::asio::strand<boost::asio::any_io_executor>& strand() noexcept { return strand_; }
  const redis_endpoint& endpoint() const noexcept { return endpoint_; }
  bool is_connected() const noexcept { return connected_.load(std::memory_order_acquire); }

  // The rest run on strand_.
  void start();
  void close();
  void wait_connected(connect_handler handler);
  void submit(request command, command_handler handler);
  void submit(std::vector<request> commands, pipeline_handler handler);

 private:
  enum class state { idle, resolving, connecting, handshaking, ready, waiting, closed };
  enum class handshake_step { auth, select };

  // One command or pipeline awaiting replies, in the order hiredis will report them.
  struct pending_entry {
    clock_type::time_point submitted;
    std::size_t expected = 1;
    std::size_t received = 0;
    std::vector<reply> replies;
    // Empty once completed, by its replies, a timeout or a failure.
    std::variant<std::monostate, command_handler, pipeline_handler> handler;
  };

  // hiredis callbacks and event hooks; each runs inside a hiredis call made on strand_.
  static void on_add_read(void* data) noexcept;
  static void on_del_read(void* data) noexcept;
  static void on_add_write(void* data) noexcept;
  static void on_del_write(void* data) noexcept;
  static void on_cleanup(void* data) noexcept;
  static void on_connect(const redisAsyncContext* context, int status) noexcept;
  static void on_reply(redisAsyncContext* context, void* reply, void* privdata) noexcept;
  static void on_handshake_reply(redisAsyncContext* context, void* reply, void* privdata) noexcept;

  // Connecting.
  void begin_attempt();
  void open_context(const std::string& address);
  void connected(int status);
  void handshake_replied(const redisReply* answer);
  void become_ready();
  void context_freed();
  void attempt_failed(boost::system::error_code error);
  void schedule_reconnect();
  void drop_context(boost::system::error_code reason);
  void connect_timer_fired(unsigned attempt);
  void finish_waiters(boost::system::error_code error);

  // Socket readiness.
  void arm_read();
  void arm_write();
  void readable(boost::system::error_code error, unsigned generation);
  void writable(boost::system::error_code error, unsigned generation);

  // Commands.
  void reply_arrived(redisAsyncContext* context, const redisReply* answer);
  boost::system::error_code disconnect_error(const redisAsyncContext* context) const;
  void arm_deadline_timer();
  void deadline_timer_fired();
  void finish(pending_entry& entry, boost::system::error_code error);
  void finish(pending_entry& entry, reply answer);
  void finish_pipeline(pending_entry& entry);

  template <typename Handler, typename... Values>
  void deliver(Handler handler, Values&&... values) {
    // post() runs the handler through its associated executor, with io_executor_ as the default.
    boost::asio::post(io_executor_,
                      boost::asio::append(std::move(handler), std::forward<Values>(values)...));
  }

  boost::asio::any_io_executor io_executor_;
  boost::asio::strand<boost::asio::any_io_executor> strand_;
  const redis_endpoint endpoint_;
  const async_connection_options options_;
  log::logger log_;

  boost::asio::ip::tcp::resolver resolver_;
  boost::asio::posix::stream_descriptor descriptor_;
  boost::asio::steady_timer connect_timer_;
  boost::asio::steady_timer reconnect_timer_;
  bool was_ready_ = false;  // a later become_ready() is a reconnect
  boost::asio::steady_timer deadline_timer_;

  state state_ = state::idle;
  std::atomic<bool> connected_{false};
  redisAsyncContext* context_ = nullptr;
  // Counts contexts, so wait handlers of a freed context know to do nothing.
  unsigned generation_ = 0;
  // Counts connection attempts, so a stale connect timeout or lookup result is ignored.
  unsigned attempt_id_ = 0;
  // Consecutive failed attempts, for the backoff; 0 after a successful connect.
  unsigned failed_attempts_ = 0;
  bool want_read_ = false;
  bool want_write_ = false;
  bool read_waiting_ = false;
  bool write_waiting_ = false;

  std::deque<handshake_step> handshake_;
  // Why this side freed the context, when it did; otherwise the hiredis error decides.
  boost::system::error_code drop_reason_;
  // The error of the current attempt as far as known, reported when its context is freed.
  boost::system::error_code attempt_error_;
  int connect_errno_ = 0;

  std::deque<pending_entry> pending_;
  // Entries [0, completed_prefix_) have completed and only wait for their replies to be read.
  // They always form a prefix, because replies arrive and deadlines pass in submission order.
  std::size_t completed_prefix_ = 0;
  bool deadline_armed_ = false;
  clock_type::time_point deadline_at_;

  std::vector<connect_handler> waiters_;
  std::minstd_rand random_{std::random_device{}()};
};

async_connection::impl::impl(boost::asio::any_io_executor executor, redis_endpoint endpoint,
                             async_connection_options options)
    : io_executor_(executor),
      strand_(boost::asio::make_strand(executor)),
      endpoint_(std::move(endpoint)),
      options_(options),
      log_(log::logger().with("redis", endpoint_.masked_url())),
      resolver_(strand_),
      descriptor_(strand_),
      connect_timer_(strand_),
      reconnect_timer_(strand_),
      deadline_timer_(strand_) {}

async_connection::impl::~impl() {
  // Reached without close() only when the io_context stopped first: drop handlers unrun.
  pending_.clear();
  waiters_.clear();
  if (context_ != nullptr) {
    state_ = state::closed;
    redisAsyncContext* context = context_;
    redisAsyncFree(context);
  }
}

// --- hooks -----------------------------------------------------------------------------------

void async_connection::impl::on_add_read(void* data) noexcept {
  auto* self = static_cast<impl*>(data);
  self->want_read_ = true;
  self->arm_read();
}

void async_connection::impl::on_del_read(void* data) noexcept {
  static_cast<impl*>(data)->want_read_ = false;
}

void async_connection::impl::on_add_write(void* data) noexcept {
  auto* self = static_cast<impl*>(data);
  self->want_write_ = true;
  self->arm_write();
}

void async_connection::impl::on_del_write(void* data) noexcept {
  static_cast<impl*>(data)->want_write_ = false;
}

void async_connection::impl::on_cleanup(void* data) noexcept {
  static_cast<impl*>(data)->context_freed();
}

void async_connection::impl::on_connect(const redisAsyncContext* context, int status) noexcept {
  auto* self = static_cast<impl*>(context->data);
  if (status != REDIS_OK) {
    self->connect_errno_ = errno;
  }
  self->connected(status);
}

void async_connection::impl::on_reply(redisAsyncContext* context, void* answer,
                                      void* /*privdata*/) noexcept {
  static_cast<impl*>(context->data)->reply_arrived(context, static_cast<redisReply*>(answer));
}

void async_connection::impl::on_handshake_reply(redisAsyncContext* context, void* answer,
                                                void* /*privdata*/) noexcept {
  static_cast<impl*>(context->data)->handshake_replied(static_cast<redisReply*>(answer));
}

// --- connecting ------------------------------------------------------------------------------

void async_connection::impl::start() {
  if (state_ == state::idle) {
    begin_attempt();
  }
}

void async_connection::impl::begin_attempt() {
  const unsigned attempt = ++attempt_id_;
  attempt_error_ = {};
  connect_errno_ = 0;

  connect_timer_.expires_after(options_.connect_timeout);
  connect_timer_.async_wait([self = shared_from_this(), attempt](boost::system::error_code error) {
    if (!error) {
      self->connect_timer_fired(attempt);
    }
  });

  // hiredis 0.14 resolves names with a blocking getaddrinfo, so it gets a numeric address.
  boost::system::error_code not_numeric;
  const auto address = boost::asio::ip::make_address(endpoint_.host, not_numeric);
  if (!not_numeric) {
    state_ = state::connecting;
    open_context(address.to_string());
    return;
  }

  state_ = state::resolving;
  resolver_.async_resolve(
      endpoint_.host, std::to_string(endpoint_.port),
      [self = shared_from_this(), attempt](boost::system::error_code error,
                                           boost::asio::ip::tcp::resolver::results_type results) {
        if (attempt != self->attempt_id_ || self->state_ != state::resolving) {
          return;
        }
        if (error || results.empty()) {
          self->log_.debug("Redis host name lookup failed", {{"error", error.message()}});
          self->attempt_failed(errc::resolve_failed);
          return;
        }
        // IPv4 first, as hiredis 0.14 itself does, since Redis often listens on 127.0.0.1 only
        // while "localhost" may resolve to ::1 first.
        auto chosen = std::find_if(results.begin(), results.end(), [](const auto& entry) {
          return entry.endpoint().address().is_v4();
        });
        if (chosen == results.end()) {
          chosen = results.begin();
        }
        self->state_ = state::connecting;
        self->open_context(chosen->endpoint().address().to_string());
      });
}

void async_connection::impl::open_context(const std::string& address) {
  redisAsyncContext* context = redisAsyncConnect(address.c_str(), endpoint_.port);
  const int saved_errno = errno;
  if (context == nullptr) {
    attempt_failed(errc::out_of_memory);
    return;
  }
  if (context->err != 0) {
    const auto error = hiredis_error_code(context->err, saved_errno, true);
    log_.debug("Redis connect failed", {{"error", error.message()}, {"detail", context->errstr}});
    redisAsyncFree(context);
    attempt_failed(error);
    return;
  }

  boost::system::error_code error;
  descriptor_.assign(context->c.fd, error);
  if (error) {
    log_.error("Redis socket could not be watched", {{"error", error.message()}});
    redisAsyncFree(context);
    attempt_failed(errc::connection_lost);
    return;
  }

  // From here on, hiredis reports the end of this context through on_cleanup.
  context_ = context;
  context->data = this;
  context->ev.data = this;
  context->ev.addRead = &on_add_read;
  context->ev.delRead = &on_del_read;
  context->ev.addWrite = &on_add_write;
  context->ev.delWrite = &on_del_write;
  context->ev.cleanup = &on_cleanup;
  // Registering the connect callback requests a write event, which reports the connect result.
  redisAsyncSetConnectCallback(context, &on_connect);
}

void async_connection::impl::connected(int status) {
  if (status != REDIS_OK) {
    // hiredis frees the context next, and context_freed() reports the attempt as failed.
    attempt_error_ = hiredis_error_code(context_->c.err, connect_errno_, true);
    return;
  }

  redisEnableKeepAlive(&context_->c);

  // AUTH and SELECT go first on the new connection; commands are accepted once both succeeded.
  handshake_.clear();
  if (!endpoint_.password.empty()) {
    const request login = endpoint_.username.empty()
                              ? request{"AUTH", endpoint_.password}
                              : request{"AUTH", endpoint_.username, endpoint_.password};
    hiredis_argv argv{login};
    redisAsyncCommandArgv(context_, &on_handshake_reply, nullptr, argv.count(), argv.pointers(),
                          argv.lengths());
    handshake_.push_back(handshake_step::auth);
  }
  if (endpoint_.database != 0) {
    const request select{"SELECT", std::to_string(endpoint_.database)};
    hiredis_argv argv{select};
    redisAsyncCommandArgv(context_, &on_handshake_reply, nullptr, argv.count(), argv.pointers(),
                          argv.lengths());
    handshake_.push_back(handshake_step::select);
  }

  if (handshake_.empty()) {
    become_ready();
  } else {
    state_ = state::handshaking;
  }
}

void async_connection::impl::handshake_replied(const redisReply* answer) {
  // A null reply means the context is being freed; context_freed() handles that.
  if (answer == nullptr || handshake_.empty() || state_ != state::handshaking) {
    return;
  }
  const handshake_step step = handshake_.front();
  handshake_.pop_front();

  if (answer->type == REDIS_REPLY_ERROR) {
    const auto error = step == handshake_step::auth ? errc::auth_failed : errc::select_failed;
    log_.error(step == handshake_step::auth ? "Redis AUTH failed" : "Redis SELECT failed",
               {{"reply", std::string_view(answer->str, answer->len)}});
    attempt_error_ = error;
    // Later handshake replies (NOAUTH for SELECT after a failed AUTH) must not replace the cause.
    handshake_.clear();
    // redisAsyncFree must not run inside a reply callback, so the drop waits for the strand.
    boost::asio::post(strand_, [self = shared_from_this(), generation = generation_, error] {
      if (generation == self->generation_ && self->context_ != nullptr) {
        self->drop_context(error);
      }
    });
    return;
  }

  if (handshake_.empty()) {
    become_ready();
  }
}

void async_connection::impl::become_ready() {
  connect_timer_.cancel();
  state_ = state::ready;
  connected_.store(true, std::memory_order_release);
  log_.info("Redis connected", {{"failed_attempts", failed_attempts_}});
  if (was_ready_) {
    metrics::count_client_event(metrics::client_event::redis_reconnect);
  }
  was_ready_ = true;
  failed_attempts_ = 0;
  finish_waiters({});
}

void async_connection::impl::context_freed() {
  // hiredis has already run every pending callback with a null reply and closes the socket
  // after this returns, so the descriptor gives the socket up without closing it.
  descriptor_.release();
  ++generation_;
  want_read_ = want_write_ = false;
  read_waiting_ = write_waiting_ = false;

  const state previous = state_;
  const auto lost_error = disconnect_error(context_);
  context_ = nullptr;
  connected_.store(false, std::memory_order_release);
  drop_reason_ = {};
  handshake_.clear();

  // Entries left here would mean a reply callback went missing; fail them rather than hang.
  for (std::size_t i = completed_prefix_; i < pending_.size(); ++i) {
    finish(pending_[i], errc::connection_lost);
  }
  pending_.clear();
  completed_prefix_ = 0;

  switch (previous) {
    case state::ready:
      metrics::count_client_event(metrics::client_event::redis_error);
      log_.warn("Redis connection lost; reconnecting", {{"error", lost_error.message()}});
      schedule_reconnect();
      break;
    case state::connecting:
    case state::handshaking:
      attempt_failed(attempt_error_ ? attempt_error_ : lost_error);
      break;
    default:
      break;
  }
}

void async_connection::impl::attempt_failed(boost::system::error_code error) {
  connect_timer_.cancel();
  ++failed_attempts_;
  metrics::count_client_event(metrics::client_event::redis_error);
  if (should_log_attempt(failed_attempts_)) {
    log_.warn("Redis connect attempt failed; retrying",
              {{"error", error.message()}, {"failed_attempts", failed_attempts_}});
  }
  finish_waiters(error);
  schedule_reconnect();
}

void async_connection::impl::schedule_reconnect() {
  if (state_ == state::closed) {
    return;
  }
  state_ = state::waiting;

  // Exponential backoff with jitter: a random delay in [ceiling / 2, ceiling].
  const unsigned exponent = std::min(failed_attempts_, 20u);
  const auto uncapped = std::chrono::duration_cast<std::chrono::milliseconds>(
      options_.reconnect_delay_min * (std::int64_t{1} << exponent));
  const auto ceiling =
      std::max(std::min(uncapped, options_.reconnect_delay_max), std::chrono::milliseconds{1});
  std::uniform_int_distribution<long long> spread(ceiling.count() / 2, ceiling.count());
  const std::chrono::milliseconds delay{spread(random_)};

  reconnect_timer_.expires_after(delay);
  reconnect_timer_.async_wait([self = shared_from_this()](boost::system::error_code error) {
    if (!error && self->state_ == state::waiting) {
      self->begin_attempt();
    }
  });
}

void async_connection::impl::drop_context(boost::system::error_code reason) {
  drop_reason_ = reason;
  // Runs every pending callback with a null reply and then on_cleanup, before returning.
  redisAsyncFree(context_);
}

void async_connection::impl::connect_timer_fired(unsigned attempt) {
  if (attempt != attempt_id_) {
    return;
  }
  switch (state_) {
    case state::resolving:
      resolver_.cancel();
      attempt_failed(errc::timeout);
      break;
    case state::connecting:
    case state::handshaking:
      attempt_error_ = errc::timeout;
      drop_context(errc::timeout);
      break;
    default:
      break;
  }
}

void async_connection::impl::finish_waiters(boost::system::error_code error) {
  auto waiters = std::move(waiters_);
  waiters_.clear();
  for (auto& waiter : waiters) {
    deliver(std::move(waiter), error);
  }
}

void async_connection::impl::wait_connected(connect_handler handler) {
  if (state_ == state::ready) {
    deliver(std::move(handler), boost::system::error_code{});
    return;
  }
  if (state_ == state::closed) {
    deliver(std::move(handler), make_error_code(errc::closed));
    return;
  }
  waiters_.push_back(std::move(handler));
  start();
}

void async_connection::impl::close() {
  if (state_ == state::closed) {
    return;
  }
  const bool was_open = context_ != nullptr;
  state_ = state::closed;
  connected_.store(false, std::memory_order_release);
  connect_timer_.cancel();
  reconnect_timer_.cancel();
  deadline_timer_.cancel();
  resolver_.cancel();
  finish_waiters(errc::closed);
  if (was_open) {
    drop_context(errc::closed);
  }
  log_.info("Redis connection closed");
}

// --- socket readiness ------------------------------------------------------------------------

void async_connection::impl::arm_read() {
  if (read_waiting_ || context_ == nullptr) {
    return;
  }
  read_waiting_ = true;
  descriptor_.async_wait(
      boost::asio::posix::stream_descriptor::wait_read,
      [self = shared_from_this(), generation = generation_](boost::system::error_code error) {
        self->readable(error, generation);
      });
}

void async_connection::impl::arm_write() {
  if (write_waiting_ || context_ == nullptr) {
    return;
  }
  write_waiting_ = true;
  descriptor_.async_wait(
      boost::asio::posix::stream_descriptor::wait_write,
      [self = shared_from_this(), generation = generation_](boost::system::error_code error) {
        self->writable(error, generation);
      });
}

void async_connection::impl::readable(boost::system::error_code error, unsigned generation) {
  if (generation != generation_) {
    return;
  }
  read_waiting_ = false;
  if (error == boost::asio::error::operation_aborted || context_ == nullptr || !want_read_) {
    return;
  }
  // Any other wait error shows up as a read error inside hiredis, which then frees the context.
  redisAsyncHandleRead(context_);
  if (generation == generation_ && want_read_) {
    arm_read();
  }
}

void async_connection::impl::writable(boost::system::error_code error, unsigned generation) {
  if (generation != generation_) {
    return;
  }
  write_waiting_ = false;
  if (error == boost::asio::error::operation_aborted || context_ == nullptr || !want_write_) {
    return;
  }
  redisAsyncHandleWrite(context_);
  if (generation == generation_ && want_write_) {
    arm_write();
  }
}

// --- commands --------------------------------------------------------------------------------

void async_connection::impl::submit(request command, command_handler handler) {
  if (state_ != state::ready) {
    deliver(std::move(handler),
            make_error_code(state_ == state::closed ? errc::closed : errc::not_connected), reply{});
    return;
  }
  if (!is_supported(command)) {
    deliver(std::move(handler), make_error_code(errc::invalid_command), reply{});
    return;
  }
  if (pending_.size() >= options_.max_pending_commands) {
    deliver(std::move(handler), make_error_code(errc::queue_full), reply{});
    return;
  }

  hiredis_argv argv{command};
  if (redisAsyncCommandArgv(context_, &on_reply, nullptr, argv.count(), argv.pointers(),
                            argv.lengths()) != REDIS_OK) {
    deliver(std::move(handler), make_error_code(errc::not_connected), reply{});
    return;
  }
  pending_.push_back(pending_entry{clock_type::now(), 1, 0, {}, std::move(handler)});
  arm_deadline_timer();
}

void async_connection::impl::submit(std::vector<request> commands, pipeline_handler handler) {
  if (state_ != state::ready) {
    deliver(std::move(handler),
            make_error_code(state_ == state::closed ? errc::closed : errc::not_connected),
            std::vector<reply>{});
    return;
  }
  if (commands.empty()) {
    deliver(std::move(handler), boost::system::error_code{}, std::vector<reply>{});
    return;
  }
  if (!std::all_of(commands.begin(), commands.end(), is_supported)) {
    deliver(std::move(handler), make_error_code(errc::invalid_command), std::vector<reply>{});
    return;
  }
  if (pending_.size() >= options_.max_pending_commands) {
    deliver(std::move(handler), make_error_code(errc::queue_full), std::vector<reply>{});
    return;
  }

  std::size_t appended = 0;
  for (const request& command : commands) {
    hiredis_argv argv{command};
    if (redisAsyncCommandArgv(context_, &on_reply, nullptr, argv.count(), argv.pointers(),
                              argv.lengths()) != REDIS_OK) {
      break;
    }
    ++appended;
  }
  if (appended == 0) {
    deliver(std::move(handler), make_error_code(errc::not_connected), std::vector<reply>{});
    return;
  }

  pending_entry entry{clock_type::now(), appended, 0, {}, std::move(handler)};
  entry.replies.reserve(appended);
  pending_.push_back(std::move(entry));
  if (appended < commands.size()) {
    // Only an allocation failure inside hiredis stops an append on a ready context. The batch
    // must not run in part, and the callbacks already queued must still be matched: drop it all.
    boost::asio::post(strand_, [self = shared_from_this(), generation = generation_] {
      if (generation == self->generation_ && self->context_ != nullptr) {
        self->drop_context(errc::out_of_memory);
      }
    });
    return;
  }
  arm_deadline_timer();
}

void async_connection::impl::reply_arrived(redisAsyncContext* context, const redisReply* answer) {
  if (pending_.empty()) {
    if (state_ != state::closed) {
      log_.error("Redis reply arrived with no command waiting for it");
    }
    return;
  }
  pending_entry& front = pending_.front();

  if (completed_prefix_ == 0) {
    if (answer == nullptr) {
      finish(front, disconnect_error(context));
      completed_prefix_ = 1;
    } else {
      try {
        reply copy = reply::copy_of(answer);
        if (std::holds_alternative<command_handler>(front.handler)) {
          finish(front, std::move(copy));
          completed_prefix_ = 1;
        } else {
          front.replies.push_back(std::move(copy));
          if (front.replies.size() == front.expected) {
            finish_pipeline(front);
            completed_prefix_ = 1;
          }
        }
      } catch (const std::bad_alloc&) {
        finish(front, errc::out_of_memory);
        completed_prefix_ = 1;
      }
    }
  }

  ++front.received;
  if (front.received == front.expected) {
    pending_.pop_front();
    --completed_prefix_;
  }
}

boost::system::error_code async_connection::impl::disconnect_error(
    const redisAsyncContext* context) const {
  if (state_ == state::closed) {
    return errc::closed;
  }
  if (drop_reason_) {
    return drop_reason_;
  }
  if (context == nullptr || context->c.err == 0) {
    return errc::connection_lost;
  }
  return hiredis_error_code(context->c.err, 0, false);
}

void async_connection::impl::arm_deadline_timer() {
  if (pending_.empty() || state_ == state::closed) {
    return;
  }

  // The next deadline: the first live command's timeout, or the oldest command's stall limit.
  clock_type::time_point next = clock_type::time_point::max();
  if (options_.command_timeout.count() > 0 && completed_prefix_ < pending_.size()) {
    next = pending_[completed_prefix_].submitted + options_.command_timeout;
  }
  if (options_.stall_timeout.count() > 0) {
    const auto stall = std::max(options_.stall_timeout, options_.command_timeout);
    next = std::min(next, pending_.front().submitted + stall);
  }
  if (next == clock_type::time_point::max()) {
    return;
  }
  if (deadline_armed_ && deadline_at_ <= next) {
    return;
  }

  // Re-arming cancels an earlier wait, whose handler then gets operation_aborted.
  deadline_armed_ = true;
  deadline_at_ = next;
  deadline_timer_.expires_at(next);
  deadline_timer_.async_wait([self = shared_from_this()](boost::system::error_code error) {
    if (error != boost::asio::error::operation_aborted) {
      self->deadline_timer_fired();
    }
  });
}

void async_connection::impl::deadline_timer_fired() {
  deadline_armed_ = false;
  if (state_ == state::closed) {
    return;
  }
  const auto now = clock_type::now();

  // Commands past their timeout complete now; their replies are discarded when they arrive.
  if (options_.command_timeout.count() > 0) {
    while (completed_prefix_ < pending_.size() &&
           pending_[completed_prefix_].submitted + options_.command_timeout <= now) {
      finish(pending_[completed_prefix_], errc::timeout);
      ++completed_prefix_;
    }
  }

  // A connection that has returned no reply for stall_timeout is dropped and opened again.
  if (options_.stall_timeout.count() > 0 && !pending_.empty() && context_ != nullptr) {
    const auto stall = std::max(options_.stall_timeout, options_.command_timeout);
    if (pending_.front().submitted + stall <= now) {
      log_.warn("Redis connection stalled; reconnecting",
                {{"pending_commands", pending_.size()}, {"stall_timeout_ms", stall.count()}});
      drop_context(errc::timeout);
      return;
    }
  }

  arm_deadline_timer();
}

void async_connection::impl::finish(pending_entry& entry, boost::system::error_code error) {
  auto handler = std::exchange(entry.handler, std::monostate{});
  if (auto* single = std::get_if<command_handler>(&handler)) {
    deliver(std::move(*single), error, reply{});
  } else if (auto* batch = std::get_if<pipeline_handler>(&handler)) {
    deliver(std::move(*batch), error, std::vector<reply>{});
  }
  entry.replies.clear();
}

void async_connection::impl::finish(pending_entry& entry, reply answer) {
  auto handler = std::exchange(entry.handler, std::monostate{});
  if (auto* single = std::get_if<command_handler>(&handler)) {
    deliver(std::move(*single), boost::system::error_code{}, std::move(answer));
  }
}

void async_connection::impl::finish_pipeline(pending_entry& entry) {
  auto handler = std::exchange(entry.handler, std::monostate{});
  if (auto* batch = std::get_if<pipeline_handler>(&handler)) {
    deliver(std::move(*batch), boost::system::error_code{}, std::move(entry.replies));
  }
  entry.replies.clear();
}

// --- public interface ------------------------------------------------------------------------

async_connection::async_connection(boost::asio::any_io_executor executor, redis_endpoint endpoint,
                                   async_connection_options options) {
  lanes_.push_back(std::make_shared<impl>(std::move(executor), std::move(endpoint), options));
}

async_connection::async_connection(std::span<boost::asio::io_context* const> contexts,
                                   redis_endpoint endpoint, async_connection_options options)
    : contexts_(contexts.begin(), contexts.end()) {
  if (contexts_.empty()) {
    throw std::invalid_argument("an async_connection needs at least one io_context");
  }
  for (auto* context : contexts_) {
    lanes_.push_back(std::make_shared<impl>(context->get_executor(), endpoint, options));
  }
}

async_connection::~async_connection() {
  close();
}

const std::shared_ptr<async_connection::impl>& async_connection::lane() const noexcept {
  std::size_t own = 0;
  for (std::size_t i = 1; i < contexts_.size(); ++i) {
    if (contexts_[i]->get_executor().running_in_this_thread()) {
      own = i;
      break;
    }
  }
  if (lanes_[own]->is_connected()) {
    return lanes_[own];
  }
  // After a Redis restart the lanes reconnect at different moments. Until this thread's lane is
  // back, its commands go to a connected lane, which posts their completions back to this thread.
  for (const auto& other : lanes_) {
    if (other->is_connected()) {
      return other;
    }
  }
  return lanes_[own];
}

void async_connection::start() {
  for (const auto& state : lanes_) {
    boost::asio::dispatch(state->strand(), [state] { state->start(); });
  }
}

void async_connection::close() {
  for (const auto& state : lanes_) {
    boost::asio::dispatch(state->strand(), [state] { state->close(); });
  }
}

bool async_connection::is_connected() const noexcept {
  return std::all_of(lanes_.begin(), lanes_.end(),
                     [](const auto& state) { return state->is_connected(); });
}

const redis_endpoint& async_connection::endpoint() const noexcept {
  return lanes_.front()->endpoint();
}

void async_connection::initiate_command(const std::shared_ptr<impl>& state, request command,
                                        command_handler handler) {
  boost::asio::dispatch(state->strand(), [state, command = std::move(command),
                                          handler = std::move(handler)]() mutable {
    state->submit(std::move(command), std::move(handler));
  });
}

void async_connection::initiate_pipeline(const std::shared_ptr<impl>& state,
                                         std::vector<request> commands, pipeline_handler handler) {
  boost::asio::dispatch(state->strand(), [state, commands = std::move(commands),
                                          handler = std::move(handler)]() mutable {
    state->submit(std::move(commands), std::move(handler));
  });
}

void async_connection::initiate_connect(const std::shared_ptr<impl>& state,
                                        connect_handler handler) {
  boost::asio::dispatch(state->strand(), [state, handler = std::move(handler)]() mutable {
    state->wait_connected(std::move(handler));
  });
}

boost::asio::awaitable<std::tuple<boost::system::error_code>> async_connection::connect_lane(
    const std::shared_ptr<impl>& state) {
  auto token = boost::asio::as_tuple(boost::asio::use_awaitable);
  return boost::asio::async_initiate<decltype(token), connect_signature>(
      [state](auto handler) { initiate_connect(state, connect_handler(std::move(handler))); },
      token);
}

boost::asio::awaitable<boost::system::result<void>> async_connection::async_connect() {
  for (const auto& state : lanes_) {
    auto waited = connect_lane(state);
    auto [error] = co_await std::move(waited);
    if (error) {
      co_return error;
    }
  }
  co_return boost::system::result<void>{};
}

boost::asio::awaitable<boost::system::result<reply>> async_connection::async_command(
    request command) {
  auto [error, answer] =
      co_await async_command(std::move(command), boost::asio::as_tuple(boost::asio::use_awaitable));
  if (error) {
    co_return error;
  }
  co_return std::move(answer);
}

boost::asio::awaitable<boost::system::result<reply>> async_connection::async_command(
    std::initializer_list<std::string_view> arguments) {
  return async_command(request{arguments});
}

boost::asio::awaitable<boost::system::result<std::vector<reply>>> async_connection::async_pipeline(
    std::vector<request> commands) {
  auto [error, replies] = co_await async_pipeline(
      std::move(commands), boost::asio::as_tuple(boost::asio::use_awaitable));
  if (error) {
    co_return error;
  }
  co_return std::move(replies);
}

}  // namespace jobgate::redis
