#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "common/records/import_record_counter.hpp"
#include "common/records/import_row_processor.hpp"

using namespace jobgate::records;

namespace {

// Rows, or the job-level failure, of one pass over a file.
struct pass_result {
  std::vector<import_row> rows;
  std::optional<import_failure> failure;
  std::vector<std::string> unmapped;
};

// Feeds `file` as the worker does: chunks of `chunk_size`, seeking when the processor requests it.
pass_result run_pass(const import_request& request, std::string_view file, std::size_t chunk_size,
                     std::optional<import_checkpoint> resume_from = std::nullopt,
                     const import_limits& limits = {},
                     const property_catalog& catalog = property_catalog::builtin()) {
  pass_result result;
  auto processor = import_row_processor::create(catalog, request, resume_from, limits);
  if (!processor.has_value()) {
    result.failure = processor.error();
    return result;
  }
  std::uint64_t offset = 0;
  while (offset < file.size()) {
    const std::string_view chunk = file.substr(offset, chunk_size);
    const auto fed = processor->feed(chunk, result.rows);
    if (!fed.has_value()) {
      result.failure = fed.error();
      return result;
    }
    offset += chunk.size();
    if (const auto seek = processor->take_seek_offset()) {
      CHECK(*seek >= offset);
      offset = *seek;
    }
  }
  const auto finished = processor->finish(result.rows);
  if (!finished.has_value()) {
    result.failure = finished.error();
  } else {
    result.unmapped = processor->unmapped_columns();
  }
  return result;
}

pass_result run_pass(const import_request& request, std::string_view file) {
  return run_pass(request, file, file.size() + 1);
}

// A one-line summary of a row, so differences read well in a failed check.
std::string describe(const import_row& row) {
  std::string text = "row " + std::to_string(row.row) + " line " + std::to_string(row.line) +
                     " end " + std::to_string(row.end_offset) + " next " +
                     std::to_string(row.next_line);
  switch (row.status) {
    case row_status::valid:
      text += " valid key=" + row.unique_key;
      for (const import_value& value : row.values) {
        text += " " + std::string(value.property) + "=" + value.value;
      }
      break;
    case row_status::blank:
      text += " blank";
      break;
    case row_status::rejected:
      text += " rejected " + std::string(to_string(row.error->kind)) +
              " column=" + row.error->column + " property=" + row.error->property +
              " value=" + row.error->value + " detail=" + row.error->detail + " at " +
              std::to_string(row.error->row) + "/" + std::to_string(row.error->line);
      break;
  }
  return text;
}

std::vector<std::string> describe(const std::vector<import_row>& rows) {
  std::vector<std::string> lines;
  for (const import_row& row : rows) {
    lines.push_back(describe(row));
  }
  return lines;
}

import_request contacts_request(std::initializer_list<std::pair<const char*, const char*>> pairs,
                                char delimiter = ',') {
  import_request request;
  request.object_type = "contacts";
  for (const auto& [column, property] : pairs) {
    request.column_mappings.push_back(column_mapping_request{column, property});
  }
  request.options.delimiter = delimiter;
  return request;
}

import_request contacts_request() {
  return contacts_request({{"email", "email"},
                           {"firstname", "firstname"},
                           {"phone", "phone"},
                           {"stage", "lifecyclestage"},
                           {"created", "createdate"}});
}

const import_row& only_row(const pass_result& result) {
  REQUIRE_FALSE(result.failure);
  REQUIRE(result.rows.size() == 1);
  return result.rows.front();
}

// A file of about 9 KiB with quoted line ends, blank and bad rows, so a resumed pass must seek.
std::string long_file() {
  std::string file = "email,firstname,phone,stage,created\r\n";
  for (int i = 0; i < 300; ++i) {
    const std::string n = std::to_string(i);
    switch (i % 6) {
      case 0:
        file +=
            "user" + n + "@example.com,\"Name\r\nwith break " + n + "\",+1 555 " + n + ",lead,\r\n";
        break;
      case 1:
        file += "bad" + n + "(at)example.com,x,,,\r\n";
        break;
      case 2:
        file += " , ,\t,,\r\n";
        break;
      case 3:
        file += "USER" + n + "@Example.com,\"say \"\"hi\"\"\",,Customer,2020-01-0" +
                std::to_string(1 + i % 9) + "\n";
        break;
      case 4:
        file += "\r";
        break;
      default:
        file += "short" + n + "@example.com,only two\r\n";
        break;
    }
  }
  return file + "last@example.com,Last,,,";
}

}  // namespace

