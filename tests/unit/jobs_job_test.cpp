#include "common/jobs/job.hpp"

#include <catch2/catch.hpp>
#include <set>
#include <string>

namespace {

using jobgate::job_id;
using jobgate::job_kind;
using jobgate::job_record;
using jobgate::job_status;

const job_status every_status[] = {job_status::pending, job_status::processing, job_status::done,
                                   job_status::failed, job_status::canceled};

bool is_lower_hex(std::string_view text) {
  return text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

}  // namespace

TEST_CASE("job id generate and parse", "[jobs]") {
  for (const auto kind : {job_kind::imports, job_kind::exports}) {
    const job_id id = job_id::generate(kind);
    const std::string& text = id.str();
    INFO("id " << text);
    REQUIRE(text.size() == 36);
    CHECK(text.substr(0, 4) == (kind == job_kind::imports ? "imp_" : "exp_"));
    CHECK(is_lower_hex(text.substr(4)));
    CHECK(id.kind() == kind);

    const auto parsed = job_id::parse(text);
    REQUIRE(parsed.has_value());
    CHECK(*parsed == id);
    CHECK(parsed->kind() == kind);
  }
}

TEST_CASE("job ids are distinct", "[jobs]") {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    CHECK(seen.insert(job_id::generate(job_kind::imports).str()).second);
  }
}

TEST_CASE("job id parse rejects bad ids", "[jobs]") {
  const std::string valid_digits(32, 'a');
  const std::string bad = GENERATE_COPY(
      std::string(""), std::string("imp_"), "job_" + valid_digits, "IMP_" + valid_digits,
      "imp-" + valid_digits, "imp_" + valid_digits.substr(1), "imp_" + valid_digits + "0",
      "imp_" + std::string(31, 'a') + "A", "imp_" + std::string(31, 'a') + "g",
      "imp_" + std::string(31, 'a') + " ", " imp_" + valid_digits.substr(1),
      "imp_" + std::string(30, 'a') + "/x", "exp_../" + std::string(29, 'a'));
  INFO("id '" << bad << "'");
  CHECK_FALSE(job_id::parse(bad).has_value());
}

TEST_CASE("job id parse accepts both kinds", "[jobs]") {
  const std::string digits = "0123456789abcdef0123456789abcdef";
  CHECK(job_id::parse("imp_" + digits)->kind() == job_kind::imports);
  CHECK(job_id::parse("exp_" + digits)->kind() == job_kind::exports);
}

TEST_CASE("job kind names", "[jobs]") {
  CHECK(jobgate::to_string(job_kind::imports) == "imports");
  CHECK(jobgate::to_string(job_kind::exports) == "exports");
  CHECK(jobgate::parse_job_kind("imports") == job_kind::imports);
  CHECK(jobgate::parse_job_kind("exports") == job_kind::exports);
  CHECK_FALSE(jobgate::parse_job_kind("Imports").has_value());
  CHECK_FALSE(jobgate::parse_job_kind("import").has_value());
  CHECK_FALSE(jobgate::parse_job_kind("").has_value());
  CHECK(jobgate::topic_for(job_kind::imports) == "jobgate.imports");
  CHECK(jobgate::topic_for(job_kind::exports) == "jobgate.exports");
}

TEST_CASE("job status names round trip", "[jobs]") {
  std::set<std::string_view> names;
  for (const auto status : every_status) {
    const auto name = jobgate::to_string(status);
    CHECK(names.insert(name).second);
    CHECK(jobgate::parse_job_status(name) == status);
  }
  CHECK(jobgate::to_string(job_status::canceled) == "CANCELED");
  CHECK_FALSE(jobgate::parse_job_status("pending").has_value());
  CHECK_FALSE(jobgate::parse_job_status("CANCELLED").has_value());
  CHECK_FALSE(jobgate::parse_job_status("").has_value());
}

TEST_CASE("job terminal statuses", "[jobs]") {
  CHECK_FALSE(jobgate::is_terminal(job_status::pending));
  CHECK_FALSE(jobgate::is_terminal(job_status::processing));
  CHECK(jobgate::is_terminal(job_status::done));
  CHECK(jobgate::is_terminal(job_status::failed));
  CHECK(jobgate::is_terminal(job_status::canceled));
}

TEST_CASE("status description of imports", "[jobs]") {
  job_record job;
  job.kind = job_kind::imports;

  job.status = job_status::pending;
  CHECK(status_description(job) == "The import is queued and waits for a worker.");
  job.deferred_cap = 1;
  CHECK(status_description(job) ==
        "The import waits for a free place under the tenant's limit of 1 running import.");
  job.deferred_cap = 0;

  job.status = job_status::processing;
  job.counts.rows_processed = 250;
  job.counts.rows_total = -1;
  CHECK(status_description(job) == "Importing rows: 250 processed.");
  job.counts.rows_total = 1000;
  CHECK(status_description(job) == "Importing rows: 250 of 1000 processed.");
  job.counts.rows_total = 0;
  job.counts.rows_processed = 0;
  CHECK(status_description(job) == "Importing rows: 0 of 0 processed.");

  job.status = job_status::done;
  job.counts.created = 7;
  job.counts.updated = 2;
  job.counts.failed = 1;
  CHECK(status_description(job) == "The import finished: 7 created, 2 updated, 1 row rejected.");
  job.counts.failed = 3;
  CHECK(status_description(job) == "The import finished: 7 created, 2 updated, 3 rows rejected.");
  job.counts.failed = 0;
  CHECK(status_description(job) == "The import finished: 7 created, 2 updated, 0 rows rejected.");

  job.status = job_status::failed;
  job.error_detail = "The file is empty: it has no header line.";
  CHECK(status_description(job) == "The import failed: The file is empty: it has no header line.");

  job.status = job_status::canceled;
  CHECK(status_description(job) == "The import was canceled; rows applied before that are kept.");
}

TEST_CASE("status description of exports", "[jobs]") {
  job_record job;
  job.kind = job_kind::exports;

  job.status = job_status::pending;
  CHECK(status_description(job) == "The export is queued and waits for a worker.");
  job.status = job_status::processing;
  CHECK(status_description(job) == "Writing the export file.");
  job.status = job_status::done;
  CHECK(status_description(job) == "The export file is ready to download.");
  job.status = job_status::failed;
  job.error_detail = "The blob store is full.";
  CHECK(status_description(job) == "The export failed: The blob store is full.");
  job.status = job_status::canceled;
  CHECK(status_description(job) == "The export was canceled.");
}

TEST_CASE("status description never empty", "[jobs]") {
  for (const auto kind : {job_kind::imports, job_kind::exports}) {
    for (const auto status : every_status) {
      job_record job;
      job.kind = kind;
      job.status = status;
      INFO(jobgate::to_string(kind) << " " << jobgate::to_string(status));
      CHECK_FALSE(status_description(job).empty());
    }
  }
}
