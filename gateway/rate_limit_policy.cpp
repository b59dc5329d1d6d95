#include "gateway/rate_limit_policy.hpp"

#include <algorithm>

namespace jobgate::gateway {

std::string_view to_string(limit_kind kind) {
  return kind == limit_kind::read ? "read" : "submit";
}

limit_kind limit_kind_for(std::string_view method) {
  return method == "GET" || method == "HEAD" ? limit_kind::read : limit_kind::submit;
}

std::int64_t rate_limit_policy::window_seconds() const {
  return (burst + rate_per_second - 1) / rate_per_second;
}

std::int64_t wait_seconds(const rate_limit_state& state) {
  const std::int64_t seconds = (state.wait_us + 999'999) / 1'000'000;
  return state.allowed ? seconds : std::max<std::int64_t>(seconds, 1);
}

rate_limit_policy policy_for(const tenants::tenant_limits& limits, limit_kind kind) {
  return kind == limit_kind::submit
             ? rate_limit_policy{limits.submit_rate_limit, limits.submit_burst}
             : rate_limit_policy{limits.read_rate_limit, limits.read_burst};
}

std::string policy_field(limit_kind kind, const rate_limit_policy& policy) {
  return "\"" + std::string(to_string(kind)) + "\";q=" + std::to_string(policy.burst) +
         ";w=" + std::to_string(policy.window_seconds());
}

std::string state_field(limit_kind kind, const rate_limit_state& state) {
  return "\"" + std::string(to_string(kind)) + "\";r=" + std::to_string(state.remaining) +
         ";t=" + std::to_string(wait_seconds(state));
}

problem rate_limited_problem(limit_kind kind, const rate_limit_policy& policy) {
  const std::string name(to_string(kind));
  return problem{problem_kind::rate_limited,
                 "This API key is over its " + name + " limit of " +
                     std::to_string(policy.rate_per_second) +
                     " requests per second with bursts of up to " + std::to_string(policy.burst) +
                     ". Retry after the number of seconds in Retry-After."}
      .with("limit", name)
      .with("ratePerSecond", std::to_string(policy.rate_per_second))
      .with("burst", std::to_string(policy.burst));
}

}  // namespace jobgate::gateway
