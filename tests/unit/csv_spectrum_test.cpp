#include <rapidjson/document.h>

#include <boost/system/error_code.hpp>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "common/csv/csv_reader.hpp"
#include "common/csv/csv_writer.hpp"

// csv-spectrum: each csvs/NAME.csv must parse to json/NAME.json, an array of objects keyed by the
// header. Every value is a string, and embedded line ends are kept as written.

namespace {

namespace fs = std::filesystem;
using table = std::vector<std::vector<std::string>>;

std::string read_file(const fs::path& path) {
  std::ifstream stream(path, std::ios::binary);
  return std::string{std::istreambuf_iterator<char>(stream), {}};
}

table parse_bytewise(std::string_view input) {
  table rows;
  jobgate::csv::csv_reader reader;
  const auto collect = [&rows](const jobgate::csv::csv_record& record) {
    CHECK(record.error() == jobgate::csv::csv_error::none);
    auto& row = rows.emplace_back();
    for (std::size_t i = 0; i < record.size(); ++i) {
      row.emplace_back(record[i]);
    }
  };
  for (std::size_t i = 0; i < input.size(); ++i) {
    reader.feed(input.substr(i, 1), collect);
  }
  reader.finish(collect);
  return rows;
}

std::string write_table(const table& rows) {
  std::string output;
  jobgate::csv::csv_writer writer([&output](std::string_view piece) {
    output.append(piece);
    return boost::system::error_code();
  });
  for (const auto& row : rows) {
    for (const std::string& field : row) {
      writer.write_field(field);
    }
    writer.end_record();
  }
  writer.flush();
  return output;
}

}  // namespace

TEST_CASE("csv-spectrum files parse as expected", "[csv]") {
  const fs::path folder = fs::path(JOBGATE_SHARED_DIR) / "data" / "csv-spectrum";
  if (!fs::is_directory(folder / "csvs")) {
    WARN("skipped: " << folder << " is absent");
    return;
  }

  std::size_t cases = 0;
  for (const auto& entry : fs::directory_iterator(folder / "csvs")) {
    const fs::path json_path = folder / "json" / entry.path().filename().replace_extension(".json");
    INFO(entry.path().filename());
    REQUIRE(fs::exists(json_path));
    const table rows = parse_bytewise(read_file(entry.path()));
    REQUIRE_FALSE(rows.empty());
    const std::vector<std::string>& header = rows.front();

    rapidjson::Document expected;
    const std::string json = read_file(json_path);
    expected.Parse(json.data(), json.size());
    REQUIRE_FALSE(expected.HasParseError());
    REQUIRE(expected.IsArray());
    REQUIRE(rows.size() == expected.Size() + 1);

    for (rapidjson::SizeType i = 0; i < expected.Size(); ++i) {
      const rapidjson::Value& object = expected[i];
      const std::vector<std::string>& row = rows[i + 1];
      REQUIRE(row.size() == header.size());
      REQUIRE(object.MemberCount() == header.size());
      for (std::size_t column = 0; column < header.size(); ++column) {
        const auto member = object.FindMember(header[column].c_str());
        REQUIRE(member != object.MemberEnd());
        CHECK(row[column] ==
              std::string(member->value.GetString(), member->value.GetStringLength()));
      }
    }

    // The writer re-quotes what needs it, so the table reads back unchanged.
    CHECK(parse_bytewise(write_table(rows)) == rows);
    ++cases;
  }
  CHECK(cases == 11);
}
