#pragma once

#include <string>
#include <string_view>

namespace jobgate::crypto {

// Computes HMAC-SHA256 of `message` under `key` and returns the raw 32-byte digest. Throws
// std::bad_alloc when OpenSSL cannot allocate its context.
std::string hmac_sha256(std::string_view key, std::string_view message);

}  // namespace jobgate::crypto
