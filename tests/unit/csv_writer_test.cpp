#include "common/csv/csv_writer.hpp"

#include <boost/system/errc.hpp>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "common/csv/csv_reader.hpp"

namespace {

using jobgate::csv::csv_writer;

std::string write_rows(const std::vector<std::vector<std::string>>& rows, char delimiter = ',',
                       std::size_t buffer_bytes = 64 * 1024,
                       jobgate::csv::formula_escape escape = jobgate::csv::formula_escape::off) {
  std::string output;
  csv_writer writer(
      [&output](std::string_view piece) {
        output.append(piece);
        return boost::system::error_code();
      },
      delimiter, buffer_bytes);
  writer.set_formula_escape(escape);
  for (const auto& row : rows) {
    for (const std::string& field : row) {
      writer.write_field(field);
    }
    writer.end_record();
  }
  REQUIRE_FALSE(writer.flush());
  return output;
}

std::vector<std::vector<std::string>> read_rows(std::string_view input, char delimiter = ',') {
  std::vector<std::vector<std::string>> rows;
  jobgate::csv::csv_reader reader(jobgate::csv::csv_options{.delimiter = delimiter});
  const auto collect = [&rows](const jobgate::csv::csv_record& record) {
    REQUIRE(record.error() == jobgate::csv::csv_error::none);
    auto& row = rows.emplace_back();
    for (std::size_t i = 0; i < record.size(); ++i) {
      row.emplace_back(record[i]);
    }
  };
  reader.feed(input, collect);
  reader.finish(collect);
  return rows;
}

}  // namespace

TEST_CASE("csv_writer quotes only when needed", "[csv]") {
  CHECK(write_rows({{"plain", "", "with space"}}) == "plain,,with space\r\n");
  CHECK(write_rows({{"a,b"}}) == "\"a,b\"\r\n");
  CHECK(write_rows({{"say \"hi\""}}) == "\"say \"\"hi\"\"\"\r\n");
  CHECK(write_rows({{"x\ny", "x\r\ny", "x\ry"}}) == "\"x\ny\",\"x\r\ny\",\"x\ry\"\r\n");
  CHECK(write_rows({{" lead", "trail ", "\ttab"}}) == "\" lead\",\"trail \",\"\ttab\"\r\n");
  CHECK(write_rows({{"a;b", "c,d"}}, ';') == "\"a;b\";c,d\r\n");
  CHECK(write_rows({{"O'Neil", "27\" screen"}}) == "O'Neil,\"27\"\" screen\"\r\n");
}

TEST_CASE("csv_writer round trips hard values", "[csv]") {
  const std::vector<std::string> values = {
      "",
      " ",
      "\"",
      "\"\"",
      ",",
      ";",
      "\t",
      "\r",
      "\n",
      "\r\n",
      "a\"b",
      "\"quoted\"",
      "line one\nline two\n\nline four",
      "caf\xC3\xA9",
      "\xE4\xB8\xAD\xE6\x96\x87",
      "\xF0\x9F\x98\x80 emoji",
      "trailing ",
      " leading",
      "x,y\r\nz\"w",
      "=1+2",
  };
  for (const char delimiter : {',', ';', '\t', '|'}) {
    INFO("delimiter " << static_cast<int>(delimiter));
    std::vector<std::vector<std::string>> rows;
    for (const std::string& value : values) {
      rows.push_back({value, "next"});
      rows.push_back({"first", value});
    }
    rows.push_back(values);
    CHECK(read_rows(write_rows(rows, delimiter), delimiter) == rows);
  }
}

TEST_CASE("csv_writer single empty field", "[csv]") {
  // One empty field is an empty line, which the reader reads back as one empty field.
  const std::vector<std::vector<std::string>> rows = {{""}, {"a"}, {""}};
  CHECK(write_rows(rows) == "\r\na\r\n\r\n");
  CHECK(read_rows(write_rows(rows)) == rows);
}

TEST_CASE("csv_writer flushes in pieces", "[csv]") {
  std::vector<std::vector<std::string>> rows;
  for (int i = 0; i < 100; ++i) {
    rows.push_back({std::to_string(i), "value, with comma", "x"});
  }
  std::vector<std::string> pieces;
  csv_writer writer(
      [&pieces](std::string_view piece) {
        pieces.emplace_back(piece);
        return boost::system::error_code();
      },
      ',', 64);
  for (const auto& row : rows) {
    writer.write_record({row[0], row[1], row[2]});
  }
  REQUIRE_FALSE(writer.flush());
  CHECK(pieces.size() > 10);
  std::string joined;
  for (const std::string& piece : pieces) {
    joined += piece;
  }
  CHECK(joined == write_rows(rows));
}

TEST_CASE("csv_writer stops at sink error", "[csv]") {
  int calls = 0;
  const auto failure =
      boost::system::errc::make_error_code(boost::system::errc::no_space_on_device);
  csv_writer writer(
      [&](std::string_view) {
        ++calls;
        return failure;
      },
      ',', 8);
  writer.write_record({"first record", "x"});
  writer.write_record({"second record", "y"});
  CHECK(writer.flush() == failure);
  CHECK(writer.error() == failure);
  CHECK(calls == 1);
}

TEST_CASE("starts_like_formula checks first character", "[csv]") {
  using jobgate::csv::starts_like_formula;
  for (const std::string_view value :
       {"=1+2", "+4915112345678", "-5", "@x", "\tx", "\rx", "=", "+", "-", "@", "\t", "\r"}) {
    INFO(value);
    CHECK(starts_like_formula(value));
  }
  for (const std::string_view value :
       {"", "1+2", " =1", "a=b", "'=1", "\n=1", "\"=1\"", "%x", "|x", "5-", "0.5"}) {
    INFO(value);
    CHECK_FALSE(starts_like_formula(value));
  }
}

TEST_CASE("csv_writer escapes formula cells", "[csv]") {
  const auto escaped = [](const std::vector<std::string>& row, char delimiter = ',') {
    return write_rows({row}, delimiter, 64 * 1024, jobgate::csv::formula_escape::single_quote);
  };
  CHECK(escaped({"=1+2", "+4915112345678", "-5", "@x"}) == "'=1+2,'+4915112345678,'-5,'@x\r\n");
  CHECK(escaped({"plain", "1+2", "", "a=b", "'=already"}) == "plain,1+2,,a=b,'=already\r\n");
  // A tab after the prefix no longer leads the field, so only a CR or delimiter forces quotes.
  CHECK(escaped({"\tx", "\rx"}) == "'\tx,\"'\rx\"\r\n");
  CHECK(escaped({"=SUM(A1,B1)", "=\"x\""}) == "\"'=SUM(A1,B1)\",\"'=\"\"x\"\"\"\r\n");
  CHECK(escaped({"-x ", "@a;b"}, ';') == "\"'-x \";\"'@a;b\"\r\n");

  // Without escaping the same cells are written as they are.
  CHECK(write_rows({{"=1+2", "-5", "\tx"}}) == "=1+2,-5,\"\tx\"\r\n");
}

TEST_CASE("csv_writer escaped cells read back", "[csv]") {
  const std::vector<std::string> values = {"=1+2",     "+4915112345678", "-5",   "@x",
                                           "\tindent", "\rline",         "=a,b", "-\"q\"\n"};
  std::vector<std::vector<std::string>> rows = {values};
  std::vector<std::vector<std::string>> expected = {{}};
  for (const std::string& value : values) {
    expected[0].push_back("'" + value);
  }
  const std::string written =
      write_rows(rows, ',', 64 * 1024, jobgate::csv::formula_escape::single_quote);
  CHECK(read_rows(written) == expected);
}
