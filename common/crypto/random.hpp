#pragma once

#include <cstddef>
#include <string>

namespace jobgate::crypto {

// Returns `bytes` random bytes from OpenSSL as lowercase hex, twice as many characters. Throws
// std::runtime_error when RAND_bytes fails.
std::string random_hex(std::size_t bytes);

}  // namespace jobgate::crypto
