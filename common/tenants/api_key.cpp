#include "common/tenants/api_key.hpp"

#include <algorithm>

#include "common/crypto/base64.hpp"
#include "common/crypto/random.hpp"

namespace jobgate::tenants {

namespace {

constexpr std::string_view key_prefix = "jg_";
constexpr std::size_t key_random_bytes = 32;
constexpr std::string_view id_prefix = "key_";
constexpr std::size_t id_random_bytes = 6;

}  // namespace

std::string generate_api_key() {
  return std::string(key_prefix) + crypto::base64url_encode(crypto::random_bytes(key_random_bytes));
}

std::string generate_key_id() {
  return std::string(id_prefix) + crypto::random_hex(id_random_bytes);
}

bool is_valid_key_id(std::string_view id) {
  if (!id.starts_with(id_prefix) || id.size() != id_prefix.size() + 2 * id_random_bytes) {
    return false;
  }
  const auto digits = id.substr(id_prefix.size());
  return std::all_of(digits.begin(), digits.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace jobgate::tenants
