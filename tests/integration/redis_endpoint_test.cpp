#include "common/redis/redis_endpoint.hpp"

#include <catch2/catch.hpp>
#include <string>

#include "common/redis/error.hpp"

namespace redis = jobgate::redis;

TEST_CASE("redis URL with every part", "[redis][url]") {
  const auto parsed = redis::parse_redis_url("redis://worker:p%40ss%2Fword@cache.example:6380/3");
  REQUIRE(parsed.has_value());
  CHECK(parsed->host == "cache.example");
  CHECK(parsed->port == 6380);
  CHECK(parsed->username == "worker");
  CHECK(parsed->password == "p@ss/word");
  CHECK(parsed->database == 3);
}

TEST_CASE("redis URL defaults port and database", "[redis][url]") {
  const auto parsed = redis::parse_redis_url("redis://localhost");
  REQUIRE(parsed.has_value());
  CHECK(parsed->host == "localhost");
  CHECK(parsed->port == 6379);
  CHECK(parsed->username.empty());
  CHECK(parsed->password.empty());
  CHECK(parsed->database == 0);

  const auto with_slash = redis::parse_redis_url("REDIS://10.1.2.3:7000/");
  REQUIRE(with_slash.has_value());
  CHECK(with_slash->host == "10.1.2.3");
  CHECK(with_slash->port == 7000);
  CHECK(with_slash->database == 0);
}

TEST_CASE("redis URL with password only", "[redis][url]") {
  const auto parsed = redis::parse_redis_url("redis://:secret@127.0.0.1:6379/0");
  REQUIRE(parsed.has_value());
  CHECK(parsed->username.empty());
  CHECK(parsed->password == "secret");
}

TEST_CASE("redis URL with IPv6 host", "[redis][url]") {
  const auto parsed = redis::parse_redis_url("redis://[::1]:6390/2");
  REQUIRE(parsed.has_value());
  CHECK(parsed->host == "::1");
  CHECK(parsed->port == 6390);
  CHECK(parsed->database == 2);
  CHECK(parsed->masked_url() == "redis://[::1]:6390/2");
}

TEST_CASE("redis URL errors name the part", "[redis][url]") {
  struct bad_url {
    std::string url;
    redis::errc expected;
  };
  const bad_url cases[] = {
      {"", redis::errc::invalid_url_syntax},
      {"localhost:6379", redis::errc::invalid_url_scheme},
      {"http://localhost", redis::errc::invalid_url_scheme},
      {"rediss://localhost", redis::errc::invalid_url_scheme},
      {"redis://", redis::errc::invalid_url_host},
      {"redis://:6379", redis::errc::invalid_url_host},
      {"redis://bad host:6379", redis::errc::invalid_url_host},
      {"redis://[::1:6379", redis::errc::invalid_url_host},
      {"redis://localhost:0", redis::errc::invalid_url_port},
      {"redis://localhost:65536", redis::errc::invalid_url_port},
      {"redis://localhost:port", redis::errc::invalid_url_port},
      {"redis://localhost:", redis::errc::invalid_url_port},
      {"redis://[::1]:x", redis::errc::invalid_url_port},
      {"redis://localhost/abc", redis::errc::invalid_url_database},
      {"redis://localhost/-1", redis::errc::invalid_url_database},
      {"redis://localhost/1/2", redis::errc::invalid_url_database},
      {"redis://localhost/99999999999", redis::errc::invalid_url_database},
      {"redis://user@localhost", redis::errc::invalid_url_userinfo},
      {"redis://:@localhost", redis::errc::invalid_url_userinfo},
      {"redis://localhost?db=1", redis::errc::invalid_url_syntax},
      {"redis://localhost#top", redis::errc::invalid_url_syntax},
  };
  for (const auto& item : cases) {
    INFO("url: " << item.url);
    const auto parsed = redis::parse_redis_url(item.url);
    REQUIRE_FALSE(parsed.has_value());
    CHECK(parsed.error() == redis::make_error_code(item.expected));
  }
}

TEST_CASE("redis URL error hides password", "[redis][url]") {
  const auto parsed = redis::parse_redis_url("redis://:hunter2@localhost:99999");
  REQUIRE_FALSE(parsed.has_value());
  const std::string message = parsed.error().message();
  CHECK(message.find("port") != std::string::npos);
  CHECK(message.find("hunter2") == std::string::npos);
}

TEST_CASE("redis endpoint masks its password", "[redis][url]") {
  const auto parsed = redis::parse_redis_url("redis://app:hunter2@cache:6380/4");
  REQUIRE(parsed.has_value());
  CHECK(parsed->masked_url() == "redis://app:***@cache:6380/4");
}

TEST_CASE("redis errors classify retryable", "[redis][url]") {
  CHECK(redis::is_retryable(redis::errc::not_connected));
  CHECK(redis::is_retryable(redis::errc::connection_lost));
  CHECK(redis::is_retryable(redis::errc::connection_refused));
  CHECK(redis::is_retryable(redis::errc::timeout));
  CHECK(redis::is_retryable(redis::errc::queue_full));
  CHECK(redis::is_retryable(redis::errc::resolve_failed));
  CHECK_FALSE(redis::is_retryable(redis::errc::auth_failed));
  CHECK_FALSE(redis::is_retryable(redis::errc::invalid_command));
  CHECK_FALSE(redis::is_retryable(redis::errc::closed));
  CHECK_FALSE(redis::is_retryable(boost::system::error_code{}));
  CHECK_FALSE(redis::is_retryable(make_error_code(boost::system::errc::timed_out)));
  for (int value = 1; value <= static_cast<int>(redis::errc::closed); ++value) {
    INFO("errc value " << value);
    CHECK(redis::error_category().message(value).find("unknown") == std::string::npos);
  }
}
