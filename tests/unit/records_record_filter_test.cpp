#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/records/record_filter.hpp"

namespace {

namespace json = jobgate::json;
namespace records = jobgate::records;

using records::filter_error;
using records::filter_operator;
using records::record_filter;

const records::property_definition& property(std::string_view object_type, std::string_view name) {
  const auto* found = records::property_catalog::builtin().find_property(object_type, name);
  REQUIRE(found != nullptr);
  return *found;
}

const records::property_definition& city() {
  return property("contacts", "city");
}
const records::property_definition& createdate() {
  return property("contacts", "createdate");
}
const records::property_definition& employees() {
  return property("companies", "numberofemployees");
}

// Builds a filter from the JSON text of one filter object, failing the test when it is rejected.
record_filter build(const records::property_definition& on, std::string_view text) {
  auto parsed = json::parse(text);
  REQUIRE(parsed.has_value());
  auto built = record_filter::from_json(*parsed, on);
  if (!built) {
    FAIL("rejected: " << built.error().message);
  }
  return std::move(*built);
}

// Returns the error for a filter object that must be rejected.
filter_error rejection(const records::property_definition& on, std::string_view text) {
  auto parsed = json::parse(text);
  REQUIRE(parsed.has_value());
  auto built = record_filter::from_json(*parsed, on);
  REQUIRE_FALSE(built.has_value());
  return built.error();
}

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("filter operator names round trip", "[records][filter]") {
  for (const std::string_view name : {"EQ", "NEQ", "CONTAINS", "IN", "GT", "GTE", "LT", "LTE",
                                      "BETWEEN", "HAS_PROPERTY", "NOT_HAS_PROPERTY"}) {
    const auto op = records::parse_filter_operator(name);
    REQUIRE(op.has_value());
    CHECK(records::to_string(*op) == name);
  }
  CHECK_FALSE(records::parse_filter_operator("eq").has_value());
  CHECK_FALSE(records::parse_filter_operator("CONTAINS_TOKEN").has_value());
  CHECK(records::is_range_operator(filter_operator::between));
  CHECK_FALSE(records::is_range_operator(filter_operator::contains));
}

TEST_CASE("filter EQ and NEQ ignore case", "[records][filter]") {
  const auto eq = build(city(), R"({"propertyName":"city","operator":"EQ","value":"Berlin"})");
  CHECK(eq.op() == filter_operator::eq);
  CHECK(eq.property_name() == "city");
  CHECK(eq.matches("Berlin"));
  CHECK(eq.matches("BERLIN"));
  CHECK_FALSE(eq.matches("Berlin "));
  CHECK_FALSE(eq.matches("Berlingen"));
  CHECK_FALSE(eq.matches(std::nullopt));

  const auto neq = build(city(), R"({"propertyName":"city","operator":"NEQ","value":"berlin"})");
  CHECK_FALSE(neq.matches("Berlin"));
  CHECK(neq.matches("Bern"));
  CHECK(neq.matches(std::nullopt));
}

TEST_CASE("filter EQ compares numbers as decimals", "[records][filter]") {
  const auto eq =
      build(employees(), R"({"propertyName":"numberofemployees","operator":"EQ","value":"100"})");
  CHECK(eq.matches("100"));
  CHECK(eq.matches("1e2"));
  CHECK(eq.matches("100.0"));
  CHECK_FALSE(eq.matches("1000"));
  CHECK_FALSE(eq.matches("10"));
  CHECK_FALSE(eq.matches(std::nullopt));

  const auto neq =
      build(employees(), R"({"propertyName":"numberofemployees","operator":"NEQ","value":"1E2"})");
  CHECK_FALSE(neq.matches("100"));
  CHECK(neq.matches("101"));

  const auto in = build(
      employees(), R"({"propertyName":"numberofemployees","operator":"IN","values":["9","1e3"]})");
  CHECK(in.matches("9.0"));
  CHECK(in.matches("1000"));
  CHECK_FALSE(in.matches("90"));

  // A text operand on a number property falls back to comparing text.
  const auto text =
      build(employees(), R"({"propertyName":"numberofemployees","operator":"EQ","value":"n/a"})");
  CHECK(text.matches("N/A"));
  CHECK_FALSE(text.matches("0"));

  // Other property types compare text even when both sides look like numbers.
  const auto city_eq = build(city(), R"({"propertyName":"city","operator":"EQ","value":"10"})");
  CHECK(city_eq.matches("10"));
  CHECK_FALSE(city_eq.matches("10.0"));
}

TEST_CASE("filter CONTAINS finds substrings", "[records][filter]") {
  const auto filter =
      build(city(), R"({"propertyName":"city","operator":"CONTAINS","value":"BuRg"})");
  CHECK(filter.matches("Hamburg"));
  CHECK(filter.matches("burg"));
  CHECK(filter.matches("Burgdorf"));
  CHECK(filter.matches("STRASBURGO"));
  CHECK_FALSE(filter.matches("Hambur"));
  CHECK_FALSE(filter.matches(""));
  CHECK_FALSE(filter.matches(std::nullopt));

  // Only ASCII letters fold, so an umlaut matches only itself.
  const auto umlaut =
      build(city(), R"({"propertyName":"city","operator":"CONTAINS","value":"MÜN"})");
  CHECK(umlaut.matches("MÜNCHEN"));
  CHECK(umlaut.matches("mÜnchen"));
  CHECK_FALSE(umlaut.matches("münchen"));
}

TEST_CASE("filter IN matches whole values", "[records][filter]") {
  const auto filter = build(
      city(), R"({"propertyName":"city","operator":"IN","values":["Lima","Quito","Sao Paulo"]})");
  CHECK(filter.matches("Lima"));
  CHECK(filter.matches("quito"));
  CHECK(filter.matches("Sao Paulo"));
  CHECK_FALSE(filter.matches("Lim"));
  CHECK_FALSE(filter.matches("Lima, Peru"));
  CHECK_FALSE(filter.matches(std::nullopt));

  const auto single = build(city(), R"({"propertyName":"city","operator":"IN","values":[""]})");
  CHECK(single.matches(""));
  CHECK_FALSE(single.matches("x"));
}

TEST_CASE("filter HAS_PROPERTY tests presence", "[records][filter]") {
  const auto has = build(city(), R"({"propertyName":"city","operator":"HAS_PROPERTY"})");
  CHECK(has.matches("x"));
  CHECK(has.matches(""));
  CHECK_FALSE(has.matches(std::nullopt));
  const auto lacks = build(city(), R"({"propertyName":"city","operator":"NOT_HAS_PROPERTY"})");
  CHECK(lacks.matches(std::nullopt));
  CHECK_FALSE(lacks.matches("x"));
}

TEST_CASE("filter number ranges compare numerically", "[records][filter]") {
  const auto gt =
      build(employees(), R"({"propertyName":"numberofemployees","operator":"GT","value":"100"})");
  CHECK(gt.matches("101"));
  CHECK(gt.matches("1000"));
  CHECK(gt.matches("100.5"));
  CHECK(gt.matches("1e3"));
  CHECK_FALSE(gt.matches("100"));
  CHECK_FALSE(gt.matches("99"));
  CHECK_FALSE(gt.matches("9"));  // larger as text, smaller as a number
  CHECK_FALSE(gt.matches("-500"));
  CHECK_FALSE(gt.matches(std::nullopt));
  CHECK_FALSE(gt.matches("many"));

  const auto gte =
      build(employees(), R"({"propertyName":"numberofemployees","operator":"GTE","value":"100"})");
  CHECK(gte.matches("100"));
  CHECK(gte.matches("1e2"));
  CHECK_FALSE(gte.matches("99.999"));

  const auto lt =
      build(employees(), R"({"propertyName":"numberofemployees","operator":"LT","value":"-1.5"})");
  CHECK(lt.matches("-2"));
  CHECK(lt.matches("-1.51"));
  CHECK_FALSE(lt.matches("-1.5"));
  CHECK_FALSE(lt.matches("-1"));
  CHECK_FALSE(lt.matches("0"));

  const auto lte =
      build(employees(), R"({"propertyName":"numberofemployees","operator":"LTE","value":"0"})");
  CHECK(lte.matches("0"));
  CHECK(lte.matches("-0.001"));
  CHECK_FALSE(lte.matches("0.001"));
}

TEST_CASE("filter BETWEEN is inclusive", "[records][filter]") {
  const auto numbers = build(
      employees(),
      R"({"propertyName":"numberofemployees","operator":"BETWEEN","value":"10","highValue":"50"})");
  CHECK(numbers.matches("10"));
  CHECK(numbers.matches("50"));
  CHECK(numbers.matches("25.5"));
  CHECK_FALSE(numbers.matches("9.99"));
  CHECK_FALSE(numbers.matches("50.01"));
  CHECK_FALSE(numbers.matches("5"));
  CHECK_FALSE(numbers.matches(std::nullopt));

  const auto dates = build(
      createdate(),
      R"({"propertyName":"createdate","operator":"BETWEEN","value":"2024-02-01","highValue":"2024-02-29"})");
  CHECK(dates.matches("2024-02-01"));
  CHECK(dates.matches("2024-02-29"));
  CHECK(dates.matches("2024-02-10"));
  CHECK_FALSE(dates.matches("2024-01-31"));
  CHECK_FALSE(dates.matches("2024-03-01"));

  const auto point = build(
      createdate(),
      R"({"propertyName":"createdate","operator":"BETWEEN","value":"2024-02-01","highValue":"2024-02-01"})");
  CHECK(point.matches("2024-02-01"));
  CHECK_FALSE(point.matches("2024-02-02"));
}

TEST_CASE("filter date ranges compare dates", "[records][filter]") {
  const auto after =
      build(createdate(), R"({"propertyName":"createdate","operator":"GT","value":"2023-12-31"})");
  CHECK(after.matches("2024-01-01"));
  CHECK(after.matches("2100-06-30"));
  CHECK_FALSE(after.matches("2023-12-31"));
  CHECK_FALSE(after.matches("0999-01-01"));
  CHECK_FALSE(after.matches(std::nullopt));
  // A stored value that is not a date never matches a range.
  CHECK_FALSE(after.matches("someday"));
  CHECK_FALSE(after.matches("2024-13-01"));

  const auto before =
      build(createdate(), R"({"propertyName":"createdate","operator":"LTE","value":"2024-02-29"})");
  CHECK(before.matches("2024-02-29"));
  CHECK(before.matches("1999-12-31"));
  CHECK_FALSE(before.matches("2024-03-01"));
}

TEST_CASE("compare_decimal orders exactly", "[records][filter]") {
  CHECK(records::compare_decimal("1", "2") == -1);
  CHECK(records::compare_decimal("2", "1") == 1);
  CHECK(records::compare_decimal("10", "9") == 1);
  CHECK(records::compare_decimal("1.50", "1.5") == 0);
  CHECK(records::compare_decimal("001.5", "1.5") == 0);
  CHECK(records::compare_decimal("+3", "3") == 0);
  CHECK(records::compare_decimal("-0", "0") == 0);
  CHECK(records::compare_decimal("0.000", "0e10") == 0);
  CHECK(records::compare_decimal("1e3", "1000") == 0);
  CHECK(records::compare_decimal("12.5e-1", "1.25") == 0);
  CHECK(records::compare_decimal(".5", "0.5") == 0);
  CHECK(records::compare_decimal("5.", "5") == 0);
  CHECK(records::compare_decimal("0.1", "0.09") == 1);
  CHECK(records::compare_decimal("-0.1", "-0.09") == -1);
  CHECK(records::compare_decimal("-1", "0") == -1);
  CHECK(records::compare_decimal("0", "-1") == 1);
  CHECK(records::compare_decimal("-10", "-9") == -1);
  CHECK(records::compare_decimal("1e-5", "0") == 1);
  CHECK(records::compare_decimal("1E+2", "99.99") == 1);
  // Digits beyond double precision still count.
  CHECK(records::compare_decimal("12345678901234567891", "12345678901234567890") == 1);
  CHECK(records::compare_decimal("0.30000000000000000001", "0.3") == 1);
  CHECK(records::compare_decimal("1e400", "1e399") == 1);
  CHECK(records::compare_decimal("1e-400", "0") == 1);
  // Huge exponents are clamped instead of overflowing.
  CHECK(records::compare_decimal("1e99999999999999999999", "-1e99999999999999999999") == 1);

  CHECK_FALSE(records::compare_decimal("", "1").has_value());
  CHECK_FALSE(records::compare_decimal("1", "-").has_value());
  CHECK_FALSE(records::compare_decimal(".", "1").has_value());
  CHECK_FALSE(records::compare_decimal("1e", "1").has_value());
  CHECK_FALSE(records::compare_decimal("1,5", "1").has_value());
  CHECK_FALSE(records::compare_decimal(" 1", "1").has_value());
  CHECK_FALSE(records::compare_decimal("0x10", "1").has_value());
  CHECK_FALSE(records::compare_decimal("inf", "1").has_value());
}

TEST_CASE("is_iso_date checks calendar dates", "[records][filter]") {
  CHECK(records::is_iso_date("2024-02-29"));
  CHECK(records::is_iso_date("0001-01-01"));
  CHECK(records::is_iso_date("9999-12-31"));
  CHECK_FALSE(records::is_iso_date("2023-02-29"));
  CHECK_FALSE(records::is_iso_date("2024-04-31"));
  CHECK_FALSE(records::is_iso_date("0000-01-01"));
  CHECK_FALSE(records::is_iso_date("2024-1-05"));
  CHECK_FALSE(records::is_iso_date("2024/01/05"));
  CHECK_FALSE(records::is_iso_date("05/01/2024"));
  CHECK_FALSE(records::is_iso_date(" 2024-01-05"));
  CHECK_FALSE(records::is_iso_date("2024-01-05T00:00"));
  CHECK_FALSE(records::is_iso_date(""));
}

TEST_CASE("filter rejects missing operands", "[records][filter]") {
  auto error = rejection(city(), R"({"propertyName":"city","operator":"EQ"})");
  CHECK(error.member == "value");
  CHECK_FALSE(error.value.has_value());
  CHECK(contains(error.message, "EQ needs a value"));

  error = rejection(city(), R"({"propertyName":"city","operator":"CONTAINS"})");
  CHECK(error.member == "value");

  error = rejection(city(), R"({"propertyName":"city","operator":"IN"})");
  CHECK(error.member == "values");
  CHECK(contains(error.message, "IN needs values"));

  error = rejection(employees(),
                    R"({"propertyName":"numberofemployees","operator":"BETWEEN","value":"1"})");
  CHECK(error.member == "highValue");
  CHECK(contains(error.message, "BETWEEN needs a highValue"));

  error = rejection(employees(),
                    R"({"propertyName":"numberofemployees","operator":"BETWEEN","highValue":"1"})");
  CHECK(error.member == "value");

  error = rejection(employees(), R"({"propertyName":"numberofemployees","operator":"GTE"})");
  CHECK(error.member == "value");
}

TEST_CASE("filter rejects surplus operands", "[records][filter]") {
  auto error =
      rejection(city(), R"({"propertyName":"city","operator":"HAS_PROPERTY","value":"x"})");
  CHECK(error.member == "value");
  CHECK(error.value == "x");
  CHECK(contains(error.message, "HAS_PROPERTY takes no value"));

  error = rejection(city(), R"({"propertyName":"city","operator":"IN","value":"Lima",
                               "values":["Lima"]})");
  CHECK(error.member == "value");
  CHECK(error.value == "Lima");
  CHECK(contains(error.message, "only values"));

