#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <thread>

#include "async_redis_fixture.hpp"
#include "common/jobs/store_keys.hpp"
#include "common/redis/connection.hpp"
#include "gateway/redis_quota_counter.hpp"
#include "redis_test_server.hpp"

// The daily quota scripts of the gateway against a real Redis: counting and rejection, the UTC day
// taken from an explicit clock and from Redis's own, the reset at 00:00:00 UTC, key expiry, and
// giving a count back. Tenant names are unique per test.

namespace {

namespace redis = jobgate::redis;
namespace store_keys = jobgate::store_keys;
using namespace std::chrono_literals;
using jobgate::gateway::daily_quota;
using jobgate::gateway::quota_request;
using jobgate::gateway::quota_usage;
using jobgate::gateway::redis_quota_counter;

using async_counter = jobgate::test::async_redis_fixture<redis_quota_counter>;

// 2025-12-31T23:59:59Z and the second after it.
constexpr std::int64_t last_second_of_2025 = 1'767'225'599;
constexpr std::int64_t first_second_of_2026 = 1'767'225'600;

struct fixture {
  async_counter counter;
  redis::connection connection = jobgate::test::connect_shared_redis();
  std::string tenant = jobgate::test::unique_name("quota-tenant");

  quota_usage take(daily_quota quota, std::int64_t amount, std::int64_t limit,
                   std::optional<std::int64_t> now = std::nullopt) {
    const quota_request request{quota, amount};
    auto usage = counter.run(
        [&](redis_quota_counter& target) { return target.take_at(tenant, request, limit, now); });
    REQUIRE(usage.has_value());
    return *usage;
  }

  void give_back(daily_quota quota, std::int64_t amount, const std::string& day) {
    const quota_request request{quota, amount};
    auto returned = counter.run(
        [&](redis_quota_counter& target) { return target.give_back(tenant, request, day); });
    REQUIRE(returned.has_value());
  }

  std::string key(daily_quota quota, std::string_view day) const {
    return store_keys::daily_quota(tenant, jobgate::gateway::to_string(quota), day);
  }

  std::optional<std::string> stored(daily_quota quota, std::string_view day) {
    auto reply = connection.command({"GET", key(quota, day)});
    REQUIRE(reply.has_value());
    if (reply->is_nil()) {
      return std::nullopt;
    }
    return std::string(reply->text());
  }

  long long ttl(daily_quota quota, std::string_view day) {
    auto reply = connection.command({"TTL", key(quota, day)});
    REQUIRE(reply.has_value());
    REQUIRE(reply->is_integer());
    return reply->integer();
  }
};

}  // namespace

TEST_CASE("quota counts and rejects", "[quotas][redis]") {
  fixture f;
  const std::int64_t noon = 1'709'208'000;  // 2024-02-29T12:00:00Z

  const auto first = f.take(daily_quota::rows, 3, 5, noon);
  CHECK(first.allowed);
  CHECK(first.used == 3);
  CHECK(first.day == "20240229");
  const auto second = f.take(daily_quota::rows, 2, 5, noon);
  CHECK(second.allowed);
  CHECK(second.used == 5);

  // A rejected use adds nothing and reports the count so far.
  const auto rejected = f.take(daily_quota::rows, 1, 5, noon);
  CHECK_FALSE(rejected.allowed);
  CHECK(rejected.used == 5);
  CHECK(f.stored(daily_quota::rows, "20240229") == "5");

  // The other quota of the tenant counts apart.
  const auto exports = f.take(daily_quota::exports, 1, 1, noon);
  CHECK(exports.allowed);
  CHECK(exports.used == 1);
  CHECK_FALSE(f.take(daily_quota::exports, 1, 1, noon).allowed);
  CHECK(f.stored(daily_quota::rows, "20240229") == "5");
}

TEST_CASE("quota rejects amount above limit", "[quotas][redis]") {
  fixture f;
  const auto rejected = f.take(daily_quota::rows, 11, 10, last_second_of_2025);
  CHECK_FALSE(rejected.allowed);
  CHECK(rejected.used == 0);
  CHECK_FALSE(f.stored(daily_quota::rows, "20251231").has_value());
}

