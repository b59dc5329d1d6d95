#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace jobgate::crypto {

// Encodes `bytes` in base64 with the standard alphabet and "=" padding (RFC 4648, section 4).
std::string base64_encode(std::string_view bytes);

// Decodes padded standard base64. Returns nullopt when the length is not a multiple of four, a
// character is outside the alphabet, "=" appears anywhere but at the end, or the bits after the
// last byte are not zero. The last rule gives each byte string exactly one accepted encoding.
std::optional<std::string> base64_decode(std::string_view text);

// Encodes `bytes` in base64url without padding (RFC 4648, section 5), the form used in URLs and
// tokens.
std::string base64url_encode(std::string_view bytes);

}  // namespace jobgate::crypto
