#pragma once

#include <memory>
#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace jobgate::crypto {

// An incremental SHA-256 digest, for data that arrives in pieces such as an upload.
class sha256 {
 public:
  sha256();
  ~sha256();
  sha256(sha256&&) noexcept;
  sha256& operator=(sha256&&) noexcept;

  void update(std::string_view data);
  // The digest of everything added so far, as 64 lowercase hex digits. Ends the digest: call it
  // once.
  std::string hex_digest();

 private:
  struct context_deleter {
    void operator()(evp_md_ctx_st* context) const noexcept;
  };
  std::unique_ptr<evp_md_ctx_st, context_deleter> context_;
};

// The SHA-256 digest of `data` as 64 lowercase hex digits.
std::string sha256_hex(std::string_view data);

}  // namespace jobgate::crypto
