#pragma once

#include <atomic>
#include <chrono>
#include <optional>

#include "common/log/logger.hpp"
#include "common/redis/connection.hpp"
#include "common/redis/redis_endpoint.hpp"

namespace jobgate::worker {

// Sleeps for `duration`, checking every 50 ms whether the worker stops and returning early then.
void sleep_unless_stopping(std::chrono::milliseconds duration, const std::atomic<bool>& stopping);

// Sleeps for an exponential backoff with jitter after `failures` failures in a row (200 ms
// doubling up to 10 s, then a random value from half of it up to all of it), waking early when
// the worker stops.
void back_off(int failures, const std::atomic<bool>& stopping);

// Connects to Redis, retrying with back_off until it succeeds or the worker stops (nullopt).
std::optional<redis::connection> connect_redis(const redis::redis_endpoint& endpoint,
                                               const std::atomic<bool>& stopping,
                                               const log::logger& logger);

}  // namespace jobgate::worker
