#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/jobs/job.hpp"
#include "common/json/schema_validator.hpp"

namespace jobgate {

// A job state change as the event topic jobgate.events carries it, keyed by job id
// (proto/schemas/job-event.schema.json).
struct job_event {
  std::string event_id;
  std::string type;
  std::string occurred_at;
  std::string job_id;
  std::string tenant;
  std::string kind;
  std::string status;
  std::string previous_status;  // empty when the event has none
  std::int64_t sequence = 0;
};

// The topic of job events.
inline constexpr std::string_view job_events_topic = "jobgate.events";

// Builds the event of a change to `status` in attempt `attempt` (0 for a job canceled before any
// attempt). A final state has one event id however often it is emitted, so consumers drop repeats
// by id; a PROCESSING event has one per attempt. The sequence orders the events of one job:
// PROCESSING of attempt n is 2n, a final state reached in attempt n is 2n+1.
job_event make_job_event(std::string_view job_id, std::string_view tenant, job_kind kind,
                         job_status status, std::optional<job_status> previous,
                         std::int64_t attempt, std::int64_t occurred_at_millis);

// Serializes an event as the topic carries it.
std::string to_json(const job_event& event);

// Reads an event message checked against the event schema. Returns nullopt and sets `error` when
// the message is not JSON or does not match the schema.
std::optional<job_event> read_job_event(std::string_view message,
                                        const json::schema_validator& schema, std::string& error);

}  // namespace jobgate
