#include "gateway/redis_quota_counter.hpp"

#include <array>

#include "common/jobs/store_keys.hpp"
#include "common/redis/error.hpp"

namespace jobgate::gateway {

namespace asio = boost::asio;

namespace {

// Counts `amount` against a daily quota. KEYS: the key prefix of store_keys::daily_quota_prefix,
// to which the script appends the day. The key is therefore not declared in full, which a single
// Redis allows. ARGV: amount, limit, and optionally the time in Unix seconds
// in place of Redis's clock.
// The day is the UTC calendar date of the time, found with the days-to-civil-date conversion of
// the proleptic Gregorian calendar (400-year eras of 146097 days, years starting on 1 March).
// A count that would pass the limit changes nothing. An allowed one adds the amount and makes the
// key expire when the day ends.
// Returns {allowed (1 or 0), used, day as YYYYMMDD, seconds until the day ends, end of the day
// in Unix seconds}, where used includes the amount only when allowed.
constexpr std::string_view take_script = R"lua(
local amount = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local now = tonumber(ARGV[3] or '')
if not now then
  now = tonumber(redis.call('TIME')[1])
end
local days = math.floor(now / 86400)
local day_end = (days + 1) * 86400
local shifted = days + 719468
local era = math.floor(shifted / 146097)
local day_of_era = shifted - era * 146097
local year_of_era = math.floor((day_of_era - math.floor(day_of_era / 1460) +
  math.floor(day_of_era / 36524) - math.floor(day_of_era / 146096)) / 365)
local day_of_year = day_of_era -
  (365 * year_of_era + math.floor(year_of_era / 4) - math.floor(year_of_era / 100))
local month_from_march = math.floor((5 * day_of_year + 2) / 153)
local day_of_month = day_of_year - math.floor((153 * month_from_march + 2) / 5) + 1
local month = month_from_march + 3
if month > 12 then
  month = month - 12
end
local year = year_of_era + era * 400
if month <= 2 then
  year = year + 1
end
local day = string.format('%04d%02d%02d', year, month, day_of_month)
local key = KEYS[1] .. day
local used = tonumber(redis.call('GET', key) or '0')
if used + amount > limit then
  return {0, used, day, day_end - now, day_end}
end
used = redis.call('INCRBY', key, amount)
redis.call('EXPIRE', key, day_end - now)
return {1, used, day, day_end - now, day_end}
)lua";

// Subtracts ARGV[1] from the count in KEYS[1] when the key still exists, and removes the key when
// nothing is left. Returns the count left.
constexpr std::string_view give_back_script = R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
local left = redis.call('DECRBY', KEYS[1], ARGV[1])
if left <= 0 then
  redis.call('DEL', KEYS[1])
  return 0
end
return left
)lua";

}  // namespace

redis_quota_counter::redis_quota_counter(redis::async_connection& connection)
    : redis_(connection), take_script_(take_script), give_back_script_(give_back_script) {}

asio::awaitable<boost::system::result<quota_usage>> redis_quota_counter::take(
    const std::string& tenant, const quota_request& request, std::int64_t limit) {
  co_return co_await take_at(tenant, request, limit, std::nullopt);
}

asio::awaitable<boost::system::result<quota_usage>> redis_quota_counter::take_at(
    const std::string& tenant, const quota_request& request, std::int64_t limit,
    std::optional<std::int64_t> now_seconds) {
  const std::array<std::string, 1> keys = {
      store_keys::daily_quota_prefix(tenant, to_string(request.quota))};
  std::vector<std::string> arguments = {std::to_string(request.amount), std::to_string(limit)};
  if (now_seconds) {
    arguments.push_back(std::to_string(*now_seconds));
  }
  auto reply = co_await take_script_.async_run(redis_, std::span<const std::string>(keys),
                                               std::span<const std::string>(arguments));
  if (!reply) {
    co_return reply.error();
  }
  // An error reply or another shape means the script or the server is wrong, not the transport.
  if (!reply->is_array() || reply->size() != 5 || !(*reply)[0].is_integer() ||
      !(*reply)[1].is_integer() || !(*reply)[2].is_string() || !(*reply)[3].is_integer() ||
      !(*reply)[4].is_integer()) {
    co_return redis::make_error_code(redis::errc::protocol_error);
  }
  quota_usage usage;
  usage.allowed = (*reply)[0].integer() == 1;
  usage.used = (*reply)[1].integer();
  usage.day = std::string((*reply)[2].text());
  usage.reset_in_seconds = (*reply)[3].integer();
  usage.resets_at = (*reply)[4].integer();
  co_return usage;
}

asio::awaitable<boost::system::result<void>> redis_quota_counter::give_back(
    const std::string& tenant, const quota_request& request, const std::string& day) {
  const std::array<std::string, 1> keys = {
      store_keys::daily_quota(tenant, to_string(request.quota), day)};
  const std::array<std::string, 1> arguments = {std::to_string(request.amount)};
  auto reply = co_await give_back_script_.async_run(redis_, std::span<const std::string>(keys),
                                                    std::span<const std::string>(arguments));
  if (!reply) {
    co_return reply.error();
  }
  if (!reply->is_integer()) {
    co_return redis::make_error_code(redis::errc::protocol_error);
  }
  co_return boost::system::result<void>{};
}

}  // namespace jobgate::gateway
