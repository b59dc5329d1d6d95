#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace jobgate::gateway {

// Signs and checks download links of job results. A link names the job, the tenant and an expiry
// time and carries an HMAC-SHA256 over them, so it works without an API key, only for that job and
// tenant, and only until it expires.
class download_link_signer {
 public:
  explicit download_link_signer(std::string secret) : secret_(std::move(secret)) {}

  // Returns the path and query of a link, e.g. "/v1/downloads/exp_...?tenant=dev&expires=...".
  std::string make_path(std::string_view job_id, std::string_view tenant,
                        std::int64_t expires_at_seconds) const;

  enum class verdict { valid, invalid, expired };
  verdict check(std::string_view job_id, std::string_view tenant, std::string_view expires,
                std::string_view signature, std::int64_t now_seconds) const;

 private:
  std::string sign(std::string_view job_id, std::string_view tenant,
                   std::string_view expires) const;

  std::string secret_;
};

}  // namespace jobgate::gateway
