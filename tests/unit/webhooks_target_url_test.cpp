#include <catch2/catch.hpp>
#include <string>

#include "common/webhooks/target_url.hpp"

namespace {

using jobgate::webhooks::parse_target_url;
using jobgate::webhooks::target_url;

target_url parse_or_fail(const std::string& text) {
  std::string error;
  auto url = parse_target_url(text, error);
  INFO("url '" << text << "', error: " << error);
  REQUIRE(url.has_value());
  return *url;
}

std::string parse_error(const std::string& text) {
  std::string error;
  INFO("url '" << text << "'");
  CHECK_FALSE(parse_target_url(text, error).has_value());
  return error;
}

}  // namespace

TEST_CASE("target url https with defaults", "[webhooks][target_url]") {
  const target_url url = parse_or_fail("https://hooks.example.com/jobgate/events?tenant=a&x=1");
  CHECK(url.tls);
  CHECK(url.host == "hooks.example.com");
  CHECK(url.port == 443);
  CHECK(url.target == "/jobgate/events?tenant=a&x=1");
  CHECK(url.text == "https://hooks.example.com/jobgate/events?tenant=a&x=1");
}

TEST_CASE("target url http with port", "[webhooks][target_url]") {
  const target_url url = parse_or_fail("http://127.0.0.1:8080/hook");
  CHECK_FALSE(url.tls);
  CHECK(url.host == "127.0.0.1");
  CHECK(url.port == 8080);
  CHECK(url.target == "/hook");
}

TEST_CASE("target url default http port", "[webhooks][target_url]") {
  CHECK(parse_or_fail("http://example.com/").port == 80);
  // An empty port means the scheme's default (RFC 3986, section 3.2.3).
  CHECK(parse_or_fail("http://example.com:/").port == 80);
  CHECK(parse_or_fail("https://example.com:/").port == 443);
  CHECK(parse_or_fail("https://example.com:65535/").port == 65535);
  CHECK(parse_or_fail("https://example.com:1/").port == 1);
  CHECK(parse_or_fail("https://example.com:0443/").port == 443);
}

TEST_CASE("target url empty path", "[webhooks][target_url]") {
  CHECK(parse_or_fail("https://example.com").target == "/");
  CHECK(parse_or_fail("https://example.com?a=b").target == "/?a=b");
  CHECK(parse_or_fail("https://example.com/").target == "/");
}

TEST_CASE("target url keeps encoded target", "[webhooks][target_url]") {
  const target_url url = parse_or_fail("https://example.com/a%20b/C?q=%2F&r");
  CHECK(url.target == "/a%20b/C?q=%2F&r");
}

TEST_CASE("target url case insensitive parts", "[webhooks][target_url]") {
  const target_url url = parse_or_fail("HTTPS://Hooks.EXAMPLE.com/Path?Q=V");
  CHECK(url.tls);
  CHECK(url.host == "hooks.example.com");
  CHECK(url.port == 443);
  // Path and query are case-sensitive and stay as given.
  CHECK(url.target == "/Path?Q=V");
  CHECK(url.text == "HTTPS://Hooks.EXAMPLE.com/Path?Q=V");
  CHECK_FALSE(parse_or_fail("Http://example.com/").tls);
}

TEST_CASE("target url IPv6 literal", "[webhooks][target_url]") {
  const target_url url = parse_or_fail("https://[2001:DB8::1]:8443/hook");
  CHECK(url.host == "2001:db8::1");
  CHECK(url.port == 8443);
  CHECK(parse_or_fail("http://[::1]/").host == "::1");
  CHECK(parse_or_fail("http://[::ffff:127.0.0.1]/").host == "::ffff:127.0.0.1");
}

TEST_CASE("target url host name characters", "[webhooks][target_url]") {
  CHECK(parse_or_fail("https://my_host-1.example.com./").host == "my_host-1.example.com.");
  CHECK(parse_or_fail("https://localhost/").host == "localhost");
  CHECK(parse_or_fail("https://xn--bcher-kva.example/").host == "xn--bcher-kva.example");
  CHECK(parse_or_fail("https://1.2.3.example/").host == "1.2.3.example");
  CHECK(parse_or_fail("https://0xample.com/").host == "0xample.com");
}

