#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "common/records/import_row_processor.hpp"
#include "common/records/row_error_json.hpp"
#include "gateway/error_report_writer.hpp"

namespace {

using jobgate::gateway::error_report_writer;
namespace records = jobgate::records;

const std::string bom = "\xEF\xBB\xBF";
const std::string report_header = "jobgate_row,jobgate_column,jobgate_error,jobgate_detail";

// Runs the processor over a whole file and returns its rows.
std::vector<records::import_row> process(const records::import_request& request,
                                         std::string_view file,
                                         const records::import_limits& limits = {}) {
  auto processor = records::import_row_processor::create(records::property_catalog::builtin(),
                                                         request, std::nullopt, limits);
  REQUIRE(processor.has_value());
  std::vector<records::import_row> rows;
  REQUIRE(processor->feed(file, rows).has_value());
  REQUIRE(processor->finish(rows).has_value());
  return rows;
}

std::vector<std::string> header_of(const records::import_request& request, std::string_view file) {
  auto processor =
      records::import_row_processor::create(records::property_catalog::builtin(), request);
  REQUIRE(processor.has_value());
  std::vector<records::import_row> rows;
  REQUIRE(processor->feed(file, rows).has_value());
  REQUIRE(processor->finish(rows).has_value());
  return processor->header_cells();
}

// Builds the report of a file's rejected rows, as the worker stores and the gateway writes it.
std::string report_of(const records::import_request& request, std::string_view file,
                      const records::import_limits& limits = {}) {
  error_report_writer writer(header_of(request, file), request.options.delimiter);
  writer.write_header();
  for (const auto& row : process(request, file, limits)) {
    if (row.status == records::row_status::rejected) {
      REQUIRE(writer.write_entry(records::row_error_json(*row.error)));
    }
  }
  return writer.take_output();
}

records::import_request contacts_request() {
  records::import_request request;
  request.object_type = "contacts";
  return request;
}

}  // namespace

TEST_CASE("error report header and row", "[gateway][report]") {
  error_report_writer writer({"Email", "First Name"}, ',');
  writer.write_header();
  REQUIRE(writer.write_entry(
      R"({"row":3,"line":3,"kind":"invalid_email","column":"Email","property":"email",)"
      R"("value":"ann","detail":"an email address needs an @","cells":["ann","Ann"]})"));
  CHECK(writer.take_output() ==
        bom + "Email,First Name," + report_header + "\r\n" +
            "ann,Ann,3,Email,invalid_email,an email address needs an @\r\n");
  CHECK(writer.take_output().empty());
}

TEST_CASE("error report ragged rows", "[gateway][report]") {
  error_report_writer writer({"a", "b", "c"}, ',');
  REQUIRE(writer.write_entry(
      R"({"row":2,"line":2,"kind":"column_count_mismatch","detail":"expected 3 fields, got 1",)"
      R"("cells":["x"]})"));
  REQUIRE(writer.write_entry(
      R"({"row":3,"line":3,"kind":"column_count_mismatch","detail":"expected 3 fields, got 5",)"
      R"("cells":["1","2","3","4","5"]})"));
  CHECK(writer.take_output() ==
        "x,,,2,,column_count_mismatch,\"expected 3 fields, got 1\"\r\n"
        "1,2,3,3,,column_count_mismatch,\"expected 3 fields, got 5\",4,5\r\n");
}

TEST_CASE("error report quotes cells", "[gateway][report]") {
  error_report_writer writer({"Note, long", "Email"}, ',');
  writer.write_header();
  REQUIRE(writer.write_entry(
      R"({"row":2,"line":2,"kind":"invalid_email","column":"Email","detail":"bad",)"
      R"("cells":["say \"hi\"\nthere"," x@"]})"));
  CHECK(writer.take_output() ==
        bom + "\"Note, long\",Email," + report_header + "\r\n" +
            "\"say \"\"hi\"\"\nthere\",\" x@\",2,Email,invalid_email,bad\r\n");
}

TEST_CASE("error report own delimiter", "[gateway][report]") {
  error_report_writer writer({"Email", "City"}, ';');
  writer.write_header();
  REQUIRE(writer.write_entry(
      R"({"row":2,"line":2,"kind":"invalid_email","detail":"a; b","cells":["x","Oslo, N"]})"));
  CHECK(writer.take_output() ==
        bom + "Email;City;jobgate_row;jobgate_column;jobgate_error;jobgate_detail\r\n" +
            "x;Oslo, N;2;;invalid_email;\"a; b\"\r\n");
}

TEST_CASE("error report without header", "[gateway][report]") {
  error_report_writer writer({}, ',');
  writer.write_header();
  REQUIRE(writer.write_entry(R"({"row":2,"line":2,"kind":"invalid_email","cells":["a","b"]})"));
  REQUIRE(writer.write_entry(R"({"row":4,"line":5,"kind":"unterminated_quote"})"));
  CHECK(writer.take_output() ==
        bom + report_header + "\r\n" + "2,,invalid_email,,a,b\r\n" + "4,,unterminated_quote,\r\n");
}