TEST_CASE("import processor classifies rows", "[records]") {
  const std::string file =
      "email,firstname,phone,stage,created\r\n"
      "  Ana@Example.com ,Ana,+44 20 7946 0018,Lead,2024-02-29\r\n"
      "frank(at)example.com,Frank,,,\r\n"
      ",  ,\t,,\r\n"
      ",Yves,,,\r\n"
      "cole@example.com,Cole\r\n"
      "dan@example.com,Dan,,boss,\r\n"
      "eve@example.com,Eve,4.4207946E+11,,\r\n"
      "fay@example.com,Fay,,,2023-02-29\r\n"
      "gus@example.com,  Gus  ,,,\r\n";
  const pass_result result = run_pass(contacts_request(), file);
  REQUIRE_FALSE(result.failure);
  CHECK(result.unmapped.empty());
  const std::vector<std::string> expected = {
      "row 2 line 2 end 94 next 3 valid key=ana@example.com email=ana@example.com firstname=Ana "
      "phone=+44 20 7946 0018 lifecyclestage=lead createdate=2024-02-29",
      "row 3 line 3 end 125 next 4 rejected invalid_email column=email property=email "
      "value=frank(at)example.com detail=an email address needs an @ at 3/3",
      "row 4 line 4 end 134 next 5 blank",
      "row 5 line 5 end 144 next 6 rejected missing_required column=email property=email value= "
      "detail=email is required, but the cell is empty at 5/5",
      "row 6 line 6 end 167 next 7 rejected column_count_mismatch column= property= value= "
      "detail=expected 5 fields, got 2 at 6/6",
      "row 7 line 7 end 195 next 8 rejected invalid_option column=stage property=lifecyclestage "
      "value=boss detail=the value is not one of the property's options: subscriber, lead, "
      "marketingqualifiedlead, salesqualifiedlead, opportunity, customer, evangelist, other at "
      "7/7",
      "row 8 line 8 end 232 next 9 rejected invalid_phone column=phone property=phone "
      "value=4.4207946E+11 detail=the phone number is in scientific notation, so a spreadsheet "
      "has already dropped digits; format the column as text and export the file again at 8/8",
      "row 9 line 9 end 266 next 10 rejected invalid_date column=created property=createdate "
      "value=2023-02-29 detail=the value is not a calendar date at 9/9",
      "row 10 line 10 end 294 next 11 valid key=gus@example.com email=gus@example.com "
      "firstname=  Gus  ",
  };
  CHECK(describe(result.rows) == expected);
}

