#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace jobgate::webhooks {

// Signing of webhook deliveries as the Standard Webhooks specification defines it: the
// "webhook-signature" header carries "v1," plus the base64 HMAC-SHA256 of
// "<webhook-id>.<webhook-timestamp>.<body>", once per active secret.

// Generates a new secret: "whsec_" followed by the base64 of 32 random bytes. Throws
// std::runtime_error when OpenSSL's random generator fails.
std::string generate_secret();

// Extracts the key bytes of a "whsec_..." secret. Returns nullopt when the prefix is missing, the
// rest is not padded standard base64, or the key is shorter than 24 bytes.
std::optional<std::string> secret_key(std::string_view secret);

// Computes one signature, "v1," followed by the base64 HMAC-SHA256 under `key` (raw bytes, as
// secret_key() returns them). `message_id` must not contain "." because the signed content uses
// "." to separate the fields.
std::string sign(std::string_view key, std::string_view message_id, std::int64_t timestamp_seconds,
                 std::string_view body);

// Builds the "webhook-signature" header value: the signature under each key, separated by one
// space, so a receiver still holding an older secret accepts deliveries during rotation.
std::string signature_header(const std::vector<std::string>& keys, std::string_view message_id,
                             std::int64_t timestamp_seconds, std::string_view body);

}  // namespace jobgate::webhooks
