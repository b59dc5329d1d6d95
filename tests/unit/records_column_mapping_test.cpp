#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "common/records/column_mapping.hpp"

using namespace jobgate::records;

namespace {

const object_type_definition& contacts() {
  return *property_catalog::builtin().find_object_type("contacts");
}

std::vector<column_mapping_request> mappings(
    std::initializer_list<std::pair<const char*, const char*>> pairs) {
  std::vector<column_mapping_request> result;
  for (const auto& [column, property] : pairs) {
    result.push_back(column_mapping_request{column, property});
  }
  return result;
}

import_failure failure_of(const std::vector<std::string>& header,
                          const std::vector<column_mapping_request>& requested) {
  auto resolved = column_mapping::resolve(contacts(), header, requested);
  REQUIRE_FALSE(resolved.has_value());
  return resolved.error();
}

}  // namespace

TEST_CASE("mapping matches trimmed caseless headers", "[records]") {
  const std::vector<std::string> header = {" Email ", "First Name", "LASTNAME", "Notes"};
  const auto resolved = column_mapping::resolve(
      contacts(), header,
      mappings({{"LastName", "lastname"}, {"Email", "email"}, {" first name", "firstname"}}));
  REQUIRE(resolved.has_value());
  const auto& bindings = resolved->bindings();
  REQUIRE(bindings.size() == 3);
  CHECK(bindings[0].column == 0);
  CHECK(bindings[0].column_name == "Email");
  CHECK(bindings[0].property->name == "email");
  CHECK(bindings[1].property->name == "firstname");
  CHECK(bindings[2].column == 2);
  CHECK(bindings[2].property->name == "lastname");
  CHECK(resolved->unmapped_columns() == std::vector<std::string>{"Notes"});
  CHECK(resolved->header().front() == "Email");
}

TEST_CASE("mapping reports duplicate column first", "[records]") {
  // Two cells match 'Email', and 'Company' is missing too: the duplicate is reported.
  const import_failure failure = failure_of({" Email ", "EMAIL", "First Name"},
                                            mappings({{"Email", "email"}, {"Company", "company"}}));
  CHECK(failure.kind == import_failure_kind::duplicate_column);
  CHECK(failure.slug() == "duplicate-column");
  CHECK(failure.subject == "Email");
  CHECK(failure.detail.find("columns 1 and 2") != std::string::npos);
}

TEST_CASE("mapping reports missing column", "[records]") {
  const import_failure failure =
      failure_of({"email;firstname;lastname;company"},
                 mappings({{"email", "email"}, {"firstname", "firstname"}}));
  CHECK(failure.kind == import_failure_kind::missing_column);
  CHECK(failure.slug() == "missing-column");
  CHECK(failure.subject == "email");
}

TEST_CASE("mapping reports unknown property", "[records]") {
  const import_failure failure =
      failure_of({"email", "notes"}, mappings({{"email", "email"}, {"notes", "notes"}}));
  CHECK(failure.kind == import_failure_kind::unknown_property);
  CHECK(failure.slug() == "unknown-property");
  CHECK(failure.subject == "notes");
}

TEST_CASE("mapping reports duplicate property", "[records]") {
  const import_failure failure = failure_of(
      {"Work Email", "Home Email"}, mappings({{"Work Email", "email"}, {"Home Email", "email"}}));
  CHECK(failure.kind == import_failure_kind::duplicate_property);
  CHECK(failure.subject == "email");
}

TEST_CASE("mapping needs the unique column", "[records]") {
  const import_failure failure =
      failure_of({"email", "First Name"}, mappings({{"First Name", "firstname"}}));
  CHECK(failure.kind == import_failure_kind::no_unique_column);
  CHECK(failure.slug() == "no-unique-column");
  CHECK(failure.subject == "email");

  const auto companies = property_catalog::builtin().find_object_type("companies");
  const std::vector<std::string> header = {"Name", "Website"};
  const auto automatic = column_mapping::resolve(*companies, header, {});
  REQUIRE_FALSE(automatic.has_value());
  CHECK(automatic.error().kind == import_failure_kind::no_unique_column);
  CHECK(automatic.error().subject == "domain");
}

TEST_CASE("automatic mapping uses names and labels", "[records]") {
  const std::vector<std::string> header = {"Index",        "First Name", "lastname",
                                           "Company Name", " EMAIL ",    "Phone 1",
                                           "Job Title",    "",           "Country/Region"};
  const auto resolved = column_mapping::resolve(contacts(), header, {});
  REQUIRE(resolved.has_value());
  std::vector<std::string> bound;
  for (const column_binding& binding : resolved->bindings()) {
    bound.push_back(std::to_string(binding.column) + ":" + binding.property->name);
  }
  CHECK(bound == std::vector<std::string>{"1:firstname", "2:lastname", "3:company", "4:email",
                                          "6:jobtitle", "8:country"});
  CHECK(resolved->unmapped_columns() == std::vector<std::string>{"Index", "Phone 1", ""});
}

TEST_CASE("automatic mapping rejects duplicates", "[records]") {
  const std::vector<std::string> header = {"Email", "First Name", "firstname"};
  const auto resolved = column_mapping::resolve(contacts(), header, {});
  REQUIRE_FALSE(resolved.has_value());
  CHECK(resolved.error().kind == import_failure_kind::duplicate_column);
  CHECK(resolved.error().subject == "firstname");
}

TEST_CASE("mapping binds one column twice", "[records]") {
  const std::vector<std::string> header = {"Email", "Name"};
  const auto resolved = column_mapping::resolve(
      contacts(), header,
      mappings({{"Email", "email"}, {"Name", "firstname"}, {"name", "lastname"}}));
  REQUIRE(resolved.has_value());
  CHECK(resolved->bindings().size() == 3);
  CHECK(resolved->unmapped_columns().empty());
}
