#include "common/crypto/sha256.hpp"

#include <openssl/evp.h>

#include <memory>
#include <stdexcept>

namespace jobgate::crypto {

namespace {

// With EVP_sha256(), OpenSSL 3 looks the implementation up again for every digest and takes a
// lock to do so. The one fetched here serves every digest of the process and is never freed.
const EVP_MD* sha256_algorithm() {
  static EVP_MD* const algorithm = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (algorithm == nullptr) {
    throw std::runtime_error("OpenSSL has no SHA-256 implementation");
  }
  return algorithm;
}

std::string to_hex(const unsigned char* digest, unsigned int length) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string text(std::size_t{length} * 2, '\0');
  for (unsigned int i = 0; i < length; ++i) {
    text[2 * i] = hex[digest[i] >> 4];
    text[2 * i + 1] = hex[digest[i] & 0x0F];
  }
  return text;
}

}  // namespace

void sha256::context_deleter::operator()(evp_md_ctx_st* context) const noexcept {
  EVP_MD_CTX_free(context);
}

sha256::sha256() : context_(EVP_MD_CTX_new()) {
  // Both fail only when memory runs out.
  const EVP_MD* algorithm = sha256_algorithm();
  if (!context_ || EVP_DigestInit_ex2(context_.get(), algorithm, nullptr) != 1) {
    throw std::bad_alloc();
  }
}

sha256::~sha256() = default;
sha256::sha256(sha256&&) noexcept = default;
sha256& sha256::operator=(sha256&&) noexcept = default;

void sha256::update(std::string_view data) {
  EVP_DigestUpdate(context_.get(), data.data(), data.size());
}

std::string sha256::hex_digest() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(context_.get(), digest, &length);
  return to_hex(digest, length);
}

std::string sha256_hex(std::string_view data) {
  // Each thread keeps one context, which saves its allocation and setup per digest.
  thread_local const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(
      EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (!context || EVP_DigestInit_ex2(context.get(), sha256_algorithm(), nullptr) != 1 ||
      EVP_DigestUpdate(context.get(), data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(context.get(), digest, &length) != 1) {
    throw std::bad_alloc();
  }
  return to_hex(digest, length);
}

}  // namespace jobgate::crypto
