#include <catch2/catch.hpp>
#include <string>

#include "cli/job_text.hpp"

using namespace jobgate;

namespace {

json::document parse_job(std::string_view text) {
  auto parsed = json::parse(text);
  REQUIRE(parsed.has_value());
  return std::move(*parsed);
}

}  // namespace

TEST_CASE("job text: import end with counts", "[cli]") {
  const auto job = parse_job(
      R"({"id":"imp_1","status":"DONE","progress":{"rowsProcessed":1200,"rowsTotal":1200},)"
      R"("counts":{"rowsRead":1200,"created":1150,"updated":40,"failed":3,"skippedBlank":7}})");
  CHECK(cli::describe_job_end(job) ==
        "imp_1 DONE: 1,200 rows read, 1,150 created, 40 updated, 3 failed, "
        "7 blank rows skipped\n");
}

TEST_CASE("job text: export end with result", "[cli]") {
  const auto job = parse_job(
      R"({"id":"exp_1","status":"DONE","result":{"format":"csv","rows":1190,"bytes":84211}})");
  CHECK(cli::describe_job_end(job) == "exp_1 DONE: csv, 1,190 rows, 84,211 bytes\n");
}

TEST_CASE("job text: failure and cancellation reasons", "[cli]") {
  const auto failed =
      parse_job(R"({"id":"imp_2","status":"FAILED","statusDescription":"The import failed.",)"
                R"("errorDetails":{"type":"https://jobgate.dev/problems/missing-column",)"
                R"("detail":"The column 'Mail' is not in the file's header."}})");
  CHECK(cli::describe_job_end(failed) ==
        "imp_2 FAILED: The column 'Mail' is not in the file's header.\n");
  const auto canceled = parse_job(
      R"({"id":"imp_3","status":"CANCELED","statusDescription":"The import was canceled."})");
  CHECK(cli::describe_job_end(canceled) == "imp_3 CANCELED: The import was canceled.\n");
}

TEST_CASE("job text: snapshot and terminal states", "[cli]") {
  const auto job = parse_job(
      R"({"status":"PROCESSING","progress":{"rowsProcessed":10,"rowsTotal":40,"percent":25.0}})");
  const auto snapshot = cli::snapshot_of(job);
  CHECK(snapshot.status == "PROCESSING");
  CHECK(snapshot.rows_done == 10);
  REQUIRE(snapshot.rows_total);
  CHECK(*snapshot.rows_total == 40);
  CHECK_FALSE(cli::is_terminal_status("PROCESSING"));
  CHECK(cli::is_terminal_status("DONE"));
  CHECK(cli::is_terminal_status("FAILED"));
  CHECK(cli::is_terminal_status("CANCELED"));
}

TEST_CASE("job text: status lines", "[cli]") {
  const auto job = parse_job(
      R"({"id":"imp_4","kind":"imports","status":"PROCESSING",)"
      R"("statusDescription":"A worker is importing rows.","progress":{"rowsProcessed":5}})");
  CHECK(cli::describe_job(job) ==
        "id: imp_4\nkind: imports\nstatus: PROCESSING\n"
        "description: A worker is importing rows.\nprogress: 5 rows\n");
}
