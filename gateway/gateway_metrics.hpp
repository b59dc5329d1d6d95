#pragma once

#include <boost/beast/http/status.hpp>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/jobs/job.hpp"
#include "common/metrics/metrics_registry.hpp"
#include "gateway/job_repository.hpp"
#include "gateway/rate_limit_policy.hpp"

namespace jobgate::gateway {

// The gateway's Prometheus metrics, served at GET /metrics.
class gateway_metrics {
 public:
  gateway_metrics();

  // Counts a finished request and its latency under the route template of `path`.
  void record_request(std::string_view method, std::string_view path,
                      boost::beast::http::status status, std::chrono::nanoseconds elapsed);
  // Counts a job that got 202 Accepted.
  void record_submission(job_kind kind);
  // Counts a request that got 429 because its API key was over the limit of `kind`.
  void record_rate_limited(const std::string& tenant, limit_kind kind);
  // Creates the series of record_rate_limited for these tenants and both limits at 0, so that
  // increase() also counts a tenant's first 429 after a restart.
  void start_rate_limited_series(const std::vector<std::string>& tenants);

  // Adds families computed at scrape time, such as consumer lag.
  void add_collector(std::function<void(metrics::exposition&)> collector) {
    registry_.add_collector(std::move(collector));
  }

  std::string render() const { return registry_.render(); }
  // Every family, then the Redis-wide job totals of this scrape, or only
  // jobgate_job_totals_up 0 when reading them failed.
  std::string render(
      const boost::system::result<std::map<job_kind, job_kind_totals>>& totals) const;

 private:
  metrics::registry registry_;
  metrics::family<metrics::counter>& requests_;
  metrics::family<metrics::histogram>& request_seconds_;
  metrics::family<metrics::counter>& submitted_;
  metrics::family<metrics::counter>& rate_limited_;

  // The counter and histogram of one route template, method and status.
  struct request_series {
    metrics::counter* requests;
    metrics::histogram* seconds;
  };
  std::mutex request_series_mutex_;
  // Keyed by "ROUTE METHOD STATUS". Route templates keep the number of keys bounded.
  std::unordered_map<std::string, request_series> request_series_;
};

// The route a path matches with its variable segments replaced ("/v1/imports/{id}/errors"), or
// "other", so the route label has a bounded number of values.
std::string route_template(std::string_view path);

}  // namespace jobgate::gateway
