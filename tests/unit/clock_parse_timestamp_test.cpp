#include <catch2/catch.hpp>

#include "common/clock.hpp"

using jobgate::format_timestamp;
using jobgate::parse_timestamp;

TEST_CASE("parse timestamp accepted forms", "[clock]") {
  CHECK(parse_timestamp("1970-01-01T00:00:00Z") == 0);
  CHECK(parse_timestamp("2026-12-04T10:00:00Z") == 1796378400000);
  CHECK(parse_timestamp("2026-12-04T10:00:00.250Z") == 1796378400250);
  CHECK(parse_timestamp("2026-12-04T10:00:00.2Z") == 1796378400200);
  CHECK(parse_timestamp("2026-12-04T10:00:00.123456789Z") == 1796378400123);
  CHECK(parse_timestamp("2026-12-04T11:00:00+01:00") == 1796378400000);
  CHECK(parse_timestamp("2026-12-04T04:30:00-05:30") == 1796378400000);
  CHECK(parse_timestamp("2026-12-04t10:00:00z") == 1796378400000);
  CHECK(parse_timestamp("2024-02-29T00:00:00Z").has_value());
}

TEST_CASE("parse timestamp round trip", "[clock]") {
  for (const std::int64_t millis : {0LL, 1LL, 951782400999LL, 1796378400250LL, 4102444799999LL}) {
    CHECK(parse_timestamp(format_timestamp(millis)) == millis);
  }
}

TEST_CASE("format timestamp writes UTC with milliseconds", "[clock]") {
  CHECK(format_timestamp(0) == "1970-01-01T00:00:00.000Z");
  CHECK(format_timestamp(1796378400250) == "2026-12-04T10:00:00.250Z");
  CHECK(format_timestamp(951782400999) == "2000-02-29T00:00:00.999Z");
  CHECK(format_timestamp(253402300799999) == "9999-12-31T23:59:59.999Z");
  CHECK(format_timestamp(253402300800000) == "10000-01-01T00:00:00.000Z");
}

TEST_CASE("parse timestamp rejected forms", "[clock]") {
  for (const char* text :
       {"", "2026-12-04", "2026-12-04T10:00:00", "2026-12-04T10:00Z", "2026-13-01T00:00:00Z",
        "2023-02-29T00:00:00Z", "2026-12-04T24:00:00Z", "2026-12-04T10:60:00Z",
        "2026-12-04T10:00:00.Z", "2026-12-04T10:00:00+0100", "2026-12-04T10:00:00Z ",
        "2026/12/04T10:00:00Z", "yesterday"}) {
    INFO(text);
    CHECK_FALSE(parse_timestamp(text).has_value());
  }
}
