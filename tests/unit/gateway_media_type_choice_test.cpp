#include <array>
#include <catch2/catch.hpp>
#include <string_view>

#include "gateway/media_type_choice.hpp"

namespace {

using jobgate::gateway::choose_media_type;

constexpr std::array<std::string_view, 2> offered = {"application/json", "text/csv"};

std::string_view choose(std::string_view accept) {
  return choose_media_type(accept, offered);
}

}  // namespace

TEST_CASE("media type choice defaults", "[gateway][accept]") {
  CHECK(choose("") == "application/json");
  CHECK(choose("*/*") == "application/json");
  CHECK(choose("application/json, text/csv") == "application/json");
}

TEST_CASE("media type choice picks csv", "[gateway][accept]") {
  CHECK(choose("text/csv") == "text/csv");
  CHECK(choose("TEXT/CSV; charset=utf-8") == "text/csv");
  CHECK(choose("text/csv, */*;q=0.8") == "text/csv");
  // Both at quality 1: text/csv is named, application/json only matches */*.
  CHECK(choose("text/csv, */*") == "text/csv");
  CHECK(choose("text/*") == "text/csv");
  CHECK(choose("application/json;q=0.5, text/csv") == "text/csv");
}

TEST_CASE("media type choice qualities", "[gateway][accept]") {
  CHECK(choose("text/csv;q=0.5, application/json") == "application/json");
  CHECK(choose("text/csv;q=0, */*") == "application/json");
  CHECK(choose("text/csv;q=0.001, application/json;q=0") == "text/csv");
  CHECK(choose("image/png").empty());
  CHECK(choose("text/csv;q=0, application/json;q=0").empty());
}

TEST_CASE("media type choice malformed members", "[gateway][accept]") {
  // A member with an invalid q-value or no subtype is skipped.
  CHECK(choose("text/csv;q=2, application/json") == "application/json");
  CHECK(choose("text/csv;q=abc") == "");
  CHECK(choose("text, text/csv") == "text/csv");
  CHECK(choose("*/csv") == "");
}
