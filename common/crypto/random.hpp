#pragma once

#include <cstddef>
#include <string>

namespace jobgate::crypto {

// Returns `bytes` random bytes from OpenSSL as lowercase hex, twice as many characters. Each
// thread draws 1 KiB from RAND_bytes at a time and never hands out a byte twice. A forked child
// inherits the parent's unused bytes, so only one side of a fork may call it. Throws
// std::runtime_error when RAND_bytes fails.
std::string random_hex(std::size_t bytes);

// Returns `bytes` random bytes from the same source as random_hex, for keys and secrets.
std::string random_bytes(std::size_t bytes);

}  // namespace jobgate::crypto
