#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>
#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/tenants/tenant_limits.hpp"
#include "gateway/api_key_store.hpp"

namespace jobgate::gateway {

// The tenant of an API key and the limits that apply to its requests.
struct tenant_identity {
  std::string tenant;
  tenants::tenant_limits limits;
};

struct tenant_directory_options {
  // How long a found key and its tenant's limits are reused, so a revoked key or a changed limit
  // takes effect on each gateway within this time.
  std::chrono::milliseconds found_ttl{5000};
  // How long an unknown key is remembered as unknown, so a key created a moment ago works soon.
  std::chrono::milliseconds unknown_ttl{1000};
  // Cache entries kept at most; beyond it, expired entries go first, then arbitrary ones.
  std::size_t max_entries = 10000;
};

// Resolves API keys to tenants and effective limits: the keys of the gateway's api-keys setting
// first, then the keys in the store. Effective limits are the deployment defaults with the
// tenant's overrides from the store applied, for the tenants of both kinds of keys. Results are
// cached in process for the option's TTLs, so a request normally costs no store round trip.
// Safe from any thread: a mutex guards the cache and is never held across a suspension.
class tenant_directory {
 public:
  // `defaults` and `static_keys` (SHA-256 in hex -> tenant) must outlive the directory.
  tenant_directory(const tenants::tenant_limits& defaults,
                   const std::map<std::string, std::string>& static_keys, api_key_store& store,
                   tenant_directory_options options = {});

  struct lookup {
    // nullopt for an unknown or revoked key.
    std::optional<tenant_identity> identity;
    // True when the store was read for this lookup rather than the cache.
    bool loaded = false;
  };

  // Looks up the key with this SHA-256 in hex. Fails only on a cache miss when the store fails.
  boost::asio::awaitable<boost::system::result<lookup>> find(const std::string& key_digest);

 private:
  using clock = std::chrono::steady_clock;

  struct entry {
    std::optional<tenant_identity> identity;
    clock::time_point expires;
  };

  std::optional<entry> cached(const std::string& key_digest, clock::time_point now);
  void remember(const std::string& key_digest, const std::optional<tenant_identity>& identity,
                clock::time_point now);
  tenants::tenant_limits apply(const std::string& tenant, const limit_overrides& overrides) const;

  const tenants::tenant_limits& defaults_;
  const std::map<std::string, std::string>& static_keys_;
  api_key_store& store_;
  tenant_directory_options options_;
  std::mutex mutex_;
  std::unordered_map<std::string, entry> entries_;
};

}  // namespace jobgate::gateway
