#include "gateway/job_change_feed.hpp"

#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/jobs/store_keys.hpp"
#include "common/metrics/client_counters.hpp"
#include "common/redis/connection.hpp"
#include "common/redis/error.hpp"

namespace jobgate::gateway {

namespace asio = boost::asio;

namespace {

constexpr std::chrono::milliseconds retry_delay_min{200};
constexpr std::chrono::milliseconds retry_delay_max{5000};
// The channel of the invalidation messages that Redis sends to a connection tracking keys for
// itself.
constexpr std::string_view invalidation_channel = "__redis__:invalidate";

}  // namespace

job_change_feed::watch::watch(std::string job_id, asio::any_io_executor executor)
    : job_id_(std::move(job_id)), timer_(std::move(executor)) {}

asio::awaitable<bool> job_change_feed::watch::wait(std::chrono::steady_clock::duration limit) {
  if (changed_.exchange(false)) {
    co_return true;
  }
  timer_.expires_after(limit);
  // A cancelled wait is a wake-up, not an error.
  co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
  co_return changed_.exchange(false);
}

void job_change_feed::wake(const std::shared_ptr<watch>& target) {
  target->changed_.store(true);
  // The timer is cancelled on its own executor, where its waits run. The handler keeps the watch
  // alive until then.
  asio::post(target->timer_.get_executor(), [target] { target->timer_.cancel(); });
}

job_change_feed::job_change_feed(redis::redis_endpoint endpoint, log::logger logger,
                                 job_read_cache* cache)
    : endpoint_(std::move(endpoint)), logger_(std::move(logger)), cache_(cache) {}

job_change_feed::~job_change_feed() {
  stop();
}

void job_change_feed::start() {
  if (!thread_.joinable()) {
    stopping_.store(false);
    thread_ = std::thread([this] { run(); });
  }
}

void job_change_feed::stop() {
  stopping_.store(true);
  {
    const std::lock_guard lock(sleep_mutex_);
    sleep_wakeup_.notify_all();
  }
  if (const int socket = socket_.load(); socket >= 0) {
    ::shutdown(socket, SHUT_RDWR);
  }
  if (thread_.joinable()) {
    thread_.join();
  }
  notify_all();
}

std::shared_ptr<job_change_feed::watch> job_change_feed::watch_job(const std::string& job_id,
                                                                   asio::any_io_executor executor) {
  // The deleter unregisters the watch before freeing it, so the map never contains a dead
  // entry for long.
  std::shared_ptr<watch> created(new watch(job_id, std::move(executor)), [this](watch* gone) {
    {
      const std::lock_guard lock(mutex_);
      auto [first, last] = watches_.equal_range(gone->job_id());
      for (auto it = first; it != last; ++it) {
        if (it->second.expired()) {
          watches_.erase(it);
          break;
        }
      }
    }
    delete gone;
  });
  const std::lock_guard lock(mutex_);
  watches_.emplace(job_id, created);
  return created;
}

void job_change_feed::notify(const std::string& job_id) {
  std::vector<std::shared_ptr<watch>> woken;
  {
    const std::lock_guard lock(mutex_);
    auto [first, last] = watches_.equal_range(job_id);
    for (auto it = first; it != last; ++it) {
      if (auto alive = it->second.lock()) {
        woken.push_back(std::move(alive));
      }
    }
  }
  for (const auto& target : woken) {
    wake(target);
  }
}

void job_change_feed::notify_all() {
  std::vector<std::shared_ptr<watch>> woken;
  {
    const std::lock_guard lock(mutex_);
    for (const auto& [id, registered] : watches_) {
      if (auto alive = registered.lock()) {
        woken.push_back(std::move(alive));
      }
    }
  }
  for (const auto& target : woken) {
    wake(target);
  }
}

bool job_change_feed::start_tracking(redis::connection& connection) {
  auto id = connection.command("CLIENT", "ID");
  boost::system::result<redis::reply> tracking = redis::make_error_code(redis::errc::closed);
  if (id && id->is_integer()) {
    tracking =
        connection.command("CLIENT", "TRACKING", "ON", "REDIRECT", std::to_string(id->integer()),
                           "BCAST", "PREFIX", store_keys::job_prefix);
    if (tracking && tracking->is_status()) {
      return true;
    }
  } else {
    tracking = std::move(id);
  }
  logger_.warn(
      "job read cache off until the feed reconnects: CLIENT TRACKING failed; use Redis 6 or "
      "later and a user allowed the CLIENT command, or set job-cache-entries to 0",
      {{"error", tracking ? std::string(tracking->text()) : tracking.error().message()}});
  return false;
}

void job_change_feed::dispatch(std::string_view channel, redis::reply_view payload) {
  if (channel == invalidation_channel) {
    if (cache_ == nullptr) {
      return;
    }
    // FLUSHALL and FLUSHDB send no keys.
    if (!payload.is_array()) {
      cache_->invalidate_all();
      notify_all();
      return;
    }
    // Every change of a job's key comes here, also those outside the job store's scripts (a
    // hand edit, DEL, expiry), so the job's watches wake too. After a script's write the watches
    // usually have not run since its job-changes message, and the two wake-ups merge into one.
    for (const auto key : payload) {
      const auto job_id = store_keys::job_id_of(key.text());
      if (!job_id.empty()) {
        cache_->invalidate_job(job_id);
        notify(std::string(job_id));
      }
    }
    return;
  }
  // The job store's scripts publish after their writes, and this message may come before the
  // invalidation of the same write, so the entry goes first and a woken long poll reads Redis.
  const std::string job_id(payload.text());
  if (cache_ != nullptr) {
    cache_->invalidate_job(job_id);
  }
  notify(job_id);
}

void job_change_feed::run() {
  redis::connection_options options;
  // Messages may be minutes apart: no read timeout, and TCP keepalive to notice a dead server.
  options.command_timeout = std::chrono::milliseconds(0);
  options.keep_alive = true;
  std::chrono::milliseconds delay = retry_delay_min;
  bool reported = false;
  bool subscribed_before = false;
  while (!stopping_.load()) {
    auto connection = redis::connection::connect(endpoint_, options);
    boost::system::error_code failure;
    if (connection) {
      socket_.store(connection->native_socket());
      // Tracking goes first, since a subscribed connection runs only subscription commands.
      const bool tracking = cache_ != nullptr && cache_->enabled() && !stopping_.load() &&
                            start_tracking(*connection);
      auto reply = stopping_.load() ? boost::system::result<redis::reply>(redis::errc::closed)
                   : tracking ? connection->command("SUBSCRIBE", store_keys::job_changes_channel,
                                                    invalidation_channel)
                              : connection->command("SUBSCRIBE", store_keys::job_changes_channel);
      if (reply && !reply->is_error()) {
        // SUBSCRIBE took both channels before its first reply came back, so every invalidation
        // from here on reaches this connection.
        if (tracking) {
          cache_->tracking_started();
        }
        subscribed_.store(true);
        delay = retry_delay_min;
        reported = false;
        logger_.info("job change feed subscribed");
        if (subscribed_before) {
          metrics::count_client_event(metrics::client_event::redis_reconnect);
        }
        subscribed_before = true;
        // Changes during the gap before this subscription are unknown: everyone reloads.
        notify_all();
        while (true) {
          auto message = connection->receive();
          if (!message) {
            failure = message.error();
            break;
          }
          if (message->is_array() && message->size() == 3 && (*message)[0].text() == "message") {
            dispatch((*message)[1].text(), (*message)[2]);
          }
        }
        subscribed_.store(false);
        if (cache_ != nullptr) {
          cache_->tracking_lost();
        }
        notify_all();
      } else {
        failure = reply ? redis::make_error_code(redis::errc::protocol_error) : reply.error();
      }
      socket_.store(-1);
    } else {
      failure = connection.error();
    }
    if (stopping_.load()) {
      break;
    }
    if (!reported) {
      logger_.warn("job change feed disconnected; reconnecting", {{"error", failure.message()}});
      reported = true;
    }
    std::unique_lock lock(sleep_mutex_);
    sleep_wakeup_.wait_for(lock, delay, [this] { return stopping_.load(); });
    delay = std::min(delay * 2, retry_delay_max);
  }
}

}  // namespace jobgate::gateway
