#include "worker/backoff.hpp"

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>

namespace jobgate::worker {

namespace {

constexpr auto backoff_min = std::chrono::milliseconds(200);
constexpr auto backoff_max = std::chrono::milliseconds(10000);

}  // namespace

void sleep_unless_stopping(std::chrono::milliseconds duration, const std::atomic<bool>& stopping) {
  const auto until = std::chrono::steady_clock::now() + duration;
  while (!stopping.load() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void back_off(int failures, const std::atomic<bool>& stopping) {
  static thread_local std::minstd_rand random(std::random_device{}());
  const auto ceiling =
      std::min<std::int64_t>(backoff_max.count(), backoff_min.count() << std::min(failures, 10));
  std::uniform_int_distribution<std::int64_t> pick(ceiling / 2, ceiling);
  sleep_unless_stopping(std::chrono::milliseconds(pick(random)), stopping);
}

std::optional<redis::connection> connect_redis(const redis::redis_endpoint& endpoint,
                                               const std::atomic<bool>& stopping,
                                               const log::logger& logger) {
  for (int failures = 0; !stopping.load(); ++failures) {
    auto connected = redis::connection::connect(endpoint);
    if (connected) {
      return std::move(*connected);
    }
    logger.warn("Redis connection failed; retrying", {{"error", connected.error().message()}});
    back_off(failures, stopping);
  }
  return std::nullopt;
}

}  // namespace jobgate::worker
