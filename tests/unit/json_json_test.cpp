#include "common/json/json.hpp"

#include <catch2/catch.hpp>
#include <string>

namespace {

namespace json = jobgate::json;
using namespace std::string_literals;

}  // namespace

TEST_CASE("json parse valid document", "[json]") {
  auto parsed = json::parse(R"({"name":"Zoë","count":3,"ok":true,"list":[1,2],"inner":{}})");
  REQUIRE(parsed.has_value());
  CHECK(json::get_string(*parsed, "name") == "Zoë");
  CHECK(json::get_int(*parsed, "count") == 3);
  CHECK(json::get_bool(*parsed, "ok") == true);
  REQUIRE(json::get_array(*parsed, "list") != nullptr);
  CHECK(json::get_array(*parsed, "list")->Size() == 2);
  CHECK(json::get_object(*parsed, "inner") != nullptr);
}

TEST_CASE("json parse rejects invalid UTF-8", "[json]") {
  // Lone continuation byte, truncated sequence, overlong "/", UTF-16 surrogate, beyond U+10FFFF,
  // and Latin-1 bytes as a Windows spreadsheet would write them.
  const std::string text =
      GENERATE(as<std::string>{}, "\"\x80\"", "\"\xC3\"", "\"\xC0\xAF\"", "\"\xED\xA0\x80\"",
               "\"\xF4\x90\x80\x80\"", "{\"name\":\"M\xFCller\"}", "{\"\xFF\":1}");
  auto parsed = json::parse(text);
  CHECK_FALSE(parsed.has_value());
  if (!parsed) {
    CHECK(parsed.error().message == "Invalid encoding in string");
  }
}

TEST_CASE("json parse rejects trailing garbage", "[json]") {
  const std::string text = GENERATE(as<std::string>{}, "{} x", "{}{}", "[1] ,", "1 2");
  auto parsed = json::parse(text);
  INFO("text '" << text << "'");
  REQUIRE_FALSE(parsed.has_value());
  CHECK(parsed.error().message == "The document root must not be followed by other values");
}

TEST_CASE("json parse rejects NUL bytes", "[json]") {
  // A NUL after the document would otherwise end the input early and hide what follows.
  const std::string text =
      GENERATE(as<std::string>{}, "{}\0"s, "{}\0garbage"s, "{\"a\":\"x\0\"}"s, "\0{}"s);
  auto parsed = json::parse(text);
  REQUIRE_FALSE(parsed.has_value());
  CHECK(parsed.error().message == "the document contains a NUL byte");
  CHECK(parsed.error().offset == text.find('\0'));
}

TEST_CASE("json parse allows surrounding whitespace", "[json]") {
  CHECK(json::parse(" \r\n\t{}\n ").has_value());
}

TEST_CASE("json parse error offset", "[json]") {
  auto parsed = json::parse(R"({"a":1,"b":})");
  REQUIRE_FALSE(parsed.has_value());
  CHECK(parsed.error().offset == 11);
  CHECK_FALSE(parsed.error().message.empty());

  auto empty = json::parse("");
  REQUIRE_FALSE(empty.has_value());
  CHECK(empty.error().message == "The document is empty");
}

TEST_CASE("json parse reads only the view", "[json]") {
  // The bytes after the view's end would complete the document if the parser read past it.
  const std::string text = R"({"a":1}garbage)";
  CHECK(json::parse(std::string_view(text).substr(0, 7)).has_value());
  CHECK_FALSE(json::parse(std::string_view(text).substr(0, 6)).has_value());
}

TEST_CASE("json getters check types", "[json]") {
  auto parsed = json::parse(R"({"s":"x","i":1.5,"big":9007199254740993,"b":"true","a":{},"o":[]})");
  REQUIRE(parsed.has_value());
  const auto& document = *parsed;
  CHECK_FALSE(json::get_string(document, "i").has_value());
  CHECK_FALSE(json::get_int(document, "i").has_value());
  CHECK(json::get_int(document, "big") == 9007199254740993);
  CHECK_FALSE(json::get_int(document, "s").has_value());
  CHECK_FALSE(json::get_bool(document, "b").has_value());
  CHECK(json::get_array(document, "a") == nullptr);
  CHECK(json::get_object(document, "o") == nullptr);
  CHECK_FALSE(json::get_string(document, "missing").has_value());

  auto array = json::parse("[1]");
  REQUIRE(array.has_value());
  CHECK_FALSE(json::get_string(*array, "s").has_value());
  CHECK(json::get_object(*array, "s") == nullptr);
}

TEST_CASE("json string with NUL byte", "[json]") {
  auto parsed = json::parse(R"({"s":"a\u0000b"})");
  REQUIRE(parsed.has_value());
  CHECK(json::get_string(*parsed, "s") == "a\0b"s);
}

TEST_CASE("json serialize round trip", "[json]") {
  const std::string text = R"({"b":[1,-2,3.5,true,null],"a":"line\nbreak \"q\" é"})";
  auto parsed = json::parse(text);
  REQUIRE(parsed.has_value());
  CHECK(json::serialize(*parsed) == text);
}

TEST_CASE("json write string escapes", "[json]") {
  rapidjson::StringBuffer buffer;
  json::writer out(buffer);
  out.StartObject();
  json::write_string(out, "key\"1", "a\"b\\c\n\x01");
  json::write_string(out, "nul", "x\0y"s);
  out.EndObject();
  const std::string text(buffer.GetString(), buffer.GetSize());
  CHECK(text == R"({"key\"1":"a\"b\\c\n\u0001","nul":"x\u0000y"})");
  auto parsed = json::parse(text);
  REQUIRE(parsed.has_value());
  CHECK(json::get_string(*parsed, "nul") == "x\0y"s);
}
