#include <catch2/catch.hpp>

#include "worker/job_context.hpp"

namespace {

using jobgate::job_status;
using jobgate::worker::job_outcome;
using jobgate::worker::worker_store;

worker_store::change_result change(worker_store::verdict outcome,
                                   job_status status = job_status::processing) {
  worker_store::change_result result;
  result.outcome = outcome;
  result.status = status;
  return result;
}

}  // namespace

TEST_CASE("stop reason of applied change", "[worker]") {
  CHECK_FALSE(jobgate::worker::stop_reason(change(worker_store::verdict::ok)).has_value());
}

TEST_CASE("stop reason of canceled job", "[worker]") {
  const auto reason =
      jobgate::worker::stop_reason(change(worker_store::verdict::terminal, job_status::canceled));
  REQUIRE(reason.has_value());
  CHECK(reason->result == job_outcome::kind::canceled);
}

TEST_CASE("stop reason of other final state", "[worker]") {
  for (const auto status : {job_status::done, job_status::failed}) {
    const auto reason =
        jobgate::worker::stop_reason(change(worker_store::verdict::terminal, status));
    REQUIRE(reason.has_value());
    CHECK(reason->result == job_outcome::kind::superseded);
  }
}

TEST_CASE("stop reason of fenced or missing job", "[worker]") {
  for (const auto verdict : {worker_store::verdict::fenced, worker_store::verdict::missing}) {
    const auto reason = jobgate::worker::stop_reason(change(verdict));
    REQUIRE(reason.has_value());
    CHECK(reason->result == job_outcome::kind::superseded);
  }
}

TEST_CASE("stop reason of stale checkpoint", "[worker]") {
  const auto reason = jobgate::worker::stop_reason(change(worker_store::verdict::stale));
  REQUIRE(reason.has_value());
  CHECK(reason->result == job_outcome::kind::retry);
  CHECK_FALSE(reason->error_detail.empty());
}

TEST_CASE("job outcome factories", "[worker]") {
  CHECK(job_outcome::done().result == job_outcome::kind::done);
  const auto failed = job_outcome::failed("invalid-csv", "The file is not CSV.");
  CHECK(failed.result == job_outcome::kind::failed);
  CHECK(failed.error_type == "invalid-csv");
  CHECK(failed.error_detail == "The file is not CSV.");
  const auto retry = job_outcome::retry("Redis: timed out");
  CHECK(retry.result == job_outcome::kind::retry);
  CHECK(retry.error_type.empty());
  CHECK(retry.error_detail == "Redis: timed out");
}
