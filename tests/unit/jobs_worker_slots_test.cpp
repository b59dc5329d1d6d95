#include <catch2/catch.hpp>
#include <vector>

#include "common/jobs/worker_slots.hpp"

using jobgate::job_kind;
using jobgate::worker_slots::kind_slots;
using jobgate::worker_slots::parse_report;

TEST_CASE("slot report round trip", "[jobs][worker_slots]") {
  const std::vector<kind_slots> kinds{{job_kind::imports, 4, 1}, {job_kind::exports, 2, 0}};
  const std::string text = jobgate::worker_slots::format_report(kinds);
  CHECK(text == "imports:4:1 exports:2:0");
  const auto parsed = parse_report(text);
  REQUIRE(parsed);
  CHECK(*parsed == kinds);
}

TEST_CASE("slot report of a worker without job kinds is empty", "[jobs][worker_slots]") {
  CHECK(jobgate::worker_slots::format_report({}).empty());
  const auto parsed = parse_report("");
  REQUIRE(parsed);
  CHECK(parsed->empty());
}

TEST_CASE("slot report rejects text it does not write", "[jobs][worker_slots]") {
  for (const char* text :
       {"imports", "imports:4", "imports:4:5", "imports:-1:0", "imports:4:x", "webhooks:1:0",
        "imports:4:1  exports:2:0", "imports:4:1 ", "imports:4:1:0", "imports:4 :1"}) {
    INFO(text);
    CHECK_FALSE(parse_report(text));
  }
}