TEST_CASE("target url rejects other schemes", "[webhooks][target_url]") {
  const std::string text =
      GENERATE(as<std::string>{}, "ftp://example.com/", "ws://example.com/", "wss://example.com/",
               "file:///etc/passwd", "gopher://example.com/", "httpx://example.com/",
               "mailto:ops@example.com");
  CHECK(parse_error(text) == "the URL must use https or http");
}

TEST_CASE("target url rejects missing host", "[webhooks][target_url]") {
  const std::string text = GENERATE(as<std::string>{}, "https:///path", "https:", "https:/path",
                                    "https:example.com", "http://:8080/", "https://?a=b");
  CHECK(parse_error(text) == "the URL has no host");
}

TEST_CASE("target url rejects not a URL", "[webhooks][target_url]") {
  const std::string text =
      GENERATE(as<std::string>{}, "", "example.com/hook", "//example.com/hook", "/hook",
               "https://exa mple.com/", "https://example.com/a b", "https://[::1/",
               "https://[fe80::1%25eth0]/", "https://example.com:8o/", "https://example.com\n/");
  CHECK(parse_error(text) == "the URL is not a valid absolute URL");
}

TEST_CASE("target url rejects user information", "[webhooks][target_url]") {
  const std::string text =
      GENERATE(as<std::string>{}, "https://user:pass@example.com/", "https://user@example.com/",
               "https://@example.com/", "https://trusted.example@evil.example/");
  CHECK(parse_error(text) == "the URL must not contain user information");
}

TEST_CASE("target url rejects fragment", "[webhooks][target_url]") {
  CHECK(parse_error("https://example.com/hook#part") == "the URL must not contain a fragment");
  CHECK(parse_error("https://example.com/hook#") == "the URL must not contain a fragment");
}

TEST_CASE("target url rejects bad port", "[webhooks][target_url]") {
  const std::string text =
      GENERATE(as<std::string>{}, "https://example.com:0/", "https://example.com:00/",
               "https://example.com:65536/", "https://example.com:99999999999999999999/");
  CHECK(parse_error(text) == "the URL port must be between 1 and 65535");
}

TEST_CASE("target url rejects odd host names", "[webhooks][target_url]") {
  const std::string text =
      GENERATE(as<std::string>{}, "https://exa%6Dple.com/", "https://a!b.example/",
               "https://a,b.example/", "https://ex*ample.com/", "https://ex~ample.com/");
  CHECK(parse_error(text) == "the URL host may contain only letters, digits, '-', '_' and '.'");
}

TEST_CASE("target url rejects numeric host names", "[webhooks][target_url]") {
  // A resolver may read these as IPv4 addresses, e.g. "127.1" as 127.0.0.1.
  const std::string text = GENERATE(as<std::string>{}, "https://127.1/", "https://2130706433/",
                                    "https://0x7f.1/", "https://0x7F000001/", "https://0177.0.0.1/",
                                    "https://example.0x/", "https://example.123/");
  CHECK(parse_error(text) ==
        "the URL host looks like an IPv4 address; write it as four decimal numbers");
}

TEST_CASE("target url IPv4 host with suffix", "[webhooks][target_url]") {
  // Boost.URL 1.81 reads these as an IPv4 host followed by a path without "/", which
  // parse_target_url() rejects, so they never reach DNS.
  CHECK(parse_error("https://127.0.0.1./") == "the URL is not a valid absolute URL");
  CHECK(parse_error("https://1.2.3.4.5/") == "the URL is not a valid absolute URL");
  CHECK(parse_error("https://1.2.3.4x/") == "the URL is not a valid absolute URL");
}

TEST_CASE("target url rejects IPvFuture", "[webhooks][target_url]") {
  CHECK(parse_error("https://[v1.fe80::a+en1]/") ==
        "the URL host must be a DNS name, an IPv4 address or an IPv6 address");
}

TEST_CASE("target url length limit", "[webhooks][target_url]") {
  const std::string prefix = "https://example.com/";
  const std::string longest = prefix + std::string(2048 - prefix.size(), 'a');
  CHECK(parse_or_fail(longest).target.size() == 2048 - prefix.size() + 1);
  CHECK(parse_error(longest + "a") == "the URL is longer than 2048 characters");
}