TEST_CASE("error report replaces earlier columns", "[gateway][report]") {
  error_report_writer writer(
      {"Email", "jobgate_row", "jobgate_column", "jobgate_error", "jobgate_detail"}, ',');
  writer.write_header();
  REQUIRE(writer.write_entry(
      R"({"row":2,"line":2,"kind":"invalid_email","column":"Email","detail":"new",)"
      R"("cells":["bad","7","Email","invalid_email","old","extra"]})"));
  CHECK(writer.take_output() ==
        bom + "Email," + report_header + "\r\n" + "bad,2,Email,invalid_email,new,extra\r\n");
}

TEST_CASE("error report notes cut cells", "[gateway][report]") {
  error_report_writer writer({"a"}, ',');
  REQUIRE(writer.write_entry(
      R"({"row":2,"line":2,"kind":"value_too_long","detail":"too long","cells":["x…"],)"
      R"("cellsCut":true})"));
  const std::string output = writer.take_output();
  CHECK(output ==
        "x…,2,,value_too_long,\"too long; some cells were cut short (they end in …) or left out by "
        "the report's size limits, so restore them before importing the row again\"\r\n");
}

TEST_CASE("error report rejects bad entries", "[gateway][report]") {
  error_report_writer writer({"a"}, ',');
  CHECK_FALSE(writer.write_entry("not json"));
  CHECK_FALSE(writer.write_entry("[1,2]"));
  CHECK_FALSE(writer.write_entry(""));
  CHECK(writer.take_output().empty());
  // Members of the wrong type are written as empty cells.
  REQUIRE(writer.write_entry(R"({"row":"2","kind":5,"cells":[1,"b"]})"));
  CHECK(writer.take_output() == ",,,,,b\r\n");
}

TEST_CASE("error report header cells parsing", "[gateway][report]") {
  CHECK(error_report_writer::parse_header_cells(R"(["a","b c"])") ==
        std::vector<std::string>{"a", "b c"});
  CHECK(error_report_writer::parse_header_cells("").empty());
  CHECK(error_report_writer::parse_header_cells("{}").empty());
  CHECK(error_report_writer::parse_header_cells(R"(["a",1])").empty());
  CHECK(error_report_writer::parse_header_cells("[").empty());
}

TEST_CASE("error report from processor rows", "[gateway][report]") {
  const std::string file =
      "Email,First Name,Notes\r\n"
      "ann@example.com,Ann,ok\r\n"
      "bob.example.com,Bob,\"has, comma\"\r\n"
      "carl@example.com,Carl\r\n"
      ",Dora,x,extra\r\n";
  CHECK(report_of(contacts_request(), file) ==
        bom + "Email,First Name,Notes," + report_header + "\r\n" +
            "bob.example.com,Bob,\"has, comma\",3,Email,invalid_email,"
            "an email address needs an @\r\n" +
            "carl@example.com,Carl,,4,,column_count_mismatch,\"expected 3 fields, got 2\"\r\n" +
            ",Dora,x,5,,column_count_mismatch,\"expected 3 fields, got 4\",extra\r\n");
}

TEST_CASE("error report import round trip", "[gateway][report]") {
  const std::string file =
      "Email,First Name\r\n"
      "bob.example.com,Bob\r\n"
      "ann@example.com,Ann\r\n"
      "dora@example,Dora\r\n";
  std::string report = report_of(contacts_request(), file);

  // Fix the two bad emails, as a user would in a spreadsheet, and import the report again.
  const auto replace = [&report](std::string_view from, std::string_view to) {
    const auto at = report.find(from);
    REQUIRE(at != std::string::npos);
    report.replace(at, from.size(), to);
  };
  replace("bob.example.com", "bob@example.com");
  replace("dora@example,", "dora@example.org,");

  const auto rows = process(contacts_request(), report);
  REQUIRE(rows.size() == 2);
  for (const auto& row : rows) {
    INFO("row " << row.row << " " << (row.error ? row.error->detail : std::string()));
    CHECK(row.status == records::row_status::valid);
  }
  CHECK(rows[0].unique_key == "bob@example.com");
  CHECK(rows[1].unique_key == "dora@example.org");
}

TEST_CASE("error report cells bounded", "[gateway][report]") {
  records::import_limits limits;
  limits.max_error_value_bytes = 4;
  limits.max_error_cells_bytes = 10;
  const std::string file =
      "Email,a,b,c,d\r\n"
      "bad,123456,xy,zz,ww\r\n";
  const auto rows = process(contacts_request(), file, limits);
  REQUIRE(rows.size() == 1);
  REQUIRE(rows[0].error.has_value());
  const auto& error = *rows[0].error;
  // "bad" (3 bytes), "1234…" (7), then the 10-byte bound leaves out the rest.
  CHECK(error.cells == std::vector<std::string>{"bad", "1234\u2026"});
  CHECK(error.cells_cut);
}
