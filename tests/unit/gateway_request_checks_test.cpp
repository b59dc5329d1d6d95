#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "gateway/request_checks.hpp"

namespace {

namespace gateway = jobgate::gateway;
namespace json = jobgate::json;
namespace records = jobgate::records;

const json::schema_validator& export_schema() {
  static const json::schema_validator schema("schemas/export-request.schema.json");
  return schema;
}

// Validates an export request that ends with the filter object `filter`. Returns the problem, or
// nullopt when the request is valid.
std::optional<gateway::problem> check_filter(std::string_view object_type,
                                             std::string_view filter) {
  const std::string body = R"({"objectType":")" + std::string(object_type) +
                           R"(","properties":["phone"],"filters":[{"propertyName":"phone",)"
                           R"("operator":"HAS_PROPERTY"},)" +
                           std::string(filter) + "]}";
  auto validated =
      gateway::validate_request(body, export_schema(), records::property_catalog::builtin(),
                                jobgate::job_kind::exports, "export request");
  if (validated) {
    return std::nullopt;
  }
  return validated.error();
}

std::string extra(const gateway::problem& problem, std::string_view name) {
  for (const auto& [key, value] : problem.extra) {
    if (key == name) {
      return value;
    }
  }
  return "(absent)";
}

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("request checks accept every operator", "[gateway][filters]") {
  for (const char* filter : {
           R"({"propertyName":"city","operator":"EQ","value":"Lima"})",
           R"({"propertyName":"city","operator":"NEQ","value":"Lima"})",
           R"({"propertyName":"city","operator":"CONTAINS","value":"im"})",
           R"({"propertyName":"city","operator":"IN","values":["Lima","Quito"]})",
           R"({"propertyName":"city","operator":"HAS_PROPERTY"})",
           R"({"propertyName":"city","operator":"NOT_HAS_PROPERTY"})",
           R"({"propertyName":"createdate","operator":"GT","value":"2024-01-01"})",
           R"({"propertyName":"createdate","operator":"GTE","value":"2024-01-01"})",
           R"({"propertyName":"createdate","operator":"LT","value":"2024-01-01"})",
           R"({"propertyName":"createdate","operator":"LTE","value":"2024-01-01"})",
           R"({"propertyName":"createdate","operator":"BETWEEN","value":"2024-01-01",
               "highValue":"2024-12-31"})",
       }) {
    INFO(filter);
    const auto problem = check_filter("contacts", filter);
    CHECK_FALSE(problem.has_value());
  }
  CHECK_FALSE(check_filter("companies", R"({"propertyName":"numberofemployees",
                                            "operator":"BETWEEN","value":"-1.5e2",
                                            "highValue":"250"})")
                  .has_value());
}

TEST_CASE("request checks name bad operand", "[gateway][filters]") {
  auto problem = check_filter("contacts", R"({"propertyName":"city","operator":"GT","value":"A"})");
  REQUIRE(problem.has_value());
  CHECK(problem->kind == gateway::problem_kind::invalid_request);
  CHECK(extra(*problem, "field") == "/filters/1/operator");
  CHECK(extra(*problem, "value") == "GT");
  CHECK(contains(problem->detail, "'city' is of type string"));

  problem = check_filter("contacts",
                         R"({"propertyName":"createdate","operator":"LT","value":"31.12.2024"})");
  REQUIRE(problem.has_value());
  CHECK(extra(*problem, "field") == "/filters/1/value");
  CHECK(extra(*problem, "value") == "31.12.2024");
  CHECK(contains(problem->detail, "YYYY-MM-DD"));

  problem = check_filter("companies", R"({"propertyName":"numberofemployees","operator":"BETWEEN",
                                         "value":"5","highValue":"five"})");
  REQUIRE(problem.has_value());
  CHECK(extra(*problem, "field") == "/filters/1/highValue");
  CHECK(extra(*problem, "value") == "five");
  CHECK(contains(problem->detail, "'five' is not a number"));

  problem = check_filter("contacts", R"({"propertyName":"city","operator":"IN","value":"Lima"})");
  REQUIRE(problem.has_value());
  CHECK(extra(*problem, "field") == "/filters/1/value");
  CHECK(extra(*problem, "value") == "Lima");

  problem = check_filter("contacts", R"({"propertyName":"city","operator":"CONTAINS"})");
  REQUIRE(problem.has_value());
  CHECK(extra(*problem, "field") == "/filters/1/value");
  CHECK(extra(*problem, "value") == "(absent)");
  CHECK(problem->detail == "The operator CONTAINS needs a value.");

  problem = check_filter("contacts", R"({"propertyName":"createdate","operator":"BETWEEN",
                                        "value":"2024-01-01"})");
  REQUIRE(problem.has_value());
  CHECK(extra(*problem, "field") == "/filters/1/highValue");
}

