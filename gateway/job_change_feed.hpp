#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/log/logger.hpp"
#include "common/redis/connection.hpp"
#include "common/redis/redis_endpoint.hpp"
#include "common/redis/reply_view.hpp"
#include "gateway/job_read_cache.hpp"

namespace jobgate::gateway {

// Wakes requests that wait for a job to change (long polls, event streams). The job store's
// scripts publish each changed job id on one Redis channel. A thread of its own keeps the
// subscription and wakes the watches of that id. When the subscription drops, every watch is woken,
// because changes may have been missed; watchers reload the job and compare, so a spurious wake-up
// costs one read.
class job_change_feed {
 public:
  // Woken by changes of one job. Created and awaited on the executor of one coroutine.
  class watch {
   public:
    watch(std::string job_id, boost::asio::any_io_executor executor);

    // Completes when the job changed since the last wait() returned, or after `limit`. Returns
    // true when woken by a change.
    boost::asio::awaitable<bool> wait(std::chrono::steady_clock::duration limit);

    const std::string& job_id() const { return job_id_; }

   private:
    friend class job_change_feed;

    std::string job_id_;
    boost::asio::steady_timer timer_;
    std::atomic<bool> changed_{false};
  };

  // With a cache, the feed also takes Redis's invalidation messages, which report every change of
  // a job's key by any client, drops the entry of each changed job and wakes its watches. Without
  // one, only the scripts' messages wake watches.
  job_change_feed(redis::redis_endpoint endpoint, log::logger logger,
                  job_read_cache* cache = nullptr);
  ~job_change_feed();
  job_change_feed(const job_change_feed&) = delete;
  job_change_feed& operator=(const job_change_feed&) = delete;

  // Starts the subscriber thread.
  void start();
  // Stops the subscriber thread and wakes every watch.
  void stop();

  // Registers a watch on a job; it stays registered until the returned pointer is released.
  std::shared_ptr<watch> watch_job(const std::string& job_id,
                                   boost::asio::any_io_executor executor);

  // True while the subscription is active.
  bool subscribed() const noexcept { return subscribed_.load(); }

 private:
  void run();
  // Turns on broadcast tracking of job keys with this connection as the target of the
  // invalidations. Logs and returns false when Redis rejects it.
  bool start_tracking(redis::connection& connection);
  void dispatch(std::string_view channel, redis::reply_view payload);
  void notify(const std::string& job_id);
  void notify_all();
  static void wake(const std::shared_ptr<watch>& target);

  redis::redis_endpoint endpoint_;
  log::logger logger_;
  job_read_cache* cache_;
  std::mutex mutex_;
  std::unordered_multimap<std::string, std::weak_ptr<watch>> watches_;
  std::thread thread_;
  // Lets stop() cut a reconnect delay short.
  std::mutex sleep_mutex_;
  std::condition_variable sleep_wakeup_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> subscribed_{false};
  std::atomic<int> socket_{-1};
};

}  // namespace jobgate::gateway
