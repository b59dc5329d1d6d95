#include "gateway/download_link.hpp"

#include <openssl/crypto.h>

#include <charconv>

#include "common/crypto/hmac.hpp"

namespace jobgate::gateway {

std::string download_link_signer::sign(std::string_view job_id, std::string_view tenant,
                                       std::string_view expires) const {
  // Fields are joined with a newline, which none of them may contain, so no two inputs collide.
  std::string message;
  message.append(job_id).append("\n").append(tenant).append("\n").append(expires);
  const std::string digest = crypto::hmac_sha256(secret_, message);
  static constexpr char hex[] = "0123456789abcdef";
  std::string text;
  text.reserve(digest.size() * 2);
  for (const char c : digest) {
    const auto byte = static_cast<unsigned char>(c);
    text += hex[byte >> 4];
    text += hex[byte & 0x0f];
  }
  return text;
}

std::string download_link_signer::make_path(std::string_view job_id, std::string_view tenant,
                                            std::int64_t expires_at_seconds) const {
  const std::string expires = std::to_string(expires_at_seconds);
  return "/v1/downloads/" + std::string(job_id) + "?tenant=" + std::string(tenant) +
         "&expires=" + expires + "&signature=" + sign(job_id, tenant, expires);
}

download_link_signer::verdict download_link_signer::check(std::string_view job_id,
                                                          std::string_view tenant,
                                                          std::string_view expires,
                                                          std::string_view signature,
                                                          std::int64_t now_seconds) const {
  if (tenant.find('\n') != std::string_view::npos || job_id.find('\n') != std::string_view::npos) {
    return verdict::invalid;
  }
  const std::string expected = sign(job_id, tenant, expires);
  if (signature.size() != expected.size() ||
      CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) != 0) {
    return verdict::invalid;
  }
  std::int64_t expires_at = 0;
  const auto [end, error] =
      std::from_chars(expires.data(), expires.data() + expires.size(), expires_at);
  if (error != std::errc{} || end != expires.data() + expires.size()) {
    return verdict::invalid;
  }
  return now_seconds > expires_at ? verdict::expired : verdict::valid;
}

}  // namespace jobgate::gateway
