#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "common/webhooks/webhook_signature.hpp"

namespace {

using jobgate::webhooks::generate_secret;
using jobgate::webhooks::secret_key;
using jobgate::webhooks::sign;
using jobgate::webhooks::signature_header;

const std::string message_id = "msg_2f9c1a7e";
constexpr std::int64_t timestamp = 1714564800;
const std::string body = R"({"type":"job.completed","data":{"id":"imp_01"}})";
const std::string first_key = "jobgate-webhook-test-key-0123456";
const std::string second_key = "second-key-for-rotation-tests-42";

// Computed with `openssl dgst -sha256 -hmac KEY -binary | openssl base64` over
// "msg_2f9c1a7e.1714564800.<body>", and checked with Python's hmac module.
const std::string first_signature = "v1,TRySWPcOPURX+NUaX7YZjplyrmXnSuadF4w/OGXoc68=";
const std::string second_signature = "v1,i8Dnq3+VoUAFSL6qiyPNDrPFPCpDoSIzqChJh4F0988=";

}  // namespace

TEST_CASE("webhook sign fixed vector", "[webhooks][signature]") {
  CHECK(sign(first_key, message_id, timestamp, body) == first_signature);
  CHECK(sign(second_key, message_id, timestamp, body) == second_signature);
}

TEST_CASE("webhook sign Standard Webhooks vector", "[webhooks][signature]") {
  // The vector that TestWebhookSign of the Standard Webhooks Go library checks. Matching it shows
  // that receivers using that project's libraries accept our signatures.
  const auto key = secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  REQUIRE(key.has_value());
  CHECK(sign(*key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, R"({"test": 2432232314})") ==
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

TEST_CASE("webhook sign covers every field", "[webhooks][signature]") {
  const std::string signature = sign(first_key, message_id, timestamp, body);
  CHECK(sign(first_key, "msg_2f9c1a7f", timestamp, body) != signature);
  CHECK(sign(first_key, message_id, timestamp + 1, body) != signature);
  CHECK(sign(first_key, message_id, timestamp, body + " ") != signature);
  CHECK(sign(second_key, message_id, timestamp, body) != signature);
}

TEST_CASE("webhook sign negative timestamp", "[webhooks][signature]") {
  // The decimal form keeps the sign, so -5 and 5 sign different content.
  CHECK(sign(first_key, message_id, -5, body) != sign(first_key, message_id, 5, body));
}

TEST_CASE("signature header with two keys", "[webhooks][signature]") {
  CHECK(signature_header({first_key, second_key}, message_id, timestamp, body) ==
        first_signature + " " + second_signature);
  CHECK(signature_header({second_key, first_key}, message_id, timestamp, body) ==
        second_signature + " " + first_signature);
}

TEST_CASE("signature header with one key", "[webhooks][signature]") {
  CHECK(signature_header({first_key}, message_id, timestamp, body) == first_signature);
  CHECK(signature_header({}, message_id, timestamp, body).empty());
}

TEST_CASE("webhook secret round trip", "[webhooks][signature]") {
  const std::string secret = generate_secret();
  CHECK(secret.starts_with("whsec_"));
  // 32 bytes are 44 base64 characters with one "=".
  CHECK(secret.size() == 6 + 44);

  const auto key = secret_key(secret);
  REQUIRE(key.has_value());
  CHECK(key->size() == 32);

  CHECK(generate_secret() != secret);
}

TEST_CASE("webhook secret accepts 24 bytes", "[webhooks][signature]") {
  const auto key = secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  REQUIRE(key.has_value());
  CHECK(key->size() == 24);
}

TEST_CASE("webhook secret rejects bad input", "[webhooks][signature]") {
  // No prefix, or a prefix in the wrong case.
  CHECK_FALSE(secret_key("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").has_value());
  CHECK_FALSE(secret_key("WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").has_value());
  CHECK_FALSE(secret_key("whsk_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").has_value());
  // Not padded standard base64.
  CHECK_FALSE(secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS!").has_value());
  CHECK_FALSE(secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS").has_value());
  CHECK_FALSE(secret_key("whsec_MfKQ9r8GKYqrTwjU-D8ILPZIo2LaLaSw").has_value());
  // 23 bytes, one short of the minimum.
  CHECK_FALSE(secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaQ=").has_value());
  CHECK_FALSE(secret_key("whsec_").has_value());
  CHECK_FALSE(secret_key("").has_value());
}
