#include <catch2/catch.hpp>
#include <string>

#include "gateway/multipart_parser.hpp"

using jobgate::gateway::multipart_boundary;

TEST_CASE("multipart_boundary reads token boundary", "[multipart]") {
  const auto boundary = multipart_boundary("multipart/form-data; boundary=----WebKitFormBoundaryX");
  REQUIRE(boundary.has_value());
  CHECK(*boundary == "----WebKitFormBoundaryX");
}

TEST_CASE("multipart_boundary reads quoted boundary", "[multipart]") {
  const auto boundary = multipart_boundary(R"(multipart/form-data; boundary="a b:c=d?e")");
  REQUIRE(boundary.has_value());
  CHECK(*boundary == "a b:c=d?e");
}

TEST_CASE("multipart_boundary ignores name case", "[multipart]") {
  const auto boundary = multipart_boundary("Multipart/Form-Data; BOUNDARY=AbC123");
  REQUIRE(boundary.has_value());
  CHECK(*boundary == "AbC123");
}

TEST_CASE("multipart_boundary skips other parameters", "[multipart]") {
  const auto boundary =
      multipart_boundary(" multipart/form-data ; charset=\"utf-8\";boundary=xyz ;  ");
  REQUIRE(boundary.has_value());
  CHECK(*boundary == "xyz");
}

TEST_CASE("multipart_boundary accepts unquoted equals sign", "[multipart]") {
  const auto boundary = multipart_boundary("multipart/form-data; boundary=----=_Part_7_1.2");
  REQUIRE(boundary.has_value());
  CHECK(*boundary == "----=_Part_7_1.2");
}

TEST_CASE("multipart_boundary enforces length limits", "[multipart]") {
  const std::string longest(70, 'a');
  const auto accepted = multipart_boundary("multipart/form-data; boundary=" + longest);
  REQUIRE(accepted.has_value());
  CHECK(*accepted == longest);

  CHECK_FALSE(multipart_boundary("multipart/form-data; boundary=" + longest + "a").has_value());
  CHECK_FALSE(multipart_boundary("multipart/form-data; boundary=\"\"").has_value());
  CHECK_FALSE(multipart_boundary("multipart/form-data; boundary=").has_value());
}

TEST_CASE("multipart_boundary rejects invalid input", "[multipart]") {
  // Not multipart/form-data.
  CHECK_FALSE(multipart_boundary("multipart/mixed; boundary=abc").has_value());
  CHECK_FALSE(multipart_boundary("application/json").has_value());
  CHECK_FALSE(multipart_boundary("").has_value());
  CHECK_FALSE(multipart_boundary("multipart/form-datax; boundary=abc").has_value());
  // Missing or repeated boundary.
  CHECK_FALSE(multipart_boundary("multipart/form-data").has_value());
  CHECK_FALSE(multipart_boundary("multipart/form-data; charset=utf-8").has_value());
  CHECK_FALSE(multipart_boundary("multipart/form-data; boundary=a; boundary=a").has_value());
  // Characters outside the RFC 2046 set, and a trailing space.
  CHECK_FALSE(multipart_boundary("multipart/form-data; boundary=\"a\\\"b\"").has_value());
  CHECK_FALSE(multipart_boundary("multipart/form-data; boundary=\"ab \"").has_value());
  CHECK_FALSE(multipart_boundary("multipart/form-data; boundary=a*b").has_value());
  CHECK_FALSE(multipart_boundary("multipart/form-data; boundary=\"a\rb\"").has_value());
  // Malformed parameter lists.
  CHECK_FALSE(multipart_boundary("multipart/form-data boundary=abc").has_value());
  CHECK_FALSE(multipart_boundary("multipart/form-data; boundary=\"abc").has_value());
  CHECK_FALSE(multipart_boundary("multipart/form-data; boundary = abc").has_value());
  CHECK_FALSE(multipart_boundary("multipart/form-data; boundary=abc def").has_value());
}
