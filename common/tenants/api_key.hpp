#pragma once

#include <string>
#include <string_view>

namespace jobgate::tenants {

// A new API key: "jg_" and 43 base64url characters that encode 32 random bytes.
std::string generate_api_key();

// A new public id of an API key: "key_" and 12 lowercase hex digits. It names the key in listings
// and in a revocation without revealing it.
std::string generate_key_id();

// True for text of the form generate_key_id() returns.
bool is_valid_key_id(std::string_view id);

}  // namespace jobgate::tenants
