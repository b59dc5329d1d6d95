#include "common/csv/csv_reader.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "common/csv/text_decoder.hpp"

namespace {

using jobgate::csv::csv_error;
using jobgate::csv::csv_options;
using jobgate::csv::csv_reader;
using jobgate::csv::csv_record;

// A copy of everything a csv_record exposes, so records from different runs can be compared.
struct parsed_record {
  std::vector<std::string> fields;
  std::vector<std::uint64_t> field_offsets;
  std::vector<bool> quoted;
  std::uint64_t line = 0;
  std::uint64_t next_line = 0;
  std::uint64_t start = 0;
  std::uint64_t end = 0;
  csv_error error = csv_error::none;
  std::size_t error_field = 0;

  bool operator==(const parsed_record&) const = default;
};

parsed_record copy_record(const csv_record& record) {
  parsed_record copy;
  for (std::size_t i = 0; i < record.size(); ++i) {
    copy.fields.emplace_back(record[i]);
    copy.field_offsets.push_back(record.field_offset(i));
    copy.quoted.push_back(record.field_quoted(i));
  }
  copy.line = record.line();
  copy.next_line = record.next_line();
  copy.start = record.start_offset();
  copy.end = record.end_offset();
  copy.error = record.error();
  copy.error_field = record.error() == csv_error::none ? 0 : record.error_field();
  return copy;
}

// Parses `input` fed as chunks that end at the given split positions.
std::vector<parsed_record> parse_split(std::string_view input,
                                       const std::vector<std::size_t>& splits,
                                       const csv_options& options = {}) {
  std::vector<parsed_record> records;
  const auto collect = [&records](const csv_record& record) {
    records.push_back(copy_record(record));
  };
  csv_reader reader(options);
  std::size_t begin = 0;
  for (const std::size_t split : splits) {
    reader.feed(input.substr(begin, split - begin), collect);
    begin = split;
  }
  reader.feed(input.substr(begin), collect);
  reader.finish(collect);
  return records;
}

std::vector<parsed_record> parse(std::string_view input, const csv_options& options = {}) {
  return parse_split(input, {}, options);
}

std::vector<parsed_record> parse_bytewise(std::string_view input, const csv_options& options = {}) {
  std::vector<std::size_t> splits;
  for (std::size_t i = 1; i < input.size(); ++i) {
    splits.push_back(i);
  }
  return parse_split(input, splits, options);
}

// Checks that every split into two chunks, and one byte at a time, gives the whole-input result.
void check_split_invariance(std::string_view input, const csv_options& options = {}) {
  const std::vector<parsed_record> whole = parse(input, options);
  for (std::size_t split = 0; split <= input.size(); ++split) {
    INFO("split at byte " << split);
    CHECK(parse_split(input, {split}, options) == whole);
  }
  CHECK(parse_bytewise(input, options) == whole);
}

std::vector<std::vector<std::string>> fields_of(const std::vector<parsed_record>& records) {
  std::vector<std::vector<std::string>> fields;
  for (const parsed_record& record : records) {
    fields.push_back(record.fields);
  }
  return fields;
}

using rows = std::vector<std::vector<std::string>>;

const std::vector<std::string> hard_inputs = {
    "",
    "\n",
    "\r\n\r\n",
    "a,b,c\nd,e,f\n",
    "a,b,c\r\nd,e,f",
    "a,b\rc,d\r",
    "a,\"b,c\",\"d\"\"e\"\r\n\"x\r\ny\",z\r\n",
    "\"unterminated,field\r\nmore\n",
    "ab\"cd,\"ef\"gh,\"\"\n",
    "\"\",\"\"\"\"\n,\n,,\n",
    "\"a\"\r",
    "\"a\r\"\r\n\"b\n\"\n",
    "x\r\r\ny\n\rz",
    "\xEF\xBB\xBF"
    "caf\xC3\xA9,\xFC\n",
};

}  // namespace

TEST_CASE("csv_reader splits plain records", "[csv]") {
  CHECK(fields_of(parse("a,b,c\nd,e,f\n")) == rows{{"a", "b", "c"}, {"d", "e", "f"}});
  CHECK(fields_of(parse("a,b\r\nc,d")) == rows{{"a", "b"}, {"c", "d"}});
  CHECK(fields_of(parse("a,b\rc,d\r")) == rows{{"a", "b"}, {"c", "d"}});
  CHECK(fields_of(parse("a,,\n")) == rows{{"a", "", ""}});
  CHECK(fields_of(parse("a;b,c\n", csv_options{.delimiter = ';'})) == rows{{"a", "b,c"}});
  CHECK(fields_of(parse("a\tb\n", csv_options{.delimiter = '\t'})) == rows{{"a", "b"}});
}

