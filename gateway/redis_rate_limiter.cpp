#include "gateway/redis_rate_limiter.hpp"

#include <array>

#include "common/jobs/store_keys.hpp"
#include "common/redis/error.hpp"

namespace jobgate::gateway {

namespace asio = boost::asio;

namespace {

// GCRA on one bucket. KEYS: the bucket. ARGV: emission interval in microseconds, burst.
// The bucket stores the theoretical arrival time (TAT): when the bucket would be full again, in
// microseconds of Redis's clock. A request is allowed unless TAT + interval lies more than
// burst * interval ahead of now. An allowed request moves TAT on by one interval, and the key
// expires when the bucket is full again. A limited request changes nothing.
// Returns {1, remaining, wait} when allowed and {0, 0, wait} when limited, where remaining is the
// requests that may follow at once and wait is the microseconds until the next one is allowed,
// 0 while remaining > 0.
constexpr std::string_view gcra_script = R"lua(
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '') or now
if tat < now then
  tat = now
end
local next_tat = tat + interval
local allowed_from = next_tat - burst * interval
if now < allowed_from then
  return {0, 0, allowed_from - now}
end
redis.call('SET', KEYS[1], string.format('%d', next_tat), 'PX',
           math.ceil((next_tat - now) / 1000))
local remaining = math.floor((now - allowed_from) / interval)
local wait = 0
if remaining == 0 then
  wait = interval - (now - allowed_from)
end
return {1, remaining, wait}
)lua";

}  // namespace

redis_rate_limiter::redis_rate_limiter(redis::async_connection& connection)
    : redis_(connection), script_(gcra_script) {}

asio::awaitable<boost::system::result<rate_limit_state>> redis_rate_limiter::take(
    limit_kind kind, const std::string& partition, const rate_limit_policy& policy) {
  const std::array<std::string, 1> keys = {store_keys::rate_limit(to_string(kind), partition)};
  const std::array<std::string, 2> arguments = {std::to_string(policy.interval_us()),
                                                std::to_string(policy.burst)};
  auto reply = co_await script_.async_run(redis_, std::span<const std::string>(keys),
                                          std::span<const std::string>(arguments));
  if (!reply) {
    co_return reply.error();
  }
  // An error reply or another shape means the script or the server is wrong, not the transport.
  if (!reply->is_array() || reply->size() != 3 || !(*reply)[0].is_integer() ||
      !(*reply)[1].is_integer() || !(*reply)[2].is_integer()) {
    co_return redis::make_error_code(redis::errc::protocol_error);
  }
  rate_limit_state state;
  state.allowed = (*reply)[0].integer() == 1;
  state.remaining = (*reply)[1].integer();
  state.wait_us = (*reply)[2].integer();
  co_return state;
}

}  // namespace jobgate::gateway
