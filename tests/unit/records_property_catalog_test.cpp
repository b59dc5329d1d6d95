#include <catch2/catch.hpp>

#include "common/records/property_catalog.hpp"

using namespace jobgate::records;

TEST_CASE("builtin catalog has contacts", "[records]") {
  const property_catalog& catalog = property_catalog::builtin();
  const object_type_definition* contacts = catalog.find_object_type("contacts");
  REQUIRE(contacts != nullptr);
  CHECK(contacts->unique_property == "email");
  REQUIRE(contacts->unique() != nullptr);
  CHECK(contacts->unique()->type == property_type::email);
  CHECK(contacts->unique()->required);
  CHECK(contacts->unique()->unique);
  CHECK(contacts->properties.size() == 11);

  const property_definition* stage = catalog.find_property("contacts", "lifecyclestage");
  REQUIRE(stage != nullptr);
  CHECK(stage->type == property_type::enumeration);
  CHECK(stage->label == "Lifecycle Stage");
  CHECK(stage->options.size() == 8);
  CHECK(stage->options.front() == "subscriber");

  const property_definition* phone = catalog.find_property("contacts", "phone");
  REQUIRE(phone != nullptr);
  CHECK(phone->type == property_type::phone);
  CHECK_FALSE(phone->required);
  CHECK(catalog.find_property("contacts", "createdate")->type == property_type::date);
}

TEST_CASE("builtin catalog has companies", "[records]") {
  const property_catalog& catalog = property_catalog::builtin();
  const object_type_definition* companies = catalog.find_object_type("companies");
  REQUIRE(companies != nullptr);
  CHECK(companies->unique_property == "domain");
  CHECK(companies->unique()->type == property_type::domain);
  CHECK(catalog.find_property("companies", "numberofemployees")->type == property_type::number);
  CHECK(catalog.find_property("companies", "email") == nullptr);
  CHECK(catalog.find_object_type("deals") == nullptr);
  CHECK(catalog.find_property("deals", "name") == nullptr);
}

TEST_CASE("custom property joins object type", "[records]") {
  property_catalog catalog = property_catalog::builtin();
  REQUIRE(catalog.add_custom_property("contacts", "notes").has_value());
  const property_definition* notes = catalog.find_property("contacts", "notes");
  REQUIRE(notes != nullptr);
  CHECK(notes->type == property_type::string);
  CHECK(notes->label == "notes");
  CHECK_FALSE(notes->required);
  CHECK(property_catalog::builtin().find_property("contacts", "notes") == nullptr);

  CHECK(catalog.add_custom_property("companies", "founded", property_type::number, "Founded")
            .has_value());
  CHECK(catalog.find_property("companies", "founded")->label == "Founded");

  CHECK_FALSE(catalog.add_custom_property("contacts", "notes").has_value());
  CHECK_FALSE(catalog.add_custom_property("contacts", "email").has_value());
  CHECK_FALSE(catalog.add_custom_property("deals", "notes").has_value());
  CHECK_FALSE(catalog.add_custom_property("contacts", "").has_value());
  CHECK_FALSE(
      catalog.add_custom_property("contacts", "tier", property_type::enumeration).has_value());
}

TEST_CASE("catalog parse rejects bad input", "[records]") {
  CHECK(property_catalog::parse(R"({"objectTypes": {}})").has_value());
  CHECK_FALSE(property_catalog::parse("{").has_value());
  CHECK_FALSE(property_catalog::parse("[]").has_value());
  CHECK_FALSE(property_catalog::parse(R"({"objectTypes": []})").has_value());
  CHECK_FALSE(property_catalog::parse(
                  R"({"objectTypes": {"t": {"properties": [{"name": "a", "type": "string"}]}}})")
                  .has_value());
  CHECK_FALSE(property_catalog::parse(
                  R"({"objectTypes": {"t": {"uniqueProperty": "b",
          "properties": [{"name": "a", "type": "string"}]}}})")
                  .has_value());
  CHECK_FALSE(property_catalog::parse(
                  R"({"objectTypes": {"t": {"uniqueProperty": "a",
          "properties": [{"name": "a", "type": "blob"}]}}})")
                  .has_value());
  CHECK_FALSE(property_catalog::parse(
                  R"({"objectTypes": {"t": {"uniqueProperty": "a",
          "properties": [{"name": "a", "type": "enumeration"}]}}})")
                  .has_value());
  CHECK_FALSE(property_catalog::parse(
                  R"({"objectTypes": {"t": {"uniqueProperty": "a",
          "properties": [{"name": "a", "type": "string"}, {"name": "a", "type": "phone"}]}}})")
                  .has_value());
  const auto error = property_catalog::parse(
      R"({"objectTypes": {"t": {"uniqueProperty": "a",
          "properties": [{"name": "a", "type": "string", "unique": "yes"}]}}})");
  REQUIRE_FALSE(error.has_value());
  CHECK(error.error().message.find("unique") != std::string::npos);
}

TEST_CASE("property type names round trip", "[records]") {
  for (const auto type :
       {property_type::string, property_type::email, property_type::phone, property_type::domain,
        property_type::date, property_type::number, property_type::enumeration}) {
    CHECK(parse_property_type(to_string(type)) == type);
  }
  CHECK_FALSE(parse_property_type("text"));
}

TEST_CASE("custom properties from JSON definitions", "[records]") {
  const auto& builtin = jobgate::records::property_catalog::builtin();
  auto extended = builtin.with_custom_properties(
      "contacts", {R"({"name":"tier","label":"Tier","type":"enumeration","options":["gold"]})",
                   R"({"name":"score","type":"number","unique":true,"required":true})"});
  REQUIRE(extended.has_value());
  const auto* tier = extended->find_property("contacts", "tier");
  REQUIRE(tier != nullptr);
  CHECK(tier->type == property_type::enumeration);
  CHECK(tier->options == std::vector<std::string>{"gold"});
  const auto* score = extended->find_property("contacts", "score");
  REQUIRE(score != nullptr);
  CHECK(score->label == "score");
  CHECK_FALSE(score->unique);
  CHECK_FALSE(score->required);
  CHECK(builtin.find_property("contacts", "tier") == nullptr);

  CHECK_FALSE(builtin.with_custom_properties("contacts", {R"({"name":"email","type":"string"})"})
                  .has_value());
  CHECK_FALSE(builtin.with_custom_properties("contacts", {R"({"name":"t","type":"enumeration"})"})
                  .has_value());
  CHECK_FALSE(
      builtin.with_custom_properties("contacts", {R"({"name":"t","type":"colour"})"}).has_value());
  CHECK_FALSE(builtin.with_custom_properties("contacts", {"not json"}).has_value());
}
