#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/jobs/job.hpp"
#include "common/jobs/worker_slots.hpp"
#include "common/metrics/metrics_registry.hpp"

namespace jobgate::worker {

// The worker's Prometheus metrics, served at GET /metrics on --metrics-port. Thread-safe.
class worker_metrics {
 public:
  worker_metrics();

  // A job attempt started; the first attempt also records how long the job waited since it was
  // accepted.
  void job_started(job_kind kind, std::int64_t attempt,
                   std::optional<std::chrono::milliseconds> waited);
  // A job waits in its tenant's deferred jobs, because the tenant is at its running-jobs cap.
  void job_deferred(job_kind kind);
  // A job reached DONE, FAILED or CANCELED in this worker after running for `elapsed`.
  void job_finished(job_kind kind, job_status status, std::chrono::nanoseconds elapsed);
  // Processing slots of a kind, and one slot starting or ending a job.
  void add_slots(job_kind kind, int count);
  void slot_busy(job_kind kind, bool busy);
  // The slots of a kind and how many of them run a job now.
  worker_slots::kind_slots slot_usage(job_kind kind) const;
  // One webhook attempt with its outcome (succeeded, retry, exhausted, gone, dropped).
  void webhook_attempt(std::string_view outcome, std::chrono::milliseconds elapsed);

  // Adds families computed at scrape time, such as consumer lag.
  void add_collector(std::function<void(metrics::exposition&)> collector) {
    registry_.add_collector(std::move(collector));
  }

  std::string render() const { return registry_.render(); }

 private:
  metrics::registry registry_;
  metrics::family<metrics::counter>& started_;
  metrics::family<metrics::counter>& finished_;
  metrics::family<metrics::counter>& deferred_;
  metrics::family<metrics::histogram>& duration_;
  metrics::family<metrics::histogram>& queue_wait_;
  metrics::family<metrics::gauge>& slots_;
  metrics::family<metrics::gauge>& busy_slots_;
  metrics::family<metrics::counter>& webhook_attempts_;
  metrics::family<metrics::histogram>& webhook_seconds_;
};

}  // namespace jobgate::worker
