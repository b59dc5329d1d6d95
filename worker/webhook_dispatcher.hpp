#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>
#include <cstddef>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "common/log/logger.hpp"
#include "common/redis/async_connection.hpp"
#include "worker/webhook_sender.hpp"
#include "worker/worker_config.hpp"
#include "worker/worker_metrics.hpp"

namespace jobgate::worker {

// Sends pending webhook deliveries. Any number of dispatchers, in one process or many, share the
// sorted set of due deliveries. Each claims a batch atomically, which hides it from the others for
// a while, and sends each delivery signed with the subscription's secrets. It then records the
// attempt, which makes the delivery succeeded, failed, or due again after the retry schedule's next
// delay. A dispatcher that dies leaves its claims due again once the hold runs out.
//
// Runs on one thread: run() and the deliveries it starts share the caller's executor.
class webhook_dispatcher {
 public:
  webhook_dispatcher(const worker_config& config, redis::async_connection& redis,
                     const webhook_sender& sender, worker_metrics& metrics);

  // Claims and sends deliveries until stopping becomes true, then waits up to `drain` for the
  // deliveries in flight.
  boost::asio::awaitable<void> run(const std::atomic<bool>& stopping,
                                   std::chrono::milliseconds drain);

 private:
  using fields = std::map<std::string, std::string, std::less<>>;

  boost::asio::awaitable<boost::system::result<std::vector<std::string>>> claim(
      std::size_t max_count);
  boost::asio::awaitable<boost::system::result<fields>> read_hash(const std::string& key);
  boost::asio::awaitable<void> deliver(std::string id);
  boost::asio::awaitable<void> record(const std::string& id, const std::string& subscription_key,
                                      std::string_view outcome, const std::string& attempt,
                                      int status_code, const std::string& error,
                                      std::int64_t next_attempt_at);

  const worker_config& config_;
  redis::async_connection& redis_;
  const webhook_sender& sender_;
  worker_metrics& metrics_;
  log::logger logger_;
  std::minstd_rand random_;
  std::size_t in_flight_ = 0;
  // Attempts in flight per target: a subscription id, or host:port of a callback URL.
  std::map<std::string, std::size_t> in_flight_per_target_;
};

}  // namespace jobgate::worker