  error =
      rejection(city(), R"({"propertyName":"city","operator":"EQ","value":"a","values":["b"]})");
  CHECK(error.member == "values");
  CHECK(contains(error.message, "Only IN"));

  error = rejection(employees(), R"({"propertyName":"numberofemployees","operator":"GT",
                                    "value":"1","highValue":"5"})");
  CHECK(error.member == "highValue");
  CHECK(error.value == "5");
  CHECK(contains(error.message, "Only BETWEEN"));

  error = rejection(city(), R"({"propertyName":"city","operator":"NOT_HAS_PROPERTY",
                               "values":["x"]})");
  CHECK(error.member == "values");
}

TEST_CASE("filter range needs number or date", "[records][filter]") {
  for (const char* op : {"GT", "GTE", "LT", "LTE"}) {
    const std::string text =
        std::string(R"({"propertyName":"city","operator":")") + op + R"(","value":"Berlin"})";
    const auto error = rejection(city(), text);
    CHECK(error.member == "operator");
    CHECK(error.value == op);
    CHECK(contains(error.message, "'city' is of type string"));
  }
  const auto between = rejection(property("contacts", "phone"),
                                 R"({"propertyName":"phone","operator":"BETWEEN","value":"1",
                                     "highValue":"2"})");
  CHECK(between.member == "operator");
  CHECK(contains(between.message, "of type phone"));

  const auto option = rejection(property("contacts", "lifecyclestage"),
                                R"({"propertyName":"lifecyclestage","operator":"LT",
                                    "value":"lead"})");
  CHECK(option.member == "operator");
}

