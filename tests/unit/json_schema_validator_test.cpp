#include <atomic>
#include <catch2/catch.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/json/schema_validator.hpp"

namespace {

namespace json = jobgate::json;

const json::schema_validator& import_schema() {
  static const json::schema_validator schema("schemas/import-request.schema.json");
  return schema;
}

const json::schema_validator& export_schema() {
  static const json::schema_validator schema("schemas/export-request.schema.json");
  return schema;
}

// Validates text against a schema and returns the violation, failing the test when the text is
// not JSON or when it passes.
json::schema_violation violation_of(const json::schema_validator& schema, std::string_view text) {
  auto parsed = json::parse(text);
  REQUIRE(parsed.has_value());
  auto result = schema.validate(*parsed);
  REQUIRE_FALSE(result.has_value());
  return result.error();
}

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("schema accepts valid requests", "[json][schema]") {
  for (const auto* text : {
           R"({"objectType":"contacts"})",
           R"({"name":"fair","objectType":"companies","columnMappings":[{"columnName":"Web",
               "propertyName":"domain"}],"options":{"delimiter":";","hasHeader":true,
               "dedupeBy":"domain","encoding":"windows-1252","dateFormat":"DD/MM/YYYY"}})",
       }) {
    auto parsed = json::parse(text);
    REQUIRE(parsed.has_value());
    CHECK(import_schema().validate(*parsed).has_value());
  }
  auto parsed = json::parse(
      R"({"objectType":"contacts","properties":["email"],"format":"ndjson",
          "filters":[{"propertyName":"country","operator":"EQ","value":"Chile"}]})");
  REQUIRE(parsed.has_value());
  CHECK(export_schema().validate(*parsed).has_value());
}

TEST_CASE("schema required names member", "[json][schema]") {
  const auto top = violation_of(import_schema(), R"({"name":"x"})");
  CHECK(top.keyword == "required");
  CHECK(top.pointer == "/objectType");
  CHECK(top.message == "the document is missing the required member 'objectType'");

  const auto nested = violation_of(import_schema(), R"({"objectType":"contacts","columnMappings":[
                                        {"columnName":"A","propertyName":"email"},
                                        {"columnName":"B"}]})");
  CHECK(nested.keyword == "required");
  CHECK(nested.pointer == "/columnMappings/1/propertyName");
  CHECK(nested.message == "'/columnMappings/1' is missing the required member 'propertyName'");
}

TEST_CASE("schema additional property names member", "[json][schema]") {
  const auto top = violation_of(import_schema(), R"({"objectType":"contacts","colour":"red"})");
  CHECK(top.keyword == "additionalProperties");
  CHECK(top.pointer == "/colour");
  CHECK(top.message == "'/colour' is not an allowed member");

  const auto nested =
      violation_of(import_schema(), R"({"objectType":"contacts","options":{"quote":"'"}})");
  CHECK(nested.keyword == "additionalProperties");
  CHECK(nested.pointer == "/options/quote");
  CHECK(nested.message == "'/options/quote' is not an allowed member");

  const auto object_value =
      violation_of(import_schema(), R"({"objectType":"contacts","extra":{"name":"x"}})");
  CHECK(object_value.pointer == "/extra");
  CHECK(object_value.message == "'/extra' is not an allowed member");
}

TEST_CASE("schema enum names field and values", "[json][schema]") {
  const auto top = violation_of(import_schema(), R"({"objectType":"deals"})");
  CHECK(top.keyword == "enum");
  CHECK(top.pointer == "/objectType");
  CHECK(top.message ==
        R"('/objectType' must be one of the allowed values: ["contacts","companies"])");

  const auto nested = violation_of(
      export_schema(),
      R"({"objectType":"contacts","properties":["email"],"filters":[{"propertyName":"city",
          "operator":"LIKE"}]})");
  CHECK(nested.keyword == "enum");
  CHECK(nested.pointer == "/filters/0/operator");
  CHECK(contains(nested.message, "'/filters/0/operator' must be one of the allowed values"));
  CHECK(contains(nested.message, "\"HAS_PROPERTY\""));
}

