#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "common/webhooks/address_policy.hpp"

namespace {

using boost::asio::ip::make_address;
using Catch::Matchers::Contains;
using jobgate::webhooks::address_policy;

struct refusal_case {
  const char* address;
  const char* reason;
};

std::optional<std::string> refusal_of(const address_policy& policy, const char* address) {
  return policy.refusal(make_address(address));
}

address_policy parse_or_fail(const std::vector<std::string>& allow) {
  std::string error;
  auto policy = address_policy::parse(allow, error);
  INFO("error: " << error);
  REQUIRE(policy.has_value());
  return *policy;
}

std::string parse_error(const std::vector<std::string>& allow) {
  std::string error;
  CHECK_FALSE(address_policy::parse(allow, error).has_value());
  return error;
}

}  // namespace

TEST_CASE("address policy refuses IPv4 ranges", "[webhooks][address]") {
  // The first and last address of each range.
  const auto [address, reason] = GENERATE(values<refusal_case>({
      {"0.0.0.0", "an unspecified address"},
      {"0.255.255.255", "an unspecified address"},
      {"10.0.0.0", "a private address"},
      {"10.255.255.255", "a private address"},
      {"100.64.0.0", "a shared (carrier-grade NAT) address"},
      {"100.127.255.255", "a shared (carrier-grade NAT) address"},
      {"127.0.0.1", "a loopback address"},
      {"127.255.255.255", "a loopback address"},
      {"169.254.0.0", "a link-local address"},
      {"169.254.255.255", "a link-local address"},
      {"169.254.169.254", "a cloud metadata address"},
      {"172.16.0.0", "a private address"},
      {"172.31.255.255", "a private address"},
      {"192.0.0.0", "an IETF protocol assignment address"},
      {"192.0.0.255", "an IETF protocol assignment address"},
      {"192.168.0.0", "a private address"},
      {"192.168.255.255", "a private address"},
      {"198.18.0.0", "a benchmarking address"},
      {"198.19.255.255", "a benchmarking address"},
      {"224.0.0.0", "a multicast address"},
      {"239.255.255.255", "a multicast address"},
      {"240.0.0.0", "a reserved address"},
      {"255.255.255.254", "a reserved address"},
      {"255.255.255.255", "a broadcast address"},
  }));
  INFO("address " << address);
  CHECK(refusal_of(address_policy{}, address) == std::string(reason));
}