TEST_CASE("filter range operands are typed", "[records][filter]") {
  auto error = rejection(employees(),
                         R"({"propertyName":"numberofemployees","operator":"GT","value":"ten"})");
  CHECK(error.member == "value");
  CHECK(error.value == "ten");
  CHECK(contains(error.message, "'ten' is not a number"));

  error = rejection(employees(),
                    R"({"propertyName":"numberofemployees","operator":"LT","value":"1,000"})");
  CHECK(error.value == "1,000");

  error = rejection(employees(), R"({"propertyName":"numberofemployees","operator":"BETWEEN",
                                    "value":"1","highValue":"lots"})");
  CHECK(error.member == "highValue");
  CHECK(error.value == "lots");

  error = rejection(createdate(),
                    R"({"propertyName":"createdate","operator":"GT","value":"01/02/2024"})");
  CHECK(error.member == "value");
  CHECK(error.value == "01/02/2024");
  CHECK(contains(error.message, "YYYY-MM-DD"));

  error = rejection(createdate(),
                    R"({"propertyName":"createdate","operator":"LT","value":"2023-02-29"})");
  CHECK(error.value == "2023-02-29");

  error = rejection(createdate(), R"({"propertyName":"createdate","operator":"BETWEEN",
                                     "value":"2024-01-01","highValue":"2024-1-31"})");
  CHECK(error.member == "highValue");
}

