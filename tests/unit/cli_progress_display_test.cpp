#include <catch2/catch.hpp>
#include <sstream>
#include <string>

#include "cli/progress_display.hpp"

using namespace jobgate;

namespace {

json::document job_with(std::string_view status, int rows_done) {
  auto parsed =
      json::parse(R"({"status":")" + std::string(status) + R"(","progress":{"rowsProcessed":)" +
                  std::to_string(rows_done) + R"(,"rowsTotal":100}})");
  REQUIRE(parsed.has_value());
  return std::move(*parsed);
}

}  // namespace

TEST_CASE("progress display: plain lines off a terminal", "[cli]") {
  std::ostringstream out;
  cli::progress_display display(out, false, std::chrono::seconds(3600));
  display.show_upload(10, 100);
  display.show_job(job_with("PENDING", 0));
  display.show_job(job_with("PROCESSING", 10));
  display.show_job(job_with("PROCESSING", 20));  // same status within the interval: no line
  display.show_job(job_with("DONE", 100));
  display.finish();
  CHECK(out.str() ==
        "PENDING 0/100 rows (0.0%)\n"
        "PROCESSING 10/100 rows (10.0%)\n"
        "DONE 100/100 rows (100.0%)\n");
}

TEST_CASE("progress display: redrawn line on a terminal", "[cli]") {
  std::ostringstream out;
  cli::progress_display display(out, true);
  display.show_upload(100, 100);
  display.show_job(job_with("PENDING", 0));
  display.show_job(job_with("DONE", 100));
  display.finish();
  const std::string text = out.str();
  CHECK(text.find('\n') == text.size() - 1);
  CHECK_THAT(
      text, Catch::StartsWith("\ruploading [##############################] 100 B of 100 B\x1b[K"));
  CHECK_THAT(text, Catch::Contains("\rPENDING [------------------------------]   0.0%  0/100 rows"
                                   "\x1b[K"));
  CHECK_THAT(text, Catch::EndsWith("\rDONE [##############################] 100.0%  100/100 rows"
                                   "\x1b[K\n"));
}
