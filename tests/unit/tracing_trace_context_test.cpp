#include <catch2/catch.hpp>
#include <string>

#include "common/tracing/trace_context.hpp"

using jobgate::tracing::continue_or_start;
using jobgate::tracing::trace_context;

namespace {

constexpr const char* valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

}  // namespace

TEST_CASE("trace context parses version 00", "[tracing]") {
  const auto parsed = trace_context::parse(valid);
  REQUIRE(parsed.has_value());
  CHECK(parsed->trace_id() == "4bf92f3577b34da6a3ce929d0e0e4736");
  CHECK(parsed->parent_id() == "00f067aa0ba902b7");
  CHECK(parsed->flags() == "01");
  CHECK(parsed->header() == valid);
}

TEST_CASE("trace context rejects malformed values", "[tracing]") {
  const std::string cases[] = {
      "",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
      "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
      "0x-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
  };
  for (const auto& header : cases) {
    INFO("traceparent " << header);
    CHECK_FALSE(trace_context::parse(header).has_value());
  }
}

TEST_CASE("trace context accepts later versions", "[tracing]") {
  const auto longer =
      trace_context::parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future");
  REQUIRE(longer.has_value());
  CHECK(longer->header() == valid);
  CHECK(trace_context::parse("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"));
}

TEST_CASE("trace context child keeps trace", "[tracing]") {
  const auto parent = *trace_context::parse(valid);
  const auto child = parent.child();
  CHECK(child.trace_id() == parent.trace_id());
  CHECK(child.flags() == "01");
  CHECK(child.parent_id() != parent.parent_id());
  CHECK(trace_context::parse(child.header()).has_value());

  const auto continued = continue_or_start(valid);
  CHECK(continued.trace_id() == parent.trace_id());
  CHECK(continued.parent_id() != parent.parent_id());
}

TEST_CASE("trace context starts new trace", "[tracing]") {
  const auto first = continue_or_start("not a traceparent");
  const auto second = trace_context::generate();
  CHECK(first.trace_id().size() == 32);
  CHECK(first.parent_id().size() == 16);
  CHECK(first.flags() == "00");
  CHECK(first.trace_id() != second.trace_id());
  CHECK(trace_context::parse(first.header()).has_value());
}