TEST_CASE("import processor rejects binary files", "[records]") {
  const import_request request = contacts_request();
  const std::vector<std::pair<std::string, std::string>> files = {
      {std::string("PK\x03\x04\x14\x00\x06\x00", 8), "ZIP"},
      {std::string("\x1F\x8B\x08\x00", 4), "gzip"},
      {"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n", "PDF"},
      {std::string("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\x00", 9), "OLE2"},
      {std::string("email\r\nana@example.com\x00\r\n", 24), "NUL byte at byte offset 22"},
      {std::string("e\0m\0a\0i\0l\0\r\0\n\0", 14), "UTF-16 without a byte-order mark"},
  };
  for (const auto& [file, words] : files) {
    INFO(words);
    for (const std::size_t chunk : {std::size_t{1}, std::size_t{3}, file.size() + 1}) {
      const pass_result result = run_pass(request, file, chunk);
      REQUIRE(result.failure);
      CHECK(result.failure->slug() == "not-csv");
      CHECK(result.failure->detail.find(words) != std::string::npos);
      CHECK(result.rows.empty());
    }
  }

  // NUL bytes after the first block are data, and UTF-16 with its byte-order mark is text.
  std::string late_nul = "email\r\n";
  while (late_nul.size() < import_row_processor::first_block_bytes) {
    late_nul += "ana@example.com\r\n";
  }
  late_nul += std::string("nul\0@example.com\r\n", 18);
  const pass_result late = run_pass(contacts_request({{"email", "email"}}), late_nul);
  REQUIRE_FALSE(late.failure);
  CHECK(late.rows.back().error->kind == row_error_kind::invalid_email);
}

TEST_CASE("import processor reports empty files", "[records]") {
  const import_request request = contacts_request();
  for (const std::string file : {"", "\xEF\xBB\xBF", "\r\n\r\nemail\r\n", " , \nemail\n"}) {
    INFO(file);
    const pass_result result = run_pass(request, file);
    REQUIRE(result.failure);
    CHECK(result.failure->slug() == "empty-file");
  }
  auto processor = import_row_processor::create(property_catalog::builtin(), request);
  REQUIRE(processor.has_value());
  CHECK(processor->unmapped_columns().empty());
  CHECK_FALSE(processor->header_read());

  // A header without data rows is a valid, empty import.
  const pass_result header_only = run_pass(request, "email,firstname,phone,stage,created");
  CHECK_FALSE(header_only.failure);
  CHECK(header_only.rows.empty());
}

TEST_CASE("import processor rejects broken header", "[records]") {
  const pass_result result =
      run_pass(contacts_request(), "email,\"firstname\r\nana@example.com,Ana\r\n");
  REQUIRE(result.failure);
  CHECK(result.failure->slug() == "invalid-header");

  import_limits limits;
  limits.max_fields = 3;
  const pass_result wide =
      run_pass(contacts_request(), "email,firstname,phone,stage,created\r\n", 64, {}, limits);
  REQUIRE(wide.failure);
  CHECK(wide.failure->slug() == "invalid-header");
}

TEST_CASE("import processor reports invalid bytes", "[records]") {
  // B07 shape: the u-umlaut of Müller is the byte 0xFC at offset 50.
  const std::string file = "email,firstname,company\r\nrita@example.com,Rita,M\xFCller\r\n";
  const pass_result result =
      run_pass(contacts_request({{"email", "email"}, {"company", "company"}}), file);
  const import_row& row = only_row(result);
  CHECK(row.status == row_status::rejected);
  CHECK(row.error->kind == row_error_kind::invalid_encoding);
  CHECK(row.error->column == "company");
  CHECK(row.error->value == "M\\xFCller");
  CHECK(row.error->detail == "invalid UTF-8 at byte offset 48 of the file");

  // The same bytes in a column nothing maps to do not reject the row.
  const pass_result unmapped = run_pass(contacts_request({{"email", "email"}}), file);
  CHECK(only_row(unmapped).status == row_status::valid);
  CHECK(unmapped.unmapped == std::vector<std::string>{"firstname", "company"});

  // A quoted cell: the offset still points into the original file.
  const std::string quoted = "email,company\n\"x\"\"\xFF\"@example.com,\"a\"\"b\xE9\"\n";
  const pass_result in_quotes =
      run_pass(contacts_request({{"email", "email"}, {"company", "company"}}), quoted);
  const import_row& quoted_row = only_row(in_quotes);
  REQUIRE(quoted_row.error);
  CHECK(quoted_row.error->column == "email");
  // The closing quote goes, and the text after it is kept.
  CHECK(quoted_row.error->value == "x\"\\xFF@example.com");
  CHECK(quoted_row.error->detail == "invalid UTF-8 at byte offset 18 of the file");
}

