#include "worker/worker_metrics.hpp"

#include "common/metrics/client_counters.hpp"

namespace jobgate::worker {

worker_metrics::worker_metrics()
    : started_(registry_.add_counter("jobgate_jobs_started_total",
                                     "Job attempts started, by kind; above the jobs finished "
                                     "when attempts were retried or taken over.",
                                     {"kind"})),
      finished_(registry_.add_counter("jobgate_jobs_finished_total",
                                      "Jobs that reached a final state in this worker, by kind "
                                      "and status (DONE, FAILED, CANCELED).",
                                      {"kind", "status"})),
      deferred_(registry_.add_counter("jobgate_jobs_deferred_total",
                                      "Job messages set aside because the job's tenant ran as "
                                      "many jobs of the kind as its cap allows, by kind.",
                                      {"kind"})),
      duration_(registry_.add_histogram("jobgate_job_duration_seconds",
                                        "Run time of the attempt that finished a job, by kind.",
                                        {"kind"}, metrics::latency_bounds())),
      queue_wait_(registry_.add_histogram(
          "jobgate_job_queue_wait_seconds",
          "Time from a job's acceptance to the start of its first attempt, by kind.", {"kind"},
          metrics::latency_bounds())),
      slots_(registry_.add_gauge("jobgate_worker_slots", "Processing slots, by kind.", {"kind"})),
      busy_slots_(registry_.add_gauge("jobgate_worker_busy_slots",
                                      "Processing slots running a job now, by kind.", {"kind"})),
      webhook_attempts_(registry_.add_counter(
          "jobgate_webhook_attempts_total",
          "Webhook delivery attempts by outcome: succeeded, retry, exhausted, gone or dropped.",
          {"outcome"})),
      webhook_seconds_(registry_.add_histogram("jobgate_webhook_attempt_duration_seconds",
                                               "Time from connecting to the response of a webhook "
                                               "attempt.",
                                               {}, metrics::latency_bounds())) {
  registry_.add_collector(metrics::write_client_counters);
}

void worker_metrics::job_started(job_kind kind, std::int64_t attempt,
                                 std::optional<std::chrono::milliseconds> waited) {
  const std::string name(to_string(kind));
  started_.with({name}).increment();
  if (attempt == 1 && waited) {
    queue_wait_.with({name}).observe(std::chrono::duration<double>(*waited).count());
  }
}

void worker_metrics::job_deferred(job_kind kind) {
  deferred_.with({std::string(to_string(kind))}).increment();
}

void worker_metrics::job_finished(job_kind kind, job_status status,
                                  std::chrono::nanoseconds elapsed) {
  const std::string name(to_string(kind));
  finished_.with({name, std::string(to_string(status))}).increment();
  duration_.with({name}).observe(std::chrono::duration<double>(elapsed).count());
}

void worker_metrics::add_slots(job_kind kind, int count) {
  const std::string name(to_string(kind));
  slots_.with({name}).add(count);
  busy_slots_.with({name}).add(0);
  // The series of a kind this worker serves start at 0, so rate() and increase() count the first
  // job after a restart too.
  started_.with({name});
  for (const auto status : {job_status::done, job_status::failed, job_status::canceled}) {
    finished_.with({name, std::string(to_string(status))});
  }
  duration_.with({name});
  queue_wait_.with({name});
}

void worker_metrics::slot_busy(job_kind kind, bool busy) {
  busy_slots_.with({std::string(to_string(kind))}).add(busy ? 1 : -1);
}

worker_slots::kind_slots worker_metrics::slot_usage(job_kind kind) const {
  const std::string name(to_string(kind));
  return {kind, static_cast<std::int64_t>(slots_.with({name}).value()),
          static_cast<std::int64_t>(busy_slots_.with({name}).value())};
}

void worker_metrics::webhook_attempt(std::string_view outcome, std::chrono::milliseconds elapsed) {
  webhook_attempts_.with({std::string(outcome)}).increment();
  webhook_seconds_.with({}).observe(std::chrono::duration<double>(elapsed).count());
}

}  // namespace jobgate::worker
