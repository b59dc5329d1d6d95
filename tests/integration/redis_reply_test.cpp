#include <hiredis/hiredis.h>

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/redis/reply.hpp"
#include "common/redis/request.hpp"

namespace redis = jobgate::redis;
using namespace std::string_view_literals;

namespace {

// Parses RESP bytes with hiredis's own reader into an owned reply, as a connection would.
redis::reply parse_resp(std::string_view bytes) {
  std::unique_ptr<redisReader, decltype(&redisReaderFree)> reader{redisReaderCreate(),
                                                                  &redisReaderFree};
  REQUIRE(reader != nullptr);
  REQUIRE(redisReaderFeed(reader.get(), bytes.data(), bytes.size()) == REDIS_OK);
  void* raw = nullptr;
  REQUIRE(redisReaderGetReply(reader.get(), &raw) == REDIS_OK);
  REQUIRE(raw != nullptr);
  return redis::reply{static_cast<redisReply*>(raw)};
}

}  // namespace

TEST_CASE("reply scalar kinds", "[redis][reply]") {
  const auto text = parse_resp("$5\r\na\0b\r\n\r\n"sv);
  CHECK(text.kind() == redis::reply_kind::string);
  CHECK(text.text() == "a\0b\r\n"sv);
  CHECK(text.integer() == 0);
  CHECK(text.size() == 0);

  const auto number = parse_resp(":-42\r\n");
  CHECK(number.is_integer());
  CHECK(number.integer() == -42);
  CHECK(number.text().empty());

  const auto status = parse_resp("+OK\r\n");
  CHECK(status.is_status());
  CHECK(status.text() == "OK");

  const auto error = parse_resp("-WRONGTYPE Operation against a key\r\n");
  CHECK(error.is_error());
  CHECK(error.error_prefix() == "WRONGTYPE");
  CHECK(error.text() == "WRONGTYPE Operation against a key");

  const auto nil = parse_resp("$-1\r\n");
  CHECK(nil.is_nil());
  CHECK(nil.text().empty());
}

TEST_CASE("reply array views", "[redis][reply]") {
  const auto tree = parse_resp("*4\r\n:1\r\n$-1\r\n*2\r\n+x\r\n$0\r\n\r\n-ERR inner\r\n");
  REQUIRE(tree.is_array());
  REQUIRE(tree.size() == 4);
  CHECK(tree[0].integer() == 1);
  CHECK(tree[1].is_nil());
  CHECK(tree[2].size() == 2);
  CHECK(tree[2][0].text() == "x");
  CHECK(tree[2][1].is_string());
  CHECK(tree[2][1].text().empty());
  CHECK(tree[3].error_prefix() == "ERR");
  CHECK(tree[4].is_nil());
  CHECK(tree[2][7].is_nil());

  std::vector<redis::reply_kind> kinds;
  for (const redis::reply_view element : tree) {
    kinds.push_back(element.kind());
  }
  CHECK(kinds == std::vector<redis::reply_kind>{redis::reply_kind::integer, redis::reply_kind::nil,
                                                redis::reply_kind::array,
                                                redis::reply_kind::error});
  CHECK(tree.end() - tree.begin() == 4);
}

TEST_CASE("reply deep copy owns its tree", "[redis][reply]") {
  redis::reply copy;
  {
    const auto original = parse_resp("*3\r\n$3\r\nk\0v\r\n*1\r\n:7\r\n*0\r\n"sv);
    copy = redis::reply::copy_of(original.view().native());
    CHECK(copy.view().native() != original.view().native());
  }
  REQUIRE(copy.size() == 3);
  CHECK(copy[0].text() == "k\0v"sv);
  CHECK(copy[1][0].integer() == 7);
  CHECK(copy[2].is_array());
  CHECK(copy[2].size() == 0);

  CHECK(redis::reply::copy_of(nullptr).is_nil());
}

TEST_CASE("reply moves leave nil", "[redis][reply]") {
  auto first = parse_resp("+PONG\r\n");
  redis::reply second = std::move(first);
  CHECK(second.text() == "PONG");
  CHECK(first.is_nil());  // NOLINT(bugprone-use-after-move): moved-from state is specified.
  second = parse_resp(":5\r\n");
  CHECK(second.integer() == 5);
}

TEST_CASE("request keeps binary arguments", "[redis][reply]") {
  redis::request command{"SET", "key"};
  command.push_back("a\0b"sv).push_back(-12345);
  REQUIRE(command.size() == 4);
  CHECK(command.name() == "SET");
  CHECK(command[2] == "a\0b"sv);
  CHECK(command[3] == "-12345");
  CHECK(command[4].empty());

  const std::vector<std::string> owned{"DEL", "x", ""};
  const redis::request from_strings{std::span<const std::string>(owned)};
  REQUIRE(from_strings.size() == 3);
  CHECK(from_strings[2].empty());
  CHECK(redis::request{}.name().empty());
}