TEST_CASE("request checks unknown filter property", "[gateway][filters]") {
  const auto problem =
      check_filter("companies", R"({"propertyName":"createdate","operator":"GT","value":"x"})");
  REQUIRE(problem.has_value());
  CHECK(problem->kind == gateway::problem_kind::unknown_property);
  CHECK(extra(*problem, "field") == "/filters/1/propertyName");
  CHECK(extra(*problem, "value") == "createdate");
}

TEST_CASE("export schema limits filter members", "[gateway][filters]") {
  // The schema rejects these before the cross-member checks run.
  auto problem =
      check_filter("contacts", R"({"propertyName":"city","operator":"LIKE","value":"x"})");
  REQUIRE(problem.has_value());
  CHECK(extra(*problem, "field") == "/filters/1/operator");
  CHECK(extra(*problem, "keyword") == "enum");

  problem = check_filter("contacts", R"({"propertyName":"city","operator":"IN","values":[]})");
  REQUIRE(problem.has_value());
  CHECK(extra(*problem, "field") == "/filters/1/values");
  CHECK(extra(*problem, "keyword") == "minItems");

  std::string many;
  for (int i = 0; i < 101; ++i) {
    many += (i == 0 ? "\"" : ",\"") + std::to_string(i) + "\"";
  }
  problem = check_filter("contacts",
                         R"({"propertyName":"city","operator":"IN","values":[)" + many + "]}");
  REQUIRE(problem.has_value());
  CHECK(extra(*problem, "field") == "/filters/1/values");
  CHECK(extra(*problem, "keyword") == "maxItems");

  problem = check_filter("contacts", R"({"propertyName":"city","operator":"IN","values":["a",1]})");
  REQUIRE(problem.has_value());
  CHECK(extra(*problem, "field") == "/filters/1/values/1");
  CHECK(extra(*problem, "keyword") == "type");

  problem = check_filter("contacts", R"({"propertyName":"city","operator":"EQ","value":"x",
                                        "high":"y"})");
  REQUIRE(problem.has_value());
  CHECK(extra(*problem, "keyword") == "additionalProperties");
}

TEST_CASE("export schema csvFormulaEscape is boolean", "[gateway][filters]") {
  const auto validate = [](std::string_view body) {
    return gateway::validate_request(body, export_schema(), records::property_catalog::builtin(),
                                     jobgate::job_kind::exports, "export request");
  };
  CHECK(validate(R"({"objectType":"contacts","properties":["email"],"csvFormulaEscape":false})")
            .has_value());
  CHECK(validate(R"({"objectType":"contacts","properties":["email"],"format":"ndjson",
                    "csvFormulaEscape":true})")
            .has_value());
  const auto wrong =
      validate(R"({"objectType":"contacts","properties":["email"],"csvFormulaEscape":"no"})");
  REQUIRE_FALSE(wrong.has_value());
  CHECK(extra(wrong.error(), "field") == "/csvFormulaEscape");
  CHECK(extra(wrong.error(), "keyword") == "type");
}

TEST_CASE("query parameter decodes first value", "[gateway][request]") {
  CHECK(gateway::query_parameter("/v1/jobs?limit=5&limit=7", "limit") == "5");
  CHECK(gateway::query_parameter("/v1/jobs?after=a%2Fb%20c", "after") == "a/b c");
  CHECK(gateway::query_parameter("/v1/jobs?limit=", "limit") == "");
  // A key without "=" has no value, so a later one with a value is the match.
  CHECK(gateway::query_parameter("/v1/jobs?limit&limit=9", "limit") == "9");
  CHECK_FALSE(gateway::query_parameter("/v1/jobs?limit", "limit"));
  CHECK_FALSE(gateway::query_parameter("/v1/jobs?Limit=5", "limit"));
  CHECK_FALSE(gateway::query_parameter("/v1/jobs", "limit"));
  CHECK_FALSE(gateway::query_parameter("v1/jobs?limit=5", "limit"));
}

TEST_CASE("media type ignores case and parameters", "[gateway][request]") {
  CHECK(gateway::has_media_type("application/json", "application/json"));
  CHECK(gateway::has_media_type("Application/JSON; charset=utf-8", "application/json"));
  CHECK(gateway::has_media_type("application/json \t;charset=utf-8", "application/json"));
  CHECK_FALSE(gateway::has_media_type("", "application/json"));
  CHECK_FALSE(gateway::has_media_type("application/json-patch+json", "application/json"));
  CHECK_FALSE(gateway::has_media_type("text/plain; type=application/json", "application/json"));
}

TEST_CASE("method not allowed names methods", "[gateway][request]") {
  const auto problem = gateway::method_not_allowed("GET, POST");
  CHECK(problem.kind == gateway::problem_kind::method_not_allowed);
  CHECK(problem.detail == "This resource supports GET, POST.");
  CHECK(extra(problem, "allowed") == "GET, POST");

  const auto headers = gateway::one_header(gateway::http::field::allow, "GET, POST");
  REQUIRE(headers.size() == 1);
  CHECK(headers[0].first == "Allow");
  CHECK(headers[0].second == "GET, POST");
}
