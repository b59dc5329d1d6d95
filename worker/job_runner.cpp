#include "worker/job_runner.hpp"

#include "common/clock.hpp"
#include "common/jobs/job_event.hpp"
#include "worker/export_job.hpp"
#include "worker/import_job.hpp"
#include "worker/job_context.hpp"

namespace jobgate::worker {

namespace {

constexpr auto event_timeout = std::chrono::seconds(10);
constexpr std::string_view dead_letter_topic = "jobgate.dead-letter";

}  // namespace

std::optional<job_outcome> stop_reason(const worker_store::change_result& change) {
  switch (change.outcome) {
    case worker_store::verdict::ok:
      return std::nullopt;
    case worker_store::verdict::terminal:
      return change.status == job_status::canceled ? job_outcome::canceled()
                                                   : job_outcome::superseded();
    case worker_store::verdict::fenced:
    case worker_store::verdict::missing:
      return job_outcome::superseded();
    case worker_store::verdict::stale:
      return job_outcome::retry("the stored checkpoint moved; the import starts again from it");
  }
  return std::nullopt;
}

job_runner::job_runner(const worker_config& config, worker_store& store, blob_store& blobs,
                       kafka::kafka_producer& producer,
                       const json::schema_validator& message_schema, worker_metrics& metrics,
                       const std::atomic<bool>& stopping)
    : config_(config),
      store_(store),
      blobs_(blobs),
      producer_(producer),
      message_schema_(message_schema),
      metrics_(metrics),
      stopping_(stopping) {}

void job_runner::dead_letter(const kafka::kafka_message& message, std::string_view reason) {
  kafka::kafka_headers headers = {
      {"jobgate-reason", std::string(reason)},
      {"jobgate-source", message.topic + "/" + std::to_string(message.partition) + "/" +
                             std::to_string(message.offset)}};
  if (const auto traceparent = message.header("traceparent"); !traceparent.empty()) {
    headers.push_back({"traceparent", std::string(traceparent)});
  }
  auto sent =
      producer_.produce_sync(dead_letter_topic, message.key, message.value, headers, event_timeout);
  if (!sent) {
    log::logger{}.error(
        "dead-letter produce failed",
        {{"topic", message.topic}, {"offset", message.offset}, {"error", sent.error().message()}});
  }
}

void job_runner::emit_event(const std::string& job_id, const std::string& tenant, job_kind kind,
                            job_status status, std::optional<job_status> previous,
                            std::int64_t attempt, const tracing::trace_context& trace,
                            event_delivery delivery) {
  const std::string body =
      to_json(make_job_event(job_id, tenant, kind, status, previous, attempt, now_millis()));
  const kafka::kafka_headers headers = {{"content-type", "application/json"},
                                        {"traceparent", trace.header()}};
  // The delivery callback runs later on the producer's poll thread, so it owns its copies.
  const auto log_failure = [job_id, status](const std::error_code& error) {
    log::logger{}
        .with("job_id", job_id)
        .error("status event produce failed",
               {{"status", to_string(status)}, {"error", error.message()}});
  };
  if (delivery == event_delivery::enqueued) {
    const std::error_code enqueued =
        producer_.produce(job_events_topic, job_id, body, headers,
                          [log_failure](const kafka::kafka_delivery& delivered) {
                            if (delivered.error) {
                              log_failure(delivered.error);
                            }
                          });
    if (enqueued) {
      log_failure(enqueued);
    }
    return;
  }
  auto sent = producer_.produce_sync(job_events_topic, job_id, body, headers, event_timeout);
  if (!sent) {
    log_failure(sent.error());
  }
}

bool job_runner::process(const kafka::kafka_message& message, job_liveness& liveness) {
  auto parsed = json::parse(message.value);
  if (!parsed) {
    log::logger{}.error("job message is not JSON; sent to the dead-letter topic",
                        {{"topic", message.topic}, {"offset", message.offset}});
    dead_letter(message, "invalid JSON: " + parsed.error().message);
    return true;
  }
  if (auto valid = message_schema_.validate(*parsed); !valid) {
    log::logger{}.error(
        "job message does not match its schema; sent to the dead-letter topic",
        {{"topic", message.topic}, {"offset", message.offset}, {"error", valid.error().message}});
    dead_letter(message, valid.error().message);
    return true;
  }

  const std::string job_id(json::get_string(*parsed, "jobId").value_or(""));
  const std::string tenant(json::get_string(*parsed, "tenant").value_or(""));
  const job_kind kind =
      parse_job_kind(json::get_string(*parsed, "kind").value_or("")).value_or(job_kind::imports);
  // The worker's span continues the trace of the submitting request when the message carries one.
  const auto trace = tracing::continue_or_start(message.header("traceparent"));
  const log::logger logger = log::logger{}
                                 .with("job_id", job_id)
                                 .with("tenant", tenant)
                                 .with("trace_id", trace.trace_id());

  auto admitted = store_.admit(job_id, tenant, kind, config_.limits.running_cap(kind));
  if (!admitted) {
    logger.warn("job admission failed; retrying", {{"error", admitted.error().message()}});
    return false;
  }
  produce_promoted(admitted->promoted, logger);
  if (!admitted->run) {
    logger.info("job deferred: its tenant runs as many jobs of this kind as its cap allows",
                {{"kind", to_string(kind)},
                 {"cap", admitted->cap},
                 {"queue_position", admitted->position}});
    metrics_.job_deferred(kind);
    return true;
  }

  auto started = store_.start(job_id, config_.lease_ms);
  if (!started) {
    logger.warn("job start failed; retrying", {{"error", started.error().message()}});
    return false;
  }
  if (started->outcome == worker_store::verdict::missing) {
    logger.warn("job message for a job the store does not have; skipped");
    return true;
  }
  if (started->outcome == worker_store::verdict::terminal) {
    // A worker that died between finishing the job and emitting its event left the message
    // uncommitted, so the event goes out now. Its id is fixed, so a repeat is dropped downstream.
    logger.info("job already final; message skipped", {{"status", to_string(started->status)}});
    emit_event(job_id, tenant, kind, started->status, std::nullopt, started->attempt, trace);
    free_place(job_id, tenant, kind, logger);
    return true;
  }
  const std::int64_t attempt = started->attempt;
  liveness.begin(job_id, attempt);
  struct lease_release {
    job_liveness& liveness;
    ~lease_release() { liveness.end(); }
  } release{liveness};
  if (attempt > config_.max_attempts) {
    return give_up(message, job_id, tenant, kind, attempt, trace, logger);
  }
  logger.info("job started", {{"kind", to_string(kind)}, {"attempt", attempt}});
  const auto created_at = parse_timestamp(json::get_string(*parsed, "createdAt").value_or(""));
  metrics_.job_started(kind, attempt,
                       created_at ? std::optional(std::chrono::milliseconds(
                                        std::max<std::int64_t>(0, now_millis() - *created_at)))
                                  : std::nullopt);
  emit_event(job_id, tenant, kind, job_status::processing,
             attempt == 1 ? std::optional(job_status::pending) : std::nullopt, attempt, trace,
             event_delivery::enqueued);
  liveness.beat();

  const json::value& request = *json::get_object(*parsed, "request");
  std::vector<std::string> custom_properties;
  if (const auto* definitions = json::get_array(*parsed, "customProperties")) {
    for (const auto& definition : definitions->GetArray()) {
      custom_properties.push_back(json::serialize(definition));
    }
  }
  auto catalog = records::property_catalog::builtin().with_custom_properties(
      json::get_string(request, "objectType").value_or(""), custom_properties);

  job_context context{job_id,    tenant,
                      kind,      std::string(json::get_string(*parsed, "blobKey").value_or("")),
                      request,   catalog ? *catalog : records::property_catalog::builtin(),
                      attempt,   *started,
                      store_,    blobs_,
                      config_,   logger,
                      stopping_, liveness};
  const auto begun = std::chrono::steady_clock::now();
  field_list result_fields;
  const job_outcome outcome =
      !catalog ? job_outcome::failed(
                     "invalid-request",
                     "The job's custom properties are invalid: " + catalog.error().message + ".")
      : kind == job_kind::imports ? run_import(context)
                                  : run_export(context, result_fields);
  const auto elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::steady_clock::now() - begun)
                              .count();