TEST_CASE("schema type names field and type", "[json][schema]") {
  const auto top = violation_of(import_schema(), R"({"objectType":"contacts","name":7})");
  CHECK(top.keyword == "type");
  CHECK(top.pointer == "/name");
  CHECK(top.message == "'/name' must be of type string");

  const auto document = violation_of(import_schema(), R"(["contacts"])");
  CHECK(document.keyword == "type");
  CHECK(document.pointer.empty());
  CHECK(document.message == "the document must be of type object");

  const auto nested =
      violation_of(export_schema(), R"({"objectType":"contacts","properties":["email",3]})");
  CHECK(nested.keyword == "type");
  CHECK(nested.pointer == "/properties/1");
  CHECK(nested.message == "'/properties/1' must be of type string");
}

TEST_CASE("schema size rules state limits", "[json][schema]") {
  const auto empty_list =
      violation_of(export_schema(), R"({"objectType":"contacts","properties":[]})");
  CHECK(empty_list.keyword == "minItems");
  CHECK(empty_list.pointer == "/properties");
  CHECK(empty_list.message == "'/properties' must have at least 1 item");

  const auto twice =
      violation_of(export_schema(), R"({"objectType":"contacts","properties":["email","email"]})");
  CHECK(twice.keyword == "uniqueItems");
  CHECK(twice.pointer == "/properties/1");
  CHECK(twice.message == "'/properties/1' repeats an earlier item of its array");

  const auto long_name = violation_of(
      import_schema(), R"({"objectType":"contacts","name":")" + std::string(300, 'x') + R"("})");
  CHECK(long_name.keyword == "maxLength");
  CHECK(long_name.message == "'/name' must be at most 256 characters");
}

TEST_CASE("schema pointer escapes member names", "[json][schema]") {
  const auto odd = violation_of(import_schema(), R"({"objectType":"contacts","a/b":1})");
  CHECK(odd.keyword == "additionalProperties");
  CHECK(odd.pointer == "/a~1b");
  CHECK(contains(odd.message, "a~1b"));
}

TEST_CASE("schema unknown file throws", "[json][schema]") {
  CHECK_THROWS_AS(json::schema_validator("schemas/no-such.schema.json"), std::runtime_error);
}

TEST_CASE("schema validator shared across threads", "[json][schema]") {
  auto good = json::parse(R"({"objectType":"contacts"})");
  auto bad = json::parse(R"({"objectType":"deals"})");
  REQUIRE(good.has_value());
  REQUIRE(bad.has_value());
  // Validation keeps its state per call, so results never depend on earlier calls.
  CHECK_FALSE(import_schema().validate(*bad).has_value());
  CHECK(import_schema().validate(*good).has_value());
  CHECK_FALSE(import_schema().validate(*bad).has_value());
}

TEST_CASE("schema patterns checked from many threads", "[json][schema]") {
  static const json::schema_validator schema("schemas/job-message.schema.json");
  auto good = json::parse(
      R"({"jobId":"exp_0123456789abcdef0123456789abcdef","tenant":"t","kind":"exports",)"
      R"("createdAt":"2026-01-01T00:00:00Z","request":{}})");
  auto bad = json::parse(R"({"jobId":"exp_0123456789ABCDEF","tenant":"t","kind":"exports",)"
                         R"("createdAt":"2026-01-01T00:00:00Z","request":{}})");
  REQUIRE(good.has_value());
  REQUIRE(bad.has_value());

  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int thread = 0; thread < 4; ++thread) {
    threads.emplace_back([&] {
      for (int round = 0; round < 2000; ++round) {
        if (!schema.validate(*good) || schema.validate(*bad)) {
          ++wrong;
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  CHECK(wrong.load() == 0);
}
