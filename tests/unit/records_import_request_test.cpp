#include <catch2/catch.hpp>

#include "common/records/import_failure.hpp"
#include "common/records/import_request.hpp"
#include "common/records/row_error.hpp"

using namespace jobgate::records;

TEST_CASE("import request parses every member", "[records]") {
  const auto request = import_request::parse(R"({
    "name": "spring fair contacts",
    "objectType": "contacts",
    "columnMappings": [
      {"columnName": "Email", "propertyName": "email"},
      {"columnName": "First Name", "propertyName": "firstname"}
    ],
    "options": {"delimiter": ";", "hasHeader": true, "dedupeBy": "email",
                "encoding": "windows-1252", "dateFormat": "DD/MM/YYYY"}
  })");
  REQUIRE(request.has_value());
  CHECK(request->name == "spring fair contacts");
  CHECK(request->object_type == "contacts");
  REQUIRE(request->column_mappings.size() == 2);
  CHECK(request->column_mappings[1].column_name == "First Name");
  CHECK(request->column_mappings[1].property_name == "firstname");
  CHECK(request->options.delimiter == ';');
  CHECK(request->options.encoding == jobgate::csv::text_encoding::windows_1252);
  CHECK(request->options.dates == date_format::day_month_year);
  CHECK(request->options.dedupe_by == "email");
}

TEST_CASE("import request applies defaults", "[records]") {
  const auto request = import_request::parse(R"({"objectType": "companies"})");
  REQUIRE(request.has_value());
  CHECK(request->column_mappings.empty());
  CHECK(request->options.delimiter == ',');
  CHECK(request->options.encoding == jobgate::csv::text_encoding::utf_8);
  CHECK(request->options.dates == date_format::year_month_day);
  CHECK_FALSE(request->options.dedupe_by);
  const auto tab =
      import_request::parse(R"({"objectType": "contacts", "options": {"delimiter": "\t"}})");
  REQUIRE(tab.has_value());
  CHECK(tab->options.delimiter == '\t');
}

TEST_CASE("import request rejects bad members", "[records]") {
  for (const char* json : {
           "{",
           "[]",
           R"({"name": "no type"})",
           R"({"objectType": 5})",
           R"({"objectType": "contacts", "columnMappings": {}})",
           R"({"objectType": "contacts", "columnMappings": [{"columnName": "Email"}]})",
           R"({"objectType": "contacts", "options": {"delimiter": ";;"}})",
           R"({"objectType": "contacts", "options": {"delimiter": "\""}})",
           R"({"objectType": "contacts", "options": {"encoding": "utf-16le"}})",
           R"({"objectType": "contacts", "options": {"dateFormat": "YYYY/MM/DD"}})",
           R"({"objectType": "contacts", "options": {"hasHeader": false}})",
       }) {
    INFO(json);
    const auto request = import_request::parse(json);
    REQUIRE_FALSE(request.has_value());
    CHECK(request.error().kind == import_failure_kind::invalid_request);
    CHECK_FALSE(request.error().detail.empty());
  }
}

TEST_CASE("import failure slugs are stable", "[records]") {
  CHECK(slug(import_failure_kind::invalid_request) == "invalid-request");
  CHECK(slug(import_failure_kind::not_csv) == "not-csv");
  CHECK(slug(import_failure_kind::empty_file) == "empty-file");
  CHECK(slug(import_failure_kind::invalid_header) == "invalid-header");
  CHECK(slug(import_failure_kind::duplicate_column) == "duplicate-column");
  CHECK(slug(import_failure_kind::missing_column) == "missing-column");
  CHECK(slug(import_failure_kind::unknown_property) == "unknown-property");
  CHECK(slug(import_failure_kind::duplicate_property) == "duplicate-property");
  CHECK(slug(import_failure_kind::no_unique_column) == "no-unique-column");

  const boost::system::error_code code = import_failure_kind::missing_column;
  CHECK(code.category().name() == std::string("jobgate.import"));
  CHECK(code.message() == "a mapped column is missing from the header");

  const boost::system::result<int, import_failure> failed =
      import_failure{import_failure_kind::not_csv, {}, "a PDF"};
  CHECK_THROWS_AS(failed.value(), boost::system::system_error);
}

TEST_CASE("row error kinds have snake_case names", "[records]") {
  const std::vector<std::pair<row_error_kind, std::string>> names = {
      {row_error_kind::invalid_email, "invalid_email"},
      {row_error_kind::missing_required, "missing_required"},
      {row_error_kind::column_count_mismatch, "column_count_mismatch"},
      {row_error_kind::invalid_encoding, "invalid_encoding"},
      {row_error_kind::invalid_phone, "invalid_phone"},
      {row_error_kind::invalid_date, "invalid_date"},
      {row_error_kind::invalid_domain, "invalid_domain"},
      {row_error_kind::invalid_number, "invalid_number"},
      {row_error_kind::invalid_option, "invalid_option"},
      {row_error_kind::unterminated_quote, "unterminated_quote"},
      {row_error_kind::value_too_long, "value_too_long"},
  };
  for (const auto& [kind, name] : names) {
    CHECK(to_string(kind) == name);
    CHECK(parse_row_error_kind(name) == kind);
  }
  CHECK_FALSE(parse_row_error_kind("invalid-email"));
}