TEST_CASE("csv_reader final line end adds nothing", "[csv]") {
  CHECK(parse("").empty());
  CHECK(fields_of(parse("a\n")) == rows{{"a"}});
  CHECK(fields_of(parse("a\r\n")) == rows{{"a"}});
  CHECK(fields_of(parse("a\r")) == rows{{"a"}});
  // Empty lines in the middle or at the end are records with one empty field.
  CHECK(fields_of(parse("a\n\nb\n\n")) == rows{{"a"}, {""}, {"b"}, {""}});
  CHECK(fields_of(parse("\r\n")) == rows{{""}});
}

TEST_CASE("csv_reader quoted fields keep bytes", "[csv]") {
  const auto records = parse("\"a,b\",\"say \"\"hi\"\"\",\"x\r\ny\",\"p\nq\",\"\"\r\n");
  REQUIRE(records.size() == 1);
  CHECK(records[0].fields == std::vector<std::string>{"a,b", "say \"hi\"", "x\r\ny", "p\nq", ""});
  CHECK(records[0].quoted == std::vector<bool>{true, true, true, true, true});
  CHECK(records[0].line == 1);
  CHECK(records[0].next_line == 4);
}

TEST_CASE("csv_reader bare quote is literal", "[csv]") {
  CHECK(fields_of(parse("Acme 27\" Displays,O'Neil\n")) == rows{{"Acme 27\" Displays", "O'Neil"}});
  CHECK(fields_of(parse("a\"\"b,c\"\n")) == rows{{"a\"\"b", "c\""}});
}

TEST_CASE("csv_reader appends text after closing quote", "[csv]") {
  CHECK(fields_of(parse("\"ab\"cd,e\n")) == rows{{"abcd", "e"}});
  CHECK(fields_of(parse("\"ab\" ,e\n")) == rows{{"ab ", "e"}});
  // After the closing quote the field is unquoted, so a later quote is literal.
  CHECK(fields_of(parse("\"ab\"c\"d,e\n")) == rows{{"abc\"d", "e"}});
}

TEST_CASE("csv_reader reports unterminated quote", "[csv]") {
  const auto records = parse("h1,h2\nok,1\nbad,\"open\nrest,of\nfile\n");
  REQUIRE(records.size() == 3);
  CHECK(records[1].error == csv_error::none);
  CHECK(records[2].error == csv_error::unterminated_quote);
  CHECK(records[2].error_field == 1);
  CHECK(records[2].line == 3);
  CHECK(records[2].fields == std::vector<std::string>{"bad", "open\nrest,of\nfile\n"});
}

TEST_CASE("csv_reader counts physical lines", "[csv]") {
  // B02 of the import cases: quoted CRLF, LF and an empty line inside quotes.
  const std::string input =
      "email,notes\r\ncara,\"Met.\r\nWants\"\r\ndev,\"one\nline two\n\nfour\"\r\neve,plain\r\n";
  const auto records = parse(input);
  REQUIRE(records.size() == 4);
  CHECK(records[0].line == 1);
  CHECK(records[1].line == 2);
  CHECK(records[2].line == 4);
  CHECK(records[3].line == 8);
  CHECK(records[3].next_line == 9);
  // LF then CR are two line ends; CR then LF is one.
  const auto mixed = parse("a\n\rb\r\nc\n");
  REQUIRE(mixed.size() == 4);
  CHECK(mixed[1].fields == std::vector<std::string>{""});
  CHECK(mixed[2].line == 3);
  CHECK(mixed[3].line == 4);
}

TEST_CASE("csv_reader reports file offsets", "[csv]") {
  const std::string input = "ab,\"c\"\"d\"\r\n,x\ry";
  const auto records = parse(input);
  REQUIRE(records.size() == 3);
  CHECK(records[0].start == 0);
  CHECK(records[0].end == 11);
  CHECK(records[0].field_offsets == std::vector<std::uint64_t>{0, 3});
  CHECK(records[1].start == 11);
  CHECK(records[1].end == 14);
  CHECK(records[1].field_offsets == std::vector<std::uint64_t>{11, 12});
  CHECK(records[2].start == 14);
  CHECK(records[2].end == 15);

  csv_options options;
  options.start_offset = 1000;
  options.start_line = 40;
  const auto resumed = parse("a\nb", options);
  REQUIRE(resumed.size() == 2);
  CHECK(resumed[0].start == 1000);
  CHECK(resumed[1].start == 1002);
  CHECK(resumed[1].line == 41);
}

