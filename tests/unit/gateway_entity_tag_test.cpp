#include <catch2/catch.hpp>
#include <string>

#include "gateway/entity_tag.hpp"

namespace {

using jobgate::gateway::if_none_match_matches;
using jobgate::gateway::if_range_matches;
using jobgate::gateway::make_strong_etag;

}  // namespace

TEST_CASE("entity tag strong and stable", "[gateway][etag]") {
  const std::string tag = make_strong_etag("hello");
  // SHA-256("hello") starts with 2cf24dba5fb0a30e26e83b2ac5b9e29e.
  CHECK(tag == "\"2cf24dba5fb0a30e26e83b2ac5b9e29e\"");
  CHECK(make_strong_etag("hello") == tag);
  CHECK(make_strong_etag("hello!") != tag);
  CHECK(make_strong_etag("") != tag);
}

TEST_CASE("if none match lists", "[gateway][etag]") {
  const std::string tag = "\"abc\"";
  CHECK(if_none_match_matches("\"abc\"", tag));
  CHECK(if_none_match_matches("*", tag));
  CHECK(if_none_match_matches(" * ", tag));
  CHECK(if_none_match_matches("W/\"abc\"", tag));
  CHECK(if_none_match_matches("\"x\", \"abc\"", tag));
  CHECK(if_none_match_matches("\"a,b\",\"abc\"", tag));
  CHECK_FALSE(if_none_match_matches("\"abcd\"", tag));
  CHECK_FALSE(if_none_match_matches("\"ab\"", tag));
  CHECK_FALSE(if_none_match_matches("abc", tag));
  CHECK_FALSE(if_none_match_matches("", tag));
  CHECK_FALSE(if_none_match_matches("\"abc", tag));
  // Members after a malformed one are not read.
  CHECK_FALSE(if_none_match_matches("junk, \"abc\"", tag));
}

TEST_CASE("if range strong comparison", "[gateway][etag]") {
  const std::string tag = "\"abc\"";
  CHECK(if_range_matches("\"abc\"", tag));
  CHECK(if_range_matches(" \"abc\" ", tag));
  CHECK_FALSE(if_range_matches("W/\"abc\"", tag));
  CHECK_FALSE(if_range_matches("\"abd\"", tag));
  CHECK_FALSE(if_range_matches("Wed, 21 Oct 2015 07:28:00 GMT", tag));
}
