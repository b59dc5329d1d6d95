#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "async_redis_fixture.hpp"
#include "common/jobs/store_keys.hpp"
#include "common/redis/connection.hpp"
#include "gateway/redis_rate_limiter.hpp"
#include "redis_test_server.hpp"

// The GCRA script of the gateway's rate limiter against a real Redis, driven on an io_context as
// the gateway drives it. The tests cover burst and remaining counts, refill at the configured
// rate, the wait that becomes Retry-After and the expiry of full buckets. One bucket shared by two
// connections stands for two gateway replicas. API key digests are unique per test.

namespace {

namespace redis = jobgate::redis;
namespace store_keys = jobgate::store_keys;
using namespace std::chrono_literals;
using jobgate::gateway::limit_kind;
using jobgate::gateway::rate_limit_policy;
using jobgate::gateway::rate_limit_state;
using jobgate::gateway::redis_rate_limiter;

using async_limiter = jobgate::test::async_redis_fixture<redis_rate_limiter>;

struct fixture {
  async_limiter limiter;
  redis::connection connection = jobgate::test::connect_shared_redis();
  std::string partition = jobgate::test::unique_name("rl-key");

  rate_limit_state take(const rate_limit_policy& policy, limit_kind kind = limit_kind::submit) {
    auto state = limiter.run(
        [&](redis_rate_limiter& target) { return target.take(kind, partition, policy); });
    REQUIRE(state.has_value());
    return *state;
  }

  std::string bucket(limit_kind kind = limit_kind::submit) const {
    return store_keys::rate_limit(jobgate::gateway::to_string(kind), partition);
  }

  // The time on Redis's clock, in microseconds.
  long long redis_now_us() {
    auto clock = connection.command("TIME");
    REQUIRE(clock.has_value());
    REQUIRE(clock->size() == 2);
    return std::stoll(std::string((*clock)[0].text())) * 1'000'000 +
           std::stoll(std::string((*clock)[1].text()));
  }
};

}  // namespace

TEST_CASE("rate limiter counts down a burst", "[ratelimit][redis]") {
  fixture f;
  const rate_limit_policy policy{1, 5};

  for (std::int64_t expected = 4; expected >= 0; --expected) {
    const auto state = f.take(policy);
    INFO("request " << 5 - expected);
    CHECK(state.allowed);
    CHECK(state.remaining == expected);
    if (expected > 0) {
      CHECK(state.wait_us == 0);
    }
  }

  // The bucket is full again 5 intervals after the first request, by Redis's clock.
  auto stored = f.connection.command("GET", f.bucket());
  REQUIRE(stored.has_value());
  const long long full_at = std::stoll(std::string(stored->text()));
  const long long now = f.redis_now_us();
  CHECK(full_at > now + 4'000'000);
  CHECK(full_at <= now + 5'000'000);
  auto ttl = f.connection.command("PTTL", f.bucket());
  REQUIRE(ttl.has_value());
  CHECK(ttl->integer() > 4000);
  CHECK(ttl->integer() <= 5000);

  // A limited request takes nothing and leaves the bucket as it was.
  const auto limited = f.take(policy);
  CHECK_FALSE(limited.allowed);
  CHECK(limited.remaining == 0);
  CHECK(limited.wait_us > 0);
  CHECK(limited.wait_us <= 1'000'000);
  auto after = f.connection.command("GET", f.bucket());
  REQUIRE(after.has_value());
  CHECK(after->text() == stored->text());
}

