#include <catch2/catch.hpp>
#include <string>

#include "common/crypto/hmac.hpp"

namespace {

using jobgate::crypto::hmac_sha256;

std::string to_hex(const std::string& bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string text;
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    text += digits[byte >> 4];
    text += digits[byte & 0x0f];
  }
  return text;
}

}  // namespace

TEST_CASE("hmac sha256 RFC 4231 vectors", "[crypto][hmac]") {
  // Test cases 1, 2 and 6 of RFC 4231; case 6 has a key longer than the 64-byte block.
  CHECK(to_hex(hmac_sha256(std::string(20, '\x0b'), "Hi There")) ==
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  CHECK(to_hex(hmac_sha256("Jefe", "what do ya want for nothing?")) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  CHECK(to_hex(hmac_sha256(std::string(131, '\xaa'),
                           "Test Using Larger Than Block-Size Key - Hash Key First")) ==
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST_CASE("hmac sha256 returns raw bytes", "[crypto][hmac]") {
  CHECK(hmac_sha256("key", "message").size() == 32);
}

TEST_CASE("hmac sha256 empty key and message", "[crypto][hmac]") {
  // Computed with Python's hmac module.
  CHECK(to_hex(hmac_sha256("", "")) ==
        "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST_CASE("hmac sha256 keeps NUL bytes", "[crypto][hmac]") {
  // Computed with Python's hmac module over b"k\0ey" and b"mes\0sage".
  CHECK(to_hex(hmac_sha256(std::string("k\0ey", 4), std::string("mes\0sage", 8))) ==
        "ed8a77a624424091edfbd1c07b54df87cc74c12c0d9d80a6d2643760fb2769f2");
}
