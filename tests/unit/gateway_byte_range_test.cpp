#include <catch2/catch.hpp>
#include <cstdint>
#include <string>

#include "gateway/byte_range.hpp"

namespace {

using jobgate::gateway::byte_range;
using jobgate::gateway::range_outcome;
using jobgate::gateway::select_byte_range;

constexpr std::uint64_t size = 1000;

}  // namespace

TEST_CASE("byte range closed form", "[gateway][range]") {
  const auto selection = select_byte_range("bytes=0-499", size);
  REQUIRE(selection.outcome == range_outcome::partial);
  CHECK(selection.range == byte_range{0, 499});
  CHECK(selection.range.length() == 500);
}

TEST_CASE("byte range open and suffix forms", "[gateway][range]") {
  const auto open = select_byte_range("bytes=900-", size);
  REQUIRE(open.outcome == range_outcome::partial);
  CHECK(open.range == byte_range{900, 999});

  const auto suffix = select_byte_range("bytes=-100", size);
  REQUIRE(suffix.outcome == range_outcome::partial);
  CHECK(suffix.range == byte_range{900, 999});

  // A suffix longer than the file is the whole file, still as 206.
  const auto long_suffix = select_byte_range("bytes=-5000", size);
  REQUIRE(long_suffix.outcome == range_outcome::partial);
  CHECK(long_suffix.range == byte_range{0, 999});
}

TEST_CASE("byte range last position clamped", "[gateway][range]") {
  const auto selection = select_byte_range("bytes=500-5000", size);
  REQUIRE(selection.outcome == range_outcome::partial);
  CHECK(selection.range == byte_range{500, 999});

  const auto single = select_byte_range("bytes=999-999", size);
  REQUIRE(single.outcome == range_outcome::partial);
  CHECK(single.range == byte_range{999, 999});
  CHECK(single.range.length() == 1);
}

TEST_CASE("byte range unsatisfiable cases", "[gateway][range]") {
  CHECK(select_byte_range("bytes=1000-", size).outcome == range_outcome::unsatisfiable);
  CHECK(select_byte_range("bytes=1000-2000", size).outcome == range_outcome::unsatisfiable);
  CHECK(select_byte_range("bytes=-0", size).outcome == range_outcome::unsatisfiable);
  CHECK(select_byte_range("bytes=0-", 0).outcome == range_outcome::unsatisfiable);
  CHECK(select_byte_range("bytes=-10", 0).outcome == range_outcome::unsatisfiable);
  // A first position beyond 64 bits saturates and is past any end.
  CHECK(select_byte_range("bytes=99999999999999999999999-", size).outcome ==
        range_outcome::unsatisfiable);
}

TEST_CASE("byte range ignored headers", "[gateway][range]") {
  const char* ignored[] = {
      "",          "bytes",       "bytes=",        "bytes=-",       "bytes=a-b",
      "bytes=5-1", "bytes=1-2-3", "items=0-10",    "bytes=0-1,5-6", "bytes=0-1, 5-6",
      "bytes= -",  "bytes=+1-2",  "bytes=0x10-20", "bytes=1 -2",
  };
  for (const char* header : ignored) {
    INFO("Range: " << header);
    CHECK(select_byte_range(header, size).outcome == range_outcome::whole);
  }
}

TEST_CASE("byte range unit case and spaces", "[gateway][range]") {
  const auto selection = select_byte_range("  Bytes = 10-19 ", size);
  REQUIRE(selection.outcome == range_outcome::partial);
  CHECK(selection.range == byte_range{10, 19});
}

TEST_CASE("byte range huge last position", "[gateway][range]") {
  const auto selection = select_byte_range("bytes=10-99999999999999999999999", size);
  REQUIRE(selection.outcome == range_outcome::partial);
  CHECK(selection.range == byte_range{10, 999});
}
