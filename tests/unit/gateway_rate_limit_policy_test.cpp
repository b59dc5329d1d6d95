#include <catch2/catch.hpp>
#include <string>
#include <tuple>

#include "common/json/json.hpp"
#include "gateway/rate_limit_policy.hpp"

namespace {

namespace json = jobgate::json;
using jobgate::gateway::limit_kind;
using jobgate::gateway::rate_limit_policy;
using jobgate::gateway::rate_limit_state;

}  // namespace

TEST_CASE("rate limit kind by method", "[gateway][ratelimit]") {
  CHECK(jobgate::gateway::limit_kind_for("GET") == limit_kind::read);
  CHECK(jobgate::gateway::limit_kind_for("HEAD") == limit_kind::read);
  CHECK(jobgate::gateway::limit_kind_for("POST") == limit_kind::submit);
  CHECK(jobgate::gateway::limit_kind_for("PUT") == limit_kind::submit);
  CHECK(jobgate::gateway::limit_kind_for("PATCH") == limit_kind::submit);
  CHECK(jobgate::gateway::limit_kind_for("DELETE") == limit_kind::submit);
  CHECK(jobgate::gateway::limit_kind_for("OPTIONS") == limit_kind::submit);
  // Methods are case-sensitive tokens, so "get" is not GET.
  CHECK(jobgate::gateway::limit_kind_for("get") == limit_kind::submit);
  CHECK(jobgate::gateway::to_string(limit_kind::submit) == "submit");
  CHECK(jobgate::gateway::to_string(limit_kind::read) == "read");
}

TEST_CASE("rate limit policy arithmetic", "[gateway][ratelimit]") {
  // rate, burst, interval in µs, window in seconds
  const auto [rate, burst, interval, window] =
      GENERATE(table<std::int64_t, std::int64_t, std::int64_t, std::int64_t>({
          {10, 100, 100'000, 10},
          {10, 10, 100'000, 1},
          {50, 500, 20'000, 10},
          {3, 10, 333'333, 4},
          {1, 1, 1'000'000, 1},
          {100, 1, 10'000, 1},
          {1'000'000, 1'000'000, 1, 1},
      }));
  const rate_limit_policy policy{rate, burst};
  INFO("rate " << rate << " burst " << burst);
  CHECK(policy.enabled());
  CHECK(policy.interval_us() == interval);
  CHECK(policy.window_seconds() == window);
}

TEST_CASE("rate limit policy disabled at zero", "[gateway][ratelimit]") {
  CHECK_FALSE(rate_limit_policy{0, 100}.enabled());
  CHECK_FALSE(rate_limit_policy{}.enabled());
}

TEST_CASE("rate limit wait seconds round up", "[gateway][ratelimit]") {
  CHECK(jobgate::gateway::wait_seconds({true, 7, 0}) == 0);
  CHECK(jobgate::gateway::wait_seconds({true, 0, 1}) == 1);
  CHECK(jobgate::gateway::wait_seconds({true, 0, 100'000}) == 1);
  CHECK(jobgate::gateway::wait_seconds({true, 0, 1'000'000}) == 1);
  CHECK(jobgate::gateway::wait_seconds({true, 0, 1'000'001}) == 2);
  CHECK(jobgate::gateway::wait_seconds({false, 0, 1}) == 1);
  CHECK(jobgate::gateway::wait_seconds({false, 0, 2'500'000}) == 3);
  // A limited request always waits, so its Retry-After is never 0.
  CHECK(jobgate::gateway::wait_seconds({false, 0, 0}) == 1);
}

TEST_CASE("rate limit policy field", "[gateway][ratelimit]") {
  CHECK(jobgate::gateway::policy_field(limit_kind::submit, {10, 100}) == R"("submit";q=100;w=10)");
  CHECK(jobgate::gateway::policy_field(limit_kind::submit, {10, 10}) == R"("submit";q=10;w=1)");
  CHECK(jobgate::gateway::policy_field(limit_kind::read, {50, 500}) == R"("read";q=500;w=10)");
  CHECK(jobgate::gateway::policy_field(limit_kind::read, {3, 10}) == R"("read";q=10;w=4)");
}

TEST_CASE("rate limit state field", "[gateway][ratelimit]") {
  CHECK(jobgate::gateway::state_field(limit_kind::submit, {true, 7, 0}) == R"("submit";r=7;t=0)");
  CHECK(jobgate::gateway::state_field(limit_kind::submit, {true, 0, 40'000}) ==
        R"("submit";r=0;t=1)");
  CHECK(jobgate::gateway::state_field(limit_kind::read, {false, 0, 1'500'000}) ==
        R"("read";r=0;t=2)");
}

TEST_CASE("rate limited problem names the limit", "[gateway][ratelimit]") {
  const auto limited = jobgate::gateway::rate_limited_problem(limit_kind::submit, {10, 100});
  CHECK(limited.kind == jobgate::gateway::problem_kind::rate_limited);
  CHECK(limited.detail ==
        "This API key is over its submit limit of 10 requests per second with bursts of up to "
        "100. Retry after the number of seconds in Retry-After.");

  const auto body = json::parse(jobgate::gateway::problem_body(limited, "/v1/exports"));
  REQUIRE(body.has_value());
  CHECK(json::get_string(*body, "type") == "https://jobgate.dev/problems/rate-limited");
  CHECK(json::get_int(*body, "status") == 429);
  CHECK(json::get_string(*body, "limit") == "submit");
  CHECK(json::get_string(*body, "ratePerSecond") == "10");
  CHECK(json::get_string(*body, "burst") == "100");
  CHECK(json::get_string(*body, "instance") == "/v1/exports");
}
