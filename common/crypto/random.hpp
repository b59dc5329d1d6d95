#pragma once

#include <cstddef>
#include <string>

namespace jobgate::crypto {

// Returns `bytes` random bytes from OpenSSL as lowercase hex, twice as many characters. Each
// thread draws 1 KiB from RAND_bytes at a time and never hands out a byte twice; a process that
// forks must not call it in both parents and children. Throws std::runtime_error when RAND_bytes
// fails.
std::string random_hex(std::size_t bytes);

}  // namespace jobgate::crypto
