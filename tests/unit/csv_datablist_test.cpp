#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "common/csv/csv_reader.hpp"
#include "common/csv/text_decoder.hpp"
#include "common/records/import_record_counter.hpp"
#include "common/records/import_row_processor.hpp"

// Datablist's synthetic CRM exports (CRLF, quoted commas, apostrophes, phone numbers that must stay
// strings): every file parses without an error, and the contact and company files import with no
// rejected row.

namespace {

namespace fs = std::filesystem;
using namespace jobgate;

constexpr std::size_t chunk_size = 64 * 1024;

std::string read_file(const fs::path& path) {
  std::ifstream stream(path, std::ios::binary);
  return std::string{std::istreambuf_iterator<char>(stream), {}};
}

fs::path datablist_folder() {
  return fs::path(JOBGATE_SHARED_DIR) / "data" / "datablist-sample-csv";
}

// The N of "customers-N.csv": how many data rows the file holds.
std::uint64_t rows_in_name(const fs::path& path) {
  const std::string stem = path.stem().string();
  return std::stoull(stem.substr(stem.rfind('-') + 1));
}

struct import_summary {
  std::uint64_t valid = 0;
  std::uint64_t rejected = 0;
  std::set<std::string> keys;
  std::vector<std::string> first_errors;
  std::vector<std::string> unmapped;
};

import_summary import_file(const std::string& file, const records::import_request& request) {
  import_summary summary;
  auto processor =
      records::import_row_processor::create(records::property_catalog::builtin(), request);
  REQUIRE(processor.has_value());
  std::vector<records::import_row> rows;
  const auto tally = [&summary, &rows] {
    for (const records::import_row& row : rows) {
      if (row.status == records::row_status::valid) {
        ++summary.valid;
        summary.keys.insert(row.unique_key);
      } else if (row.status == records::row_status::rejected) {
        ++summary.rejected;
        if (summary.first_errors.size() < 5) {
          summary.first_errors.push_back(std::to_string(row.row) + " " +
                                         std::string(to_string(row.error->kind)) + " " +
                                         row.error->value);
        }
      }
    }
    rows.clear();
  };
  for (std::size_t offset = 0; offset < file.size(); offset += chunk_size) {
    REQUIRE(processor->feed(std::string_view(file).substr(offset, chunk_size), rows).has_value());
    tally();
  }
  REQUIRE(processor->finish(rows).has_value());
  tally();
  summary.unmapped = processor->unmapped_columns();
  return summary;
}

records::import_request request_for(
    const char* object_type, std::initializer_list<std::pair<const char*, const char*>> pairs) {
  records::import_request request;
  request.object_type = object_type;
  for (const auto& [column, property] : pairs) {
    request.column_mappings.push_back(records::column_mapping_request{column, property});
  }
  return request;
}

}  // namespace

TEST_CASE("datablist files parse cleanly", "[csv]") {
  const fs::path folder = datablist_folder();
  if (!fs::is_directory(folder)) {
    WARN("skipped: " << folder << " is absent");
    return;
  }

  std::size_t files = 0;
  for (const auto& entry : fs::directory_iterator(folder)) {
    if (entry.path().extension() != ".csv") {
      continue;
    }
    INFO(entry.path().filename());
    const std::string file = read_file(entry.path());
    csv::text_decoder decoder(csv::text_encoding::utf_8);
    csv::csv_reader reader;
    std::uint64_t records = 0;
    std::size_t header_fields = 0;
    std::uint64_t errors = 0;
    std::uint64_t wrong_width = 0;
    const auto check = [&](const csv::csv_record& record) {
      if (++records == 1) {
        header_fields = record.size();
      }
      errors += record.error() != csv::csv_error::none ? 1 : 0;
      wrong_width += record.size() != header_fields ? 1 : 0;
    };
    for (std::size_t offset = 0; offset < file.size(); offset += chunk_size) {
      reader.feed(decoder.decode(std::string_view(file).substr(offset, chunk_size)), check);
    }
    reader.feed(decoder.finish(), check);
    reader.finish(check);

    CHECK(errors == 0);
    CHECK(wrong_width == 0);
    CHECK(decoder.invalid_offsets().empty());
    CHECK(header_fields >= 9);
    CHECK(records == rows_in_name(entry.path()) + 1);
    CHECK(records::import_record_counter::count_data_records(file, {}) == records - 1);
    ++files;
  }
  CHECK(files == 11);
}

TEST_CASE("datablist contacts import cleanly", "[records]") {
  const fs::path folder = datablist_folder();
  if (!fs::is_directory(folder)) {
    WARN("skipped: " << folder << " is absent");
    return;
  }

  // Columns map by header label: First Name, Last Name, Email, Phone, Job Title, Company, ...
  const records::import_request automatic = request_for("contacts", {});
  const import_summary people = import_file(read_file(folder / "people-10000.csv"), automatic);
  INFO("first errors: " << people.first_errors.size());
  for (const std::string& error : people.first_errors) {
    UNSCOPED_INFO(error);
  }
  CHECK(people.rejected == 0);
  CHECK(people.valid == 10000);
  CHECK(people.keys.size() == 9936);  // 64 e-mail addresses repeat
  CHECK(people.unmapped == std::vector<std::string>{"Index", "User Id", "Sex", "Date of birth"});

  const import_summary customers =
      import_file(read_file(folder / "customers-10000.csv"), automatic);
  CHECK(customers.rejected == 0);
  CHECK(customers.valid == 10000);

  const import_summary leads = import_file(read_file(folder / "leads-10000.csv"),
                                           request_for("contacts", {{"Email 1", "email"},
                                                                    {"First Name", "firstname"},
                                                                    {"Last Name", "lastname"},
                                                                    {"Company", "company"},
                                                                    {"Phone 1", "phone"},
                                                                    {"Website", "website"}}));
  CHECK(leads.rejected == 0);
  CHECK(leads.valid == 10000);
}

TEST_CASE("datablist companies import cleanly", "[records]") {
  const fs::path folder = datablist_folder();
  if (!fs::is_directory(folder)) {
    WARN("skipped: " << folder << " is absent");
    return;
  }

  // Websites such as "https://www.brooks-scott.net/" normalise to the domain key.
  const import_summary organizations =
      import_file(read_file(folder / "organizations-10000.csv"),
                  request_for("companies", {{"Website", "domain"},
                                            {"Name", "name"},
                                            {"Country", "country"},
                                            {"Industry", "industry"},
                                            {"Number of employees", "numberofemployees"}}));
  for (const std::string& error : organizations.first_errors) {
    UNSCOPED_INFO(error);
  }
  CHECK(organizations.rejected == 0);
  CHECK(organizations.valid == 10000);
  CHECK(organizations.keys.count("harding-duffy.com") == 1);
  CHECK(organizations.keys.count("brooks-scott.net") == 1);
  CHECK(organizations.unmapped ==
        std::vector<std::string>{"Index", "Organization Id", "Description", "Founded"});
}
