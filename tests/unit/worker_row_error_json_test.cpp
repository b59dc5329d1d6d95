#include <catch2/catch.hpp>

#include "common/json/json.hpp"
#include "worker/worker_store.hpp"

namespace {

namespace json = jobgate::json;
using jobgate::records::row_error;
using jobgate::records::row_error_kind;

}  // namespace

TEST_CASE("row error json full", "[worker]") {
  row_error error;
  error.row = 12;
  error.line = 14;
  error.kind = row_error_kind::invalid_email;
  error.column = "E-Mail";
  error.property = "email";
  error.value = "ann@@x \"quoted\"";
  error.detail = "The value is not an email address.";
  const std::string text = jobgate::worker::row_error_json(error);
  CHECK(text ==
        R"({"row":12,"line":14,"kind":"invalid_email","column":"E-Mail","property":"email",)"
        R"("value":"ann@@x \"quoted\"","detail":"The value is not an email address."})");
}

TEST_CASE("row error json omits empty members", "[worker]") {
  row_error error;
  error.row = 3;
  error.line = 3;
  error.kind = row_error_kind::column_count_mismatch;
  error.detail = "The row has 3 fields; the header has 2.";
  auto parsed = json::parse(jobgate::worker::row_error_json(error));
  REQUIRE(parsed.has_value());
  CHECK(parsed->MemberCount() == 4);
  CHECK(json::get_string(*parsed, "kind") == "column_count_mismatch");
  CHECK_FALSE(parsed->HasMember("column"));
  CHECK_FALSE(parsed->HasMember("property"));
  CHECK_FALSE(parsed->HasMember("value"));
}

TEST_CASE("row error json every kind", "[worker]") {
  for (int kind = 0; kind <= static_cast<int>(row_error_kind::value_too_long); ++kind) {
    row_error error;
    error.kind = static_cast<row_error_kind>(kind);
    auto parsed = json::parse(jobgate::worker::row_error_json(error));
    REQUIRE(parsed.has_value());
    const auto name = json::get_string(*parsed, "kind");
    REQUIRE(name.has_value());
    CHECK(jobgate::records::parse_row_error_kind(*name) == error.kind);
  }
}
