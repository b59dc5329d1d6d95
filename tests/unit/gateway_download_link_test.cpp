#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/url/parse.hpp>
#include <catch2/catch.hpp>
#include <string>

#include "gateway/download_link.hpp"

namespace {

using jobgate::gateway::download_link_signer;
using verdict = download_link_signer::verdict;

const std::string secret = "0123456789abcdef0123456789abcdef";
const std::string job = "exp_0123456789abcdef0123456789abcdef";
constexpr std::int64_t now = 1714564800;

// The parts of a link that check() takes, read back from the query of make_path().
struct link_parts {
  std::string path;
  std::string tenant;
  std::string expires;
  std::string signature;
};

link_parts parse_link(const std::string& link) {
  auto parsed = boost::urls::parse_origin_form(link);
  REQUIRE(parsed.has_value());
  link_parts parts;
  parts.path = parsed->path();
  for (const auto& param : parsed->params()) {
    if (param.key == "tenant") {
      parts.tenant = param.value;
    } else if (param.key == "expires") {
      parts.expires = param.value;
    } else if (param.key == "signature") {
      parts.signature = param.value;
    }
  }
  return parts;
}

// HMAC-SHA256 in lowercase hex over the same message layout as the signer, computed here
// independently so a test can sign values that make_path() never produces.
std::string hmac_hex(const std::string& key, const std::string& message) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &length);
  std::string text;
  static constexpr char hex[] = "0123456789abcdef";
  for (unsigned int i = 0; i < length; ++i) {
    text += hex[digest[i] >> 4];
    text += hex[digest[i] & 0x0f];
  }
  return text;
}

}  // namespace

TEST_CASE("download link shape", "[gateway][download]") {
  const download_link_signer signer(secret);
  const auto parts = parse_link(signer.make_path(job, "tenant-a", now + 300));
  CHECK(parts.path == "/v1/downloads/" + job);
  CHECK(parts.tenant == "tenant-a");
  CHECK(parts.expires == std::to_string(now + 300));
  CHECK(parts.signature.size() == 64);
  CHECK(parts.signature == hmac_hex(secret, job + "\ntenant-a\n" + std::to_string(now + 300)));
}

TEST_CASE("download link valid until expiry", "[gateway][download]") {
  const download_link_signer signer(secret);
  const auto parts = parse_link(signer.make_path(job, "tenant-a", now + 300));
  CHECK(signer.check(job, parts.tenant, parts.expires, parts.signature, now) == verdict::valid);
  CHECK(signer.check(job, parts.tenant, parts.expires, parts.signature, now + 300) ==
        verdict::valid);
  CHECK(signer.check(job, parts.tenant, parts.expires, parts.signature, now + 301) ==
        verdict::expired);
}

TEST_CASE("download link tampered signature", "[gateway][download]") {
  const download_link_signer signer(secret);
  const auto parts = parse_link(signer.make_path(job, "tenant-a", now + 300));

  std::string flipped = parts.signature;
  flipped[10] = flipped[10] == 'a' ? 'b' : 'a';
  CHECK(signer.check(job, parts.tenant, parts.expires, flipped, now) == verdict::invalid);
  CHECK(signer.check(job, parts.tenant, parts.expires, parts.signature.substr(1), now) ==
        verdict::invalid);
  CHECK(signer.check(job, parts.tenant, parts.expires, parts.signature + "0", now) ==
        verdict::invalid);
  CHECK(signer.check(job, parts.tenant, parts.expires, "", now) == verdict::invalid);

  std::string upper = parts.signature;
  for (auto& c : upper) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  CHECK(signer.check(job, parts.tenant, parts.expires, upper, now) == verdict::invalid);
}

TEST_CASE("download link other tenant or job", "[gateway][download]") {
  const download_link_signer signer(secret);
  const auto parts = parse_link(signer.make_path(job, "tenant-a", now + 300));
  CHECK(signer.check(job, "tenant-b", parts.expires, parts.signature, now) == verdict::invalid);
  const std::string other_job = "exp_ffffffffffffffffffffffffffffffff";
  CHECK(signer.check(other_job, parts.tenant, parts.expires, parts.signature, now) ==
        verdict::invalid);
}

TEST_CASE("download link later expiry rejected", "[gateway][download]") {
  const download_link_signer signer(secret);
  const auto parts = parse_link(signer.make_path(job, "tenant-a", now + 300));
  const std::string extended = std::to_string(now + 3600);
  CHECK(signer.check(job, parts.tenant, extended, parts.signature, now + 600) == verdict::invalid);
}

TEST_CASE("download link other secret", "[gateway][download]") {
  const download_link_signer signer(secret);
  const download_link_signer other(std::string(32, 'x'));
  const auto parts = parse_link(other.make_path(job, "tenant-a", now + 300));
  CHECK(signer.check(job, parts.tenant, parts.expires, parts.signature, now) == verdict::invalid);
}

TEST_CASE("download link expired", "[gateway][download]") {
  const download_link_signer signer(secret);
  const auto parts = parse_link(signer.make_path(job, "tenant-a", now - 1));
  CHECK(signer.check(job, parts.tenant, parts.expires, parts.signature, now) == verdict::expired);
}

TEST_CASE("download link malformed expires", "[gateway][download]") {
  const download_link_signer signer(secret);
  const std::string expires = GENERATE(as<std::string>{}, "", "abc", "17145648001x", " 1714564801",
                                       "+1714564801", "99999999999999999999999");
  // Signed correctly, so only the value itself can make the check fail.
  const std::string signature = hmac_hex(secret, job + "\ntenant-a\n" + expires);
  INFO("expires '" << expires << "'");
  CHECK(signer.check(job, "tenant-a", expires, signature, now) == verdict::invalid);
}

TEST_CASE("download link newline in fields", "[gateway][download]") {
  const download_link_signer signer(secret);
  // "a\nb" as tenant would sign the same message as job "...\na" with tenant "b".
  const std::string signature = hmac_hex(secret, job + "\na\nb\n" + std::to_string(now + 60));
  CHECK(signer.check(job, "a\nb", std::to_string(now + 60), signature, now) == verdict::invalid);
  CHECK(signer.check(job + "\na", "b", std::to_string(now + 60), signature, now) ==
        verdict::invalid);
}