TEST_CASE("import processor transcodes single-byte encodings", "[records]") {
  const std::string file =
      "email,firstname,company\r\nrita@example.com,Rita,M\xFCller Caf\xE9 \x80\r\n";
  import_request request = contacts_request({{"email", "email"}, {"company", "company"}});
  request.options.encoding = jobgate::csv::text_encoding::windows_1252;
  const pass_result windows = run_pass(request, file);
  const import_row& row = only_row(windows);
  REQUIRE(row.status == row_status::valid);
  CHECK(row.values[1].value == "M\xC3\xBCller Caf\xC3\xA9 \xE2\x82\xAC");
  CHECK(row.end_offset == file.size());

  request.options.encoding = jobgate::csv::text_encoding::iso_8859_1;
  const pass_result latin1 = run_pass(request, file);
  CHECK(only_row(latin1).values[1].value == "M\xC3\xBCller Caf\xC3\xA9 \xC2\x80");

  // A UTF-8 byte-order mark wins over the requested encoding.
  const std::string bom_file =
      "\xEF\xBB\xBF"
      "email,company\nana@example.com,M\xC3\xBCller\n";
  request.options.encoding = jobgate::csv::text_encoding::windows_1252;
  const pass_result with_bom = run_pass(request, bom_file);
  CHECK(only_row(with_bom).values[1].value == "M\xC3\xBCller");
}

TEST_CASE("import processor reads UTF-16 files", "[records]") {
  const std::u16string text =
      u"email\tcompany\r\nana@example.com\tM\u00FCller \U0001F600\r\n"
      u"ben@example.com\tbad \xD800 surrogate\r\n";
  std::string file = "\xFF\xFE";
  for (const char16_t unit : text) {
    file += static_cast<char>(unit & 0xFF);
    file += static_cast<char>(unit >> 8);
  }
  const import_request request =
      contacts_request({{"email", "email"}, {"company", "company"}}, '\t');
  const pass_result result = run_pass(request, file);
  REQUIRE_FALSE(result.failure);
  REQUIRE(result.rows.size() == 2);
  CHECK(result.rows[0].status == row_status::valid);
  CHECK(result.rows[0].values[1].value == "M\xC3\xBCller \xF0\x9F\x98\x80");
  CHECK(result.rows[0].end_offset == 2 + 2 * 42);
  REQUIRE(result.rows[1].error);
  CHECK(result.rows[1].error->kind == row_error_kind::invalid_encoding);
  CHECK(result.rows[1].error->value == "bad \\xED\\xA0\\x80 surrogate");
  CHECK(result.rows[1].error->detail == "invalid UTF-16 (an unpaired surrogate) at byte offset " +
                                            std::to_string(2 + 2 * 62) + " of the file");
  CHECK(result.rows[1].end_offset == file.size());

  for (const std::size_t chunk : {1, 3, 7}) {
    CHECK(describe(run_pass(request, file, chunk).rows) == describe(result.rows));
  }
}

TEST_CASE("import processor bounds record size", "[records]") {
  import_limits limits;
  limits.max_field_bytes = 16;
  limits.max_record_bytes = 40;
  limits.max_error_value_bytes = 8;
  const std::string file =
      "email,firstname\n"
      "ana@example.com,\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\n"
      "ben@example.com,Ben\n";
  const pass_result result = run_pass(
      contacts_request({{"email", "email"}, {"firstname", "firstname"}}), file, 5, {}, limits);
  REQUIRE_FALSE(result.failure);
  REQUIRE(result.rows.size() == 2);
  REQUIRE(result.rows[0].error);
  CHECK(result.rows[0].error->kind == row_error_kind::value_too_long);
  CHECK(result.rows[0].error->column == "firstname");
  CHECK(result.rows[0].error->value == "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\u2026");
  CHECK(result.rows[0].error->detail == "the field is longer than the limit of 16 bytes");
  CHECK(result.rows[1].status == row_status::valid);
}

