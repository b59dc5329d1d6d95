#include "common/jobs/job_event.hpp"

#include <rapidjson/stringbuffer.h>

#include "common/clock.hpp"
#include "common/json/json.hpp"

namespace jobgate {

namespace {

std::string_view event_type(job_status status) {
  switch (status) {
    case job_status::done:
      return "job.completed";
    case job_status::failed:
      return "job.failed";
    case job_status::canceled:
      return "job.canceled";
    default:
      return "job.status_changed";
  }
}

// Events written before sequences existed get the order their status implies within one attempt.
std::int64_t implied_sequence(std::string_view status) {
  return status == "PROCESSING" ? 2 : 3;
}

}  // namespace

job_event make_job_event(std::string_view job_id, std::string_view tenant, job_kind kind,
                         job_status status, std::optional<job_status> previous,
                         std::int64_t attempt, std::int64_t occurred_at_millis) {
  job_event event;
  event.event_id = "evt_" + std::string(job_id) + "_" + std::string(to_string(status));
  if (status == job_status::processing) {
    event.event_id += "_" + std::to_string(attempt);
  }
  event.type = event_type(status);
  event.occurred_at = format_timestamp(occurred_at_millis);
  event.job_id = job_id;
  event.tenant = tenant;
  event.kind = to_string(kind);
  event.status = to_string(status);
  if (previous) {
    event.previous_status = to_string(*previous);
  }
  // Attempts only grow and a final state ends the job, so this orders the events of one job.
  event.sequence = status == job_status::processing ? 2 * attempt : 2 * attempt + 1;
  return event;
}

std::string to_json(const job_event& event) {
  rapidjson::StringBuffer buffer;
  json::writer out(buffer);
  out.StartObject();
  json::write_string(out, "eventId", event.event_id);
  json::write_string(out, "type", event.type);
  json::write_string(out, "occurredAt", event.occurred_at);
  json::write_string(out, "jobId", event.job_id);
  json::write_string(out, "tenant", event.tenant);
  json::write_string(out, "kind", event.kind);
  json::write_string(out, "status", event.status);
  if (!event.previous_status.empty()) {
    json::write_string(out, "previousStatus", event.previous_status);
  }
  out.Key("sequence");
  out.Int64(event.sequence);
  out.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::optional<job_event> read_job_event(std::string_view message,
                                        const json::schema_validator& schema, std::string& error) {
  auto parsed = json::parse(message);
  if (!parsed) {
    error = "event is not JSON: " + parsed.error().message;
    return std::nullopt;
  }
  if (auto valid = schema.validate(*parsed); !valid) {
    error = "event does not match its schema: " + valid.error().message;
    return std::nullopt;
  }
  const auto text = [&](std::string_view name) {
    return std::string(json::get_string(*parsed, name).value_or(""));
  };
  job_event event;
  event.event_id = text("eventId");
  event.type = text("type");
  event.occurred_at = text("occurredAt");
  event.job_id = text("jobId");
  event.tenant = text("tenant");
  event.kind = text("kind");
  event.status = text("status");
  event.previous_status = text("previousStatus");
  event.sequence = json::get_int(*parsed, "sequence").value_or(implied_sequence(event.status));
  return event;
}

}  // namespace jobgate