TEST_CASE("filter BETWEEN rejects reversed bounds", "[records][filter]") {
  auto error = rejection(employees(), R"({"propertyName":"numberofemployees","operator":"BETWEEN",
                                         "value":"100","highValue":"20"})");
  CHECK(error.member == "highValue");
  CHECK(error.value == "20");
  CHECK(contains(error.message, "below the value '100'"));

  error = rejection(createdate(), R"({"propertyName":"createdate","operator":"BETWEEN",
                                     "value":"2024-05-01","highValue":"2024-04-30"})");
  CHECK(error.member == "highValue");
}

TEST_CASE("filter rejects malformed objects", "[records][filter]") {
  auto error = rejection(city(), R"({"propertyName":"city","operator":"LIKE","value":"x"})");
  CHECK(error.member == "operator");
  CHECK(error.value == "LIKE");

  error = rejection(city(), R"({"propertyName":"city","value":"x"})");
  CHECK(error.member == "operator");

  error = rejection(city(), R"({"propertyName":"city","operator":"EQ","value":5})");
  CHECK(error.member == "value");

  error = rejection(city(), R"({"propertyName":"city","operator":"IN","values":"Lima"})");
  CHECK(error.member == "values");

  error = rejection(city(), R"({"propertyName":"city","operator":"IN","values":["a",7]})");
  CHECK(error.member == "values/1");

  error = rejection(city(), R"({"propertyName":"city","operator":"IN","values":[]})");
  CHECK(error.member == "values");

  error = rejection(city(), R"({"propertyName":"city","operator":"CONTAINS","value":""})");
  CHECK(error.member == "value");
  CHECK(error.value == "");

  error = rejection(city(), R"(["EQ"])");
  CHECK(error.member.empty());
}

TEST_CASE("filter IN allows one hundred values", "[records][filter]") {
  std::string values;
  for (std::size_t i = 0; i < record_filter::max_values + 1; ++i) {
    values += (i == 0 ? "\"v" : ",\"v") + std::to_string(i) + "\"";
  }
  const std::string at_limit = R"({"propertyName":"city","operator":"IN","values":[)" +
                               values.substr(0, values.rfind(',')) + "]}";
  const auto filter = build(city(), at_limit);
  CHECK(filter.matches("v99"));
  CHECK_FALSE(filter.matches("v100"));

  const std::string over = R"({"propertyName":"city","operator":"IN","values":[)" + values + "]}";
  const auto error = rejection(city(), over);
  CHECK(error.member == "values");
  CHECK(contains(error.message, "1 to 100 values, not 101"));
}
