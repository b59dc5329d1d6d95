#include <catch2/catch.hpp>
#include <string>

#include "common/json/json.hpp"
#include "common/json/schema_validator.hpp"
#include "worker/webhook_event.hpp"

namespace {

using jobgate::job_event;
using jobgate::read_job_event;
using jobgate::worker::webhook_payload;

const jobgate::json::schema_validator& event_schema() {
  static const jobgate::json::schema_validator schema("schemas/job-event.schema.json");
  return schema;
}

const jobgate::json::schema_validator& payload_schema() {
  static const jobgate::json::schema_validator schema("schemas/webhook-payload.schema.json");
  return schema;
}

job_event done_import() {
  std::string error;
  auto event = read_job_event(
      R"({"eventId":"evt_imp_1_DONE","type":"job.completed","occurredAt":"2026-12-05T01:02:03.004Z",)"
      R"("jobId":"imp_1","tenant":"acme","kind":"imports","status":"DONE",)"
      R"("previousStatus":"PROCESSING","sequence":5})",
      event_schema(), error);
  REQUIRE(event);
  return *event;
}

}  // namespace

TEST_CASE("job event fields are read", "[webhooks][worker]") {
  const job_event event = done_import();
  CHECK(event.event_id == "evt_imp_1_DONE");
  CHECK(event.tenant == "acme");
  CHECK(event.previous_status == "PROCESSING");
  CHECK(event.sequence == 5);
}

TEST_CASE("job event without sequence", "[webhooks][worker]") {
  std::string error;
  const auto event = read_job_event(
      R"({"eventId":"e","type":"job.status_changed","occurredAt":"t","jobId":"exp_1",)"
      R"("tenant":"acme","kind":"exports","status":"PROCESSING"})",
      event_schema(), error);
  REQUIRE(event);
  CHECK(event->sequence == 2);
  CHECK(event->previous_status.empty());
}

TEST_CASE("job event errors name the cause", "[webhooks][worker]") {
  std::string error;
  CHECK_FALSE(read_job_event("{not json", event_schema(), error));
  CHECK(error.find("not JSON") != std::string::npos);
  CHECK_FALSE(read_job_event(R"({"eventId":"e"})", event_schema(), error));
  CHECK(error.find("schema") != std::string::npos);
}

TEST_CASE("webhook payload matches its schema", "[webhooks][worker]") {
  const std::string body = webhook_payload(done_import(), "https://api.example.com");
  auto parsed = jobgate::json::parse(body);
  REQUIRE(parsed.has_value());
  CHECK(payload_schema().validate(*parsed).has_value());
  CHECK(body == R"({"type":"job.completed","timestamp":"2026-12-05T01:02:03.004Z","data":{)"
                R"("eventId":"evt_imp_1_DONE","jobId":"imp_1","kind":"imports","status":"DONE",)"
                R"("previousStatus":"PROCESSING","sequence":5,"links":{)"
                R"("self":"https://api.example.com/v1/imports/imp_1",)"
                R"("result":"https://api.example.com/v1/imports/imp_1/result",)"
                R"("errors":"https://api.example.com/v1/imports/imp_1/errors"}}})");
}

TEST_CASE("webhook payload links follow status", "[webhooks][worker]") {
  job_event event = done_import();
  event.kind = "exports";
  event.job_id = "exp_2";
  event.status = "PROCESSING";
  event.type = "job.status_changed";
  const std::string body = webhook_payload(event, "http://127.0.0.1:8080");
  CHECK(body.find("\"result\"") == std::string::npos);
  CHECK(body.find("\"errors\"") == std::string::npos);
  auto parsed = jobgate::json::parse(body);
  REQUIRE(parsed.has_value());
  CHECK(payload_schema().validate(*parsed).has_value());
}

TEST_CASE("job event sequence orders changes", "[webhooks][worker]") {
  using jobgate::job_kind;
  using jobgate::job_status;
  const auto started = jobgate::make_job_event("exp_1", "acme", job_kind::exports,
                                               job_status::processing, job_status::pending, 1, 0);
  const auto restarted = jobgate::make_job_event("exp_1", "acme", job_kind::exports,
                                                 job_status::processing, std::nullopt, 2, 0);
  const auto done = jobgate::make_job_event("exp_1", "acme", job_kind::exports, job_status::done,
                                            job_status::processing, 2, 0);
  const auto canceled_early = jobgate::make_job_event(
      "exp_2", "acme", job_kind::exports, job_status::canceled, job_status::pending, 0, 0);
  CHECK(started.sequence < restarted.sequence);
  CHECK(restarted.sequence < done.sequence);
  CHECK(canceled_early.sequence == 1);
  CHECK(started.event_id == "evt_exp_1_PROCESSING_1");
  CHECK(done.event_id == "evt_exp_1_DONE");
  CHECK(done.type == "job.completed");
}

TEST_CASE("job event round trips", "[webhooks][worker]") {
  const auto event =
      jobgate::make_job_event("imp_3", "acme", jobgate::job_kind::imports,
                              jobgate::job_status::failed, jobgate::job_status::processing, 3, 0);
  std::string error;
  const auto read = read_job_event(jobgate::to_json(event), event_schema(), error);
  REQUIRE(read.has_value());
  CHECK(read->event_id == event.event_id);
  CHECK(read->type == "job.failed");
  CHECK(read->occurred_at == "1970-01-01T00:00:00.000Z");
  CHECK(read->previous_status == "PROCESSING");
  CHECK(read->sequence == 7);
}
