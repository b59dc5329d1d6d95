#include "common/crypto/hmac.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <climits>
#include <new>
#include <stdexcept>

namespace jobgate::crypto {

std::string hmac_sha256(std::string_view key, std::string_view message) {
  if (key.size() > INT_MAX) {
    throw std::length_error("HMAC key longer than INT_MAX bytes");
  }

  // An empty string_view may carry a null pointer, which OpenSSL reads as "no key".
  static const unsigned char empty_key = 0;
  const void* key_data = key.empty() ? &empty_key : static_cast<const void*>(key.data());

  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), key_data, static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest,
           &length) == nullptr) {
    throw std::bad_alloc();
  }
  return std::string(reinterpret_cast<const char*>(digest), length);
}

}  // namespace jobgate::crypto