TEST_CASE("quota day of explicit clock", "[quotas][redis]") {
  struct day_case {
    std::int64_t now;
    std::string_view day;
  };
  const day_case cases[] = {
      // The epoch, and a leap day of a year divisible by 400.
      {0, "19700101"},
      {951'782'400, "20000229"},
      // 2100 is no leap year, so 1 March follows 28 February.
      {4'107'542'399, "21000228"},
      {4'107'542'400, "21000301"},
      {last_second_of_2025, "20251231"},
      {first_second_of_2026, "20260101"},
  };
  for (const auto& item : cases) {
    INFO("now " << item.now);
    fixture f;
    const auto usage = f.take(daily_quota::exports, 1, 10, item.now);
    CHECK(usage.day == item.day);
    CHECK(usage.resets_at == (item.now / 86400 + 1) * 86400);
    CHECK(usage.reset_in_seconds == usage.resets_at - item.now);
  }
}

TEST_CASE("quota resets at midnight UTC", "[quotas][redis]") {
  fixture f;
  const auto late = f.take(daily_quota::exports, 2, 2, last_second_of_2025);
  CHECK(late.allowed);
  const auto rejected = f.take(daily_quota::exports, 1, 2, last_second_of_2025);
  CHECK_FALSE(rejected.allowed);
  // Retry-After is the one second left of the day.
  CHECK(rejected.reset_in_seconds == 1);
  CHECK(rejected.resets_at == first_second_of_2026);

  const auto next_day = f.take(daily_quota::exports, 1, 2, first_second_of_2026);
  CHECK(next_day.allowed);
  CHECK(next_day.used == 1);
  CHECK(next_day.day == "20260101");
  CHECK(next_day.reset_in_seconds == 86400);
  CHECK(f.stored(daily_quota::exports, "20260101") == "1");
}

TEST_CASE("quota key expires when the day ends", "[quotas][redis]") {
  fixture f;
  // At 23:59:59 of the explicit clock the key has one second to live.
  f.take(daily_quota::rows, 4, 10, last_second_of_2025);
  CHECK(f.ttl(daily_quota::rows, "20251231") == 1);
  std::this_thread::sleep_for(1100ms);
  CHECK_FALSE(f.stored(daily_quota::rows, "20251231").has_value());

  // With Redis's clock, the key is that of today and lives until the next 00:00:00 UTC.
  const auto today = f.take(daily_quota::rows, 1, 10);
  auto time = f.connection.command({"TIME"});
  REQUIRE(time.has_value());
  const std::int64_t now = std::stoll(std::string((*time)[0].text()));
  const std::chrono::year_month_day date{
      std::chrono::floor<std::chrono::days>(std::chrono::sys_seconds(std::chrono::seconds(now)))};
  char expected_day[16];
  std::snprintf(expected_day, sizeof expected_day, "%04d%02u%02u", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  // The TIME call may fall into the next day when the take ran just before midnight.
  if (today.day == expected_day) {
    const long long left = f.ttl(daily_quota::rows, today.day);
    CHECK(left > 0);
    CHECK(left <= (now / 86400 + 1) * 86400 - now + 1);
    CHECK(left >= today.reset_in_seconds - 2);
  }
}

TEST_CASE("quota gives a count back", "[quotas][redis]") {
  fixture f;
  const std::int64_t noon = 1'709'208'000;
  f.take(daily_quota::rows, 3, 10, noon);
  f.take(daily_quota::rows, 4, 10, noon);
  f.give_back(daily_quota::rows, 4, "20240229");
  CHECK(f.stored(daily_quota::rows, "20240229") == "3");
  f.give_back(daily_quota::rows, 3, "20240229");
  CHECK_FALSE(f.stored(daily_quota::rows, "20240229").has_value());

  // A day whose count expired stays without a key.
  f.give_back(daily_quota::rows, 3, "20240228");
  CHECK_FALSE(f.stored(daily_quota::rows, "20240228").has_value());
}