TEST_CASE("address policy refuses IPv6 ranges", "[webhooks][address]") {
  const auto [address, reason] = GENERATE(values<refusal_case>({
      {"::", "an unspecified address"},
      {"::1", "a loopback address"},
      {"::2", "a reserved address"},
      {"::7f00:1", "a reserved address"},
      {"fc00::", "a private address"},
      {"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "a private address"},
      {"fd00:ec2::254", "a cloud metadata address"},
      {"fe80::", "a link-local address"},
      {"febf:ffff::1", "a link-local address"},
      {"fec0::1", "a site-local address"},
      {"ff00::", "a multicast address"},
      {"ff02::1", "a multicast address"},
      {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "a multicast address"},
      {"64:ff9b:1::1", "a local-use NAT64 address"},
  }));
  INFO("address " << address);
  CHECK(refusal_of(address_policy{}, address) == std::string(reason));
}

TEST_CASE("address policy judges embedded IPv4", "[webhooks][address]") {
  const auto [address, reason] = GENERATE(values<refusal_case>({
      {"::ffff:127.0.0.1", "a loopback address"},
      {"::ffff:10.1.2.3", "a private address"},
      {"::ffff:169.254.169.254", "a cloud metadata address"},
      {"::ffff:0.0.0.0", "an unspecified address"},
      {"::ffff:255.255.255.255", "a broadcast address"},
      {"64:ff9b::7f00:1", "a loopback address"},
      {"64:ff9b::192.168.1.1", "a private address"},
      {"64:ff9b::a9fe:a9fe", "a cloud metadata address"},
  }));
  INFO("address " << address);
  CHECK(refusal_of(address_policy{}, address) == std::string(reason));
}

TEST_CASE("address policy passes public addresses", "[webhooks][address]") {
  // Includes the neighbours just outside each refused range.
  const std::string address = GENERATE(
      as<std::string>{}, "1.0.0.0", "8.8.8.8", "9.255.255.255", "11.0.0.0", "100.63.255.255",
      "100.128.0.0", "126.255.255.255", "128.0.0.0", "169.253.255.255", "169.255.0.0",
      "172.15.255.255", "172.32.0.0", "192.0.1.0", "192.167.255.255", "192.169.0.0",
      "198.17.255.255", "198.20.0.0", "223.255.255.255", "2606:4700:4700::1111",
      "2001:4860:4860::8888", "::ffff:8.8.8.8", "64:ff9b::808:808");
  INFO("address " << address);
  CHECK_FALSE(address_policy{}.refusal(make_address(address)).has_value());
}

TEST_CASE("address policy IPv6 range edges", "[webhooks][address]") {
  // Unassigned space just outside ::/96, fc00::/7, fe80::/10 and the 64:ff9b ranges, which the
  // policy leaves to routing.
  const std::string address =
      GENERATE(as<std::string>{}, "::1:0:0:1", "fbff:ffff::1", "fe7f:ffff::1", "64:ff9a::1",
               "64:ff9b:0:0:1::1", "64:ff9b:2::1", "ff::1");
  INFO("address " << address);
  CHECK_FALSE(address_policy{}.refusal(make_address(address)).has_value());
}

TEST_CASE("address policy allows loopback", "[webhooks][address]") {
  const address_policy policy = parse_or_fail({"loopback"});
  CHECK_FALSE(refusal_of(policy, "127.0.0.1").has_value());
  CHECK_FALSE(refusal_of(policy, "127.255.255.254").has_value());
  CHECK_FALSE(refusal_of(policy, "::1").has_value());
  CHECK_FALSE(refusal_of(policy, "::ffff:127.0.0.1").has_value());
  CHECK_FALSE(refusal_of(policy, "8.8.8.8").has_value());
  CHECK(refusal_of(policy, "10.0.0.1") == std::string("a private address"));
  CHECK(refusal_of(policy, "0.0.0.0") == std::string("an unspecified address"));
  CHECK(refusal_of(policy, "::") == std::string("an unspecified address"));
}

TEST_CASE("address policy allows private", "[webhooks][address]") {
  const address_policy policy = parse_or_fail({"private"});
  CHECK_FALSE(refusal_of(policy, "10.1.2.3").has_value());
  CHECK_FALSE(refusal_of(policy, "172.16.0.1").has_value());
  CHECK_FALSE(refusal_of(policy, "172.31.255.254").has_value());
  CHECK_FALSE(refusal_of(policy, "192.168.1.1").has_value());
  CHECK_FALSE(refusal_of(policy, "fd12:3456::1").has_value());
  CHECK_FALSE(refusal_of(policy, "::ffff:192.168.1.1").has_value());
  CHECK(refusal_of(policy, "127.0.0.1") == std::string("a loopback address"));
  CHECK(refusal_of(policy, "100.64.0.1") == std::string("a shared (carrier-grade NAT) address"));
  CHECK(refusal_of(policy, "169.254.169.254") == std::string("a cloud metadata address"));
  // The keyword never opens the metadata address inside fc00::/7.
  CHECK(refusal_of(policy, "fd00:ec2::254") == std::string("a cloud metadata address"));
}

TEST_CASE("address policy allows address or CIDR", "[webhooks][address]") {
  const address_policy policy =
      parse_or_fail({"192.168.1.10", "10.20.0.0/16", "fd00::/8", "::ffff:172.16.0.0/112"});
  CHECK_FALSE(refusal_of(policy, "192.168.1.10").has_value());
  CHECK(refusal_of(policy, "192.168.1.11") == std::string("a private address"));
  CHECK_FALSE(refusal_of(policy, "10.20.0.0").has_value());
  CHECK_FALSE(refusal_of(policy, "10.20.255.255").has_value());
  CHECK(refusal_of(policy, "10.21.0.0") == std::string("a private address"));
  CHECK(refusal_of(policy, "10.19.255.255") == std::string("a private address"));
  // A range written out in full opens whatever it contains, metadata included.
  CHECK_FALSE(refusal_of(policy, "fd00:ec2::254").has_value());
  CHECK(refusal_of(policy, "fe80::1") == std::string("a link-local address"));
  // An IPv4 range opens the mapped form, and a mapped range opens the plain IPv4 form.
  CHECK_FALSE(refusal_of(policy, "::ffff:10.20.1.1").has_value());
  CHECK_FALSE(refusal_of(policy, "172.16.1.1").has_value());
  CHECK(refusal_of(policy, "172.17.0.1") == std::string("a private address"));
}

TEST_CASE("address policy allows metadata explicitly", "[webhooks][address]") {
  const address_policy policy = parse_or_fail({"169.254.169.254"});
  CHECK_FALSE(refusal_of(policy, "169.254.169.254").has_value());
  CHECK(refusal_of(policy, "169.254.169.253") == std::string("a link-local address"));
}

TEST_CASE("address policy empty allowlist", "[webhooks][address]") {
  const address_policy policy = parse_or_fail({});
  CHECK(refusal_of(policy, "127.0.0.1") == std::string("a loopback address"));
  CHECK_FALSE(refusal_of(policy, "8.8.8.8").has_value());
}

TEST_CASE("address policy parse errors", "[webhooks][address]") {
  const std::string entry =
      GENERATE(as<std::string>{}, "", "loopbacks", "Private", "localhost", "example.com",
               " 10.0.0.1", "10.0.0.1 ", "10.0.0", "10.0.0.0/", "10.0.0.0/8x", "10.0.0.0/-1",
               "10.0.0.0/+8", "10.0.0.0/8/8", "::1/", "fd00::/abc");
  INFO("entry '" << entry << "'");
  const std::string error = parse_error({"loopback", entry});
  CHECK_THAT(error, Contains("\"" + entry + "\""));
  CHECK_THAT(error, Contains("not \"loopback\", \"private\", an IP address or a CIDR range"));
}

TEST_CASE("address policy prefix too long", "[webhooks][address]") {
  CHECK(parse_error({"10.0.0.0/33"}) ==
        "the allowlist entry \"10.0.0.0/33\" has a prefix length above 32");
  CHECK(parse_error({"fd00::/129"}) ==
        "the allowlist entry \"fd00::/129\" has a prefix length above 128");
  CHECK(parse_error({"10.0.0.0/4294967296"}) ==
        "the allowlist entry \"10.0.0.0/4294967296\" is not \"loopback\", \"private\", an IP "
        "address or a CIDR range");
}

TEST_CASE("address policy host bits set", "[webhooks][address]") {
  CHECK(parse_error({"10.0.0.1/8"}) ==
        "the allowlist entry \"10.0.0.1/8\" has bits set after the prefix; write 10.0.0.0/8");
  CHECK(parse_error({"fd00::1/8"}) ==
        "the allowlist entry \"fd00::1/8\" has bits set after the prefix; write fd00::/8");
  // Prefix 0 and full-length prefixes are accepted.
  std::string error;
  CHECK(address_policy::parse({"0.0.0.0/0", "::/0", "10.0.0.1/32", "::1/128"}, error));
}

TEST_CASE("address policy allow everything", "[webhooks][address]") {
  const address_policy policy = parse_or_fail({"0.0.0.0/0", "::/0"});
  CHECK_FALSE(refusal_of(policy, "127.0.0.1").has_value());
  CHECK_FALSE(refusal_of(policy, "fe80::1").has_value());
  CHECK_FALSE(refusal_of(policy, "169.254.169.254").has_value());
}