  switch (outcome.result) {
    case job_outcome::kind::retry: {
      logger.warn("job attempt interrupted; it will run again",
                  {{"attempt", attempt}, {"reason", outcome.error_detail}});
      // Kept as the reason of the failure that ends the job if no attempt finishes.
      auto noted = store_.update(job_id, attempt, {{"lastError", outcome.error_detail}});
      if (!noted) {
        logger.warn("last error not stored", {{"error", noted.error().message()}});
      }
      return false;
    }
    case job_outcome::kind::superseded:
      logger.info("job attempt superseded by a newer attempt", {{"attempt", attempt}});
      return true;
    case job_outcome::kind::canceled:
      logger.info("job canceled while it ran", {{"attempt", attempt}});
      metrics_.job_finished(kind, job_status::canceled, std::chrono::steady_clock::now() - begun);
      emit_event(job_id, tenant, kind, job_status::canceled, job_status::processing, attempt,
                 trace);
      free_place(job_id, tenant, kind, logger);
      return true;
    case job_outcome::kind::done:
    case job_outcome::kind::failed:
      break;
  }

  const bool done = outcome.result == job_outcome::kind::done;
  if (!done) {
    result_fields = {{"errorType", outcome.error_type}, {"errorDetail", outcome.error_detail}};
  }
  const std::int64_t retention_ms = config_.job_retention_hours * 3600 * 1000;
  const job_status final_status = done ? job_status::done : job_status::failed;
  auto finished = store_.finish(job_id, attempt, final_status, retention_ms, result_fields);
  if (!finished) {
    logger.warn("job finish failed; retrying", {{"error", finished.error().message()}});
    return false;
  }
  if (finished->outcome != worker_store::verdict::ok) {
    logger.info("job changed while it ran; outcome dropped",
                {{"status", to_string(finished->status)}});
    if (finished->outcome == worker_store::verdict::terminal) {
      free_place(job_id, tenant, kind, logger);
    }
    return true;
  }
  if (done) {
    logger.info("job done", {{"duration_ms", elapsed_ms}});
  } else {
    logger.info("job failed", {{"error_type", outcome.error_type},
                               {"error", outcome.error_detail},
                               {"duration_ms", elapsed_ms}});
  }
  metrics_.job_finished(kind, final_status, std::chrono::steady_clock::now() - begun);
  emit_event(job_id, tenant, kind, final_status, job_status::processing, attempt, trace);
  free_place(job_id, tenant, kind, logger);
  return true;
}

