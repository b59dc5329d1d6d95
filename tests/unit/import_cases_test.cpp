#include <rapidjson/document.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/records/import_record_counter.hpp"
#include "common/records/import_row_processor.hpp"

// Runs every import case of the shared cases folder through the row pipeline and checks counts,
// failed rows, skipped rows and stored values against its .expected.json. Rows are applied to an
// in-memory record map by unique key (a later non-empty value wins), standing in for the store.

using namespace jobgate::records;

namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& path) {
  std::ifstream stream(path, std::ios::binary);
  return std::string{std::istreambuf_iterator<char>(stream), {}};
}

std::string string_of(const rapidjson::Value& value) {
  return std::string(value.GetString(), value.GetStringLength());
}

struct pass_result {
  std::vector<import_row> rows;
  std::optional<import_failure> failure;
};

// Feeds `file` as the worker does: chunks of `chunk_size`, seeking when the processor requests it.
pass_result run_pass(const property_catalog& catalog, const import_request& request,
                     std::string_view file, std::size_t chunk_size,
                     std::optional<import_checkpoint> resume_from = std::nullopt) {
  pass_result result;
  auto processor = import_row_processor::create(catalog, request, resume_from);
  if (!processor.has_value()) {
    result.failure = processor.error();
    return result;
  }
  std::uint64_t offset = 0;
  while (offset < file.size()) {
    const std::string_view chunk = file.substr(offset, chunk_size);
    if (const auto fed = processor->feed(chunk, result.rows); !fed.has_value()) {
      result.failure = fed.error();
      return result;
    }
    offset += chunk.size();
    if (const auto seek = processor->take_seek_offset()) {
      offset = *seek;
    }
  }
  if (const auto finished = processor->finish(result.rows); !finished.has_value()) {
    result.failure = finished.error();
  }
  return result;
}

