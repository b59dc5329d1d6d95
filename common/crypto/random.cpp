#include "common/crypto/random.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <stdexcept>

namespace jobgate::crypto {

namespace {

// Each RAND_bytes call fetches the DRBG and takes its lock, which costs far more than the few
// bytes an id needs. Each thread draws a block at a time and hands it out in pieces.
class random_block {
 public:
  void fill(unsigned char* out, std::size_t count) {
    while (count > 0) {
      if (used_ == block_.size()) {
        refill();
      }
      const std::size_t take = std::min(count, block_.size() - used_);
      std::copy_n(block_.begin() + static_cast<std::ptrdiff_t>(used_), take, out);
      // A byte handed out once is never handed out again.
      std::fill_n(block_.begin() + static_cast<std::ptrdiff_t>(used_), take, 0);
      used_ += take;
      out += take;
      count -= take;
    }
  }

 private:
  void refill() {
    if (RAND_bytes(block_.data(), static_cast<int>(block_.size())) != 1) {
      throw std::runtime_error("OpenSSL RAND_bytes failed");
    }
    used_ = 0;
  }

  std::array<unsigned char, 1024> block_{};
  std::size_t used_ = block_.size();
};

thread_local random_block this_thread_block;

}  // namespace

std::string random_hex(std::size_t bytes) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string text(2 * bytes, '\0');
  char* out = text.data();
  unsigned char chunk[32];
  while (bytes > 0) {
    const std::size_t take = std::min(bytes, sizeof chunk);
    this_thread_block.fill(chunk, take);
    for (std::size_t i = 0; i < take; ++i) {
      *out++ = hex[chunk[i] >> 4];
      *out++ = hex[chunk[i] & 0x0f];
    }
    bytes -= take;
  }
  return text;
}

std::string random_bytes(std::size_t bytes) {
  std::string data(bytes, '\0');
  this_thread_block.fill(reinterpret_cast<unsigned char*>(data.data()), bytes);
  return data;
}

}  // namespace jobgate::crypto
