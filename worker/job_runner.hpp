#pragma once

#include <atomic>

#include "common/blob/blob_store.hpp"
#include "common/json/schema_validator.hpp"
#include "common/kafka/kafka_message.hpp"
#include "common/kafka/kafka_producer.hpp"
#include "common/log/logger.hpp"
#include "common/tracing/trace_context.hpp"
#include "worker/job_liveness.hpp"
#include "worker/job_outcome.hpp"
#include "worker/worker_config.hpp"
#include "worker/worker_metrics.hpp"
#include "worker/worker_store.hpp"

namespace jobgate::worker {

// Takes one job message from its topic to a final state: validates the message, starts a new
// attempt in the store, runs the kind's handler, records the outcome and emits a status event for
// every state change. One runner per consumer thread.
class job_runner {
 public:
  job_runner(const worker_config& config, worker_store& store, blob_store& blobs,
             kafka::kafka_producer& producer, const json::schema_validator& message_schema,
             worker_metrics& metrics, const std::atomic<bool>& stopping);

  // Returns true when the message is finished with and its offset may be committed, false when a
  // transient failure means the same message must be processed again. The attempt is announced
  // on liveness while it runs.
  bool process(const kafka::kafka_message& message, job_liveness& liveness);

 private:
  void dead_letter(const kafka::kafka_message& message, std::string_view reason);
  // Ends a job that was started more than max_attempts times: FAILED with too-many-attempts and
  // its last error, and its message copied to the dead-letter topic. Returns what process() does.
  bool give_up(const kafka::kafka_message& message, const std::string& job_id,
               const std::string& tenant, job_kind kind, std::int64_t attempt,
               const tracing::trace_context& trace, const log::logger& logger);
  // Frees the job's place under its tenant's running-jobs cap and produces the messages of the
  // deferred jobs that take the freed places.
  void free_place(const std::string& job_id, const std::string& tenant, job_kind kind,
                  const log::logger& logger);
  // Produces the messages of jobs promoted from their tenant's deferred jobs.
  void produce_promoted(const std::vector<std::string>& ids, const log::logger& logger);
  // Whether emit_event waits for the broker's acknowledgement. A final event is waited for, so
  // the job message is committed only after its event is stored. The PROCESSING event is not:
  // the job starts at once, and the final event, produced later with the same key, stays behind
  // it on the partition.
  enum class event_delivery { acknowledged, enqueued };
  // Produces the job's status event with the worker's span as its traceparent header.
  void emit_event(const std::string& job_id, const std::string& tenant, job_kind kind,
                  job_status status, std::optional<job_status> previous, std::int64_t attempt,
                  const tracing::trace_context& trace,
                  event_delivery delivery = event_delivery::acknowledged);

  const worker_config& config_;
  worker_store& store_;
  blob_store& blobs_;
  kafka::kafka_producer& producer_;
  const json::schema_validator& message_schema_;
  worker_metrics& metrics_;
  const std::atomic<bool>& stopping_;
};

}  // namespace jobgate::worker