bool job_runner::give_up(const kafka::kafka_message& message, const std::string& job_id,
                         const std::string& tenant, job_kind kind, std::int64_t attempt,
                         const tracing::trace_context& trace, const log::logger& logger) {
  const auto last_error = store_.last_error(job_id);
  const std::string reason =
      "The job was started " + std::to_string(attempt - 1) +
      " times without finishing, so it was given up. Last error: " +
      (last_error && !last_error->empty() ? *last_error : std::string("none recorded")) + ".";
  const std::int64_t retention_ms = config_.job_retention_hours * 3600 * 1000;
  auto finished = store_.finish(job_id, attempt, job_status::failed, retention_ms,
                                {{"errorType", "too-many-attempts"}, {"errorDetail", reason}});
  if (!finished) {
    logger.warn("job finish failed; retrying", {{"error", finished.error().message()}});
    return false;
  }
  logger.error("job given up after too many attempts; sent to the dead-letter topic",
               {{"attempt", attempt}, {"reason", reason}});
  dead_letter(message, reason);
  if (finished->outcome == worker_store::verdict::ok) {
    metrics_.job_finished(kind, job_status::failed, std::chrono::nanoseconds(0));
    emit_event(job_id, tenant, kind, job_status::failed, job_status::processing, attempt, trace);
  }
  free_place(job_id, tenant, kind, logger);
  return true;
}

void job_runner::free_place(const std::string& job_id, const std::string& tenant, job_kind kind,
                            const log::logger& logger) {
  auto promoted = store_.release(job_id, tenant, kind, config_.limits.running_cap(kind));
  if (!promoted) {
    // The place is freed by the next admission or sweep, which drop ended jobs from the set.
    logger.warn("running place not freed", {{"error", promoted.error().message()}});
    return;
  }
  produce_promoted(*promoted, logger);
}

void job_runner::produce_promoted(const std::vector<std::string>& ids, const log::logger& logger) {
  for (const auto& id : ids) {
    auto sent = store_.produce_message(id, producer_, event_timeout);
    if (!sent) {
      // The job stays unqueued, so a sweeper produces its message later.
      logger.warn("promoted job's message not produced",
                  {{"promoted_job_id", id}, {"error", sent.error().message()}});
      continue;
    }
    logger.info("deferred job promoted", {{"promoted_job_id", id}});
  }
}

}  // namespace jobgate::worker
