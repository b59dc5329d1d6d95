#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "cli/sse_parser.hpp"

using jobgate::cli::sse_event;
using jobgate::cli::sse_parser;

namespace {

std::vector<sse_event> parse_all(std::string_view stream) {
  sse_parser parser;
  return parser.feed(stream);
}

}  // namespace

TEST_CASE("sse parser: events, comments and data lines", "[cli]") {
  const auto events = parse_all(
      ": keep-alive\n"
      "event: status\n"
      "data: {\"status\":\"PENDING\"}\n"
      "\n"
      "event: progress\n"
      "id: 7\n"
      "data:first\n"
      "data:  second\n"
      "\n");
  REQUIRE(events.size() == 2);
  CHECK(events[0].type == "status");
  CHECK(events[0].data == "{\"status\":\"PENDING\"}");
  CHECK(events[1].type == "progress");
  CHECK(events[1].id == "7");
  CHECK(events[1].data == "first\n second");
}

TEST_CASE("sse parser: event without data is not dispatched", "[cli]") {
  const auto events = parse_all("event: status\n\ndata: x\n\n");
  REQUIRE(events.size() == 1);
  CHECK(events[0].type == "message");
  CHECK(events[0].data == "x");
}

TEST_CASE("sse parser: incomplete event waits for its blank line", "[cli]") {
  sse_parser parser;
  CHECK(parser.feed("event: end\ndata: {}\n").empty());
  const auto events = parser.feed("\n");
  REQUIRE(events.size() == 1);
  CHECK(events[0].type == "end");
}

TEST_CASE("sse parser: every line ending and every split", "[cli]") {
  for (const std::string ending : {"\n", "\r\n", "\r"}) {
    const std::string stream = "event: status" + ending + "data: a" + ending + "data: b" + ending +
                               ending + ":c" + ending + "event: end" + ending + "data: {}" +
                               ending + ending;
    for (std::size_t split = 0; split <= stream.size(); ++split) {
      INFO("ending size " << ending.size() << ", split at " << split);
      sse_parser parser;
      auto events = parser.feed(std::string_view(stream).substr(0, split));
      const auto rest = parser.feed(std::string_view(stream).substr(split));
      events.insert(events.end(), rest.begin(), rest.end());
      REQUIRE(events.size() == 2);
      CHECK(events[0].type == "status");
      CHECK(events[0].data == "a\nb");
      CHECK(events[1].type == "end");
      CHECK(events[1].data == "{}");
    }
  }
}
