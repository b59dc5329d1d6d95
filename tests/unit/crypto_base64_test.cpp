#include <catch2/catch.hpp>
#include <string>

#include "common/crypto/base64.hpp"

namespace {

using jobgate::crypto::base64_decode;
using jobgate::crypto::base64_encode;

}  // namespace

TEST_CASE("base64 encodes RFC 4648 vectors", "[crypto][base64]") {
  CHECK(base64_encode("") == "");
  CHECK(base64_encode("f") == "Zg==");
  CHECK(base64_encode("fo") == "Zm8=");
  CHECK(base64_encode("foo") == "Zm9v");
  CHECK(base64_encode("foob") == "Zm9vYg==");
  CHECK(base64_encode("fooba") == "Zm9vYmE=");
  CHECK(base64_encode("foobar") == "Zm9vYmFy");
}

TEST_CASE("base64 decodes RFC 4648 vectors", "[crypto][base64]") {
  CHECK(base64_decode("") == std::string());
  CHECK(base64_decode("Zg==") == std::string("f"));
  CHECK(base64_decode("Zm8=") == std::string("fo"));
  CHECK(base64_decode("Zm9v") == std::string("foo"));
  CHECK(base64_decode("Zm9vYg==") == std::string("foob"));
  CHECK(base64_decode("Zm9vYmE=") == std::string("fooba"));
  CHECK(base64_decode("Zm9vYmFy") == std::string("foobar"));
}

TEST_CASE("base64 uses plus and slash", "[crypto][base64]") {
  const std::string bytes("\xfb\xff\xbf", 3);
  CHECK(base64_encode(bytes) == "+/+/");
  CHECK(base64_decode("+/+/") == bytes);
}

TEST_CASE("base64 round trip of every byte", "[crypto][base64]") {
  std::string bytes;
  for (int i = 0; i < 256; ++i) {
    bytes += static_cast<char>(i);
  }
  // Each length modulo 3 ends in a different padding.
  for (std::size_t length = 0; length <= bytes.size(); ++length) {
    const std::string input = bytes.substr(bytes.size() - length);
    const std::string encoded = base64_encode(input);
    INFO("length " << length);
    CHECK(encoded.size() == (length + 2) / 3 * 4);
    CHECK(base64_decode(encoded) == input);
  }
}

TEST_CASE("base64 rejects bad length", "[crypto][base64]") {
  const std::string text = GENERATE(as<std::string>{}, "Z", "Zg", "Zg=", "Zm9", "Zm9vY", "Zm9vYg=");
  INFO("text '" << text << "'");
  CHECK_FALSE(base64_decode(text).has_value());
}

TEST_CASE("base64 rejects bad characters", "[crypto][base64]") {
  const std::string text = GENERATE(as<std::string>{}, "Zm9v!A==", "Zm9 v", "Zm9v\n", " Zm9",
                                    "Zm-_", "Zm9\xc3\xa9", std::string("Zm\0v", 4));
  INFO("text '" << text << "'");
  CHECK_FALSE(base64_decode(text).has_value());
}

TEST_CASE("base64 rejects misplaced padding", "[crypto][base64]") {
  const std::string text =
      GENERATE(as<std::string>{}, "====", "Z===", "=Zg=", "Zg==Zg==", "Zm=v", "Zg=A", "Zm9v====");
  INFO("text '" << text << "'");
  CHECK_FALSE(base64_decode(text).has_value());
}

TEST_CASE("base64 rejects nonzero pad bits", "[crypto][base64]") {
  // "Zh==" and "Zm9=" carry set bits after the last byte; "Zg==" and "Zm8=" are the canonical
  // encodings of the same bytes.
  CHECK_FALSE(base64_decode("Zh==").has_value());
  CHECK_FALSE(base64_decode("Zm9=").has_value());
  CHECK(base64_decode("Zg==").has_value());
  CHECK(base64_decode("Zm8=").has_value());
}