std::string describe(const import_row& row) {
  std::string text = std::to_string(row.row) + "/" + std::to_string(row.line) + "/" +
                     std::to_string(row.end_offset) + " status " +
                     std::to_string(static_cast<int>(row.status)) + " key " + row.unique_key;
  for (const import_value& value : row.values) {
    text += " " + value.property + "=" + value.value;
  }
  if (row.error) {
    text += " error " + std::string(to_string(row.error->kind)) + " " + row.error->column + " " +
            row.error->value + " " + row.error->detail;
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

// The builtin catalog plus a string property for every mapped name the object type lacks.
property_catalog catalog_for(const import_request& request) {
  property_catalog catalog = property_catalog::builtin();
  for (const column_mapping_request& mapping : request.column_mappings) {
    if (catalog.find_property(request.object_type, mapping.property_name) == nullptr) {
      REQUIRE(catalog.add_custom_property(request.object_type, mapping.property_name).has_value());
    }
  }
  return catalog;
}

// Applies valid rows in file order and checks counts, failed rows and stored records.
void check_outcome(const rapidjson::Value& expected, const pass_result& result,
                   const std::string& unique_property) {
  REQUIRE(expected.IsObject());
  const auto status = expected.FindMember("jobStatus");
  if (status != expected.MemberEnd()) {
    REQUIRE(string_of(status->value) == "DONE");
  }
  REQUIRE_FALSE(result.failure);

  std::uint64_t failed = 0;
  std::uint64_t blank = 0;
  std::uint64_t created = 0;
  std::uint64_t updated = 0;
  std::vector<const import_row*> failed_rows;
  std::vector<std::uint64_t> blank_rows;
  std::map<std::string, std::map<std::string, std::string>> store;
  for (const import_row& row : result.rows) {
    switch (row.status) {
      case row_status::rejected:
        ++failed;
        failed_rows.push_back(&row);
        break;
      case row_status::blank:
        ++blank;
        blank_rows.push_back(row.row);
        break;
      case row_status::valid: {
        REQUIRE_FALSE(row.unique_key.empty());
        const bool exists = store.count(row.unique_key) != 0;
        ++(exists ? updated : created);
        auto& record = store[row.unique_key];
        for (const import_value& value : row.values) {
          record[value.property] = value.value;
        }
        break;
      }
    }
  }

  const auto counts = expected.FindMember("counts");
  if (counts != expected.MemberEnd()) {
    const rapidjson::Value& c = counts->value;
    CHECK(result.rows.size() == c["rowsRead"].GetUint64());
    CHECK(failed == c["failed"].GetUint64());
    CHECK(blank == c["skippedBlank"].GetUint64());
    CHECK(created == c["created"].GetUint64());
    CHECK(updated == c["updated"].GetUint64());
  }

  const auto expected_failed = expected.FindMember("failedRows");
  if (expected_failed != expected.MemberEnd()) {
    const auto& entries = expected_failed->value.GetArray();
    REQUIRE(failed_rows.size() == entries.Size());
    for (rapidjson::SizeType i = 0; i < entries.Size(); ++i) {
      const rapidjson::Value& entry = entries[i];
      const row_error& error = *failed_rows[i]->error;
      INFO("failed row " << i);
      CHECK(error.row == entry["row"].GetUint64());
      CHECK(error.line == entry["line"].GetUint64());
      CHECK(to_string(error.kind) == string_of(entry["kind"]));
      for (const auto& [member, actual] :
           {std::pair{"value", &error.value}, std::pair{"detail", &error.detail},
            std::pair{"property", &error.property}, std::pair{"column", &error.column}}) {
        const auto expected_member = entry.FindMember(member);
        if (expected_member != entry.MemberEnd()) {
          CHECK(*actual == string_of(expected_member->value));
        }
      }
    }
  }

  const auto skipped = expected.FindMember("skippedRows");
  if (skipped != expected.MemberEnd()) {
    std::vector<std::uint64_t> expected_rows;
    for (const auto& row : skipped->value.GetArray()) {
      expected_rows.push_back(row.GetUint64());
    }
    CHECK(blank_rows == expected_rows);
  }

  const auto records = expected.FindMember("records");
  if (records != expected.MemberEnd()) {
    for (const auto& record : records->value.GetArray()) {
      const std::string key = string_of(record[unique_property.c_str()]);
      INFO("record " << key);
      REQUIRE(store.count(key) == 1);
      const auto& stored = store.at(key);
      for (const auto& member : record.GetObject()) {
        const std::string property = string_of(member.name);
        INFO("property " << property);
        if (member.value.IsNull()) {
          CHECK(stored.count(property) == 0);
        } else {
          REQUIRE(stored.count(property) == 1);
          CHECK(stored.at(property) == string_of(member.value));
        }
      }
    }
  }
}

// Checks a variant whose expectation lists acceptable job failures such as ".../missing-column".
void check_failure_variant(const rapidjson::Value& expected, const pass_result& result) {
  REQUIRE(result.failure);
  CHECK(result.rows.empty());
  std::string accepted;
  for (const auto& option : expected["either"].GetArray()) {
    accepted += string_of(option) + "\n";
  }
  INFO("accepted: " << accepted << "got: " << result.failure->slug() << " "
                    << result.failure->subject);
  CHECK(accepted.find("/" + std::string(result.failure->slug())) != std::string::npos);
  if (!result.failure->subject.empty() && accepted.find("naming '") != std::string::npos) {
    CHECK(accepted.find("naming '" + result.failure->subject + "'") != std::string::npos);
  }
}

// Applies a variant's change to the request or the file. Returns false for a change this test
// cannot express.
bool apply_change(const std::string& id, const std::string& change, import_request& request,
                  std::string& file) {
  if (change.starts_with("options.delimiter omitted")) {
    request.options.delimiter = ',';
    return true;
  }
  const std::string encoding_prefix = "options.encoding = \"";
  if (change.starts_with(encoding_prefix)) {
    const std::size_t end = change.find('"', encoding_prefix.size());
    const auto encoding = jobgate::csv::parse_text_encoding(
        change.substr(encoding_prefix.size(), end - encoding_prefix.size()));
    REQUIRE(encoding);
    request.options.encoding = *encoding;
    return true;
  }
  if (id == "B13" && change.starts_with("header ' Email ,EMAIL,First Name,LASTNAME'")) {
    // Same data rows, each with its email repeated for the extra column.
    std::string changed = " Email ,EMAIL,First Name,LASTNAME\r\n";
    std::size_t line_start = file.find("\r\n") + 2;
    while (line_start < file.size()) {
      const std::size_t line_end = file.find("\r\n", line_start);
      const std::string line = file.substr(line_start, line_end - line_start);
      changed += line.substr(0, line.find(',')) + "," + line + "\r\n";
      line_start = line_end + 2;
    }
    file = changed;
    return true;
  }
  return false;
}

std::vector<fs::path> case_files() {
  const fs::path folder = fs::path(JOBGATE_SHARED_DIR) / "cases";
  std::vector<fs::path> files;
  if (!fs::is_directory(folder)) {
    return files;
  }
  for (const auto& entry : fs::directory_iterator(folder)) {
    const std::string name = entry.path().filename().string();
    if (name.ends_with(".expected.json")) {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

TEST_CASE("import cases match expectations", "[records][cases]") {
  const std::vector<fs::path> files = case_files();
  if (files.empty()) {
    WARN("skipped: no import cases under " << JOBGATE_SHARED_DIR << "/cases");
    return;
  }

  for (const fs::path& expected_path : files) {
    rapidjson::Document spec;
    const std::string spec_text = read_file(expected_path);
    spec.Parse(spec_text.data(), spec_text.size());
    REQUIRE_FALSE(spec.HasParseError());
    const std::string id = string_of(spec["id"]);
    const std::string file = read_file(expected_path.parent_path() / string_of(spec["file"]));
    INFO("case " << id);
    REQUIRE_FALSE(file.empty());

    auto parsed = import_request::from_json(spec["importRequest"]);
    REQUIRE(parsed.has_value());
    const import_request request = *parsed;
    const property_catalog catalog = catalog_for(request);
    const std::string unique = catalog.find_object_type(request.object_type)->unique_property;

    // The whole file at once, then chunked: every split point and one byte at a time.
    const pass_result whole = run_pass(catalog, request, file, file.size() + 1);
    check_outcome(spec["expected"], whole, unique);
    const std::vector<std::string> rows = describe(whole.rows);
    for (std::size_t split = 1; split < file.size(); ++split) {
      INFO("split at " << split);
      auto processor = import_row_processor::create(catalog, request);
      REQUIRE(processor.has_value());
      std::vector<import_row> split_rows;
      REQUIRE(processor->feed(std::string_view(file).substr(0, split), split_rows).has_value());
      REQUIRE(processor->feed(std::string_view(file).substr(split), split_rows).has_value());
      REQUIRE(processor->finish(split_rows).has_value());
      CHECK(describe(split_rows) == rows);
    }
    CHECK(describe(run_pass(catalog, request, file, 1).rows) == rows);

    // progress.total counts records, not physical lines.
    CHECK(import_record_counter::count_data_records(file, request.options) == whole.rows.size());

    // Resuming after any row gives exactly the rows that follow it.
    for (std::size_t i = 0; i < whole.rows.size(); ++i) {
      INFO("resume after row " << whole.rows[i].row);
      const pass_result resumed = run_pass(catalog, request, file, 7, whole.rows[i].checkpoint());
      REQUIRE_FALSE(resumed.failure);
      CHECK(
          describe(resumed.rows) ==
          std::vector<std::string>(rows.begin() + static_cast<std::ptrdiff_t>(i) + 1, rows.end()));
    }

    const auto variants = spec.FindMember("variants");
    if (variants == spec.MemberEnd()) {
      continue;
    }
    for (const auto& variant : variants->value.GetArray()) {
      const std::string change = string_of(variant["change"]);
      INFO("variant: " << change);
      import_request changed_request = request;
      std::string changed_file = file;
      if (!apply_change(id, change, changed_request, changed_file)) {
        WARN("case " << id << ": variant not expressible here: " << change);
        continue;
      }
      const pass_result result = run_pass(catalog, changed_request, changed_file, 64);
      const rapidjson::Value& expected = variant["expected"];
      if (expected.HasMember("either")) {
        check_failure_variant(expected, result);
      } else {
        check_outcome(expected, result, unique);
      }
    }
  }
}
