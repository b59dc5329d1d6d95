#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/tenants/tenant_limits.hpp"
#include "gateway/problem.hpp"

namespace jobgate::gateway {

// The request classes that have limits of their own: submissions change state (POST, PUT, PATCH,
// DELETE and any other method), reads do not (GET, HEAD).
enum class limit_kind { submit, read };

// "submit" or "read": the policy name in the RateLimit fields and the metric label value.
std::string_view to_string(limit_kind kind);

// The limit that a request with this method (a case-sensitive token, e.g. "GET") counts against.
limit_kind limit_kind_for(std::string_view method);

// A request rate limit of the generic cell rate algorithm (GCRA): requests arrive at no more than
// rate_per_second on average, and up to `burst` of them at once after a pause long enough to
// refill the bucket.
struct rate_limit_policy {
  std::int64_t rate_per_second = 0;  // 0 disables the limit
  std::int64_t burst = 1;            // requests; at least 1

  bool enabled() const { return rate_per_second > 0; }
  // Microseconds between two requests at the sustained rate: the GCRA emission interval. It is
  // rounded down, so the enforced rate exceeds the setting by less than 1/interval of it (under
  // 0.1% up to 1000 requests per second).
  std::int64_t interval_us() const { return 1'000'000 / rate_per_second; }
  // Seconds in which an empty bucket refills to `burst`, rounded up: the `w` of RateLimit-Policy.
  std::int64_t window_seconds() const;
};

// The limit of `kind` among a tenant's limits.
rate_limit_policy policy_for(const tenants::tenant_limits& limits, limit_kind kind);

// The limiter's verdict on one request.
struct rate_limit_state {
  bool allowed = true;
  // Requests that may follow at once without being limited.
  std::int64_t remaining = 0;
  // Microseconds until the next request is allowed: 0 while remaining > 0.
  std::int64_t wait_us = 0;
};

// Seconds until the next request is allowed, rounded up: the `t` of the RateLimit field, and the
// Retry-After of a limited request (at least 1 there, because a limited request always waits).
std::int64_t wait_seconds(const rate_limit_state& state);

// The RateLimit-Policy field value of a limit, e.g. "submit";q=100;w=10: a burst of q requests
// that refills in w seconds, so a client sending at most q requests in any w seconds is never
// limited.
std::string policy_field(limit_kind kind, const rate_limit_policy& policy);

// The RateLimit field value after a request, e.g. "submit";r=7;t=0.
std::string state_field(limit_kind kind, const rate_limit_state& state);

// The 429 problem of a request over its limit, naming the limit and its value.
problem rate_limited_problem(limit_kind kind, const rate_limit_policy& policy);

}  // namespace jobgate::gateway
