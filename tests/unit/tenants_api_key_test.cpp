#include <catch2/catch.hpp>
#include <set>
#include <string>

#include "common/crypto/base64.hpp"
#include "common/tenants/api_key.hpp"
#include "common/tenants/tenant_name.hpp"

namespace {

bool is_base64url(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

}  // namespace

TEST_CASE("api key format", "[tenants][apikey]") {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const std::string key = jobgate::tenants::generate_api_key();
    INFO("key " << key);
    REQUIRE(key.size() == 3 + 43);
    CHECK(key.starts_with("jg_"));
    for (const char c : key.substr(3)) {
      CHECK(is_base64url(c));
    }
    CHECK(seen.insert(key).second);
  }
}

TEST_CASE("api key id format", "[tenants][apikey]") {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const std::string id = jobgate::tenants::generate_key_id();
    INFO("id " << id);
    CHECK(id.size() == 16);
    CHECK(jobgate::tenants::is_valid_key_id(id));
    CHECK(seen.insert(id).second);
  }
}

TEST_CASE("api key id validation", "[tenants][apikey]") {
  using jobgate::tenants::is_valid_key_id;
  CHECK(is_valid_key_id("key_0123456789ab"));
  CHECK_FALSE(is_valid_key_id(""));
  CHECK_FALSE(is_valid_key_id("key_"));
  CHECK_FALSE(is_valid_key_id("key_0123456789a"));
  CHECK_FALSE(is_valid_key_id("key_0123456789abc"));
  CHECK_FALSE(is_valid_key_id("key_0123456789AB"));
  CHECK_FALSE(is_valid_key_id("kez_0123456789ab"));
  CHECK_FALSE(is_valid_key_id("key_0123456789a/"));
}

TEST_CASE("base64url encodes without padding", "[crypto][base64]") {
  using jobgate::crypto::base64url_encode;
  CHECK(base64url_encode("") == "");
  CHECK(base64url_encode("f") == "Zg");
  CHECK(base64url_encode("fo") == "Zm8");
  CHECK(base64url_encode("foo") == "Zm9v");
  // 0xfb 0xff encodes as "+/8=" in standard base64.
  CHECK(base64url_encode("\xfb\xff") == "-_8");
  CHECK(base64url_encode(std::string(32, '\0')).size() == 43);
}

TEST_CASE("tenant name rule", "[tenants]") {
  using jobgate::tenants::is_valid_tenant_name;
  CHECK(is_valid_tenant_name("acme"));
  CHECK(is_valid_tenant_name("Acme-2_eu"));
  CHECK(is_valid_tenant_name(std::string(64, 'a')));
  CHECK_FALSE(is_valid_tenant_name(""));
  CHECK_FALSE(is_valid_tenant_name(std::string(65, 'a')));
  CHECK_FALSE(is_valid_tenant_name("acme corp"));
  CHECK_FALSE(is_valid_tenant_name("acme:1"));
  CHECK_FALSE(is_valid_tenant_name("acme/1"));
  CHECK_FALSE(is_valid_tenant_name("caf\xc3\xa9"));
}
