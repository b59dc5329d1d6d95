#include "common/crypto/random.hpp"

#include <openssl/rand.h>

#include <stdexcept>
#include <vector>

namespace jobgate::crypto {

std::string random_hex(std::size_t bytes) {
  std::vector<unsigned char> random(bytes);
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) {
    throw std::runtime_error("OpenSSL RAND_bytes failed");
  }
  static constexpr char hex[] = "0123456789abcdef";
  std::string text;
  text.reserve(2 * bytes);
  for (const unsigned char byte : random) {
    text += hex[byte >> 4];
    text += hex[byte & 0x0f];
  }
  return text;
}

}  // namespace jobgate::crypto