TEST_CASE("import processor reports unterminated quote", "[records]") {
  const std::string file = "email,firstname\nana@example.com,Ana\nben@example.com,\"Ben\nrest\n";
  const pass_result result =
      run_pass(contacts_request({{"email", "email"}, {"firstname", "firstname"}}), file);
  REQUIRE(result.rows.size() == 2);
  REQUIRE(result.rows[1].error);
  CHECK(result.rows[1].error->kind == row_error_kind::unterminated_quote);
  CHECK(result.rows[1].error->line == 3);
  CHECK(result.rows[1].error->column == "firstname");
  CHECK(result.rows[1].error->value == "Ben\nrest\n");
}

TEST_CASE("import processor ignores chunk boundaries", "[records]") {
  const std::string file = long_file().substr(0, 700) + "\r\n\xEF\xBF,x\r\n\"open,end";
  const import_request request = contacts_request();
  const std::vector<std::string> whole = describe(run_pass(request, file).rows);
  CHECK(whole.size() > 10);
  for (std::size_t split = 0; split <= file.size(); ++split) {
    INFO("split at " << split);
    import_row_processor processor =
        *import_row_processor::create(property_catalog::builtin(), request);
    std::vector<import_row> rows;
    REQUIRE(processor.feed(std::string_view(file).substr(0, split), rows).has_value());
    REQUIRE(processor.feed(std::string_view(file).substr(split), rows).has_value());
    REQUIRE(processor.finish(rows).has_value());
    CHECK(describe(rows) == whole);
  }
  CHECK(describe(run_pass(request, file, 1).rows) == whole);
}

TEST_CASE("import processor resumes at checkpoints", "[records]") {
  const std::string file = long_file();
  REQUIRE(file.size() > 2 * import_row_processor::first_block_bytes);
  const import_request request = contacts_request();
  const pass_result full = run_pass(request, file);
  REQUIRE_FALSE(full.failure);
  const std::vector<std::string> all = describe(full.rows);
  REQUIRE(all.size() == 301);

  for (std::size_t i = 0; i < full.rows.size(); ++i) {
    const import_checkpoint checkpoint = full.rows[i].checkpoint();
    const std::vector<std::string> expected(all.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                                            all.end());
    for (const std::size_t chunk : {std::size_t{997}, std::size_t{65536}}) {
      INFO("checkpoint after row " << full.rows[i].row << ", chunks of " << chunk);
      CHECK(describe(run_pass(request, file, chunk, checkpoint).rows) == expected);
    }
  }
  // One byte at a time, for a few checkpoints around the first block.
  for (const std::size_t i :
       {std::size_t{0}, std::size_t{60}, std::size_t{299}, std::size_t{300}}) {
    const std::vector<std::string> expected(all.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                                            all.end());
    CHECK(describe(run_pass(request, file, 1, full.rows[i].checkpoint()).rows) == expected);
  }
}

TEST_CASE("import processor resumes short files", "[records]") {
  // The whole file fits in the first block, so the rows resume without a seek.
  const std::string file = "email\r\na@example.com\r\nb@example.com\rc@example.com";
  const import_request request = contacts_request({{"email", "email"}});
  const pass_result full = run_pass(request, file);
  REQUIRE(full.rows.size() == 3);
  for (std::size_t i = 0; i < full.rows.size(); ++i) {
    for (const std::size_t chunk : {std::size_t{1}, std::size_t{10}, file.size()}) {
      const pass_result resumed = run_pass(request, file, chunk, full.rows[i].checkpoint());
      REQUIRE_FALSE(resumed.failure);
      REQUIRE(resumed.rows.size() == full.rows.size() - i - 1);
      for (std::size_t k = 0; k < resumed.rows.size(); ++k) {
        CHECK(describe(resumed.rows[k]) == describe(full.rows[i + 1 + k]));
      }
    }
  }
}