TEST_CASE("csv_reader enforces size limits", "[csv]") {
  csv_options options;
  options.max_field_bytes = 8;
  options.max_record_bytes = 12;
  options.max_fields = 3;

  const auto records =
      parse("123456789,x\n12345,67890,abc\n\"quoted field too long\",y\na,b,c,d\nok,1\n", options);
  REQUIRE(records.size() == 5);
  CHECK(records[0].error == csv_error::field_too_large);
  CHECK(records[0].error_field == 0);
  CHECK(records[0].fields == std::vector<std::string>{"12345678", "x"});
  CHECK(records[1].error == csv_error::record_too_large);
  CHECK(records[1].error_field == 2);
  CHECK(records[2].error == csv_error::field_too_large);
  CHECK(records[3].error == csv_error::too_many_fields);
  CHECK(records[3].fields.size() == 3);
  CHECK(records[4].error == csv_error::none);
  CHECK(records[4].fields == std::vector<std::string>{"ok", "1"});
  CHECK(records[4].line == 5);
}

TEST_CASE("csv_reader rejects quote delimiter", "[csv]") {
  CHECK_THROWS_AS(csv_reader(csv_options{.delimiter = '"'}), std::invalid_argument);
  CHECK_THROWS_AS(csv_reader(csv_options{.delimiter = '\n'}), std::invalid_argument);
}

TEST_CASE("csv_reader counting mode matches", "[csv]") {
  csv_options counting;
  counting.keep_fields = false;
  for (const std::string& input : hard_inputs) {
    INFO(input);
    const auto full = parse(input);
    const auto counted = parse_bytewise(input, counting);
    REQUIRE(counted.size() == full.size());
    for (std::size_t i = 0; i < full.size(); ++i) {
      CHECK(counted[i].line == full[i].line);
      CHECK(counted[i].end == full[i].end);
      CHECK(counted[i].fields.empty());
    }
  }
}

TEST_CASE("csv_reader ignores chunk boundaries", "[csv]") {
  for (const std::string& input : hard_inputs) {
    INFO(input);
    check_split_invariance(input);
  }
  csv_options small;
  small.max_field_bytes = 3;
  small.max_record_bytes = 5;
  small.max_fields = 2;
  check_split_invariance("abcd,e\n\"abcdef\",g\r\na,b,c\rxy\n", small);
  check_split_invariance("a;\"b;c\";d\r\n", csv_options{.delimiter = ';'});
}

TEST_CASE("csv_reader import cases split anywhere", "[csv]") {
  const std::filesystem::path cases = std::filesystem::path(JOBGATE_SHARED_DIR) / "cases";
  if (!std::filesystem::is_directory(cases)) {
    WARN("skipped: " << cases << " is absent");
    return;
  }
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(cases)) {
    if (entry.path().extension() != ".csv") {
      continue;
    }
    std::ifstream stream(entry.path(), std::ios::binary);
    const std::string input{std::istreambuf_iterator<char>(stream), {}};
    INFO(entry.path().filename());
    check_split_invariance(input);
    ++files;
  }
  CHECK(files > 0);
}

TEST_CASE("csv_reader maps decoded offsets", "[csv]") {
  // UTF-16LE with a BOM: "a,é\r\nb,c\r\n", each code unit two bytes after the 2-byte BOM.
  const std::string utf16 =
      std::string("\xFF\xFE", 2) + std::string("a\0,\0\xE9\0\r\0\n\0b\0,\0c\0\r\0\n\0", 20);
  jobgate::csv::text_decoder decoder(jobgate::csv::text_encoding::utf_8);
  csv_reader reader;
  std::vector<parsed_record> records;
  const auto collect = [&records](const csv_record& record) {
    records.push_back(copy_record(record));
  };
  for (const char byte : utf16) {
    reader.feed(decoder.decode(std::string_view(&byte, 1)), collect);
  }
  reader.feed(decoder.finish(), collect);
  reader.finish(collect);

  REQUIRE(records.size() == 2);
  CHECK(records[0].fields == std::vector<std::string>{"a", "\xC3\xA9"});
  CHECK(records[0].start == 2);
  CHECK(records[0].field_offsets == std::vector<std::uint64_t>{2, 6});
  CHECK(records[0].end == 12);
  CHECK(records[1].start == 12);
  CHECK(records[1].field_offsets == std::vector<std::uint64_t>{12, 16});
  CHECK(records[1].end == 22);
}
