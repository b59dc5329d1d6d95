#include "common/webhooks/webhook_signature.hpp"

#include <openssl/rand.h>

#include <stdexcept>

#include "common/crypto/base64.hpp"
#include "common/crypto/hmac.hpp"

namespace jobgate::webhooks {
namespace {

constexpr std::string_view secret_prefix = "whsec_";
constexpr std::size_t generated_key_bytes = 32;
// Standard Webhooks 1.0.0 requires symmetric keys of at least 24 bytes.
constexpr std::size_t min_key_bytes = 24;

}  // namespace

std::string generate_secret() {
  unsigned char key[generated_key_bytes];
  if (RAND_bytes(key, sizeof key) != 1) {
    throw std::runtime_error("RAND_bytes failed to generate a webhook secret");
  }
  const std::string_view bytes(reinterpret_cast<const char*>(key), sizeof key);
  return std::string(secret_prefix) + crypto::base64_encode(bytes);
}

std::optional<std::string> secret_key(std::string_view secret) {
  if (!secret.starts_with(secret_prefix)) {
    return std::nullopt;
  }
  auto key = crypto::base64_decode(secret.substr(secret_prefix.size()));
  if (!key || key->size() < min_key_bytes) {
    return std::nullopt;
  }
  return key;
}

std::string sign(std::string_view key, std::string_view message_id, std::int64_t timestamp_seconds,
                 std::string_view body) {
  std::string content;
  const std::string timestamp = std::to_string(timestamp_seconds);
  content.reserve(message_id.size() + timestamp.size() + body.size() + 2);
  content.append(message_id).append(".").append(timestamp).append(".").append(body);
  return "v1," + crypto::base64_encode(crypto::hmac_sha256(key, content));
}

std::string signature_header(const std::vector<std::string>& keys, std::string_view message_id,
                             std::int64_t timestamp_seconds, std::string_view body) {
  std::string header;
  for (const auto& key : keys) {
    if (!header.empty()) {
      header += ' ';
    }
    header += sign(key, message_id, timestamp_seconds, body);
  }
  return header;
}

}  // namespace jobgate::webhooks