TEST_CASE("import processor resumes UTF-16 files", "[records]") {
  std::u16string text = u"email,company\r\n";
  for (int i = 0; i < 400; ++i) {
    text += u"user" + std::u16string(1, static_cast<char16_t>(u'a' + i % 26)) +
            u"@example.com,"
            u"\"Caf\u00E9\r\n\U0001F600\"\r\n";
  }
  std::string file = "\xFE\xFF";
  for (const char16_t unit : text) {
    file += static_cast<char>(unit >> 8);
    file += static_cast<char>(unit & 0xFF);
  }
  const import_request request = contacts_request({{"email", "email"}, {"company", "company"}});
  const pass_result full = run_pass(request, file, 4096);
  REQUIRE(full.rows.size() == 400);
  const std::vector<std::string> all = describe(full.rows);
  for (const std::size_t i :
       {std::size_t{0}, std::size_t{17}, std::size_t{250}, std::size_t{398}}) {
    const std::vector<std::string> expected(all.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                                            all.end());
    CHECK(describe(run_pass(request, file, 1000, full.rows[i].checkpoint()).rows) == expected);
  }
}

TEST_CASE("import processor checks its request", "[records]") {
  import_request request = contacts_request();
  request.options.dedupe_by = "domain";
  auto processor = import_row_processor::create(property_catalog::builtin(), request);
  REQUIRE_FALSE(processor.has_value());
  CHECK(processor.error().slug() == "invalid-request");
  CHECK(processor.error().subject == "domain");

  request.options.dedupe_by = "email";
  CHECK(import_row_processor::create(property_catalog::builtin(), request).has_value());

  request.object_type = "deals";
  CHECK_FALSE(import_row_processor::create(property_catalog::builtin(), request).has_value());

  // A checkpoint inside the header cannot come from an earlier pass.
  const pass_result inside = run_pass(contacts_request({{"email", "email"}}),
                                      "email\r\na@example.com\r\n", 64, import_checkpoint{3, 1, 2});
  REQUIRE(inside.failure);
  CHECK(inside.failure->slug() == "invalid-request");
  CHECK(run_pass(contacts_request(), "email\r\n", 64, import_checkpoint{0, 1, 2}).failure);
}

TEST_CASE("import processor maps by label", "[records]") {
  import_request request;
  request.object_type = "contacts";
  const std::string file =
      "Index,First Name,Last Name,Email,Phone,Job Title,Date of birth\r\n"
      "1,Ana,Lima,ana@example.com,(971)643-6089x9160,\"Editor, commissioning\",1921-08-17\r\n";
  const pass_result result = run_pass(request, file);
  const import_row& row = only_row(result);
  CHECK(describe(row) ==
        "row 2 line 2 end 146 next 3 valid key=ana@example.com firstname=Ana lastname=Lima "
        "email=ana@example.com phone=(971)643-6089x9160 jobtitle=Editor, commissioning");
  CHECK(result.unmapped == std::vector<std::string>{"Index", "Date of birth"});
}

TEST_CASE("import record counter matches rows", "[records]") {
  const import_request request = contacts_request();
  for (const std::string& file : {long_file(), std::string("email\r\n"), std::string(),
                                  std::string("email\n\"a\nb\"\n\n\"open\n\n")}) {
    const pass_result result = run_pass(request, file);
    const std::uint64_t total = import_record_counter::count_data_records(file, request.options);
    if (!result.failure) {
      CHECK(total == result.rows.size());
    }
    import_record_counter counter(request.options);
    for (const char byte : file) {
      counter.feed(std::string_view(&byte, 1));
    }
    counter.finish();
    CHECK(counter.data_records() == total);
  }
  CHECK(import_record_counter::count_data_records("a\n\"b\r\nc\"\r\nd", request.options) == 2);
}