TEST_CASE("rate limiter wait becomes retry after", "[ratelimit][redis]") {
  fixture f;
  const rate_limit_policy policy{2, 1};

  const auto first = f.take(policy);
  CHECK(first.allowed);
  CHECK(first.remaining == 0);
  // The request took the only token, so the next one waits up to one interval of 500 ms.
  CHECK(first.wait_us > 0);
  CHECK(first.wait_us <= 500'000);
  CHECK(jobgate::gateway::wait_seconds(first) == 1);

  const auto limited = f.take(policy);
  CHECK_FALSE(limited.allowed);
  CHECK(limited.wait_us > 0);
  CHECK(limited.wait_us <= first.wait_us);
  // 500 ms or less rounds up to a whole second of Retry-After.
  CHECK(jobgate::gateway::wait_seconds(limited) == 1);

  std::this_thread::sleep_for(std::chrono::microseconds(limited.wait_us) + 20ms);
  const auto again = f.take(policy);
  CHECK(again.allowed);
}

TEST_CASE("rate limiter refills at its rate", "[ratelimit][redis]") {
  fixture f;
  // Two requests per second, bursts of 4.
  const rate_limit_policy policy{2, 4};
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 4; ++i) {
    CHECK(f.take(policy).allowed);
  }
  CHECK_FALSE(f.take(policy).allowed);

  // After 1.25 s the bucket contains two requests again, and the third waits.
  std::this_thread::sleep_until(started + 1250ms);
  int allowed = 0;
  while (f.take(policy).allowed && allowed < 10) {
    ++allowed;
  }
  const auto elapsed = std::chrono::steady_clock::now() - started;
  CHECK(allowed >= 2);
  // A slow machine may pass the next interval boundary before the loop ends.
  if (elapsed < 1500ms) {
    CHECK(allowed == 2);
  } else {
    CHECK(allowed <=
          2 + std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() / 500);
  }
}

TEST_CASE("rate limiter full bucket expires", "[ratelimit][redis]") {
  fixture f;
  const rate_limit_policy policy{10, 2};
  CHECK(f.take(policy).allowed);
  auto ttl = f.connection.command("PTTL", f.bucket());
  REQUIRE(ttl.has_value());
  CHECK(ttl->integer() > 0);
  CHECK(ttl->integer() <= 100);

  std::this_thread::sleep_for(300ms);
  auto exists = f.connection.command("EXISTS", f.bucket());
  REQUIRE(exists.has_value());
  CHECK(exists->integer() == 0);
  const auto fresh = f.take(policy);
  CHECK(fresh.allowed);
  CHECK(fresh.remaining == 1);
}

TEST_CASE("rate limiter separates kinds and keys", "[ratelimit][redis]") {
  fixture f;
  const rate_limit_policy policy{1, 2};
  CHECK(f.take(policy, limit_kind::submit).allowed);
  CHECK(f.take(policy, limit_kind::submit).allowed);
  CHECK_FALSE(f.take(policy, limit_kind::submit).allowed);

  const auto read = f.take(policy, limit_kind::read);
  CHECK(read.allowed);
  CHECK(read.remaining == 1);

  const std::string first_partition = f.partition;
  f.partition = jobgate::test::unique_name("rl-other");
  const auto other_key = f.take(policy, limit_kind::submit);
  CHECK(other_key.allowed);
  CHECK(other_key.remaining == 1);
  CHECK(f.bucket() != store_keys::rate_limit("submit", first_partition));
}

TEST_CASE("rate limiter shared by two connections", "[ratelimit][redis]") {
  // Two connections with their own io threads stand for two gateway replicas on one Redis.
  fixture f;
  async_limiter second;
  const rate_limit_policy policy{1, 10};

  int allowed = 0;
  std::int64_t expected_remaining = 9;
  for (int i = 0; i < 20; ++i) {
    async_limiter& replica = i % 2 == 0 ? f.limiter : second;
    auto state = replica.run([&](redis_rate_limiter& target) {
      return target.take(limit_kind::submit, f.partition, policy);
    });
    REQUIRE(state.has_value());
    INFO("request " << i);
    if (state->allowed) {
      ++allowed;
      // The burst counts down across both connections; a refill after it starts again at 0.
      if (allowed <= 10) {
        CHECK(state->remaining == expected_remaining);
        --expected_remaining;
      }
    }
  }
  // Twenty requests within a second of a one-per-second limit: the burst, and at most one refill.
  CHECK(allowed >= 10);
  CHECK(allowed <= 11);
}

TEST_CASE("rate limiter reloads flushed script", "[ratelimit][redis]") {
  fixture f;
  const rate_limit_policy policy{5, 5};
  CHECK(f.take(policy).allowed);
  // After SCRIPT FLUSH, EVALSHA fails with NOSCRIPT and the script is sent again.
  auto flushed = f.connection.command("SCRIPT", "FLUSH");
  REQUIRE(flushed.has_value());
  const auto state = f.take(policy);
  CHECK(state.allowed);
  CHECK(state.remaining >= 3);
}
