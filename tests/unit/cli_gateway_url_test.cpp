#include <catch2/catch.hpp>

#include "cli/http_client.hpp"

using jobgate::cli::parse_gateway_url;

TEST_CASE("gateway url: http with port", "[cli]") {
  const auto address = parse_gateway_url("http://127.0.0.1:8080");
  REQUIRE(address.has_value());
  CHECK_FALSE(address->tls);
  CHECK(address->host == "127.0.0.1");
  CHECK(address->port == "8080");
  CHECK(address->base_path.empty());
}

TEST_CASE("gateway url: default ports and base path", "[cli]") {
  const auto plain = parse_gateway_url("http://gw.example/api/");
  REQUIRE(plain.has_value());
  CHECK(plain->port == "80");
  CHECK(plain->base_path == "/api");

  const auto tls = parse_gateway_url("https://gw.example");
  REQUIRE(tls.has_value());
  CHECK(tls->tls);
  CHECK(tls->port == "443");
  CHECK(tls->base_path.empty());
}

TEST_CASE("gateway url: IPv6 literal without brackets", "[cli]") {
  const auto address = parse_gateway_url("http://[::1]:9000");
  REQUIRE(address.has_value());
  CHECK(address->host == "::1");
  CHECK(address->port == "9000");
}

TEST_CASE("gateway url: invalid URLs", "[cli]") {
  const auto ftp = parse_gateway_url("ftp://gw.example");
  REQUIRE_FALSE(ftp.has_value());
  CHECK_THAT(ftp.error().message, Catch::Contains("must start with http:// or https://"));

  const auto relative = parse_gateway_url("gw.example:8080");
  REQUIRE_FALSE(relative.has_value());

  const auto no_host = parse_gateway_url("http:///v1");
  REQUIRE_FALSE(no_host.has_value());
  CHECK_THAT(no_host.error().message, Catch::Contains("has no host"));
}

TEST_CASE("gateway url: missing scheme", "[cli]") {
  for (const char* url : {"127.0.0.1:32585", "gw.example:8080", "localhost", "gw.example/v1"}) {
    INFO(url);
    const auto address = parse_gateway_url(url);
    REQUIRE_FALSE(address.has_value());
    CHECK_THAT(address.error().message, Catch::Contains("must start with http:// or https://"));
  }
}

TEST_CASE("gateway url: dashboard address", "[cli]") {
  for (const char* url : {"http://127.0.0.1:32585/ui", "http://127.0.0.1:32585/ui/"}) {
    INFO(url);
    const auto address = parse_gateway_url(url);
    REQUIRE_FALSE(address.has_value());
    CHECK_THAT(address.error().message, Catch::Contains("the dashboard"));
    CHECK_THAT(address.error().message, Catch::Contains("'http://127.0.0.1:32585'"));
  }
}

TEST_CASE("gateway url: dashboard address with fragment", "[cli]") {
  for (const char* url : {"http://127.0.0.1:32585/ui/#/jobs", "http://127.0.0.1:32585/ui#/",
                          "http://127.0.0.1:32585/ui/#/jobs?status=FAILED"}) {
    INFO(url);
    const auto address = parse_gateway_url(url);
    REQUIRE_FALSE(address.has_value());
    CHECK_THAT(address.error().message, Catch::Contains("the dashboard"));
    CHECK_THAT(address.error().message, Catch::Contains("'http://127.0.0.1:32585'"));
    CHECK_THAT(address.error().message, !Catch::Contains("leftover"));
  }
}

TEST_CASE("gateway url: fragment on a base URL", "[cli]") {
  const auto address = parse_gateway_url("http://127.0.0.1:32585/#top");
  REQUIRE_FALSE(address.has_value());
  CHECK_THAT(address.error().message, Catch::Contains("has a fragment"));
  CHECK_THAT(address.error().message, Catch::Contains("such as 'http://127.0.0.1:32585'"));
}

TEST_CASE("gateway url: scheme in any letter case", "[cli]") {
  for (const char* url :
       {"HTTP://127.0.0.1:8080", "Http://127.0.0.1:8080", "hTtP://127.0.0.1:8080"}) {
    INFO(url);
    const auto address = parse_gateway_url(url);
    REQUIRE(address.has_value());
    CHECK_FALSE(address->tls);
    CHECK(address->port == "8080");
  }
  for (const char* url : {"HTTPS://gw.example", "Https://gw.example"}) {
    INFO(url);
    const auto address = parse_gateway_url(url);
    REQUIRE(address.has_value());
    CHECK(address->tls);
    CHECK(address->port == "443");
  }
}
